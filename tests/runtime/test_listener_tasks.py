"""Listener tasks on the queue: the subscription sweep (creating, recreating what Graph
no longer has), and lifecycle events handled by a worker, waiting for a sweep in progress
instead of racing it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from roomsync.m365.notification_models import LifecycleEvent
from roomsync.m365.subscriptions import delete_subscription
from roomsync.platform.db import Database
from roomsync.platform.models import Integration
from roomsync.sync.integration.connection import graph_for
from roomsync.sync.leases import lease
from roomsync.sync.listener.workflow import (
    LifecycleNotice,
    renew_subscriptions,
    subscriptions_lease,
)
from tests.polling import eventually
from tests.sync.listener_harness import Listening, listening, workers

WAIT = 20.0


@pytest.fixture
def listener(database: Database, tmp_path: Path) -> Iterator[Listening]:
    with listening(database, tmp_path, rooms=2) as served:
        yield served


def subscribed_rooms(listener: Listening) -> set[str]:
    return {room for room in listener.tenant.room_emails if listener.graph_subscriptions(room)}


def test_the_sweep_task_subscribes_every_room(listener: Listening) -> None:
    with workers(listener.runtime):
        listener.runtime.listener.renew_subscriptions(str(listener.tenant.integration_id))

        assert eventually(
            lambda: subscribed_rooms(listener) == set(listener.tenant.room_emails), WAIT
        )
    for room in listener.tenant.room_emails:
        assert eventually(lambda room=room: listener.subscription_id(room) is not None)


def test_the_sweep_task_recreates_a_subscription_graph_dropped(listener: Listening) -> None:
    room = listener.tenant.room_emails[0]
    with workers(listener.runtime):
        listener.runtime.listener.renew_subscriptions(str(listener.tenant.integration_id))
        assert eventually(lambda: listener.subscription_id(room) is not None, WAIT)
        dropped = listener.recorded(room)
        with listener.tenant.database.session() as session:
            integration = session.get_one(Integration, listener.tenant.integration_id)
        delete_subscription(graph_for(listener.ctx, integration), dropped)

        listener.runtime.listener.renew_subscriptions(str(listener.tenant.integration_id))

        assert eventually(lambda: listener.subscription_id(room) not in (None, dropped), WAIT)
    [recreated] = listener.graph_subscriptions(room)
    assert recreated["id"] == listener.subscription_id(room)


def test_a_lifecycle_event_waits_for_a_sweep_in_progress(listener: Listening) -> None:
    renew_subscriptions(listener.ctx, listener.tenant.integration_id)
    room = listener.tenant.room_emails[1]
    subscription_id = listener.recorded(room)
    notice = LifecycleNotice(
        listener.tenant.integration_id,
        listener.tenant.rooms[room],
        subscription_id,
        LifecycleEvent.REAUTHORIZATION_REQUIRED,
    )
    patches = {"method": "PATCH", "path": f"/subscriptions/{subscription_id}"}
    sweep = subscriptions_lease(listener.tenant.integration_id)

    with workers(listener.runtime):
        with lease(
            listener.tenant.database, sweep, ttl=timedelta(minutes=1), clock=listener.ctx.clock
        ):
            listener.runtime.listener.queue_lifecycle(notice)
            assert not eventually(lambda: listener.tenant.sim.requests.count(**patches) > 0, 1.0)
        assert eventually(lambda: listener.tenant.sim.requests.count(**patches) == 1, WAIT)
