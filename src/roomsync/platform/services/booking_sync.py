"""What the API tells about a booking's Microsoft 365 copy (the booking JSON's ``sync``).

- ``pending``: an outbox row for the booking is not done yet;
- ``failed``: its latest outbox row failed (``error`` is that row's last error);
- ``synced``: it has an event link and nothing is pending;
- ``not_synced``: its room has no mailbox, the organization has no enabled integration,
  or nothing was ever pushed or pulled for it.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace

from sqlalchemy import select
from sqlalchemy.orm import Session

from roomsync.platform.enums import OutboxState, SyncState
from roomsync.platform.models import Booking, EventLink, Integration, OutboxEntry, Resource


@dataclass(frozen=True)
class BookingSyncView:
    state: SyncState
    error: str | None = None
    ical_uid: str | None = None
    web_link: str | None = None
    """The organizer's copy's webLink; the API gives it to the organizer only."""


def booking_sync_views(
    session: Session, bookings: Sequence[Booking]
) -> dict[uuid.UUID, BookingSyncView]:
    """The sync view of each booking, in four queries however many bookings there are."""
    ids = [booking.id for booking in bookings]
    pushable_rooms = _pushable_resource_ids(session, {b.resource_id for b in bookings})
    links = session.execute(
        select(EventLink.booking_id, EventLink.ical_uid, EventLink.organizer_web_link).where(
            EventLink.booking_id.in_(ids)
        )
    )
    ical_uids, web_links = {}, {}
    for booking_id, ical_uid, web_link in links:
        ical_uids[booking_id], web_links[booking_id] = ical_uid, web_link
    rows = session.scalars(
        select(OutboxEntry).where(OutboxEntry.booking_id.in_(ids)).order_by(OutboxEntry.id)
    ).all()
    rows_by_booking: dict[uuid.UUID, list[OutboxEntry]] = {}
    for row in rows:
        rows_by_booking.setdefault(row.booking_id, []).append(row)
    return {
        booking.id: replace(
            _view(
                pushable=booking.resource_id in pushable_rooms,
                linked=booking.id in ical_uids,
                ical_uid=ical_uids.get(booking.id),
                rows=rows_by_booking.get(booking.id, []),
            ),
            web_link=web_links.get(booking.id),
        )
        for booking in bookings
    }


def _view(
    *, pushable: bool, linked: bool, ical_uid: str | None, rows: Sequence[OutboxEntry]
) -> BookingSyncView:
    if not pushable:
        return BookingSyncView(SyncState.NOT_SYNCED, ical_uid=ical_uid)
    if any(row.state is OutboxState.PENDING for row in rows):
        return BookingSyncView(SyncState.PENDING, ical_uid=ical_uid)
    if rows and rows[-1].state is OutboxState.FAILED:
        return BookingSyncView(SyncState.FAILED, error=rows[-1].last_error, ical_uid=ical_uid)
    if linked:
        return BookingSyncView(SyncState.SYNCED, ical_uid=ical_uid)
    return BookingSyncView(SyncState.NOT_SYNCED, ical_uid=ical_uid)


def _pushable_resource_ids(session: Session, resource_ids: set[uuid.UUID]) -> set[uuid.UUID]:
    statement = (
        select(Resource.id)
        .join(Integration, Integration.organization_id == Resource.organization_id)
        .where(
            Resource.id.in_(resource_ids),
            Resource.email.is_not(None),
            Integration.enabled.is_(True),
        )
    )
    return set(session.scalars(statement))
