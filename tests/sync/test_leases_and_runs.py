"""Leases keep a workflow to one holder across processes and are renewed while it lives;
runs are recorded as they go, and a run whose process died is marked interrupted."""

from __future__ import annotations

import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from roomsync.platform.db import Database, utcnow
from roomsync.platform.enums import SyncRunKind, SyncRunOutcome, SyncRunTrigger
from roomsync.platform.models import SyncRun
from roomsync.sync.exceptions import LeaseHeldError, SyncError
from roomsync.sync.leases import kept_lease, lease, try_acquire
from roomsync.sync.runs import interrupted_kinds, mark_interrupted_runs, recorded_run

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


def test_a_kept_lease_is_renewed_by_its_heartbeat_past_its_ttl(database: Database) -> None:
    short = timedelta(seconds=0.3)
    with kept_lease(database, "rooms:acme", ttl=short, clock=utcnow):
        time.sleep(1.0)  # more than three TTLs: only the heartbeat keeps it
        assert not try_acquire(database, "rooms:acme", owner="other", ttl=short, clock=utcnow)
    assert try_acquire(database, "rooms:acme", owner="other", ttl=short, clock=utcnow)


def test_a_live_run_is_stamped_by_its_heartbeat(database: Database, factory: Any) -> None:
    integration_id = factory.integration(factory.organization())
    with recorded_run(
        database,
        integration_id=integration_id,
        kind=SyncRunKind.ROOMS,
        trigger=SyncRunTrigger.MANUAL,
        clock=utcnow,
        liveness=timedelta(seconds=0.3),
    ) as report:
        time.sleep(0.5)
        run = stored_run(database, report.run_id)
        assert run.last_seen_at is not None
        assert run.last_seen_at > run.started_at


def stored_run(database: Database, run_id: uuid.UUID) -> SyncRun:
    with database.session() as session:
        return session.get_one(SyncRun, run_id)


def add_run(database: Database, integration_id: uuid.UUID, **fields: Any) -> uuid.UUID:
    with database.session() as session:
        run = SyncRun(
            integration_id=integration_id,
            kind=SyncRunKind.BOOKINGS,
            trigger=SyncRunTrigger.SCHEDULE,
            **fields,
        )
        session.add(run)
    return run.id


def test_a_run_silent_for_a_lease_period_is_marked_interrupted_and_others_are_left_alone(
    database: Database, factory: Any
) -> None:
    clock = FakeClock()
    integration_id = factory.integration(factory.organization())
    silent = add_run(
        database,
        integration_id,
        started_at=clock.now - TTL,
        last_seen_at=clock.now - TTL - timedelta(seconds=1),
    )
    alive = add_run(
        database, integration_id, started_at=clock.now - TTL, last_seen_at=clock.now - TTL / 2
    )
    finished = add_run(
        database,
        integration_id,
        started_at=clock.now - 3 * TTL,
        last_seen_at=clock.now - 2 * TTL,
        finished_at=clock.now - 2 * TTL,
        outcome=SyncRunOutcome.SUCCEEDED,
    )

    marked = mark_interrupted_runs(database, now=clock.now, liveness=TTL)

    assert [run.run_id for run in marked] == [silent]
    assert stored_run(database, silent).outcome is SyncRunOutcome.INTERRUPTED
    assert "last seen alive at 2026-11-23T11:54:59Z" in stored_run(database, silent).errors[0]
    assert stored_run(database, alive).outcome is SyncRunOutcome.RUNNING
    assert stored_run(database, finished).outcome is SyncRunOutcome.SUCCEEDED
    assert mark_interrupted_runs(database, now=clock.now, liveness=TTL) == []


def test_the_next_run_marks_a_dead_run_of_its_integration_interrupted(
    database: Database, factory: Any
) -> None:
    clock = FakeClock()
    integration_id = factory.integration(factory.organization())
    dead = add_run(database, integration_id, started_at=clock.now - 2 * TTL)  # no heartbeat yet

    with recorded_run(
        database,
        integration_id=integration_id,
        kind=SyncRunKind.BOOKINGS,
        trigger=SyncRunTrigger.MANUAL,
        clock=clock,
        liveness=TTL,
    ):
        assert stored_run(database, dead).outcome is SyncRunOutcome.INTERRUPTED
    with database.session() as session:
        assert interrupted_kinds(session, integration_id, SyncRunKind) == set()
