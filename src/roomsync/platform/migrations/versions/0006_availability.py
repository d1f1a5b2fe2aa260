"""Indexes for the availability search.

``bookings (resource_id, end_at, start_at, status)`` answers "does a live booking overlap
[start, end)?" for one room from the index alone, reading only the bookings that end after
``start`` (the past, which only grows, is never read). ``resources (organization_id |
building_id, capacity, name, id)`` lets the search walk rooms in rank order, smallest
first, and stop once a page is full instead of testing every room.

Revision ID: 0006_availability
Revises: 0005_person_tokens
Create Date: 2026-12-04 19:30:00
"""

from __future__ import annotations

from alembic import op

revision = "0006_availability"
down_revision = "0005_person_tokens"
branch_labels = None
depends_on = None

_INDEXES = (
    ("bookings", ("resource_id", "end_at", "start_at", "status")),
    ("resources", ("organization_id", "capacity", "name", "id")),
    ("resources", ("building_id", "capacity", "name", "id")),
)


def upgrade() -> None:
    for table, columns in _INDEXES:
        op.create_index(op.f(f"ix_{table}_{'_'.join(columns)}"), table, list(columns))


def downgrade() -> None:
    for table, columns in reversed(_INDEXES):
        op.drop_index(op.f(f"ix_{table}_{'_'.join(columns)}"), table_name=table)
