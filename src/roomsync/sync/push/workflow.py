"""Workflow 4: bookings changed on the platform, pushed to the organizer's Outlook calendar.

:func:`push_booking` is what the queue runs right after a booking change commits;
:func:`sweep_outbox` is the periodic safety net that finds rows no push took care of (a
lost queue message, a worker that died holding the claim), so a push can be delayed but
never lost (the outbox row is written with the booking change;
docs/architecture.md#data-that-makes-sync-correct).

One booking is pushed by one worker at a time (its claim on the outbox rows is the lock);
the push claims the booking's due rows, sends the booking's current state (``push_plan``,
``push_graph``) outside any transaction, and records the outcome (``push_record``): two
database transactions per push. A failure is retried with backoff, honouring Graph's
``Retry-After``, up to the integration's ``push_max_attempts``; then the rows are parked
as failed with Graph's error (request-id included), which the booking's ``sync.error``
shows until an admin retries. Failures that no retry can fix (no mailbox to book in) are
parked at once. A booking still waiting for its room whose push is parked is declined in
the same transaction: it no longer holds a slot the room never heard of (``push_failure``).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from roomsync.errors import RoomsyncError
from roomsync.m365.exceptions import BadRequest, GraphError, InvalidResponse, UnknownTimeZone
from roomsync.m365.graph import GraphClient
from roomsync.m365.retry import RetryPolicy
from roomsync.platform.enums import BookingStatus
from roomsync.platform.models import Integration
from roomsync.sync.context import SyncContext
from roomsync.sync.exceptions import PushRefusedError
from roomsync.sync.integration.access import is_credential_failure, stopping_on_credential_failure
from roomsync.sync.integration.connection import tokens_for
from roomsync.sync.mailbox_pool import map_per_mailbox
from roomsync.sync.push.claim import claim_pushes, push_claim_for
from roomsync.sync.push.failure import decline_unsent
from roomsync.sync.push.graph import PushResult, PushSender, awaits_room
from roomsync.sync.push.outbox import PushJob, due_bookings, fail_rows, gives_up, release_rows
from roomsync.sync.push.record import record_result
from roomsync.sync.push.series import SeriesMaster, record_master

logger = logging.getLogger(__name__)
SWEEP_GRACE = timedelta(seconds=10)
"""Rows younger than this are left to the push their commit queued."""
SWEEP_LIMIT = 200
# Short waits inside one attempt; longer ones become the row's next attempt time, so a
# throttled push never holds a worker thread for a minute.
PUSH_RETRY = RetryPolicy(max_attempts=3, max_delay=5.0)
Sent = PushResult | RoomsyncError
"""What Graph made of one push: the result, or the error to record on its rows."""
BATCH_LIMIT = 20
"""Bookings one push task may claim and send (under a burst; alone, it pushes one)."""
_PERMANENT = (PushRefusedError, BadRequest, InvalidResponse, UnknownTimeZone)
Masters = dict[str, SeriesMaster | RoomsyncError]
"""Per series id: where Graph holds the series created by this push, or why it could not."""


class PushState(StrEnum):
    PUSHED = "pushed"
    NOTHING_DUE = "nothing_due"
    BUSY = "busy"
    """Another worker is pushing this booking right now."""
    RETRYING = "retrying"
    FAILED = "failed"
    STOPPED = "stopped"
    """Entra refused the integration's credential: it is stopped, the push waits for new
    credentials (its rows stay pending, no attempt counted)."""


@dataclass(frozen=True)
class PushOutcome:
    state: PushState
    retry_at: datetime | None = None
    awaiting_room: bool = False
    error: str | None = None

    def retry_in(self, now: datetime) -> float | None:
        """Seconds until this booking should be pushed again, if it should."""
        if self.state is PushState.BUSY:
            return 1.0
        if self.retry_at is None:
            return None
        return max(0.0, (self.retry_at - now).total_seconds())


@dataclass
class SweepReport:
    outcomes: dict[uuid.UUID, PushOutcome] = field(default_factory=dict)


def push_booking(ctx: SyncContext, booking_id: uuid.UUID) -> PushOutcome:
    """Push the booking's current state if it has due outbox rows (two transactions: the
    claim, which is also the booking's lock, and the record)."""
    return push_due(ctx, booking_id, limit=1)[booking_id]


