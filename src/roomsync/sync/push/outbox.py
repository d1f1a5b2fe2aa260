"""The outbox side of a push: what a claim hands over (:class:`PushJob`, claimed in
``push_claim``), and recording what happened.

Graph is talked to outside any transaction; the result is recorded in a second one: every
claimed row is done together (how edits coalesce, docs/sync.md "Pushes"), or all get the
attempt, the error and the next attempt time — exponential backoff, or Graph's
``Retry-After`` when it sent one (throttling.md) — until ``push_max_attempts``, when they
are parked as ``failed``.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import exists, or_, select, update
from sqlalchemy.orm import Session

from roomsync.platform.enums import BookingStatus, Origin, OutboxAction, OutboxState, SyncState
from roomsync.platform.models import (
    Booking,
    EventLink,
    Integration,
    OutboxEntry,
    Resource,
)
from roomsync.platform.services.booking_sync import booking_sync_views
from roomsync.platform.services.outbox import enqueue_push, is_pushable
from roomsync.sync.exceptions import IntegrationUnavailableError, NothingToRetryError
from roomsync.sync.options import IntegrationOptions
from roomsync.sync.push.failure import declined_for_failed_push, reopen_for_retry
from roomsync.sync.push.plan import BookingSnapshot, LinkSnapshot
from roomsync.sync.push.series import SeriesSnapshot

BACKOFF_BASE = timedelta(seconds=5)
BACKOFF_MAX = timedelta(minutes=15)
SUPERSEDED = "Superseded by a later change made in Outlook."


@dataclass(frozen=True)
class PushJob:
    """Everything a push needs, read in the claiming transaction."""

    row_ids: tuple[uuid.UUID, ...]
    attempts: int
    """Attempts already made at these rows."""
    attempted: bool
    """A create of this booking may already have reached Graph."""
    booking: BookingSnapshot
    link: LinkSnapshot | None
    integration_id: uuid.UUID | None
    service_account: str | None
    organizer_external: bool
    options: IntegrationOptions
    refusal: str | None = None
    """Why this push cannot be sent at all (it fails at once, no Graph call)."""
    integration: Integration | None = field(default=None, compare=False, repr=False)
    """The integration as read in the claim (detached), for its credentials."""
    series: SeriesSnapshot | None = None
    """The platform series the booking is an occurrence of."""


# --- recording ---------------------------------------------------------------------------


def finish_rows(
    session: Session, row_ids: tuple[uuid.UUID, ...], *, now: datetime, note: str | None = None
) -> None:
    """The claimed rows are done: Graph confirmed the state they asked for."""
    session.execute(
        update(OutboxEntry)
        .where(OutboxEntry.id.in_(row_ids), OutboxEntry.state == OutboxState.PENDING)
        .values(state=OutboxState.DONE, done_at=now, claimed_until=None, last_error=note)
    )


def release_rows(session: Session, row_ids: tuple[uuid.UUID, ...]) -> None:
    """Give the claimed rows back untouched (the booking changed under the push)."""
    session.execute(
        update(OutboxEntry).where(OutboxEntry.id.in_(row_ids)).values(claimed_until=None)
    )


def fail_rows(
    session: Session,
    job: PushJob,
    *,
    message: str,
    permanent: bool,
    retry_after: float | None,
    now: datetime,
) -> datetime | None:
    """Record a failed attempt; the next attempt's time, or None when parked as failed."""
    attempts = job.attempts + 1
    give_up = gives_up(job, permanent=permanent)
    next_at = now + retry_delay(attempts, retry_after)
    values = {"attempts": attempts, "last_error": message, "claimed_until": None}
    if give_up:
        values["state"] = OutboxState.FAILED
    else:
        values["next_attempt_at"] = next_at
    session.execute(
        update(OutboxEntry)
        .where(OutboxEntry.id.in_(job.row_ids), OutboxEntry.state == OutboxState.PENDING)
        .values(**values)
    )
    return None if give_up else next_at


