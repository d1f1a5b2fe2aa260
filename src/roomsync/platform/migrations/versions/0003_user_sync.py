"""User sync: users know their directory account, bookings their organizer's user, and each
integration keeps its users delta link.

Revision ID: 0003_user_sync
Revises: 0001
Create Date: 2026-12-03 14:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_user_sync"
down_revision = "0002_runs_heartbeat"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("directory_id", sa.String(length=64), nullable=True))
        batch.add_column(
            sa.Column("account_enabled", sa.Boolean(), server_default=sa.true(), nullable=False)
        )
        batch.add_column(sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True))
        batch.create_unique_constraint(
            op.f("uq_users_organization_id_directory_id"), ["organization_id", "directory_id"]
        )
    with op.batch_alter_table("bookings") as batch:
        batch.add_column(sa.Column("organizer_user_id", sa.Uuid(), nullable=True))
        batch.create_foreign_key(
            op.f("fk_bookings_organizer_user_id_users"), "users", ["organizer_user_id"], ["id"]
        )
        batch.create_index(
            op.f("ix_bookings_organizer_user_id"), ["organizer_user_id"], unique=False
        )
    op.create_table(
        "directory_sync_state",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("integration_id", sa.Uuid(), nullable=False),
        sa.Column("delta_link", sa.Text(), nullable=True),
        sa.Column("next_link", sa.Text(), nullable=True),
        sa.Column("round_started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_round_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["integration_id"],
            ["integrations.id"],
            name=op.f("fk_directory_sync_state_integration_id_integrations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_directory_sync_state")),
        sa.UniqueConstraint("integration_id", name=op.f("uq_directory_sync_state_integration_id")),
    )


def downgrade() -> None:
    op.drop_table("directory_sync_state")
    with op.batch_alter_table("bookings") as batch:
        batch.drop_index(op.f("ix_bookings_organizer_user_id"))
        batch.drop_constraint(op.f("fk_bookings_organizer_user_id_users"), type_="foreignkey")
        batch.drop_column("organizer_user_id")
    with op.batch_alter_table("users") as batch:
        batch.drop_constraint(op.f("uq_users_organization_id_directory_id"), type_="unique")
        batch.drop_column("deleted_at")
        batch.drop_column("account_enabled")
        batch.drop_column("directory_id")
