"""A booking whose push cannot get through stops holding its room.

A booking made on the platform in a Microsoft 365 room is ``pending`` until the room
mailbox answers, and holds its slot meanwhile. When the push is given up on — Graph
refused it for good (nobody's mailbox to book in, a request Graph cannot take), it failed
``push_max_attempts`` times, or no push got through within the integration's
``room_answer_timeout_seconds`` (:func:`end_overdue_pushes`: Graph kept failing, the
integration is stopped) — the room never heard of the booking and never answers it. The
booking is then declined with the reason, so the platform stops holding a slot that
Exchange may give to another meeting: the room mailbox decides occupancy. Its outbox rows
stay ``failed`` with the error (the booking's ``sync.error``, the integration status's
failed pushes). Once the cause is fixed, an admin's retry (``POST
/api/v1/bookings/{id}/sync/retry``) makes the booking pending again if its slot is still
free on the platform (:func:`reopen_for_retry`) and pushes it; the room answers it.
"""

from __future__ import annotations

import logging
import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from roomsync.platform.enums import (
    BookingStatus,
    ChangeSource,
    HistoryKind,
    Origin,
    OutboxState,
)
from roomsync.platform.models import Booking, Integration, OutboxEntry
from roomsync.platform.services.booking_rules import ensure_room_free, lock_resources
from roomsync.platform.services.bookings import append_history, set_booking_status
from roomsync.sync.context import SyncContext
from roomsync.sync.options import IntegrationOptions

logger = logging.getLogger(__name__)
OVERDUE_LIMIT = 200
_SHORTEST_TIMEOUT = timedelta(seconds=10)
"""The smallest ``room_answer_timeout_seconds`` an integration accepts."""


def decline_unsent(session: Session, booking_id: uuid.UUID, *, version: int, why: str) -> bool:
    """Decline the booking (still at ``version``, still waiting for its room) because its
    push was given up on for ``why``; False when it no longer waits (answered, changed)."""
    booking = session.get(Booking, booking_id)
    if booking is None or not _waits_for_room(booking) or booking.version != version:
        return False
    set_booking_status(
        session,
        booking_id=booking_id,
        status=BookingStatus.DECLINED,
        reason=unsent_reason(why),
        source=ChangeSource.SYSTEM,
    )
    logger.warning("Booking %s was declined: its push was given up on (%s)", booking_id, why)
    return True


def unsent_reason(why: str) -> str:
    return (
        "The booking could not be sent to the room's Microsoft 365 mailbox, so it no longer "
        f"holds the room: {why}"
    )


def _waits_for_room(booking: Booking) -> bool:
    return booking.status is BookingStatus.PENDING and booking.origin is Origin.PLATFORM


# --- the sweep: pushes that did not get through in time -------------------------------------


@dataclass(frozen=True)
class _Overdue:
    booking_id: uuid.UUID
    version: int
    why: str


def end_overdue_pushes(ctx: SyncContext, *, limit: int = OVERDUE_LIMIT) -> list[uuid.UUID]:
    """Decline every waiting booking whose push has not got through within its
    integration's ``room_answer_timeout_seconds``; returns the bookings declined."""
    with ctx.database.session() as session:
        overdue = _overdue(session, ctx.clock(), limit)
    declined = []
    for item in overdue:
        with ctx.database.session() as session:
            if _park(session, item, ctx.clock()):
                declined.append(item.booking_id)
    return declined


def _overdue(session: Session, now: datetime, limit: int) -> list[_Overdue]:
    """Waiting bookings whose oldest pending row is older than their timeout."""
    found = session.execute(
        select(OutboxEntry, Booking.version, Integration)
        .join(Booking, Booking.id == OutboxEntry.booking_id)
        .join(Integration, Integration.organization_id == Booking.organization_id)
        .where(
            OutboxEntry.state == OutboxState.PENDING,
            OutboxEntry.created_at <= now - _SHORTEST_TIMEOUT,
            Booking.status == BookingStatus.PENDING,
            Booking.origin == Origin.PLATFORM,
            Integration.enabled.is_(True),
        )
        .order_by(OutboxEntry.id)
        .limit(limit * 4)
    ).all()
    rows: dict[uuid.UUID, list[OutboxEntry]] = defaultdict(list)
    owners: dict[uuid.UUID, tuple[int, Integration]] = {}
    for row, version, integration in found:
        rows[row.booking_id].append(row)
        owners[row.booking_id] = (version, integration)
    overdue = []
    for booking_id, pending in rows.items():
        version, integration = owners[booking_id]
        timeout = _timeout(integration)
        if pending[0].created_at <= now - timeout:
            why = _overdue_why(booking_id, pending, timeout, integration.stopped_reason)
            overdue.append(_Overdue(booking_id, version, why))
    return overdue[:limit]


def _timeout(integration: Integration) -> timedelta:
    options = IntegrationOptions.from_stored(integration.options)
    return timedelta(seconds=options.room_answer_timeout_seconds)


def _overdue_why(
    booking_id: uuid.UUID, pending: list[OutboxEntry], timeout: timedelta, stopped: str | None
) -> str:
    errors = [row.last_error for row in pending if row.last_error]
    cause = stopped or (errors[-1] if errors else "no push reached Microsoft 365.")
    return (
        f"no push got through within {timeout.total_seconds():g} seconds (the "
        f"integration's room_answer_timeout_seconds). {cause} Fix that, then retry the push "
        f"(POST /api/v1/bookings/{booking_id}/sync/retry)."
    )


def _park(session: Session, item: _Overdue, now: datetime) -> bool:
    """Park the booking's pending rows as failed and decline it, unless a push is sending
    it right now (its claim decides) or it no longer waits for its room."""
    pending = session.scalars(
        select(OutboxEntry)
        .where(OutboxEntry.booking_id == item.booking_id, OutboxEntry.state == OutboxState.PENDING)
        .with_for_update()
    ).all()
    if any(row.claimed_until is not None and row.claimed_until > now for row in pending):
        return False
    if not decline_unsent(session, item.booking_id, version=item.version, why=item.why):
        return False
    for row in pending:
        row.state, row.claimed_until = OutboxState.FAILED, None
        row.last_error = f"The push was given up on: {item.why}"
    return True


# --- an admin's retry -----------------------------------------------------------------------


def declined_for_failed_push(session: Session, booking: Booking) -> bool:
    """The booking was declined by roomsync because its push failed (not by its room):
    declined, and its latest outbox row failed."""
    if booking.status is not BookingStatus.DECLINED or booking.origin is not Origin.PLATFORM:
        return False
    latest = session.scalar(
        select(OutboxEntry.state)
        .where(OutboxEntry.booking_id == booking.id)
        .order_by(OutboxEntry.id.desc())
        .limit(1)
    )
    return latest is OutboxState.FAILED


def reopen_for_retry(session: Session, booking: Booking) -> None:
    """Make a booking declined for its failed push pending again, if nothing else took its
    slot on the platform meanwhile (409 ``booking_conflict`` otherwise)."""
    lock_resources(session, [booking.resource_id])
    ensure_room_free(
        session,
        resource_id=booking.resource_id,
        start=booking.start_at,
        end=booking.end_at,
        ignore_booking_id=booking.id,
    )
    booking.status, booking.status_reason = BookingStatus.PENDING, None
    booking.version += 1
    append_history(
        session,
        booking=booking,
        kind=HistoryKind.STATUS_CHANGED,
        source=ChangeSource.PLATFORM,
        data={"status": ["declined", "pending"], "status_reason": None},
    )
    session.flush()
