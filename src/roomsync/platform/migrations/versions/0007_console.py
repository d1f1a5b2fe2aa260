"""Rooms an admin excluded from the import, and the audit of integration settings.

``resources.excluded_from_import`` keeps a room mailbox out of service whatever the next
room import reads (before, the import reactivated every room it listed).
``integration_audit`` records who changed which settings of an integration, and when —
field names only, never a value.

Revision ID: 0007_console
Revises: 0006_availability
Create Date: 2026-12-04 19:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_console"
down_revision = "0006_availability"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("resources") as batch:
        batch.add_column(
            sa.Column(
                "excluded_from_import", sa.Boolean(), nullable=False, server_default=sa.false()
            )
        )
    op.create_table(
        "integration_audit",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("integration_id", sa.Uuid(), nullable=False),
        sa.Column("actor", sa.String(length=320), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["integration_id"],
            ["integrations.id"],
            name=op.f("fk_integration_audit_integration_id_integrations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_integration_audit")),
    )
    op.create_index(
        op.f("ix_integration_audit_integration_id"), "integration_audit", ["integration_id"]
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_integration_audit_integration_id"), table_name="integration_audit")
    op.drop_table("integration_audit")
    with op.batch_alter_table("resources") as batch:
        batch.drop_column("excluded_from_import")
