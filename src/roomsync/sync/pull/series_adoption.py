"""A room's copy of an occurrence of a series roomsync is still pushing (identity rule 1,
step 3, for series).

An occurrence's iCalUId is its own, so the organizer's copy cannot be found by the
``/events`` iCalUId filter and our extended property (on the series master) read, as it
is for a single meeting. Between the push creating the series and recording which
occurrence is which booking (or after a crash between the two), a room copy of one of its
occurrences is matched instead to the platform booking waiting for its first push in that
room, organized by the copy's organizer, at exactly the copy's times, whose series'
master Graph has already created — when exactly one booking fits; otherwise it is left to
the other rules. (Before the master exists, a copy at those times is someone else's.)
"""

from __future__ import annotations

import uuid

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from roomsync.platform.enums import BookingStatus, Origin
from roomsync.platform.models import Booking, BookingSeries, EventLink
from roomsync.sync.planner import RoomCopy

WAITING = (BookingStatus.PENDING, BookingStatus.CONFIRMED)


def occurrence_in_flight(
    session: Session, *, resource_id: uuid.UUID, copy: RoomCopy
) -> uuid.UUID | None:
    """The platform series booking this occurrence's room copy is the first push of."""
    if copy.series_id is None or copy.organizer_email is None:
        return None
    found = session.scalars(
        select(Booking.id)
        .join(BookingSeries, BookingSeries.series_id == Booking.series_id)
        .outerjoin(EventLink, EventLink.booking_id == Booking.id)
        .where(
            Booking.resource_id == resource_id,
            Booking.origin == Origin.PLATFORM,
            Booking.status.in_(WAITING),
            Booking.organizer_email == copy.organizer_email,
            Booking.start_at == copy.start,
            Booking.end_at == copy.end,
            BookingSeries.master_event_id.is_not(None),
            or_(EventLink.id.is_(None), EventLink.ical_uid.is_(None)),
        )
        .limit(2)
    ).all()
    return found[0] if len(found) == 1 else None
