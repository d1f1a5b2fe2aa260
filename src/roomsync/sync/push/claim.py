"""Claiming pushes: a booking's due outbox rows, and a snapshot of what to push.

The claim reads the booking, its room, its link and its integration in the transaction
that claims the rows (``claimed_until``, so the sweep leaves them alone). It is also the
booking's lock: while any of its rows is claimed (and the claim has not expired), no other
push of that booking starts (:class:`LeaseHeldError`), so one booking's changes reach
Graph one at a time, in order. A worker killed mid-push blocks the booking for
``ROOMSYNC_PUSH_CLAIM_SECONDS`` (:func:`push_claim_for`) at most, as a lease would; the
claim is not renewed while the push runs.

:func:`claim_pushes` claims the rows of the booking a queue message names and, in the
same transaction, of up to ``limit - 1`` other bookings of its organization whose due
rows nobody holds (oldest first): under a burst one task pushes several bookings, and
every read is one query for all of them, so the database's write lock is held a fraction
of the time per booking. The other bookings' own queue messages then find nothing due.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TypeVar

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from roomsync.platform.enums import BookingStatus, OutboxState
from roomsync.platform.models import (
    Booking,
    Building,
    EventLink,
    Integration,
    OutboxEntry,
    Resource,
    User,
)
from roomsync.settings import Settings
from roomsync.sync.exceptions import LeaseHeldError
from roomsync.sync.links import agreed_times
from roomsync.sync.options import IntegrationOptions
from roomsync.sync.push.outbox import PushJob
from roomsync.sync.push.plan import BookingSnapshot, LinkSnapshot
from roomsync.sync.push.series import series_mates, series_snapshots

EARLY = timedelta(seconds=1)
"""A retry queued for ``next_attempt_at`` may start this much early (clocks of the queue)."""
T = TypeVar("T")


def push_claim_for(settings: Settings) -> timedelta:
    """How long a claim holds a booking's pushes (``ROOMSYNC_PUSH_CLAIM_SECONDS``)."""
    return timedelta(seconds=settings.push_claim_seconds)


def claim_push(
    session: Session, booking_id: uuid.UUID, *, now: datetime, claim_for: timedelta
) -> PushJob | None:
    """Claim the booking's due rows and snapshot what to push; None when none is due.

    Raises :class:`LeaseHeldError` while another push holds a claim on this booking."""
    claimed = claim_pushes(session, booking_id, now=now, limit=1, claim_for=claim_for)
    if booking_id in claimed.busy:
        raise LeaseHeldError(f"Another worker is pushing booking {booking_id}.")
    return claimed.jobs[0] if claimed.jobs else None


@dataclass(frozen=True)
class Claimed:
    jobs: list[PushJob]
    busy: list[uuid.UUID] = field(default_factory=list)
    """Bookings with a change that another push, still running, does not carry: push
    them again after that one."""
    more: bool = False
    """The claim took as many bookings as it could look at: more may be due."""


def claim_pushes(
    session: Session,
    booking_id: uuid.UUID,
    *,
    now: datetime,
    limit: int,
    claim_for: timedelta,
) -> Claimed:
    """Claim ``booking_id``'s due rows (first) and those of up to ``limit - 1`` other
    bookings of its organization."""
    integration = _integration_of(session, booking_id)
    if integration is not None and integration.stopped_reason is not None:
        return Claimed([])  # a stopped integration's pushes wait for new credentials
    wanted = [booking_id]
    if limit > 1 and integration is not None:
        wanted += _other_due(session, integration.organization_id, booking_id, now, limit)
    mates = series_mates(session, wanted)  # a series' first push takes all its bookings
    rows = _pending_rows(session, wanted + mates)
    busy = [b for b in wanted + mates if _held(rows[b], now) and _unclaimed_due(rows[b], now)]
    claimable = [b for b in wanted if not _held(rows[b], now) and _due(rows[b], now)]
    chosen = claimable[:limit]
    chosen += [b for b in mates if not _held(rows[b], now) and _due(rows[b], now)]
    for chosen_id in chosen:
        for row in _due(rows[chosen_id], now):
            row.claimed_until = now + claim_for
    jobs = _jobs(session, chosen, rows, integration, now)
    return Claimed(jobs, busy, more=limit > 1 and len(wanted) >= limit)


def _integration_of(session: Session, booking_id: uuid.UUID) -> Integration | None:
    return session.scalar(
        select(Integration)
        .join(Booking, Booking.organization_id == Integration.organization_id)
        .where(Booking.id == booking_id)
    )


def _other_due(
    session: Session, organization_id: uuid.UUID, booking_id: uuid.UUID, now: datetime, limit: int
) -> list[uuid.UUID]:
    """Other bookings with due rows nobody holds, oldest row first."""
    found = session.scalars(
        select(OutboxEntry.booking_id)
        .where(
            OutboxEntry.organization_id == organization_id,
            OutboxEntry.booking_id != booking_id,
            OutboxEntry.state == OutboxState.PENDING,
            OutboxEntry.next_attempt_at <= now + EARLY,
            or_(OutboxEntry.claimed_until.is_(None), OutboxEntry.claimed_until <= now),
        )
        .group_by(OutboxEntry.booking_id)
        .order_by(func.min(OutboxEntry.created_at))
        .limit(limit - 1)
    )
    return list(found)


