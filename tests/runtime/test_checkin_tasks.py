"""The scheduler's minute: bookings nobody checked in to are released, and the release's
commit queues its push, which a worker carries to the organizer's calendar."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from roomsync.platform.db import Database
from roomsync.platform.enums import BookingStatus
from roomsync.runtime.runtime import Runtime
from tests.polling import eventually
from tests.sync.checkin_testkit import require_checkin
from tests.sync.harness import StepClock, Tenant, tomorrow_at
from tests.sync.push_support import book, connected, meetings, push

START = tomorrow_at(9)


@pytest.fixture
def clock() -> StepClock:
    return StepClock(START - timedelta(hours=1))


@pytest.fixture
def tenant(database: Database, clock: StepClock) -> Iterator[Tenant]:
    with connected(database, clock=clock, rooms=1) as tenant:
        require_checkin(tenant, now=clock())
        yield tenant


@pytest.fixture
def runtime(tenant: Tenant, tmp_path: Path, clock: StepClock) -> Iterator[Runtime]:
    settings = tenant.ctx.settings.model_copy(update={"queue_url": f"sqlite:///{tmp_path}/q.db"})
    built = Runtime(settings, tenant.database, transport=tenant.sim.transport(), clock=clock)
    yield built
    built.close()


def test_the_release_runs_every_minute_on_the_scheduler(runtime: Runtime) -> None:
    names = {task.name for task in runtime.huey._registry.periodic_tasks}

    assert "roomsync.release_unattended_bookings" in names


def test_a_released_booking_is_pushed_by_a_worker(
    tenant: Tenant, runtime: Runtime, clock: StepClock
) -> None:
    organizer = tenant.users[0]
    booking_id = book(tenant, tenant.room_emails[0], START, START + timedelta(hours=1))
    push(tenant, booking_id)
    runtime.huey.flush()
    clock.now = START + timedelta(minutes=10)

    released = runtime.checkin.release()

    assert released == [booking_id]
    assert runtime.checkin.release() == []
    assert runtime.huey.pending_count() == 1  # the push, queued by the release's commit
    workers = runtime.start_workers(workers=1, periodic=False)
    try:
        eventually(lambda: meetings(tenant.sim, organizer) == [], timeout=30)
    finally:
        workers.stop()
    assert tenant.booking(booking_id).status is BookingStatus.RELEASED
