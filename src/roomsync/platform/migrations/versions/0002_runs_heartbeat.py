"""Runs say when their process was last seen alive, so a run whose process died can be
told apart from one still working.

Revision ID: 0002_runs_heartbeat
Revises: 0001
Create Date: 2026-12-03 14:10:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_runs_heartbeat"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("sync_runs", sa.Column("last_seen_at", sa.DateTime(timezone=True)))


def downgrade() -> None:
    with op.batch_alter_table("sync_runs") as batch:
        batch.drop_column("last_seen_at")