def _pending_rows(
    session: Session, booking_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[OutboxEntry]]:
    rows = session.scalars(
        select(OutboxEntry)
        .where(OutboxEntry.booking_id.in_(booking_ids), OutboxEntry.state == OutboxState.PENDING)
        .order_by(OutboxEntry.id)
        .with_for_update()
    )
    return _grouped(rows, lambda row: row.booking_id)


def _held(rows: list[OutboxEntry], now: datetime) -> bool:
    """Another push is sending this booking (its claim has not expired)."""
    return any(row.claimed_until is not None and row.claimed_until > now for row in rows)


def _unclaimed_due(rows: list[OutboxEntry], now: datetime) -> bool:
    """Due rows that no live claim covers: a change the push under way does not carry."""
    return any(row.claimed_until is None or row.claimed_until <= now for row in _due(rows, now))


def _due(rows: list[OutboxEntry], now: datetime) -> list[OutboxEntry]:
    return [row for row in rows if row.next_attempt_at <= now + EARLY]


def _jobs(
    session: Session,
    booking_ids: list[uuid.UUID],
    rows: dict[uuid.UUID, list[OutboxEntry]],
    integration: Integration | None,
    now: datetime,
) -> list[PushJob]:
    if not booking_ids:
        return []
    found = session.scalars(select(Booking).where(Booking.id.in_(booking_ids)))
    bookings = {booking.id: booking for booking in found}
    places = _places(session, {b.resource_id for b in bookings.values()})
    links = {
        link.booking_id: link
        for link in session.scalars(select(EventLink).where(EventLink.booking_id.in_(booking_ids)))
    }
    attempted = _attempted(session, booking_ids)
    series = series_snapshots(session, list(bookings.values()))
    external = _external(session, bookings.values())
    options = IntegrationOptions.from_stored(integration.options if integration else None)
    jobs = []
    for booking_id in booking_ids:
        booking, due = bookings[booking_id], _due(rows[booking_id], now)
        resource, building = places[booking.resource_id]
        link = links.get(booking_id)
        jobs.append(
            PushJob(
                row_ids=tuple(row.id for row in due),
                attempts=max(row.attempts for row in due),
                attempted=booking_id in attempted,
                booking=_snapshot(booking, resource, building),
                link=_link_snapshot(link) if link is not None else None,
                integration_id=integration.id if integration else None,
                service_account=integration.service_account if integration else None,
                organizer_external=(booking.organization_id, booking.organizer_email) in external,
                options=options,
                refusal=_refusal(booking, resource, integration),
                integration=integration,
                series=series.get(booking_id),
            )
        )
    return jobs


def _places(
    session: Session, resource_ids: set[uuid.UUID]
) -> dict[uuid.UUID, tuple[Resource, Building]]:
    found = session.execute(
        select(Resource, Building)
        .join(Building, Building.id == Resource.building_id)
        .where(Resource.id.in_(resource_ids))
    )
    return {resource.id: (resource, building) for resource, building in found}


def _snapshot(booking: Booking, resource: Resource, building: Building) -> BookingSnapshot:
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
        description=booking.description,
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


def _attempted(session: Session, booking_ids: list[uuid.UUID]) -> set[uuid.UUID]:
    """Bookings a create may already have reached Graph for (an earlier attempt)."""
    tried = session.scalars(
        select(OutboxEntry.booking_id).where(
            OutboxEntry.booking_id.in_(booking_ids),
            or_(OutboxEntry.attempts > 0, OutboxEntry.state != OutboxState.PENDING),
        )
    )
    return set(tried)


def _external(session: Session, bookings: Iterable[Booking]) -> set[tuple[uuid.UUID, str]]:
    """(organization, email) of the organizers known to be external."""
    emails = {b.organizer_email for b in bookings}
    found = session.execute(
        select(User.organization_id, User.email).where(
            User.email.in_(emails), User.external.is_(True)
        )
    )
    return {(organization_id, email) for organization_id, email in found}


def _refusal(booking: Booking, resource: Resource, integration: Integration | None) -> str | None:
    if integration is None or not integration.enabled:
        return (
            f"The organization of booking {booking.id} has no enabled Microsoft 365 "
            "integration: enable it, then retry the push (POST /api/v1/bookings/{id}/sync/retry)."
        )
    closed = booking.status in (BookingStatus.CANCELLED, BookingStatus.RELEASED)
    if resource.email is None and not closed:
        return f"The room {resource.name} has no Microsoft 365 mailbox to book."
    return None


def _grouped(items: Iterable[T], key: Callable[[T], uuid.UUID]) -> dict[uuid.UUID, list[T]]:
    groups: dict[uuid.UUID, list[T]] = defaultdict(list)
    for item in items:
        groups[key(item)].append(item)
    return groups
