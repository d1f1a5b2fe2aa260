"""The integration status view behind ``GET /integrations/{id}/status`` and
``roomsync integration status``: one object made of sections, so later workflows add a
section (per-room pull health, subscriptions, outbox depth) without reshaping the others.

- ``health``: whether the integration runs (``active``, ``disabled`` or ``stopped`` with
  its ``stopped_reason``), its credential and the days until the secret or certificate
  expires, and the notices an operator should act on;
- ``runs``: the latest runs of each kind (rooms, reconcile, bookings, push, check) with
  their counts, warnings and errors, and when each was last seen alive; reading the
  status first marks ``interrupted`` the runs whose process died (``runs``);
- ``counts``: what the integration mirrors on the platform (rooms, buildings);
- ``organizers``: bookings not over yet whose organizer's account the directory disabled
  or deleted (see ``organizer_health``).
"""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session, aliased

from roomsync.platform.db import as_utc
from roomsync.platform.enums import (
    BookingStatus,
    IntegrationMode,
    Origin,
    OutboxState,
    SyncRunKind,
    SyncRunOutcome,
    SyncRunTrigger,
)
from roomsync.platform.models import (
    Booking,
    Building,
    Integration,
    OutboxEntry,
    Resource,
    SyncRun,
)
from roomsync.sync.context import SyncContext
from roomsync.sync.integration.access import load_integration
from roomsync.sync.integration.configuration import certificate_summary
from roomsync.sync.integration.organizer_health import OrganizerHealth, organizer_health
from roomsync.sync.integration.room_health import RoomHealth, room_health, subscription_counts
from roomsync.sync.integration.secret_expiry import days_until, secret_expiry
from roomsync.sync.leases import lease_ttl
from roomsync.sync.listener.subscriptions import SubscriptionState
from roomsync.sync.runs import mark_interrupted_runs

RECENT_RUNS = 5
_REQUEST_ID = re.compile(r"request-id ([0-9A-Za-z-]+)")
FAILED_SHOWN = 20


class IntegrationState(StrEnum):
    ACTIVE = "active"
    DISABLED = "disabled"
    STOPPED = "stopped"


class CredentialKind(StrEnum):
    CLIENT_SECRET = "client_secret"  # noqa: S105 - the kind's name, not a secret
    CERTIFICATE = "certificate"


class _Section(BaseModel):
    model_config = ConfigDict(frozen=True)


class CredentialHealth(_Section):
    """The credential tokens are requested with (a certificate wins over a secret)."""

    kind: CredentialKind
    client_secret_set: bool
    client_secret_expires_at: datetime | None
    days_until_secret_expiry: int | None
    certificate_thumbprint: str | None
    certificate_not_valid_after: datetime | None
    days_until_certificate_expiry: int | None


class Health(_Section):
    state: IntegrationState
    enabled: bool
    mode: IntegrationMode
    stopped_reason: str | None
    credentials_version: int
    credential: CredentialHealth
    notices: list[str]


class RunSummary(_Section):
    id: uuid.UUID
    kind: SyncRunKind
    trigger: SyncRunTrigger
    outcome: SyncRunOutcome
    started_at: datetime
    finished_at: datetime | None
    last_seen_at: datetime | None
    """When its process was last seen running it (a heartbeat; for a finished run, its end)."""
    counts: dict[str, Any]
    warnings: list[str]
    errors: list[str]


class Counts(_Section):
    rooms_active: int
    rooms_retired: int
    buildings_for_room_lists: int


class FailedPush(_Section):
    """A booking whose latest push was given up on: why, and what became of the booking."""

    booking_id: uuid.UUID
    booking_status: BookingStatus
    error: str | None
    request_id: str | None
    """Graph's ``request-id`` of the failed call, which Microsoft's support asks for."""
    failed_at: datetime


