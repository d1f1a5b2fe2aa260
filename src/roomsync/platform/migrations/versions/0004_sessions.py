"""Sign-in: flows under way (found by their ``state``) and server-side sessions.

Revision ID: 0004_sessions
Revises: 0003_user_sync
Create Date: 2026-12-03 15:40:00
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from alembic import op

revision = "0004_sessions"
down_revision = "0003_user_sync"
branch_labels = None
depends_on = None


def _stamps() -> list[sa.Column[datetime]]:
    return [
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "signin_flows",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("state", sa.String(length=128), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=True),
        sa.Column("integration_id", sa.Uuid(), nullable=False),
        sa.Column("flow", sa.JSON(), nullable=False),
        sa.Column("next_path", sa.Text(), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        *_stamps(),
        sa.ForeignKeyConstraint(
            ["integration_id"],
            ["integrations.id"],
            name=op.f("fk_signin_flows_integration_id_integrations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_signin_flows_organization_id_organizations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_signin_flows")),
        sa.UniqueConstraint("state", name=op.f("uq_signin_flows_state")),
    )
    op.create_index(op.f("ix_signin_flows_expires_at"), "signin_flows", ["expires_at"])
    op.create_table(
        "signin_sessions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        *_stamps(),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_signin_sessions_organization_id_organizations"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_signin_sessions_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_signin_sessions")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_signin_sessions_token_hash")),
    )
    op.create_index(
        op.f("ix_signin_sessions_organization_id"), "signin_sessions", ["organization_id"]
    )
    op.create_index(op.f("ix_signin_sessions_user_id"), "signin_sessions", ["user_id"])


def downgrade() -> None:
    op.drop_table("signin_sessions")
    op.drop_table("signin_flows")