def gives_up(job: PushJob, *, permanent: bool) -> bool:
    """A failed attempt at ``job`` is the last: retrying cannot help, or it was the last try."""
    return permanent or job.attempts + 1 >= job.options.push_max_attempts


def retry_delay(attempt: int, retry_after: float | None) -> timedelta:
    """Wait after failed attempt ``attempt`` (1-based): Graph's Retry-After when given,
    else 5 s doubling up to 15 minutes."""
    if retry_after is not None:
        return timedelta(seconds=max(retry_after, 1.0))
    backoff: timedelta = BACKOFF_BASE * 2 ** (attempt - 1)
    return min(BACKOFF_MAX, backoff)


def has_later_rows(session: Session, booking_id: uuid.UUID, version: int) -> bool:
    """Platform changes after ``version`` are still waiting to be pushed."""
    later = exists().where(
        OutboxEntry.booking_id == booking_id,
        OutboxEntry.state == OutboxState.PENDING,
        OutboxEntry.booking_version > version,
    )
    return bool(session.scalar(select(later)))


# --- the sweep and the operator's retry ----------------------------------------------------


def due_bookings(
    session: Session, *, now: datetime, grace: timedelta, limit: int
) -> list[uuid.UUID]:
    """Bookings whose pending rows no queued push took care of in time: the queue message
    was lost, or the worker died holding the claim (it expired)."""
    rows = session.execute(
        select(OutboxEntry.booking_id, OutboxEntry.id)
        .join(Integration, Integration.organization_id == OutboxEntry.organization_id)
        .where(
            Integration.stopped_reason.is_(None),
            OutboxEntry.state == OutboxState.PENDING,
            OutboxEntry.next_attempt_at <= now - grace,
            or_(OutboxEntry.claimed_until.is_(None), OutboxEntry.claimed_until <= now),
        )
        .order_by(OutboxEntry.id)
        .limit(limit * 4)
    ).all()
    return list(dict.fromkeys(booking_id for booking_id, _ in rows))[:limit]


def request_push_retry(session: Session, *, booking_id: uuid.UUID, now: datetime) -> None:
    """Push the booking again now: waiting rows become due and a new row is written, whose
    commit queues the push (a failed row stays failed, as the record of that failure). A
    booking declined because its push failed waits for its room again (``push_failure``);
    a booking already in sync is refused (409), its sync left alone."""
    booking = session.get_one(Booking, booking_id)
    if not is_pushable(session, session.get_one(Resource, booking.resource_id)):
        raise IntegrationUnavailableError(
            f"Booking {booking_id} is not synced with Microsoft 365 (its room has no mailbox or "
            "the organization has no enabled integration): there is nothing to retry."
        )
    if booking_sync_views(session, [booking])[booking.id].state is SyncState.SYNCED:
        raise NothingToRetryError(
            f"Booking {booking_id} is already in sync with Microsoft 365 (sync.state is "
            "synced): there is no failed push to retry."
        )
    if declined_for_failed_push(session, booking):
        reopen_for_retry(session, booking)
    session.execute(
        update(OutboxEntry)
        .where(OutboxEntry.booking_id == booking_id, OutboxEntry.state == OutboxState.PENDING)
        .values(next_attempt_at=now)
    )
    enqueue_push(session, booking=booking, action=_retry_action(session, booking))


def _retry_action(session: Session, booking: Booking) -> OutboxAction:
    """What the retried push will most likely do; a pending create is what tells the pull
    that a room copy it cannot match yet may be ours (docs/sync.md, identity rule 1)."""
    if booking.status in (BookingStatus.CANCELLED, BookingStatus.RELEASED):
        return OutboxAction.CANCEL
    pushed = session.scalar(
        select(EventLink.organizer_event_id).where(EventLink.booking_id == booking.id)
    )
    if pushed or booking.origin is Origin.MICROSOFT365:
        return OutboxAction.UPDATE
    return OutboxAction.CREATE
