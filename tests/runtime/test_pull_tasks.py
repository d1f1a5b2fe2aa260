"""Room pulls asked for by notifications coalesce in the queue and run on a worker."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from roomsync.platform.db import Database
from roomsync.runtime.runtime import Runtime
from tests.sync.harness import Tenant, connect, tomorrow_at


@pytest.fixture
def tenant(database: Database) -> Iterator[Tenant]:
    connected = connect(database, rooms=2)
    yield connected
    connected.ctx.close()
    connected.sim.close()


@pytest.fixture
def runtime(tenant: Tenant, tmp_path: Path) -> Iterator[Runtime]:
    settings = tenant.ctx.settings.model_copy(update={"queue_url": f"sqlite:///{tmp_path}/q.db"})
    built = Runtime(settings, tenant.database, transport=tenant.sim.transport())
    yield built
    built.close()


def wait_for(condition: object, timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if callable(condition) and condition():
            return True
        time.sleep(0.05)
    return False


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
        assert wait_for(lambda: len(tenant.bookings(room)) == 1)
        assert wait_for(
            lambda: runtime.request_room_pull(tenant.integration_id, tenant.rooms[room])
        )
    finally:
        workers.stop(graceful=True)
