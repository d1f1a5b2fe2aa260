"""Booking changes: create, update, cancel and status, each one version with its history.

``ChangeSource.PLATFORM`` (and ``SYSTEM``) changes obey the booking rules and, when the
room is pushable (see ``outbox``), write an outbox row in the same transaction; a new
pushable booking starts ``pending`` because the room mailbox decides. Changes with
``ChangeSource.MICROSOFT365`` apply what the room mailbox already decided: no overlap rule
and never an outbox row, the first guard against echo loops (docs/data-model.md).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta
from enum import Enum
from typing import Any

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from roomsync.platform.db import isoformat_utc, now
from roomsync.platform.enums import BookingStatus, ChangeSource, HistoryKind, Origin, OutboxAction
from roomsync.platform.exceptions import (
    ConflictError,
    InvalidInputError,
    NotFoundError,
    VersionMismatchError,
)
from roomsync.platform.models import Booking, BookingHistory, Resource
from roomsync.platform.services.booking_pages import paginate_by_start
from roomsync.platform.services.booking_rules import (
    DEFAULT_MAX_DURATION,
    check_changeable_in_outlook,
    check_editable,
    check_occurrence_move,
    check_transition,
    checked_interval,
    ensure_bookable,
    ensure_room_free,
    lock_resources,
)
from roomsync.platform.services.changes import UNCHANGED, Maybe, given
from roomsync.platform.services.checkin_policy import schedule_release
from roomsync.platform.services.lookup import DEFAULT_PAGE_SIZE, Page, get_or_raise
from roomsync.platform.services.outbox import enqueue_push, is_pushable
from roomsync.platform.services.users import organizer_user
from roomsync.platform.services.validation import normalize_email

_MOVING_FIELDS = frozenset({"resource_id", "start_at", "end_at"})
_SNAPSHOT_FIELDS = (
    "resource_id",
    "organizer_email",
    "title",
    "description",
    "start_at",
    "end_at",
    "all_day",
    "private",
    "status",
    "origin",
    "series_id",
)


def create_booking(
    session: Session,
    *,
    organization_id: uuid.UUID,
    resource_id: uuid.UUID,
    organizer_email: str,
    title: str,
    start: datetime,
    end: datetime,
    private: bool = False,
    all_day: bool = False,
    description: str | None = None,
    series_id: str | None = None,
    status: BookingStatus | None = None,
    source: ChangeSource = ChangeSource.PLATFORM,
    max_duration: timedelta = DEFAULT_MAX_DURATION,
    actor: str | None = None,
) -> Booking:
    """Book ``resource_id`` over [start, end); ``status`` defaults to what the rules say.
    ``actor``, the address of whoever booked on the organizer's behalf, goes into the
    history."""
    start, end = checked_interval(start, end, source=source, max_duration=max_duration)
    resource = _in_organization(
        lock_resources(session, [resource_id])[resource_id], organization_id
    )
    pushable = _follows_rules(source) and is_pushable(session, resource)
    if _follows_rules(source):
        ensure_bookable(resource)
        ensure_room_free(session, resource_id=resource.id, start=start, end=end)
    organizer = organizer_user(session, organization_id=organization_id, email=organizer_email)
    booking = Booking(
        organization_id=organization_id,
        resource_id=resource.id,
        organizer_email=organizer.email,
        organizer_user_id=organizer.id,
        title=title,
        description=description or None,
        start_at=start,
        end_at=end,
        all_day=all_day,
        private=private,
        status=status or (BookingStatus.PENDING if pushable else BookingStatus.CONFIRMED),
        origin=Origin.MICROSOFT365 if source is ChangeSource.MICROSOFT365 else Origin.PLATFORM,
        series_id=series_id,
        version=1,
    )
    schedule_release(session, booking)
    session.add(booking)
    session.flush()
    data = _snapshot(booking) | ({"actor": actor} if actor else {})
    append_history(session, booking=booking, kind=HistoryKind.CREATED, source=source, data=data)
    if pushable:
        enqueue_push(session, booking=booking, action=OutboxAction.CREATE)
    session.flush()
    return booking


def update_booking(
    session: Session,
    *,
    booking_id: uuid.UUID,
    expected_version: int | None = None,
    resource_id: Maybe[uuid.UUID] = UNCHANGED,
    title: Maybe[str] = UNCHANGED,
    start: Maybe[datetime] = UNCHANGED,
    end: Maybe[datetime] = UNCHANGED,
    private: Maybe[bool] = UNCHANGED,
    all_day: Maybe[bool] = UNCHANGED,
    description: Maybe[str | None] = UNCHANGED,
    organizer_email: Maybe[str] = UNCHANGED,
    series_id: Maybe[str | None] = UNCHANGED,
    source: ChangeSource = ChangeSource.PLATFORM,
    max_duration: timedelta = DEFAULT_MAX_DURATION,
) -> Booking:
    """Change the given fields; a change that changes nothing returns the booking untouched.

    The interval rules apply when ``start`` or ``end`` is given, so renaming a long
    Outlook-made booking is never refused for its length. ``expected_version`` (the REST
    API's If-Match) must equal the stored version if given. Moving a pushable confirmed
    booking (other time or room) makes it pending again: the room mailbox decides anew.
    """
    booking, rooms = _lock_booking(
        session, booking_id, also_lock=() if resource_id is UNCHANGED else (resource_id,)
    )
    _check_version(booking, expected_version)
    check_editable(booking)
    check_changeable_in_outlook(session, booking, rooms[booking.resource_id], source)
    start_at, end_at = booking.start_at, booking.end_at
    if start is not UNCHANGED or end is not UNCHANGED:
        start_at, end_at = checked_interval(
            given(start, start_at), given(end, end_at), source=source, max_duration=max_duration
        )
    if source is ChangeSource.PLATFORM:
        moved_to = given(resource_id, booking.resource_id)
        check_occurrence_move(session, booking, resource_id=moved_to, start=start_at)
    proposed: dict[str, Any] = {
        "resource_id": given(resource_id, booking.resource_id),
        "title": given(title, booking.title),
        "description": _description(booking, description, source),
        "start_at": start_at,
        "end_at": end_at,
        "private": given(private, booking.private),
        "all_day": given(all_day, booking.all_day),
        "series_id": given(series_id, booking.series_id),
        "organizer_email": normalize_email(
            given(organizer_email, booking.organizer_email), field="organizer_email"
        ),
    }
    return _apply_update(session, booking, rooms, proposed, source)


def cancel_booking(
    session: Session,
    *,
    booking_id: uuid.UUID,
    expected_version: int | None = None,
    reason: str | None = None,
    source: ChangeSource = ChangeSource.PLATFORM,
) -> Booking:
    """Cancel (any status may be cancelled); cancelling a cancelled booking changes nothing."""
    booking, rooms = _lock_booking(session, booking_id)
    _check_version(booking, expected_version)
    if booking.status is BookingStatus.CANCELLED:
        return booking
    check_changeable_in_outlook(session, booking, rooms[booking.resource_id], source)
    _change_status(session, booking, BookingStatus.CANCELLED, reason, source)
    booking.cancelled_at = now(session)
    if _follows_rules(source) and is_pushable(session, rooms[booking.resource_id]):
        enqueue_push(session, booking=booking, action=OutboxAction.CANCEL)
    session.flush()
    return booking


def set_booking_status(
    session: Session,
    *,
    booking_id: uuid.UUID,
    status: BookingStatus,
    reason: str | None = None,
    source: ChangeSource = ChangeSource.PLATFORM,
) -> Booking:
    """Move a booking along its lifecycle (pending → confirmed/declined, any → cancelled).

    Setting the status it already has changes nothing, so a replayed decision is harmless.
    """
    if status is BookingStatus.CANCELLED:
        return cancel_booking(session, booking_id=booking_id, reason=reason, source=source)
    booking, _ = _lock_booking(session, booking_id)
    if booking.status is not status:
        _change_status(session, booking, status, reason, source)
        session.flush()
    return booking


def get_booking(session: Session, *, booking_id: uuid.UUID) -> Booking:
    return get_or_raise(session, Booking, booking_id, noun="booking")


def list_bookings(
    session: Session,
    *,
    organization_id: uuid.UUID | None = None,
    resource_id: uuid.UUID | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    status: BookingStatus | None = None,
    organizer_user_id: uuid.UUID | None = None,
    limit: int = DEFAULT_PAGE_SIZE,
    cursor: str | None = None,
) -> Page[Booking]:
    """Bookings by start (then id); with ``start``/``end``, those overlapping [start, end);
    with ``organizer_user_id``, only that person's (an indexed column).

    The cursor is the (start, id) of the last booking handed out, so a page never repeats
    or skips a booking however the rows before it change."""
    where: list[ColumnElement[bool]] = []
    if organization_id is not None:
        where.append(Booking.organization_id == organization_id)
    if resource_id is not None:
        where.append(Booking.resource_id == resource_id)
    if start is not None:
        where.append(Booking.end_at > start)
    if end is not None:
        where.append(Booking.start_at < end)
    if status is not None:
        where.append(Booking.status == status)
    if organizer_user_id is not None:
        where.append(Booking.organizer_user_id == organizer_user_id)
    return paginate_by_start(session, where=where, limit=limit, cursor=cursor)


def append_history(
    session: Session,
    *,
    booking: Booking,
    kind: HistoryKind,
    source: ChangeSource,
    data: dict[str, Any],
) -> BookingHistory:
    """Record an event in the booking's history at its current version (``data`` is JSON)."""
    entry = BookingHistory(
        booking_id=booking.id, version=booking.version, source=source, kind=kind, data=data
    )
    session.add(entry)
    return entry


def _apply_update(
    session: Session,
    booking: Booking,
    rooms: dict[uuid.UUID, Resource],
    proposed: dict[str, Any],
    source: ChangeSource,
) -> Booking:
    room = _in_organization(rooms[proposed["resource_id"]], booking.organization_id)
    changes = {
        name: (getattr(booking, name), value)
        for name, value in proposed.items()
        if getattr(booking, name) != value
    }
    if not changes:
        return booking
    moved = not _MOVING_FIELDS.isdisjoint(changes)
    if moved and _follows_rules(source):
        ensure_bookable(room)
        ensure_room_free(
            session,
            resource_id=room.id,
            start=proposed["start_at"],
            end=proposed["end_at"],
            ignore_booking_id=booking.id,
        )
    pushable = _follows_rules(source) and any(is_pushable(session, r) for r in rooms.values())
    if (
        moved
        and pushable
        and booking.status is BookingStatus.CONFIRMED
        and is_pushable(session, room)
    ):
        changes["status"] = (booking.status, BookingStatus.PENDING)
    for name, (_, value) in changes.items():
        setattr(booking, name, value)
    if moved:
        schedule_release(session, booking)
    booking.version += 1
    append_history(
        session, booking=booking, kind=HistoryKind.UPDATED, source=source, data=_jsonable(changes)
    )
    if pushable:
        enqueue_push(session, booking=booking, action=OutboxAction.UPDATE)
    session.flush()
    return booking


def _change_status(
    session: Session,
    booking: Booking,
    status: BookingStatus,
    reason: str | None,
    source: ChangeSource,
) -> None:
    check_transition(booking, status)
    previous = booking.status
    booking.status = status
    booking.status_reason = reason
    schedule_release(session, booking)
    booking.version += 1
    kind = (
        HistoryKind.CANCELLED if status is BookingStatus.CANCELLED else HistoryKind.STATUS_CHANGED
    )
    append_history(
        session,
        booking=booking,
        kind=kind,
        source=source,
        data=_jsonable({"status": (previous, status), "status_reason": reason}),
    )


def lock_booking(
    session: Session, booking_id: uuid.UUID
) -> tuple[Booking, dict[uuid.UUID, Resource]]:
    """The booking locked after its room, for services that change it in their own way."""
    return _lock_booking(session, booking_id)


def change_status(
    session: Session,
    booking: Booking,
    status: BookingStatus,
    reason: str | None,
    source: ChangeSource,
) -> None:
    """A status change of a booking already locked (``lock_booking``), with its history."""
    _change_status(session, booking, status, reason, source)


def _lock_booking(
    session: Session, booking_id: uuid.UUID, *, also_lock: Iterable[uuid.UUID] = ()
) -> tuple[Booking, dict[uuid.UUID, Resource]]:
    """The booking, locked after its room(s): every booking writer locks rooms first."""
    resource_id = get_booking(session, booking_id=booking_id).resource_id
    rooms = lock_resources(session, [resource_id, *also_lock])
    booking = session.scalars(
        select(Booking)
        .where(Booking.id == booking_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()
    if booking.resource_id != resource_id:
        raise ConflictError(
            f"Booking {booking_id} was moved to another room while this change was being made; "
            "read it again and retry."
        )
    return booking, rooms


def _check_version(booking: Booking, expected_version: int | None) -> None:
    if expected_version is not None and expected_version != booking.version:
        raise VersionMismatchError(
            f"Booking {booking.id} is at version {booking.version}, not {expected_version}: "
            "someone changed it since you read it. Read it again and retry.",
            details={"current_version": booking.version, "expected_version": expected_version},
        )


def _description(
    booking: Booking, description: Maybe[str | None], source: ChangeSource
) -> str | None:
    """The description to keep: an empty one is none. A meeting born in Outlook keeps its
    body there (roomsync neither reads nor overwrites it), so it takes no description."""
    wanted = given(description, booking.description) or None
    outlook_born = booking.origin is Origin.MICROSOFT365
    if wanted != booking.description and outlook_born and _follows_rules(source):
        raise InvalidInputError(
            "This meeting was booked in Outlook: change its description there.",
            field="description",
        )
    return wanted


def _follows_rules(source: ChangeSource) -> bool:
    return source is not ChangeSource.MICROSOFT365


def _snapshot(booking: Booking) -> dict[str, Any]:
    return {name: _json_value(getattr(booking, name)) for name in _SNAPSHOT_FIELDS}


def _in_organization(resource: Resource, organization_id: uuid.UUID) -> Resource:
    if resource.organization_id != organization_id:
        raise NotFoundError(f"There is no resource with the id {resource.id} in the organization.")
    return resource


def _jsonable(values: dict[str, Any]) -> dict[str, Any]:
    """History data: a change is ``[old, new]``; everything rendered as JSON values."""
    return {
        name: [_json_value(v) for v in value] if isinstance(value, tuple) else _json_value(value)
        for name, value in values.items()
    }


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return isoformat_utc(value)
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, uuid.UUID):
        return str(value)
    return value
