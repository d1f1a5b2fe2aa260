"""The booking rules: valid intervals, the status lifecycle, and no double booking.

Intervals are half-open, [start, end): a booking ending at 10:00 and one starting at 10:00
do not overlap. Only pending and confirmed bookings occupy a room. The overlap check is
made race-free by serializing writers per room: ``lock_resources`` takes
``SELECT ... FOR UPDATE`` on the resource rows on PostgreSQL, and on SQLite every
transaction already holds the database's write lock (``BEGIN IMMEDIATE``, see ``db``).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from roomsync.platform.db import isoformat_utc
from roomsync.platform.enums import BookingStatus, ChangeSource, Origin
from roomsync.platform.exceptions import (
    BookingClosedError,
    BookingConflictError,
    IllegalTransitionError,
    InvalidInputError,
    ManagedInOutlookError,
    NotFoundError,
)
from roomsync.platform.models import Booking, Building, Resource, User
from roomsync.platform.services.outbox import is_pushable
from roomsync.platform.services.validation import require_aware, require_instant

DEFAULT_MAX_DURATION = timedelta(hours=24)
OCCUPYING_STATUSES = (BookingStatus.PENDING, BookingStatus.CONFIRMED)
# Over for good: the room was given back (cancelled, or released for no check-in).
CLOSED_STATUSES = frozenset({BookingStatus.CANCELLED, BookingStatus.RELEASED})

_ALLOWED_TRANSITIONS: dict[BookingStatus, frozenset[BookingStatus]] = {
    BookingStatus.PENDING: frozenset(
        {
            BookingStatus.CONFIRMED,
            BookingStatus.DECLINED,
            BookingStatus.CANCELLED,
            BookingStatus.RELEASED,
        }
    ),
    # The room may withdraw its acceptance (a move into a conflict made in Outlook); nobody
    # checking in releases it.
    BookingStatus.CONFIRMED: frozenset(
        {BookingStatus.DECLINED, BookingStatus.CANCELLED, BookingStatus.RELEASED}
    ),
    # The room's calendar holding the meeting is its acceptance, even after we gave up
    # waiting for an answer and declined it (docs/sync.md).
    BookingStatus.DECLINED: frozenset({BookingStatus.CONFIRMED, BookingStatus.CANCELLED}),
    BookingStatus.CANCELLED: frozenset(),
    # Its organizer may still cancel what was released (the meeting is off anyway).
    BookingStatus.RELEASED: frozenset({BookingStatus.CANCELLED}),
}


def checked_interval(
    start: datetime, end: datetime, *, source: ChangeSource, max_duration: timedelta
) -> tuple[datetime, datetime]:
    """``start`` and ``end`` if they make a valid booking interval.

    What a room mailbox already accepted is taken as it is (Outlook allows zero-length and
    multi-day events); platform changes need ``start < end`` within ``max_duration``, both
    within the years 1900..2999, so that every booking can reach a room mailbox.
    """
    if source is not ChangeSource.MICROSOFT365:
        # Before any conversion to UTC, which overflows near year 1 and 9999.
        require_instant(start, field="start")
        require_instant(end, field="end")
    start = require_aware(start, field="start").astimezone(UTC)
    end = require_aware(end, field="end").astimezone(UTC)
    if source is ChangeSource.MICROSOFT365:
        if end < start:
            raise InvalidInputError("end must not be before start.", field="end")
        return start, end
    if end <= start:
        raise InvalidInputError("end must be after start.", field="end")
    if end - start > max_duration:
        hours = max_duration.total_seconds() / 3600
        raise InvalidInputError(f"A booking may last at most {hours:g} hours.", field="end")
    return start, end


def check_transition(booking: Booking, status: BookingStatus) -> None:
    if status not in _ALLOWED_TRANSITIONS[booking.status]:
        raise IllegalTransitionError(
            f"Booking {booking.id} is {booking.status} and cannot become {status}.",
            details={"status": booking.status.value, "requested": status.value},
        )


def check_editable(booking: Booking) -> None:
    if booking.status not in OCCUPYING_STATUSES:
        raise BookingClosedError(
            f"Booking {booking.id} is {booking.status} and can no longer be changed; "
            "create a new booking instead.",
            details={"status": booking.status.value},
        )


def check_occurrence_move(
    session: Session, booking: Booking, *, resource_id: uuid.UUID, start: datetime
) -> None:
    """An occurrence of a series moved on the platform keeps its room and its day (in the
    building's time zone): Outlook books the room for the whole series (the pattern's
    attendees), and refuses an occurrence moved across its neighbours
    (``ErrorOccurrenceCrossingBoundary``, event-update.md)."""
    if booking.series_id is None:
        return
    if resource_id != booking.resource_id:
        raise InvalidInputError(
            f"Booking {booking.id} is one occurrence of a series, which keeps its room: "
            "cancel the occurrence and book the other room instead.",
            field="resource_id",
        )
    if start == booking.start_at:
        return
    zone = ZoneInfo(
        session.scalar(
            select(Building.time_zone)
            .join(Resource, Resource.building_id == Building.id)
            .where(Resource.id == booking.resource_id)
        )
        or "UTC"
    )
    if start.astimezone(zone).date() != _aware(booking.start_at).astimezone(zone).date():
        raise InvalidInputError(
            f"Booking {booking.id} is one occurrence of a series, which stays on its day "
            f"({_aware(booking.start_at).astimezone(zone).date().isoformat()}): cancel the "
            "occurrence and book the other day instead.",
            field="start",
        )


def _aware(instant: datetime) -> datetime:
    """Stored instants may come back naive (SQLite); they are UTC."""
    return instant.replace(tzinfo=UTC) if instant.tzinfo is None else instant


def check_changeable_in_outlook(
    session: Session, booking: Booking, room: Resource, source: ChangeSource
) -> None:
    """Refuse a platform change to an Outlook meeting that roomsync cannot push: one
    organized outside the tenant (or without a mailbox)."""
    if source is not ChangeSource.PLATFORM or booking.origin is not Origin.MICROSOFT365:
        return
    if not is_pushable(session, room):
        return
    external = session.scalar(
        select(User.external).where(
            User.organization_id == booking.organization_id,
            User.email == booking.organizer_email,
        )
    )
    if external:
        raise ManagedInOutlookError(
            f"Booking {booking.id} was made in Outlook by {booking.organizer_email}, who has "
            "no mailbox in this Microsoft 365 tenant, so roomsync cannot change the meeting: "
            "ask the organizer to change or cancel it in Outlook."
        )


def lock_resources(
    session: Session, resource_ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, Resource]:
    """Lock the resource rows (in id order, so two writers never deadlock) and return them."""
    ids = sorted(set(resource_ids))
    rows = session.scalars(
        select(Resource)
        .where(Resource.id.in_(ids))
        .order_by(Resource.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).all()
    found = {row.id: row for row in rows}
    for resource_id in ids:
        if resource_id not in found:
            raise NotFoundError(f"There is no resource with the id {resource_id}.")
    return found


def ensure_room_free(
    session: Session,
    *,
    resource_id: uuid.UUID,
    start: datetime,
    end: datetime,
    ignore_booking_id: uuid.UUID | None = None,
) -> None:
    """Raise :class:`BookingConflictError` naming the booking that already holds the room.

    It is named by id and times only, never by title: the caller may not be allowed to read
    the title of a private booking that is in the way.
    """
    statement = select(Booking).where(
        Booking.resource_id == resource_id,
        Booking.status.in_(OCCUPYING_STATUSES),
        Booking.start_at < end,
        Booking.end_at > start,
    )
    if ignore_booking_id is not None:
        statement = statement.where(Booking.id != ignore_booking_id)
    taken = session.scalars(statement.order_by(Booking.start_at).limit(1)).first()
    if taken is not None:
        raise BookingConflictError(
            f"The room is already booked from {isoformat_utc(taken.start_at)} to "
            f"{isoformat_utc(taken.end_at)} by booking {taken.id}.",
            details={
                "conflicting_booking_id": str(taken.id),
                "start": isoformat_utc(taken.start_at),
                "end": isoformat_utc(taken.end_at),
            },
        )


def ensure_bookable(resource: Resource) -> None:
    if not resource.active:
        raise InvalidInputError(
            f"Resource {resource.id} is retired and cannot be booked.", field="resource_id"
        )
