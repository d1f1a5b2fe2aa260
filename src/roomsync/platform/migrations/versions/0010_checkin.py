"""Check-in: a policy per building (overridable per room), and per booking when it was
checked in and when it is released unless someone checks in.

``bookings.release_at`` is indexed: the release job reads only the bookings due now.

Revision ID: 0010_checkin
Revises: 0009_booking_details
Create Date: 2026-12-04 20:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010_checkin"
down_revision = "0009_booking_details"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("buildings") as batch:
        batch.add_column(sa.Column("checkin_policy", sa.JSON(), nullable=True))
    with op.batch_alter_table("resources") as batch:
        batch.add_column(sa.Column("checkin_policy", sa.JSON(), nullable=True))
    with op.batch_alter_table("bookings") as batch:
        batch.add_column(sa.Column("checked_in_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("release_at", sa.DateTime(timezone=True), nullable=True))
        batch.create_index(op.f("ix_bookings_release_at"), ["release_at"])


def downgrade() -> None:
    with op.batch_alter_table("bookings") as batch:
        batch.drop_index(op.f("ix_bookings_release_at"))
        batch.drop_column("release_at")
        batch.drop_column("checked_in_at")
    with op.batch_alter_table("resources") as batch:
        batch.drop_column("checkin_policy")
    with op.batch_alter_table("buildings") as batch:
        batch.drop_column("checkin_policy")
