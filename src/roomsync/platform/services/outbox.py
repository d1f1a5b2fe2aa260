"""The transactional outbox: a push to Microsoft 365 is owed exactly when a booking of a
room with a mailbox (``email``) changes in an organization with an enabled integration.

Rows are added to the caller's session, so they commit or roll back with the booking
change: a push is never lost with a queue message or a worker. Changes that came from
Microsoft 365 never reach this module.

The session also remembers which bookings got a row (and their organizations), so that
whoever listens for commits (``Database.after_commit``; the runtime queues a push) learns
of them without the platform knowing who listens.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from roomsync.platform.enums import OutboxAction
from roomsync.platform.models import Booking, Integration, OutboxEntry, Resource

_WRITTEN = "roomsync.outbox_written"


def is_pushable(session: Session, resource: Resource) -> bool:
    """True when changes to bookings of ``resource`` must be pushed to its room mailbox."""
    return resource.email is not None and has_enabled_integration(
        session, organization_id=resource.organization_id
    )


def has_enabled_integration(session: Session, *, organization_id: uuid.UUID) -> bool:
    found = session.scalars(
        select(Integration.id).where(
            Integration.organization_id == organization_id, Integration.enabled.is_(True)
        )
    ).first()
    return found is not None


def enqueue_push(session: Session, *, booking: Booking, action: OutboxAction) -> OutboxEntry:
    entry = OutboxEntry(
        organization_id=booking.organization_id,
        booking_id=booking.id,
        action=action,
        booking_version=booking.version,
    )
    session.add(entry)
    session.info.setdefault(_WRITTEN, {})[booking.id] = booking.organization_id
    return entry


def take_written_outbox(session: Session) -> dict[uuid.UUID, uuid.UUID]:
    """The bookings that got an outbox row in the session's last transaction, each with
    its organization (once)."""
    written: dict[uuid.UUID, uuid.UUID] = session.info.pop(_WRITTEN, {})
    return written
