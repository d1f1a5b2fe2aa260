"""The gauges ``GET /metrics`` reads from the database at each scrape: outbox depth and age,
subscriptions, and the last successful run of each kind — right whichever process is
scraped, since the database is what every process shares."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from roomsync.platform.db import Database, as_utc
from roomsync.platform.enums import OutboxState, SyncRunOutcome
from roomsync.platform.models import Integration, OutboxEntry, RoomSyncState, SyncRun
from roomsync.telemetry import (
    LAST_SUCCESS,
    OUTBOX_FAILED,
    OUTBOX_OLDEST_PENDING,
    OUTBOX_PENDING,
    SUBSCRIPTION_EXPIRY,
    SUBSCRIPTIONS,
)

_GAUGES = (
    OUTBOX_PENDING,
    OUTBOX_FAILED,
    OUTBOX_OLDEST_PENDING,
    SUBSCRIPTION_EXPIRY,
    SUBSCRIPTIONS,
    LAST_SUCCESS,
)


def refresh_status_gauges(database: Database, now: datetime) -> None:
    with database.session() as session:
        integrations = session.execute(select(Integration.id, Integration.organization_id)).all()
        for gauge in _GAUGES:
            gauge.clear()  # an integration deleted since the last scrape disappears
        for integration_id, organization_id in integrations:
            label = str(integration_id)
            _outbox(session, label, organization_id, now)
            _subscriptions(session, label, integration_id, now)
            _last_success(session, label, integration_id)


def _outbox(session: Session, label: str, organization_id: uuid.UUID, now: datetime) -> None:
    rows = session.execute(
        select(OutboxEntry.state, func.count(OutboxEntry.id), func.min(OutboxEntry.created_at))
        .where(OutboxEntry.organization_id == organization_id)
        .group_by(OutboxEntry.state)
    ).all()
    found = {state: (count, oldest) for state, count, oldest in rows}
    pending, oldest = found.get(OutboxState.PENDING, (0, None))
    OUTBOX_PENDING.labels(label).set(pending)
    OUTBOX_FAILED.labels(label).set(found.get(OutboxState.FAILED, (0, None))[0])
    OUTBOX_OLDEST_PENDING.labels(label).set((now - as_utc(oldest)).total_seconds() if oldest else 0)


def _subscriptions(session: Session, label: str, integration_id: uuid.UUID, now: datetime) -> None:
    rows = session.execute(
        select(
            RoomSyncState.subscription_state,
            func.count(RoomSyncState.id),
            func.min(RoomSyncState.subscription_expires_at),
        )
        .where(
            RoomSyncState.integration_id == integration_id,
            RoomSyncState.subscription_state.is_not(None),
        )
        .group_by(RoomSyncState.subscription_state)
    ).all()
    expiries = [as_utc(expiry) for _, _, expiry in rows if expiry]
    for state, count, _ in rows:
        SUBSCRIPTIONS.labels(label, state).set(count)
    if expiries:
        SUBSCRIPTION_EXPIRY.labels(label).set((min(expiries) - now).total_seconds())


def _last_success(session: Session, label: str, integration_id: uuid.UUID) -> None:
    rows = session.execute(
        select(SyncRun.kind, func.max(SyncRun.finished_at))
        .where(
            SyncRun.integration_id == integration_id,
            SyncRun.outcome.in_([SyncRunOutcome.SUCCEEDED, SyncRunOutcome.WARNING]),
        )
        .group_by(SyncRun.kind)
    ).all()
    for kind, finished in rows:
        if finished is not None:
            LAST_SUCCESS.labels(label, str(kind)).set(as_utc(finished).timestamp())
