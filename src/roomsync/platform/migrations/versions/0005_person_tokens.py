"""Tokens act for a person or show one resource; organizations name their first admins.

``api_tokens.user_id`` binds an occupant token to the person it acts for (unbound occupant
tokens are refused from now on), ``api_tokens.resource_id`` binds a display token to its
resource, and ``organizations.admin_emails`` lists people who are admins whatever their
app roles say.

Revision ID: 0005_person_tokens
Revises: 0004_sessions
Create Date: 2026-12-03 19:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_person_tokens"
down_revision = "0004_sessions"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("organizations") as batch:
        batch.add_column(
            sa.Column("admin_emails", sa.JSON(), nullable=False, server_default=sa.text("'[]'"))
        )
    with op.batch_alter_table("api_tokens") as batch:
        batch.add_column(sa.Column("user_id", sa.Uuid(), nullable=True))
        batch.add_column(sa.Column("resource_id", sa.Uuid(), nullable=True))
        batch.create_foreign_key(
            op.f("fk_api_tokens_user_id_users"), "users", ["user_id"], ["id"], ondelete="CASCADE"
        )
        batch.create_foreign_key(
            op.f("fk_api_tokens_resource_id_resources"),
            "resources",
            ["resource_id"],
            ["id"],
            ondelete="CASCADE",
        )


def downgrade() -> None:
    with op.batch_alter_table("api_tokens") as batch:
        batch.drop_constraint(op.f("fk_api_tokens_resource_id_resources"), type_="foreignkey")
        batch.drop_constraint(op.f("fk_api_tokens_user_id_users"), type_="foreignkey")
        batch.drop_column("resource_id")
        batch.drop_column("user_id")
    with op.batch_alter_table("organizations") as batch:
        batch.drop_column("admin_emails")
