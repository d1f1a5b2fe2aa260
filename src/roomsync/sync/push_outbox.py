"""The outbox side of a push: claiming a booking's due rows, and recording what happened.

A push reads the booking, its room, its link and its integration in the transaction that
claims the rows (``claimed_until``, so the sweep leaves them alone), talks to Graph outside
any transaction, then records the result in a second: every claimed row is done together
(how edits coalesce, docs/sync.md "Pushes"), or all get the attempt, the error and the
next attempt time — exponential backoff, or Graph's ``Retry-After`` when it sent one
(throttling.md) — until ``push_max_attempts``, when they are parked as ``failed``.

The claim is also the booking's lock: while any of its rows is claimed (and the claim has
not expired), no other push of that booking starts (:class:`LeaseHeldError`), so one
booking's changes reach Graph one at a time, in order. A worker killed mid-push blocks the
booking for ``CLAIM_FOR`` at most, as a lease would.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import exists, or_, select, update
from sqlalchemy.orm import Session

from roomsync.platform.enums import BookingStatus, Origin, OutboxAction, OutboxState
from roomsync.platform.models import (
    Booking,
    Building,
    EventLink,
    Integration,
    OutboxEntry,
    Resource,
    User,
)
from roomsync.platform.services.outbox import enqueue_push, is_pushable
from roomsync.sync.exceptions import IntegrationUnavailableError, LeaseHeldError
from roomsync.sync.links import agreed_times
from roomsync.sync.options import IntegrationOptions
from roomsync.sync.push_plan import BookingSnapshot, LinkSnapshot

CLAIM_FOR = timedelta(minutes=2)
EARLY = timedelta(seconds=1)
"""A retry queued for ``next_attempt_at`` may start this much early (clocks of the queue)."""
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


def claim_push(
    session: Session, booking_id: uuid.UUID, *, now: datetime, claim_for: timedelta = CLAIM_FOR
) -> PushJob | None:
    """Claim the booking's due rows and snapshot what to push; None when none is due.

    Raises :class:`LeaseHeldError` while another push holds a claim on this booking."""
    pending = session.scalars(
        select(OutboxEntry)
        .where(OutboxEntry.booking_id == booking_id, OutboxEntry.state == OutboxState.PENDING)
        .order_by(OutboxEntry.id)
        .with_for_update()
    ).all()
    if any(row.claimed_until is not None and row.claimed_until > now for row in pending):
        raise LeaseHeldError(f"Another worker is pushing booking {booking_id}.")
    rows = [row for row in pending if row.next_attempt_at <= now + EARLY]
    if not rows or _integration_stopped(session, booking_id):
        return None  # a stopped integration's pushes wait for new credentials
    for row in rows:
        row.claimed_until = now + claim_for
    return _job(session, session.get_one(Booking, booking_id), rows)


def _integration_stopped(session: Session, booking_id: uuid.UUID) -> bool:
    stopped = session.scalar(
        select(Integration.stopped_reason)
        .join(Booking, Booking.organization_id == Integration.organization_id)
        .where(Booking.id == booking_id)
    )
    return stopped is not None


def _job(session: Session, booking: Booking, rows: Sequence[OutboxEntry]) -> PushJob:
    resource = session.get_one(Resource, booking.resource_id)
    integration = session.scalar(
        select(Integration).where(Integration.organization_id == booking.organization_id)
    )
    link = session.scalar(select(EventLink).where(EventLink.booking_id == booking.id))
    return PushJob(
        row_ids=tuple(row.id for row in rows),
        attempts=max(row.attempts for row in rows),
        attempted=_attempted(session, booking.id),
        booking=_snapshot(session, booking, resource),
        link=_link_snapshot(link) if link is not None else None,
        integration_id=integration.id if integration else None,
        service_account=integration.service_account if integration else None,
        organizer_external=_is_external(session, booking),
        options=IntegrationOptions.from_stored(integration.options if integration else None),
        refusal=_refusal(session, booking, resource, integration),
        integration=integration,
    )


def _snapshot(session: Session, booking: Booking, resource: Resource) -> BookingSnapshot:
    building = session.get_one(Building, resource.building_id)
    return BookingSnapshot(
        booking_id=booking.id,
        version=booking.version,
        origin=booking.origin,
        status=booking.status,
        organizer_email=booking.organizer_email,
        title=booking.title,
        start=booking.start_at,
        end=booking.end_at,
        all_day=booking.all_day,
        private=booking.private,
        updated_at=booking.updated_at,
        room_email=resource.email or "",
        room_name=resource.name,
        time_zone=building.time_zone,
    )


def _link_snapshot(link: EventLink) -> LinkSnapshot:
    agreed_start, agreed_end = agreed_times(link)
    return LinkSnapshot(
        room_email=link.room_email,
        ical_uid=link.ical_uid,
        organizer_email=link.organizer_email,
        organizer_event_id=link.organizer_event_id,
        organizer_change_key=link.organizer_change_key,
        agreed=dict(link.synced_state or {}),
        agreed_start=agreed_start,
        agreed_end=agreed_end,
        synced_version=link.synced_version or 0,
    )


def _attempted(session: Session, booking_id: uuid.UUID) -> bool:
    tried = exists().where(
        OutboxEntry.booking_id == booking_id,
        or_(OutboxEntry.attempts > 0, OutboxEntry.state != OutboxState.PENDING),
    )
    return bool(session.scalar(select(tried)))


def _is_external(session: Session, booking: Booking) -> bool:
    external = session.scalar(
        select(User.external).where(
            User.organization_id == booking.organization_id,
            User.email == booking.organizer_email,
        )
    )
    return bool(external)


def _refusal(
    session: Session, booking: Booking, resource: Resource, integration: Integration | None
) -> str | None:
    if integration is None or not integration.enabled:
        return (
            f"The organization of booking {booking.id} has no enabled Microsoft 365 "
            "integration: enable it, then retry the push (POST /api/v1/bookings/{id}/sync/retry)."
        )
    if resource.email is None and booking.status is not BookingStatus.CANCELLED:
        return f"The room {resource.name} has no Microsoft 365 mailbox to book."
    return None


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
    give_up = permanent or attempts >= job.options.push_max_attempts
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
    commit queues the push (a failed row stays failed, as the record of that failure)."""
    booking = session.get_one(Booking, booking_id)
    if not is_pushable(session, session.get_one(Resource, booking.resource_id)):
        raise IntegrationUnavailableError(
            f"Booking {booking_id} is not synced with Microsoft 365 (its room has no mailbox or "
            "the organization has no enabled integration): there is nothing to retry."
        )
    session.execute(
        update(OutboxEntry)
        .where(OutboxEntry.booking_id == booking_id, OutboxEntry.state == OutboxState.PENDING)
        .values(next_attempt_at=now)
    )
    enqueue_push(session, booking=booking, action=_retry_action(session, booking))


def _retry_action(session: Session, booking: Booking) -> OutboxAction:
    """What the retried push will most likely do; a pending create is what tells the pull
    that a room copy it cannot match yet may be ours (docs/sync.md, identity rule 1)."""
    if booking.status is BookingStatus.CANCELLED:
        return OutboxAction.CANCEL
    pushed = session.scalar(
        select(EventLink.organizer_event_id).where(EventLink.booking_id == booking.id)
    )
    if pushed or booking.origin is Origin.MICROSOFT365:
        return OutboxAction.UPDATE
    return OutboxAction.CREATE