def push_due(
    ctx: SyncContext,
    booking_id: uuid.UUID,
    *,
    limit: int = BATCH_LIMIT,
    on_claimed: Callable[[bool], None] | None = None,
) -> dict[uuid.UUID, PushOutcome]:
    """Push ``booking_id`` and up to ``limit - 1`` other bookings of its organization whose
    rows are due and free (``push_claim``): one claim, their sends a few at a time, one
    record. The outcome of each booking pushed, ``booking_id``'s always included;
    ``on_claimed`` learns, before they are sent, whether more may be due."""
    with ctx.database.session() as session:
        claimed = claim_pushes(
            session,
            booking_id,
            now=ctx.clock(),
            limit=limit,
            claim_for=push_claim_for(ctx.settings),
        )
    if on_claimed is not None:
        on_claimed(claimed.more)
    outcomes = _push(ctx, claimed.jobs)
    for busy in claimed.busy:
        outcomes[busy] = PushOutcome(PushState.BUSY)
    outcomes.setdefault(booking_id, PushOutcome(PushState.NOTHING_DUE))
    return outcomes


def sweep_outbox(ctx: SyncContext, *, limit: int = SWEEP_LIMIT) -> SweepReport:
    """Push every booking whose rows have waited past their time with nobody on them."""
    with ctx.database.session() as session:
        due = due_bookings(session, now=ctx.clock(), grace=SWEEP_GRACE, limit=limit)
    report = SweepReport()
    for booking_id in due:
        report.outcomes[booking_id] = push_booking(ctx, booking_id)
    if due:
        logger.info("The outbox sweep pushed %d bookings", len(due))
    return report


def _push(ctx: SyncContext, jobs: list[PushJob]) -> dict[uuid.UUID, PushOutcome]:
    """Send the jobs (a few at a time, ``mailbox_pool``), then record them all; the
    master of a platform series Graph does not hold yet is created first, once."""
    masters = _series_masters(ctx, jobs)
    results = map_per_mailbox(jobs, _mailbox_of, lambda job: _send_safely(ctx, job, masters))
    sent: list[tuple[PushJob, Sent]] = []
    stopped: list[PushJob] = []
    error = None
    for job, result in zip(jobs, results, strict=True):
        if isinstance(result, RoomsyncError) and is_credential_failure(result):
            stopped.append(job)
            error = result.message
        else:
            sent.append((job, result))
    return _record(ctx, sent, stopped=stopped, error=error)


def _mailbox_of(job: PushJob) -> str:
    """The mailbox the push writes to (near enough for counting concurrent requests)."""
    link = job.link
    return (link.organizer_email if link else None) or job.booking.organizer_email


def _send_safely(ctx: SyncContext, job: PushJob, masters: Masters | None = None) -> Sent:
    master = (masters or {}).get(job.series.series_id) if job.series else None
    if isinstance(master, RoomsyncError):
        return master
    try:
        return _send(ctx, job, master)
    except RoomsyncError as exc:
        return exc
    except Exception:
        logger.exception("Pushing booking %s failed unexpectedly", job.booking.booking_id)
        return RoomsyncError("An unexpected error stopped the push: see the service log.")


def _send(ctx: SyncContext, job: PushJob, master: SeriesMaster | None = None) -> PushResult:
    integration = job.integration
    if job.refusal is not None or integration is None:
        raise PushRefusedError(job.refusal or "The organization has no integration.")
    with stopping_on_credential_failure(ctx.database, integration.id):
        return PushSender(_graph(ctx, integration), job, master).send()


