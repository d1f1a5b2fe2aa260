"""Per-room status: the last round, its outcome, the lag, the items seen, and the room's
subscription (state, expiry, error), never its clientState."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from roomsync.platform.db import Database
from roomsync.platform.enums import SyncRunOutcome, SyncRunTrigger
from roomsync.sync.integration.room_health import RoomHealth, room_health
from roomsync.sync.listener.subscriptions import SubscriptionState
from roomsync.sync.listener.workflow import renew_subscriptions
from roomsync.sync.pull.workflow import pull_bookings
from tests.sync.harness import tomorrow_at
from tests.sync.listener_harness import Listening, listening


@pytest.fixture
def listener(database: Database, tmp_path: Path) -> Iterator[Listening]:
    with listening(database, tmp_path, rooms=2) as served:
        yield served


def health(listener: Listening, now: datetime | None = None) -> dict[str, RoomHealth]:
    with listener.tenant.database.session() as session:
        rows = room_health(session, listener.tenant.integration_id, now=now)
    return {row.email: row for row in rows}


def test_rooms_never_synced_are_listed_with_empty_health(listener: Listening) -> None:
    rows = health(listener)

    assert set(rows) == set(listener.tenant.room_emails)
    for row in rows.values():
        assert row.last_round_at is None
        assert row.lag_seconds is None
        assert row.subscription_state is None


def test_a_pulled_and_subscribed_room_shows_its_round_lag_and_subscription(
    listener: Listening,
) -> None:
    room = listener.tenant.room_emails[0]
    organizer = listener.tenant.users[0]
    for hour in (9, 11):
        listener.tenant.sim.outlook.create_meeting(
            organizer, room, "Sync", tomorrow_at(hour), tomorrow_at(hour + 1)
        )
    listener.tenant.sim.settle()
    renew_subscriptions(listener.ctx, listener.tenant.integration_id)
    pull_bookings(listener.ctx, listener.tenant.integration_id, trigger=SyncRunTrigger.MANUAL)
    state = listener.state(room)
    assert state.last_success_at is not None

    row = health(listener, now=state.last_success_at + timedelta(seconds=42))[room]

    assert row.last_outcome is SyncRunOutcome.SUCCEEDED
    assert row.last_round_at == state.last_round_at
    assert row.lag_seconds == 42
    assert row.events_seen == 2
    assert row.round_in_progress is False
    assert row.subscription_state is SubscriptionState.ACTIVE
    assert row.subscription_id == state.subscription_id
    assert row.subscription_expires_at == state.subscription_expires_at
    assert state.subscription_client_state_encrypted is not None
    secret = listener.ctx.secrets.decrypt(state.subscription_client_state_encrypted)
    assert secret not in repr(row)
    assert all(secret != value for value in dataclasses.asdict(row).values())


def test_a_failed_round_shows_its_outcome_error_and_failures(listener: Listening) -> None:
    room = listener.tenant.room_emails[1]
    listener.tenant.sim.fail_next(5, 403, path_contains="calendarView", mailbox=room)

    pull_bookings(listener.ctx, listener.tenant.integration_id, trigger=SyncRunTrigger.MANUAL)

    row = health(listener)[room]
    assert row.last_outcome is SyncRunOutcome.FAILED
    assert row.last_error
    assert row.consecutive_failures == 1
    assert row.lag_seconds is None
