"""Check-in, ending a meeting early, and releasing bookings nobody checked in to.

A release is a status change made under the same row locks as every other booking write
(room, then booking), re-checked once the locks are held: two workers running the job at
once release each booking once, and its outbox row is written in that one transaction, so
the Microsoft 365 side is told once however often the job runs or dies
(``outbox``; a push is planned from the booking's state, ``sync.push.plan``).
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from roomsync.platform.db import isoformat_utc, now
from roomsync.platform.enums import BookingStatus, ChangeSource, HistoryKind, Origin, OutboxAction
from roomsync.platform.exceptions import ConflictError
from roomsync.platform.models import Booking
from roomsync.platform.services import bookings
from roomsync.platform.services.booking_rules import OCCUPYING_STATUSES
from roomsync.platform.services.checkin_policy import policy_of_resource
from roomsync.platform.services.outbox import enqueue_push, is_pushable

RELEASE_BATCH = 500
EXTEND_MINUTES = 15
ENDED_AT_ONCE = "Ended the moment it began."


class CheckInClosedError(ConflictError):
    code = "check_in_closed"


def released_reason(minutes: int) -> str:
    return f"Released: nobody checked in within {minutes} minutes of the start."


def check_in(session: Session, *, booking_id: uuid.UUID, actor: str) -> Booking:
    """Record that someone is in the room; checking in twice changes nothing."""
    booking, _ = bookings.lock_booking(session, booking_id)
    if booking.checked_in_at is not None:
        return booking
    at = now(session)
    _check_window(session, booking, at)
    booking.checked_in_at = at
    booking.release_at = None
    booking.version += 1
    bookings.append_history(
        session,
        booking=booking,
        kind=HistoryKind.UPDATED,
        source=ChangeSource.PLATFORM,
        data={"checked_in_at": isoformat_utc(at), "actor": actor},
    )
    session.flush()
    return booking


def _check_window(session: Session, booking: Booking, at: datetime) -> None:
    if booking.status is BookingStatus.RELEASED:
        raise CheckInClosedError(
            f"Booking {booking.id} was released for no check-in "
            f"({booking.status_reason or 'released'}); book the room again if it is free.",
            details={"status": booking.status.value},
        )
    if booking.status not in OCCUPYING_STATUSES:
        raise CheckInClosedError(
            f"Booking {booking.id} is {booking.status} and cannot be checked in to.",
            details={"status": booking.status.value},
        )
    opens_at = policy_of_resource(session, booking.resource_id).opens_at(booking.start_at)
    if at < opens_at:
        raise CheckInClosedError(
            f"Check-in for booking {booking.id} opens at {isoformat_utc(opens_at)}.",
            details={"opens_at": isoformat_utc(opens_at)},
        )
    if at >= booking.end_at:
        raise CheckInClosedError(
            f"Booking {booking.id} ended at {isoformat_utc(booking.end_at)}.",
            details={"end": isoformat_utc(booking.end_at)},
        )


def end_booking(session: Session, *, booking_id: uuid.UUID) -> Booking:
    """End a running meeting now: the rest of its slot is free on both sides (the shorter
    booking is pushed to Outlook as any other change)."""
    booking = bookings.get_booking(session, booking_id=booking_id)
    moment = now(session)
    at = moment.replace(microsecond=0)
    if booking.status not in OCCUPYING_STATUSES:
        raise CheckInClosedError(
            f"Booking {booking.id} is {booking.status}: there is no meeting to end.",
            details={"status": booking.status.value},
        )
    if moment < booking.start_at:
        raise CheckInClosedError(
            f"Booking {booking.id} starts at {isoformat_utc(booking.start_at)}: it has not "
            "begun, so cancel it instead of ending it.",
            details={"start": isoformat_utc(booking.start_at)},
        )
    if at >= booking.end_at:
        return booking
    if at <= booking.start_at:  # ended the second it began: nothing of the slot was used
        return bookings.cancel_booking(session, booking_id=booking_id, reason=ENDED_AT_ONCE)
    return bookings.update_booking(session, booking_id=booking_id, end=at)


def extend_booking(
    session: Session, *, booking_id: uuid.UUID, minutes: int = EXTEND_MINUTES
) -> Booking:
    """Make a running meeting ``minutes`` longer, if the room is free after it (409 naming
    the booking in the way otherwise, as any move into a taken slot)."""
    booking = bookings.get_booking(session, booking_id=booking_id)
    at = now(session)
    if booking.status not in OCCUPYING_STATUSES or not booking.start_at <= at < booking.end_at:
        raise CheckInClosedError(
            f"Booking {booking.id} is not running now, so it cannot be extended.",
            details={"status": booking.status.value},
        )
    return bookings.update_booking(
        session, booking_id=booking_id, end=booking.end_at + timedelta(minutes=minutes)
    )


def due_for_release(
    session: Session, *, at: datetime, limit: int = RELEASE_BATCH
) -> list[uuid.UUID]:
    """The bookings whose check-in window has passed, through the ``release_at`` index.
    In room order, so two releasers lock rooms in the same order and never deadlock."""
    return list(
        session.scalars(
            select(Booking.id)
            .where(Booking.release_at <= at)
            .order_by(Booking.resource_id, Booking.id)
            .limit(limit)
        )
    )


def release_booking(session: Session, *, booking_id: uuid.UUID, at: datetime) -> bool:
    """Release the booking if, under its locks, it is still due; True when it was."""
    booking, rooms = bookings.lock_booking(session, booking_id)
    if booking.release_at is None or booking.release_at > at:
        return False  # checked in, moved or released by someone else meanwhile
    if booking.checked_in_at is not None or booking.status not in OCCUPYING_STATUSES:
        booking.release_at = None
        return False
    if booking.end_at <= at:  # the job was down all meeting long: nothing left to give back
        booking.release_at = None
        return False
    minutes = round((booking.release_at - booking.start_at) / timedelta(minutes=1))
    bookings.change_status(
        session, booking, BookingStatus.RELEASED, released_reason(minutes), ChangeSource.SYSTEM
    )
    if is_pushable(session, rooms[booking.resource_id]):
        action = OutboxAction.CANCEL if booking.origin is Origin.PLATFORM else OutboxAction.UPDATE
        enqueue_push(session, booking=booking, action=action)
    session.flush()
    return True


def release_due_bookings(session: Session, *, at: datetime | None = None) -> list[uuid.UUID]:
    """Release every booking due now; returns those this call released."""
    at = at or now(session)
    return [
        booking_id
        for booking_id in due_for_release(session, at=at)
        if release_booking(session, booking_id=booking_id, at=at)
    ]