def _series_masters(ctx: SyncContext, jobs: list[PushJob]) -> Masters:
    """The master of each series among ``jobs`` that Graph does not hold yet, created from
    its first live booking and recorded at once (a crash after this is retried by the
    same ``transactionId``); the error instead when Graph refused it."""
    masters: Masters = {}
    for job in jobs:
        series = job.series
        live = job.booking.status in (BookingStatus.PENDING, BookingStatus.CONFIRMED)
        if series is None or series.master_event_id is not None or not live:
            continue
        if series.series_id in masters or job.refusal is not None or job.integration is None:
            continue
        try:
            with stopping_on_credential_failure(ctx.database, job.integration.id):
                sender = PushSender(_graph(ctx, job.integration), job)
                master = sender.series_master(series)
        except RoomsyncError as exc:
            masters[series.series_id] = exc
            continue
        with ctx.database.session() as session:
            record_master(session, series.series_id, master)
        masters[series.series_id] = master
    return masters


def _graph(ctx: SyncContext, integration: Integration) -> GraphClient:
    return GraphClient(
        ctx.http,
        tokens_for(ctx, integration),
        ctx.cloud.graph_url,
        retry=PUSH_RETRY,
        sleep=ctx.sleep,
    )


def _record(
    ctx: SyncContext,
    sent: list[tuple[PushJob, Sent]],
    *,
    stopped: Sequence[PushJob] = (),
    error: str | None = None,
) -> dict[uuid.UUID, PushOutcome]:
    """Record every push in one transaction; stopped pushes (Entra refused the
    credential) give their rows back untouched, no attempt counted."""
    stop = PushOutcome(PushState.STOPPED, error=error)
    outcomes = {job.booking.booking_id: stop for job in stopped}
    try:
        with ctx.database.session() as session:
            for job in stopped:
                release_rows(session, job.row_ids)
            for job, result in sent:
                outcomes[job.booking.booking_id] = _record_one(session, job, result, ctx.clock())
    except IntegrityError:  # the pull inserted a link at the same moment: one at a time
        with ctx.database.session() as session:
            for job in stopped:
                release_rows(session, job.row_ids)
        for job, result in sent:
            outcomes[job.booking.booking_id] = _record_alone(ctx, job, result)
    return outcomes


def _record_alone(ctx: SyncContext, job: PushJob, result: Sent) -> PushOutcome:
    for _ in range(2):  # the pull may insert the booking's link at the same moment
        try:
            with ctx.database.session() as session:
                return _record_one(session, job, result, ctx.clock())
        except IntegrityError:
            continue
    logger.error("The push of booking %s could not be recorded", job.booking.booking_id)
    return PushOutcome(PushState.RETRYING, retry_at=ctx.clock() + push_claim_for(ctx.settings))


def _record_one(session: Session, job: PushJob, result: Sent, now: datetime) -> PushOutcome:
    if isinstance(result, RoomsyncError):
        return _failed(session, job, result, now)
    if not record_result(session, job, result, now=now):
        return PushOutcome(PushState.RETRYING, retry_at=now)
    return PushOutcome(PushState.PUSHED, awaiting_room=awaits_room(job, result))


def _failed(session: Session, job: PushJob, error: RoomsyncError, now: datetime) -> PushOutcome:
    retry_after = error.retry_after if isinstance(error, GraphError) else None
    permanent = isinstance(error, _PERMANENT)
    integration = job.integration
    if gives_up(job, permanent=permanent) and integration is not None and integration.enabled:
        booking = job.booking
        decline_unsent(session, booking.booking_id, version=booking.version, why=error.message)
    next_at = fail_rows(
        session,
        job,
        message=error.message,
        permanent=permanent,
        retry_after=retry_after,
        now=now,
    )
    logger.warning("Push of booking %s failed: %s", job.booking.booking_id, error.message)
    state = PushState.RETRYING if next_at is not None else PushState.FAILED
    return PushOutcome(state, retry_at=next_at, error=error.message)
