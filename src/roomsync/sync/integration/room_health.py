"""Per-room sync health, for ``GET /integrations/{id}/status``.

One row per active Microsoft 365 room of the integration's organization, read from its
``room_sync_state`` (a room never pulled yet has an empty row): the last pull round and
its outcome, the lag (how long ago the room's calendar was last read completely), the
items the last round saw, and the room's change-notification subscription. Never the
subscription's clientState.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from roomsync.platform.db import now as database_now
from roomsync.platform.enums import SyncRunOutcome
from roomsync.platform.models import Integration, Resource, RoomSyncState
from roomsync.sync.exceptions import IntegrationUnavailableError
from roomsync.sync.listener.subscriptions import SubscriptionState


@dataclass(frozen=True)
class RoomHealth:
    resource_id: uuid.UUID
    name: str
    email: str
    last_round_at: datetime | None
    """When the last round ended, or failed."""
    last_success_at: datetime | None
    last_outcome: SyncRunOutcome | None
    last_error: str | None
    lag_seconds: float | None
    """Seconds since the room's calendar was last read to its end; None if never."""
    events_seen: int
    """Items the last (or current) round has seen so far."""
    consecutive_failures: int
    round_in_progress: bool
    subscription_id: str | None
    subscription_state: SubscriptionState | None
    subscription_expires_at: datetime | None
    subscription_error: str | None


def room_health(
    session: Session, integration_id: uuid.UUID, *, now: datetime | None = None
) -> list[RoomHealth]:
    """Every active room of the integration, by name."""
    integration = session.get(Integration, integration_id)
    if integration is None:
        raise IntegrationUnavailableError(f"There is no integration with the id {integration_id}.")
    rows = session.execute(
        select(Resource, RoomSyncState)
        .outerjoin(RoomSyncState, RoomSyncState.resource_id == Resource.id)
        .where(
            Resource.organization_id == integration.organization_id,
            Resource.email.is_not(None),
            Resource.active.is_(True),
        )
        .order_by(Resource.name, Resource.id)
    ).all()
    moment = now or database_now(session)
    return [_health(room, state, moment) for room, state in rows]


def _health(room: Resource, state: RoomSyncState | None, now: datetime) -> RoomHealth:
    if state is None:
        state = RoomSyncState(events_seen=0, consecutive_failures=0)
    success = state.last_success_at
    return RoomHealth(
        resource_id=room.id,
        name=room.name,
        email=room.email or "",
        last_round_at=state.last_round_at,
        last_success_at=success,
        last_outcome=SyncRunOutcome(state.last_outcome) if state.last_outcome else None,
        last_error=state.last_error,
        lag_seconds=(now - success).total_seconds() if success else None,
        events_seen=state.events_seen,
        consecutive_failures=state.consecutive_failures,
        round_in_progress=state.next_link is not None,
        subscription_id=state.subscription_id,
        subscription_state=(
            SubscriptionState(state.subscription_state) if state.subscription_state else None
        ),
        subscription_expires_at=state.subscription_expires_at,
        subscription_error=state.subscription_error,
    )
