"""The scheduler queues due work per integration, once per interval, never for a stopped one,
and at once again the work of a run whose process died."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from roomsync.platform.db import Database
from roomsync.platform.enums import SyncRunKind, SyncRunOutcome, SyncRunTrigger
from roomsync.platform.models import Integration, SyncRun
from roomsync.runtime.runtime import Runtime
from roomsync.runtime.schedule import Job
from tests.sync.harness import StepClock, Tenant, connected_tenant


@pytest.fixture
def tenant(database: Database) -> Iterator[Tenant]:
    with connected_tenant(database, rooms=1) as connected:
        yield connected


@pytest.fixture
def clock() -> StepClock:
    return StepClock(datetime(2026, 11, 24, 9, 0, tzinfo=UTC))


@pytest.fixture
def runtime(tenant: Tenant, tmp_path: Path, clock: StepClock) -> Iterator[Runtime]:
    settings = tenant.ctx.settings.model_copy(update={"queue_url": f"sqlite:///{tmp_path}/q.db"})
    built = Runtime(settings, tenant.database, transport=tenant.sim.transport(), clock=clock)
    yield built
    built.close()


def jobs(queued: list[tuple[object, Job]]) -> set[Job]:
    return {job for _, job in queued}


def test_a_new_integration_gets_rooms_bookings_and_a_credential_check_queued(
    tenant: Tenant, runtime: Runtime
) -> None:
    queued = runtime.schedule.dispatch()

    assert jobs(queued) == {Job.SYNC_ROOMS, Job.PULL_BOOKINGS, Job.CHECK_CREDENTIALS}
    assert runtime.huey.pending_count() == 3


def test_work_is_queued_again_only_when_its_interval_has_passed(
    tenant: Tenant, runtime: Runtime, clock: StepClock
) -> None:
    runtime.schedule.dispatch()
    assert clock.now is not None

    assert runtime.schedule.dispatch() == []
    clock.now += timedelta(minutes=2)
    assert jobs(runtime.schedule.dispatch()) == {Job.PULL_BOOKINGS}
    clock.now += timedelta(minutes=29)
    assert Job.SYNC_ROOMS in jobs(runtime.schedule.dispatch())


def test_a_stopped_integration_gets_nothing_queued(tenant: Tenant, runtime: Runtime) -> None:
    with tenant.database.session() as session:
        session.get_one(Integration, tenant.integration_id).stopped_reason = "expired secret"

    assert runtime.schedule.dispatch() == []


def test_an_import_whose_process_died_is_marked_interrupted_and_queued_again_at_once(
    tenant: Tenant, runtime: Runtime, clock: StepClock
) -> None:
    runtime.schedule.dispatch()
    assert clock.now is not None
    with tenant.database.session() as session:
        run = SyncRun(
            integration_id=tenant.integration_id,
            kind=SyncRunKind.ROOMS,
            trigger=SyncRunTrigger.SCHEDULE,
            started_at=clock.now,
            last_seen_at=clock.now,
        )
        session.add(run)
    lease = timedelta(seconds=tenant.ctx.settings.lease_seconds)

    clock.now += lease / 2
    assert Job.SYNC_ROOMS not in jobs(runtime.schedule.dispatch())  # still alive, maybe
    clock.now += lease
    assert Job.SYNC_ROOMS in jobs(runtime.schedule.dispatch())  # not 30 minutes later
    with tenant.database.session() as session:
        assert session.get_one(SyncRun, run.id).outcome is SyncRunOutcome.INTERRUPTED
