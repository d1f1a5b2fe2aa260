"""Listener mode keeps one live subscription per room: created, renewed well before it
expires, recreated when Graph no longer has it, removed when listener mode ends; and
lifecycle events do what Graph asks (change-notifications-lifecycle-events.md)."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from roomsync.m365.graph import GraphClient
from roomsync.m365.notification_models import LifecycleEvent
from roomsync.m365.subscriptions import delete_subscription, room_events_resource
from roomsync.platform.db import Database
from roomsync.platform.enums import IntegrationMode
from roomsync.platform.models import Integration, Resource, RoomSyncState
from roomsync.sync.integration.connection import graph_for
from roomsync.sync.listener.subscriptions import (
    DEFAULT_POLICY,
    SubscriptionAction,
    SubscriptionPolicy,
    SubscriptionState,
    forget,
)
from roomsync.sync.listener.workflow import LifecycleNotice, handle_lifecycle, renew_subscriptions
from tests.sync.listener_harness import Listening, listening


class PullRequests:
    """Records the pulls the listener asks for (the runtime's queue is the real one
    elsewhere; here only the request matters)."""

    def __init__(self) -> None:
        self.rooms: list[uuid.UUID] = []

    def __call__(self, integration_id: uuid.UUID, resource_id: uuid.UUID) -> bool:
        self.rooms.append(resource_id)
        return True


@pytest.fixture
def listener(database: Database, tmp_path: Path) -> Iterator[Listening]:
    with listening(database, tmp_path, rooms=2) as served:
        yield served


def sweep(
    listener: Listening,
    *,
    policy: SubscriptionPolicy = DEFAULT_POLICY,
    request_pull: PullRequests | None = None,
) -> dict[str, int]:
    report = renew_subscriptions(
        listener.ctx, listener.tenant.integration_id, policy=policy, request_pull=request_pull
    )
    assert report.errors == []
    return dict(report.counts)


def graph(listener: Listening) -> GraphClient:
    with listener.tenant.database.session() as session:
        integration = session.get_one(Integration, listener.tenant.integration_id)
    return graph_for(listener.ctx, integration)


def test_listener_mode_subscribes_every_room_to_its_own_events(listener: Listening) -> None:
    counts = sweep(listener)

    assert counts == {"create": 2}
    for room in listener.tenant.room_emails:
        [subscription] = listener.graph_subscriptions(room)
        assert subscription["resource"] == room_events_resource(room)
        assert subscription["changeType"] == "created,updated,deleted"
        assert subscription["notificationUrl"] == f"{listener.base_url}/webhooks/microsoft365"
        assert subscription["lifecycleNotificationUrl"] == (
            f"{listener.base_url}/webhooks/microsoft365/lifecycle"
        )
        state = listener.state(room)
        assert state.subscription_id == subscription["id"]
        assert state.subscription_state == SubscriptionState.ACTIVE
        assert state.subscription_expires_at == datetime.fromisoformat(
            subscription["expirationDateTime"]
        )


def test_each_subscription_has_a_random_client_state_stored_only_encrypted(
    listener: Listening,
) -> None:
    sweep(listener)

    states = {}
    for room in listener.tenant.room_emails:
        [subscription] = listener.graph_subscriptions(room)
        stored = listener.state(room).subscription_client_state_encrypted
        assert stored is not None
        assert subscription["clientState"] not in stored
        assert listener.ctx.secrets.decrypt(stored) == subscription["clientState"]
        states[room] = subscription["clientState"]
    assert len(set(states.values())) == len(states)
    assert all(len(value) >= 32 for value in states.values())


def test_a_sweep_leaves_fresh_subscriptions_alone(listener: Listening) -> None:
    sweep(listener)
    creates = listener.tenant.sim.requests.count(method="POST", path="/subscriptions")
    assert creates == 2

    counts = sweep(listener)

    assert counts == {"keep": 2}
    assert listener.tenant.sim.requests.count(method="POST", path="/subscriptions") == creates
    assert listener.tenant.sim.requests.count(method="PATCH", path_contains="/subscriptions/") == 0


def test_subscriptions_are_renewed_once_expiry_comes_within_the_margin(
    listener: Listening,
) -> None:
    policy = SubscriptionPolicy(lifetime_minutes=120, renew_before=timedelta(minutes=60))
    sweep(listener, policy=policy)
    room = listener.tenant.room_emails[0]
    [before] = listener.graph_subscriptions(room)

    listener.clock.now = datetime.fromisoformat(before["expirationDateTime"]) - timedelta(
        minutes=30
    )
    counts = sweep(listener, policy=policy)

    [after] = listener.graph_subscriptions(room)
    assert counts == {"renew": 2}
    assert after["id"] == before["id"]
    renewed_until = datetime.fromisoformat(after["expirationDateTime"])
    assert renewed_until - datetime.fromisoformat(before["expirationDateTime"]) >= timedelta(
        minutes=89
    )
    assert listener.state(room).subscription_expires_at == renewed_until


def test_a_subscription_graph_no_longer_has_is_recreated_and_its_room_pulled(
    listener: Listening,
) -> None:
    sweep(listener)
    room = listener.tenant.room_emails[1]
    gone = listener.recorded(room)
    delete_subscription(graph(listener), gone)
    pulls = PullRequests()

    counts = sweep(listener, request_pull=pulls)

    [recreated] = listener.graph_subscriptions(room)
    assert counts == {"keep": 1, "recreate": 1}
    assert recreated["id"] != gone
    assert listener.state(room).subscription_id == recreated["id"]
    assert pulls.rooms == [listener.tenant.rooms[room]]


def test_a_subscription_left_over_from_a_lost_answer_is_replaced_not_duplicated(
    listener: Listening,
) -> None:
    sweep(listener)
    room = listener.tenant.room_emails[0]
    forgotten = listener.state(room).subscription_id
    with listener.tenant.database.session() as session:  # the create's answer never arrived
        forget(session.get_one(RoomSyncState, listener.state(room).id))

    counts = sweep(listener)

    [only] = listener.graph_subscriptions(room)
    assert counts == {"keep": 1, "create": 1}
    assert only["id"] != forgotten
    assert listener.state(room).subscription_id == only["id"]


def test_leaving_listener_mode_deletes_the_subscriptions(listener: Listening) -> None:
    sweep(listener)
    listener.set_mode(IntegrationMode.POLLING)

    counts = sweep(listener)

    assert counts == {"delete": 2}
    assert listener.graph_subscriptions() == []
    for room in listener.tenant.room_emails:
        state = listener.state(room)
        assert state.subscription_id is None
        assert state.subscription_client_state_encrypted is None
        assert state.subscription_state is None


def test_a_polling_integration_without_subscriptions_makes_no_graph_call(
    listener: Listening,
) -> None:
    listener.set_mode(IntegrationMode.POLLING)
    listener.tenant.sim.requests.clear()

    assert sweep(listener) == {}
    assert listener.tenant.sim.requests.count() == 0


def test_a_retired_room_loses_its_subscription(listener: Listening) -> None:
    sweep(listener)
    retired, kept = listener.tenant.room_emails
    with listener.tenant.database.session() as session:
        session.get_one(Resource, listener.tenant.rooms[retired]).active = False

    counts = sweep(listener)

    assert counts == {"delete": 1, "keep": 1}
    assert listener.graph_subscriptions(retired) == []
    assert len(listener.graph_subscriptions(kept)) == 1


def test_an_unreachable_public_url_marks_the_rooms_failed_with_what_to_fix(
    database: Database, tmp_path: Path
) -> None:
    with listening(database, tmp_path, rooms=1) as served:
        ctx = served.ctx
        unreachable = ctx.settings.model_copy(update={"public_url": "http://127.0.0.1:9"})
        report = renew_subscriptions(
            dataclasses.replace(ctx, settings=unreachable), served.tenant.integration_id
        )
        [room] = served.tenant.room_emails
        state = served.state(room)

    assert report.counts == {"failed": 1}
    assert state.subscription_state == SubscriptionState.FAILED
    assert state.subscription_id is None
    assert state.subscription_error is not None
    assert "ROOMSYNC_PUBLIC_URL" in state.subscription_error
    assert "http://127.0.0.1:9/webhooks/microsoft365" in state.subscription_error
    assert "clientState" not in state.subscription_error


# --- lifecycle events ---------------------------------------------------------------


def notice(listener: Listening, room: str, event: LifecycleEvent) -> LifecycleNotice:
    subscription_id = listener.recorded(room)
    return LifecycleNotice(
        listener.tenant.integration_id, listener.tenant.rooms[room], subscription_id, event
    )


def test_reauthorization_required_renews_the_subscription(listener: Listening) -> None:
    sweep(listener)
    room = listener.tenant.room_emails[0]
    [before] = listener.graph_subscriptions(room)
    pulls = PullRequests()

    action = handle_lifecycle(
        listener.ctx,
        notice(listener, room, LifecycleEvent.REAUTHORIZATION_REQUIRED),
        request_pull=pulls,
    )

    patches = listener.tenant.sim.requests.entries(
        method="PATCH", path=f"/subscriptions/{before['id']}"
    )
    assert action is SubscriptionAction.RENEW
    assert [p.status for p in patches] == [200]
    assert listener.graph_subscriptions(room)[0]["id"] == before["id"]
    assert pulls.rooms == []


def test_subscription_removed_recreates_the_subscription_then_pulls_the_room(
    listener: Listening,
) -> None:
    sweep(listener)
    room = listener.tenant.room_emails[0]
    removed = notice(listener, room, LifecycleEvent.SUBSCRIPTION_REMOVED)
    delete_subscription(graph(listener), removed.subscription_id)
    pulls = PullRequests()

    action = handle_lifecycle(listener.ctx, removed, request_pull=pulls)

    [recreated] = listener.graph_subscriptions(room)
    assert action is SubscriptionAction.RECREATE
    assert recreated["id"] != removed.subscription_id
    assert listener.state(room).subscription_id == recreated["id"]
    assert pulls.rooms == [listener.tenant.rooms[room]]


def test_missed_pulls_the_room_and_leaves_the_subscription(listener: Listening) -> None:
    sweep(listener)
    room = listener.tenant.room_emails[1]
    missed = notice(listener, room, LifecycleEvent.MISSED)
    pulls = PullRequests()

    action = handle_lifecycle(listener.ctx, missed, request_pull=pulls)

    assert action is None
    assert pulls.rooms == [listener.tenant.rooms[room]]
    assert listener.state(room).subscription_id == missed.subscription_id


def test_a_lifecycle_event_of_a_replaced_subscription_changes_nothing(
    listener: Listening,
) -> None:
    sweep(listener)
    room = listener.tenant.room_emails[0]
    stale = LifecycleNotice(
        listener.tenant.integration_id,
        listener.tenant.rooms[room],
        str(uuid.uuid4()),
        LifecycleEvent.SUBSCRIPTION_REMOVED,
    )
    before = listener.graph_subscriptions()
    pulls = PullRequests()

    action = handle_lifecycle(listener.ctx, stale, request_pull=pulls)

    assert action is None
    assert listener.graph_subscriptions() == before
    assert pulls.rooms == []
