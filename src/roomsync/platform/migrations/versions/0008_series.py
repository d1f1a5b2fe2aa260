"""Recurring bookings made on the platform keep their pattern: ``booking_series``.

One row per series: the pattern in Graph's patternedRecurrence shape, which booking is
which occurrence (by original start), the original starts left unbooked, and where
Microsoft 365 holds the series once it has been pushed as one.

Revision ID: 0008_series
Revises: 0007_console
Create Date: 2026-12-04 19:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_series"
down_revision = "0007_console"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "booking_series",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("series_id", sa.String(length=512), nullable=False),
        sa.Column("recurrence", sa.JSON(), nullable=False),
        sa.Column("time_zone", sa.String(length=64), nullable=False),
        sa.Column("first_start_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("first_end_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("occurrences", sa.JSON(), nullable=False),
        sa.Column("skipped", sa.JSON(), nullable=False),
        sa.Column("master_mailbox", sa.String(length=320), nullable=True),
        sa.Column("master_event_id", sa.String(length=512), nullable=True),
        sa.Column("master_ical_uid", sa.String(length=512), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_booking_series_organization_id_organizations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_booking_series")),
        sa.UniqueConstraint("series_id", name=op.f("uq_booking_series_series_id")),
    )


def downgrade() -> None:
    op.drop_table("booking_series")
