"""Room pulls asked for by notifications coalesce in the queue, and the rooms waiting on a
worker are pulled together."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from roomsync.platform.db import Database
from roomsync.platform.enums import SyncRunTrigger
from roomsync.platform.models import SyncRun
from roomsync.runtime.pull_tasks import PullTasks, WaitingRooms
from roomsync.runtime.queue import build_huey, close_queue
from roomsync.runtime.runtime import Runtime
from tests.polling import eventually
from tests.sync.harness import Tenant, connected_tenant, tomorrow_at


@pytest.fixture
def tenant(database: Database) -> Iterator[Tenant]:
    with connected_tenant(database, rooms=2) as connected:
        yield connected


@pytest.fixture
def runtime(tenant: Tenant, tmp_path: Path) -> Iterator[Runtime]:
    settings = tenant.ctx.settings.model_copy(update={"queue_url": f"sqlite:///{tmp_path}/q.db"})
    built = Runtime(settings, tenant.database, transport=tenant.sim.transport())
    yield built
    built.close()


def test_requests_for_a_queued_room_pull_coalesce_into_one(
    tenant: Tenant, runtime: Runtime
) -> None:
    room = tenant.room_emails[0]
    tenant.sim.outlook.create_meeting(
        tenant.users[0], room, "Demo", tomorrow_at(9), tomorrow_at(10)
    )
    tenant.sim.settle()

    first = runtime.request_room_pull(tenant.integration_id, tenant.rooms[room])
    second = runtime.request_room_pull(tenant.integration_id, tenant.rooms[room])

    assert (first, second) == (True, False)
    assert runtime.huey.pending_count() == 1
    workers = runtime.start_workers(workers=1, periodic=False)
    try:
        assert eventually(lambda: len(tenant.bookings(room)) == 1, timeout=20)
        assert eventually(
            lambda: runtime.request_room_pull(tenant.integration_id, tenant.rooms[room]), timeout=20
        )
    finally:
        workers.stop(graceful=True)


def test_waiting_rooms_are_shared_between_the_drains_longest_waiting_first() -> None:
    integration, rooms = uuid.uuid4(), [uuid.uuid4() for _ in range(5)]
    waiting = WaitingRooms(max_drains=2)

    started = [waiting.add(integration, room, asked_at=float(n)) for n, room in enumerate(rooms)]
    waiting.add(integration, rooms[0], asked_at=9.0)  # asked again: still waiting since 0.0

    assert started == [True, True, False, False, False]
    first = waiting.take(integration)
    assert first == {rooms[0]: 0.0, rooms[1]: 1.0, rooms[2]: 2.0}
    assert waiting.take(integration) == {rooms[3]: 3.0}
    assert waiting.take(integration) == {rooms[4]: 4.0}
    assert waiting.take(integration) == {}  # one drain over: the other may start again
    assert waiting.add(integration, rooms[0], asked_at=None)


def test_rooms_notified_together_are_pulled_in_one_pull(tenant: Tenant, tmp_path: Path) -> None:
    for n, room in enumerate(tenant.room_emails):
        tenant.sim.outlook.create_meeting(
            tenant.users[0], room, "Demo", tomorrow_at(9 + n), tomorrow_at(10 + n)
        )
    tenant.sim.settle()
    huey = build_huey(f"sqlite:///{tmp_path}/q.db")
    pulls = PullTasks(huey, tenant.ctx, drains=1)
    try:
        for room in tenant.room_emails:
            pulls.waiting.add(tenant.integration_id, tenant.rooms[room], asked_at=None)
        pulls.drain(tenant.integration_id)
    finally:
        pulls.close()
        close_queue(huey)

    assert [len(tenant.bookings(room)) for room in tenant.room_emails] == [1, 1]
    with tenant.database.session() as session:
        runs = session.scalars(select(SyncRun)).all()
    assert [(run.trigger, run.counts.get("rooms")) for run in runs] == [
        (SyncRunTrigger.NOTIFICATION, 2)
    ]
