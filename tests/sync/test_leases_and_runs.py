"""Leases keep a workflow to one holder across processes; runs are recorded as they go."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from roomsync.platform.db import Database
from roomsync.platform.enums import SyncRunKind, SyncRunOutcome, SyncRunTrigger
from roomsync.platform.models import SyncRun
from roomsync.sync.exceptions import LeaseHeldError, SyncError
from roomsync.sync.leases import lease, try_acquire
from roomsync.sync.runs import recorded_run

TTL = timedelta(minutes=5)


class FakeClock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 23, 12, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def test_a_second_holder_is_refused_while_the_lease_is_live(database: Database) -> None:
    clock = FakeClock()
    with (
        lease(database, "pull:acme", ttl=TTL, clock=clock),
        pytest.raises(LeaseHeldError),
        lease(database, "pull:acme", ttl=TTL, clock=clock),
    ):
        pass
    with lease(database, "pull:acme", ttl=TTL, clock=clock):
        pass


def test_an_expired_lease_of_a_dead_holder_can_be_taken(database: Database) -> None:
    clock = FakeClock()
    assert try_acquire(database, "rooms:acme", owner="dead-worker", ttl=TTL, clock=clock)
    clock.now += TTL + timedelta(seconds=1)
    assert try_acquire(database, "rooms:acme", owner="live-worker", ttl=TTL, clock=clock)


def test_racing_holders_get_the_lease_exactly_once(database: Database) -> None:
    clock = FakeClock()
    barrier = threading.Barrier(6)
    won: list[bool] = []

    def contend(owner: str) -> None:
        barrier.wait()
        won.append(try_acquire(database, "race", owner=owner, ttl=TTL, clock=clock))

    threads = [threading.Thread(target=contend, args=(f"w{i}",)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(won) == [False] * 5 + [True]


def test_a_run_is_recorded_with_counts_and_warnings(database: Database, factory: Any) -> None:
    integration_id = factory.integration(factory.organization())
    with recorded_run(
        database,
        integration_id=integration_id,
        kind=SyncRunKind.ROOMS,
        trigger=SyncRunTrigger.MANUAL,
        clock=FakeClock(),
        liveness=TTL,
    ) as report:
        report.count("created", 3)
        report.warn("2 rooms have no capacity")
    with database.session() as session:
        run = session.get_one(SyncRun, report.run_id)
        assert run.outcome is SyncRunOutcome.WARNING
        assert run.counts == {"created": 3}
        assert run.finished_at is not None


def test_a_failing_run_is_recorded_as_failed_with_its_message(
    database: Database, factory: Any
) -> None:
    integration_id = factory.integration(factory.organization())
    with (
        pytest.raises(SyncError),
        recorded_run(
            database,
            integration_id=integration_id,
            kind=SyncRunKind.BOOKINGS,
            trigger=SyncRunTrigger.SCHEDULE,
            clock=FakeClock(),
            liveness=TTL,
        ) as report,
    ):
        raise SyncError("Graph refused the delta request.")
    with database.session() as session:
        run = session.get_one(SyncRun, report.run_id)
        assert run.outcome is SyncRunOutcome.FAILED
        assert run.errors == ["Graph refused the delta request."]