class OutboxDepth(_Section):
    """Pushes owed to Outlook: waiting, given up on (retry them), and the oldest wait."""

    pending: int
    failed: int
    oldest_pending_seconds: float | None
    failed_pushes: list[FailedPush]
    """The latest bookings whose push failed for good (``FAILED_SHOWN`` at most), newest
    first; retry each with ``POST /api/v1/bookings/{id}/sync/retry`` once the cause is fixed."""


class SubscriptionsSummary(_Section):
    active: int
    failed: int
    missing: int
    earliest_expiry: datetime | None


class IntegrationStatus(_Section):
    integration_id: uuid.UUID
    organization_id: uuid.UUID
    generated_at: datetime
    health: Health
    runs: dict[SyncRunKind, list[RunSummary]]
    counts: Counts
    outbox: OutboxDepth
    subscriptions: SubscriptionsSummary
    rooms: list[RoomHealth]
    organizers: OrganizerHealth


def integration_status(
    ctx: SyncContext,
    integration_id: uuid.UUID,
    *,
    recent: int = RECENT_RUNS,
    with_rooms: bool = True,
) -> IntegrationStatus:
    """The whole status; ``with_rooms=False`` leaves ``rooms`` empty for a caller that
    reads them a page at a time (``room_health_page``)."""
    now = ctx.clock()
    mark_interrupted_runs(
        ctx.database, now=now, liveness=lease_ttl(ctx.settings), integration_id=integration_id
    )
    with ctx.database.session() as session:
        integration = load_integration(session, integration_id)
        rooms = room_health(session, integration.id, now=now) if with_rooms else []
        return IntegrationStatus(
            integration_id=integration.id,
            organization_id=integration.organization_id,
            generated_at=now,
            health=health_of(ctx, integration, now),
            runs=_recent_runs(session, integration.id, recent),
            counts=_counts(session, integration.organization_id),
            outbox=_outbox(session, integration.organization_id, now),
            subscriptions=_subscriptions(session, integration),
            rooms=rooms,
            organizers=organizer_health(session, integration.organization_id, now=now),
        )


def health_of(ctx: SyncContext, integration: Integration, now: datetime) -> Health:
    """Whether the integration runs, its credential, and what an operator should act on."""
    credential = _credential(ctx, integration, now)
    expiry = secret_expiry(integration, now)
    notices = [n for n in (integration.stopped_reason, expiry.notice if expiry else None) if n]
    if integration.client_secret_encrypted and integration.client_secret_expires_at is None:
        notices.append(
            "The client secret's expiry date is unknown: save client_secret_expires_at so "
            "roomsync can warn before it expires."
        )
    return Health(
        state=integration_state(integration),
        enabled=integration.enabled,
        mode=integration.mode,
        stopped_reason=integration.stopped_reason,
        credentials_version=integration.credentials_version,
        credential=credential,
        notices=notices,
    )


def integration_state(integration: Integration) -> IntegrationState:
    if integration.stopped_reason:
        return IntegrationState.STOPPED
    return IntegrationState.ACTIVE if integration.enabled else IntegrationState.DISABLED


def _credential(ctx: SyncContext, integration: Integration, now: datetime) -> CredentialHealth:
    certificate = certificate_summary(ctx, integration)
    secret_ends = integration.client_secret_expires_at
    return CredentialHealth(
        kind=CredentialKind.CERTIFICATE if certificate else CredentialKind.CLIENT_SECRET,
        client_secret_set=bool(integration.client_secret_encrypted),
        client_secret_expires_at=secret_ends,
        days_until_secret_expiry=days_until(secret_ends, now),
        certificate_thumbprint=certificate.thumbprint_sha1 if certificate else None,
        certificate_not_valid_after=certificate.not_valid_after if certificate else None,
        days_until_certificate_expiry=days_until(
            certificate.not_valid_after if certificate else None, now
        ),
    )


def _recent_runs(
    session: Session, integration_id: uuid.UUID, recent: int
) -> dict[SyncRunKind, list[RunSummary]]:
    runs: dict[SyncRunKind, list[RunSummary]] = {kind: [] for kind in SyncRunKind}
    for kind in SyncRunKind:
        rows = session.scalars(
            select(SyncRun)
            .where(SyncRun.integration_id == integration_id, SyncRun.kind == kind)
            .order_by(SyncRun.id.desc())
            .limit(recent)
        )
        runs[kind] = [_summary(row) for row in rows]
    return runs


