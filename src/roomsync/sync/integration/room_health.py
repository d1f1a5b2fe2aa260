"""Per-room sync health, for ``GET /integrations/{id}/status``.

One row per active Microsoft 365 room of the integration's organization, read from its
``room_sync_state`` (a room never pulled yet has an empty row): the last pull round and
its outcome, the lag (how long ago the room's calendar was last read completely), the
items the last round saw, and the room's change-notification subscription. Never the
subscription's clientState. ``room_health_page`` is one page of them, searched and
sorted in the database (the admin console's table with thousands of rooms).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, Row, Select, func, or_, select
from sqlalchemy.orm import Session

from roomsync.platform.db import as_utc
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


class RoomOrder(StrEnum):
    """The orders of a page of rooms (``room_health_page``)."""

    NAME = "name"
    LAG = "lag"
    LAST_ROUND = "last_round"
    ITEMS = "items"
    ERRORS = "errors"
    SUBSCRIPTION = "subscription"


@dataclass(frozen=True)
class RoomHealthPage:
    rows: list[RoomHealth]
    matched: int
    """Rooms that match the search, on every page."""


def room_health(
    session: Session, integration_id: uuid.UUID, *, now: datetime | None = None
) -> list[RoomHealth]:
    """Every active room of the integration, by name."""
    organization_id = _organization_of(session, integration_id)
    rows = session.execute(_rooms(organization_id).order_by(Resource.name, Resource.id))
    moment = now or database_now(session)
    return [_health(row, moment) for row in rows]


def room_health_page(
    session: Session,
    integration_id: uuid.UUID,
    *,
    search: str = "",
    order: RoomOrder = RoomOrder.NAME,
    descending: bool = False,
    offset: int = 0,
    limit: int = 50,
    now: datetime | None = None,
) -> RoomHealthPage:
    """One page of the active rooms whose name or email contains ``search``, sorted in
    the database, so a page costs the same with fifty rooms or five thousand."""
    organization_id = _organization_of(session, integration_id)
    wanted = _in_service(organization_id)
    if search:
        needle = search.lower()
        wanted.append(
            or_(
                func.lower(Resource.name).contains(needle, autoescape=True),
                Resource.email.contains(needle, autoescape=True),
            )
        )
    matched = session.scalar(select(func.count(Resource.id)).where(*wanted)) or 0
    statement = _rooms(organization_id).where(*wanted)
    ordered = statement.order_by(*_order(order, descending), Resource.name, Resource.id)
    rows = session.execute(ordered.offset(offset).limit(limit))
    moment = now or database_now(session)
    return RoomHealthPage([_health(row, moment) for row in rows], matched)


def subscription_counts(
    session: Session, organization_id: uuid.UUID
) -> tuple[dict[str | None, int], datetime | None]:
    """Active rooms per subscription state (None: no subscription), and the earliest expiry."""
    rooms = _rooms(organization_id).subquery()
    rows = session.execute(
        select(
            rooms.c.subscription_state, func.count(), func.min(rooms.c.subscription_expires_at)
        ).group_by(rooms.c.subscription_state)
    ).all()
    expiries = [as_utc(expiry) for _, _, expiry in rows if expiry is not None]
    return {state: count for state, count, _ in rows}, min(expiries, default=None)


def _organization_of(session: Session, integration_id: uuid.UUID) -> uuid.UUID:
    integration = session.get(Integration, integration_id)
    if integration is None:
        raise IntegrationUnavailableError(f"There is no integration with the id {integration_id}.")
    return integration.organization_id


def _rooms(organization_id: uuid.UUID) -> Select[*tuple[Any, ...]]:
    """The columns a room's health is made of (whole rows would cost five times more)."""
    state = RoomSyncState
    return (
        select(
            Resource.id,
            Resource.name,
            Resource.email,
            state.last_round_at,
            state.last_success_at,
            state.last_outcome,
            state.last_error,
            state.events_seen,
            state.consecutive_failures,
            state.next_link.is_not(None).label("round_in_progress"),
            state.subscription_id,
            state.subscription_state,
            state.subscription_expires_at,
            state.subscription_error,
        )
        .outerjoin(state, state.resource_id == Resource.id)
        .where(*_in_service(organization_id))
    )


def _in_service(organization_id: uuid.UUID) -> list[ColumnElement[bool]]:
    """The organization's rooms with a mailbox that are in service."""
    return [
        Resource.organization_id == organization_id,
        Resource.email.is_not(None),
        Resource.active.is_(True),
    ]


def _order(order: RoomOrder, descending: bool) -> list[Any]:
    if order is RoomOrder.LAG:  # the longest lag is the oldest success; never is longest
        success = RoomSyncState.last_success_at
        return [success.asc().nulls_first() if descending else success.desc().nulls_last()]
    column = {
        RoomOrder.NAME: func.lower(Resource.name),
        RoomOrder.LAST_ROUND: RoomSyncState.last_round_at,
        RoomOrder.ITEMS: func.coalesce(RoomSyncState.events_seen, 0),
        RoomOrder.ERRORS: func.coalesce(RoomSyncState.consecutive_failures, 0),
        RoomOrder.SUBSCRIPTION: RoomSyncState.subscription_state,
    }[order]
    return [column.desc().nulls_last() if descending else column.asc().nulls_first()]


def _health(row: Row[Any], now: datetime) -> RoomHealth:
    success = row.last_success_at
    return RoomHealth(
        resource_id=row.id,
        name=row.name,
        email=row.email or "",
        last_round_at=row.last_round_at,
        last_success_at=success,
        last_outcome=SyncRunOutcome(row.last_outcome) if row.last_outcome else None,
        last_error=row.last_error,
        lag_seconds=(now - success).total_seconds() if success else None,
        events_seen=row.events_seen or 0,
        consecutive_failures=row.consecutive_failures or 0,
        round_in_progress=bool(row.round_in_progress),
        subscription_id=row.subscription_id,
        subscription_state=(
            SubscriptionState(row.subscription_state) if row.subscription_state else None
        ),
        subscription_expires_at=row.subscription_expires_at,
        subscription_error=row.subscription_error,
    )
