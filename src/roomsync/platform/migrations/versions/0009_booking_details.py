"""A booking's description and the organizer's event webLink.

``bookings.description``: plain text written on the platform, pushed as the organizer's
event body (null for bookings born in Outlook: their body is not pulled).
``event_links.organizer_web_link``: the organizer's copy's ``webLink`` as Graph returned
it, which opens the meeting in Outlook on the web.

Revision ID: 0009_booking_details
Revises: 0008_series
Create Date: 2026-12-04 20:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_booking_details"
down_revision = "0008_series"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("bookings", sa.Column("description", sa.Text(), nullable=True))
    op.add_column("event_links", sa.Column("organizer_web_link", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("event_links") as batch:
        batch.drop_column("organizer_web_link")
    with op.batch_alter_table("bookings") as batch:
        batch.drop_column("description")