def _summary(run: SyncRun) -> RunSummary:
    return RunSummary(
        id=run.id,
        kind=run.kind,
        trigger=run.trigger,
        outcome=run.outcome,
        started_at=run.started_at,
        finished_at=run.finished_at,
        last_seen_at=run.last_seen_at,
        counts=dict(run.counts or {}),
        warnings=[str(w) for w in run.warnings or []],
        errors=[str(e) for e in run.errors or []],
    )


def _counts(session: Session, organization_id: uuid.UUID) -> Counts:
    def rooms(active: bool) -> int:
        return (
            session.scalar(
                select(func.count(Resource.id)).where(
                    Resource.organization_id == organization_id,
                    Resource.origin == Origin.MICROSOFT365,
                    Resource.active.is_(active),
                )
            )
            or 0
        )

    buildings = session.scalar(
        select(func.count(Building.id)).where(
            Building.organization_id == organization_id,
            Building.m365_room_list_email.is_not(None),
        )
    )
    return Counts(
        rooms_active=rooms(True),
        rooms_retired=rooms(False),
        buildings_for_room_lists=buildings or 0,
    )


def _outbox(session: Session, organization_id: uuid.UUID, now: datetime) -> OutboxDepth:
    counts = dict(
        session.execute(
            select(OutboxEntry.state, func.count(OutboxEntry.id))
            .where(OutboxEntry.organization_id == organization_id)
            .group_by(OutboxEntry.state)
        ).all()
    )
    oldest = session.scalar(
        select(func.min(OutboxEntry.created_at)).where(
            OutboxEntry.organization_id == organization_id,
            OutboxEntry.state == OutboxState.PENDING,
        )
    )
    return OutboxDepth(
        pending=counts.get(OutboxState.PENDING, 0),
        failed=counts.get(OutboxState.FAILED, 0),
        oldest_pending_seconds=(now - as_utc(oldest)).total_seconds() if oldest else None,
        failed_pushes=_failed_pushes(session, organization_id),
    )


def _failed_pushes(session: Session, organization_id: uuid.UUID) -> list[FailedPush]:
    """Failed rows that are their booking's latest (a later push that worked clears it)."""
    later = aliased(OutboxEntry)
    superseded = exists().where(
        later.booking_id == OutboxEntry.booking_id, later.id > OutboxEntry.id
    )
    rows = session.execute(
        select(OutboxEntry, Booking.status)
        .join(Booking, Booking.id == OutboxEntry.booking_id)
        .where(
            OutboxEntry.organization_id == organization_id,
            OutboxEntry.state == OutboxState.FAILED,
            ~superseded,
        )
        .order_by(OutboxEntry.updated_at.desc(), OutboxEntry.id.desc())
        .limit(FAILED_SHOWN)
    ).all()
    return [
        FailedPush(
            booking_id=row.booking_id,
            booking_status=status,
            error=row.last_error,
            request_id=graph_request_id(row.last_error),
            failed_at=row.updated_at,
        )
        for row, status in rows
    ]


def graph_request_id(error: str | None) -> str | None:
    """The request-id a Graph error message names (``error_mapping`` writes it so)."""
    found = _REQUEST_ID.search(error or "")
    return found.group(1) if found else None


def _subscriptions(session: Session, integration: Integration) -> SubscriptionsSummary:
    counts, earliest = subscription_counts(session, integration.organization_id)
    listening = integration.mode is IntegrationMode.LISTENER
    return SubscriptionsSummary(
        active=counts.get(SubscriptionState.ACTIVE, 0),
        failed=counts.get(SubscriptionState.FAILED, 0),
        missing=counts.get(None, 0) if listening else 0,
        earliest_expiry=earliest,
    )
