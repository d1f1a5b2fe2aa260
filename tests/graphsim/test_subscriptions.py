"""Subscriptions: handshake, limits, notifications with retries, lifecycle events."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from graphsim import LifecycleEvent, ManualClock, Simulator
from tests.graphsim.graphsim_testkit import (
    Graph,
    Receiver,
    fast_options,
    meeting,
    rooms,
    token_for,
    tomorrow_at,
    users,
)

HOOK = "https://hooks.example.test/webhooks/microsoft365"
LIFECYCLE = "https://hooks.example.test/webhooks/microsoft365/lifecycle"


def _body(resource: str, **changes: Any) -> dict[str, Any]:
    expires = datetime.now(UTC) + timedelta(days=2)
    return {
        "changeType": "created,updated,deleted",
        "notificationUrl": HOOK,
        "lifecycleNotificationUrl": LIFECYCLE,
        "resource": resource,
        "expirationDateTime": expires.isoformat().replace("+00:00", "Z"),
        "clientState": "s3cret-state",
        **changes,
    }


def _subscribe(graph: Graph, resource: str, **changes: Any) -> httpx.Response:
    return graph.post("/subscriptions", json=_body(resource, **changes))


def test_create_runs_the_handshake_and_returns_201(
    graph: Graph, sim: Simulator, receiver: Receiver
) -> None:
    response = _subscribe(graph, f"/users/{rooms(sim)[0]}/events")
    assert response.status_code == 201
    body = response.json()
    assert body["clientState"] == "s3cret-state"
    assert body["applicationId"] == sim.credentials.client_id
    assert body["resource"] == f"/users/{rooms(sim)[0]}/events"
    assert len(receiver.validations) == 2  # notificationUrl and lifecycleNotificationUrl


def test_failed_handshake_is_400_and_creates_nothing(
    graph: Graph, sim: Simulator, receiver: Receiver
) -> None:
    receiver.echo_validation = False
    response = _subscribe(graph, f"/users/{rooms(sim)[0]}/events")
    assert response.status_code == 400
    assert sim.subscriptions() == []


def test_notification_url_must_be_https_except_on_loopback(graph: Graph, sim: Simulator) -> None:
    resource = f"/users/{rooms(sim)[0]}/events"
    refused = _subscribe(graph, resource, notificationUrl="http://hooks.example.test/x")
    assert refused.status_code == 400
    loopback = _subscribe(
        graph, resource, notificationUrl="http://127.0.0.1:9/x", lifecycleNotificationUrl=None
    )
    assert loopback.status_code == 201
    assert "https" in refused.json()["error"]["message"]


def test_expiry_limits(graph: Graph, sim: Simulator) -> None:
    resource = f"/users/{rooms(sim)[0]}/events"
    too_far = datetime.now(UTC) + timedelta(minutes=10_081)
    assert _subscribe(graph, resource, expirationDateTime=too_far.isoformat()).status_code == 400
    soon = datetime.now(UTC) + timedelta(minutes=5)
    created = _subscribe(graph, resource, expirationDateTime=soon.isoformat()).json()
    expires = datetime.fromisoformat(created["expirationDateTime"].replace("Z", "+00:00"))
    assert expires >= datetime.now(UTC) + timedelta(minutes=44)


def test_duplicate_is_409(graph: Graph, sim: Simulator) -> None:
    resource = f"/users/{rooms(sim)[0]}/events"
    assert _subscribe(graph, resource).status_code == 201
    assert _subscribe(graph, resource).status_code == 409


def test_subscriptions_need_a_calendar_role(sim: Simulator, http: httpx.Client) -> None:
    sim.set_roles({"Place.Read.All"})
    response = _subscribe(Graph(http, token_for(sim, http)), f"/users/{rooms(sim)[0]}/events")
    assert response.status_code == 403


def test_changes_are_notified_with_the_documented_payload(
    graph: Graph, sim: Simulator, receiver: Receiver
) -> None:
    room = rooms(sim)[0]
    sub = _subscribe(graph, f"/users/{room}/events").json()
    graph.post(f"/users/{users(sim)[0]}/events", json=meeting(room, tomorrow_at(9)))
    sim.settle()
    [note] = receiver.notifications()
    assert set(note) == {
        "subscriptionId",
        "subscriptionExpirationDateTime",
        "tenantId",
        "changeType",
        "resource",
        "resourceData",
        "clientState",
    }
    assert note["subscriptionId"] == sub["id"]
    assert note["changeType"] == "created"
    assert note["clientState"] == "s3cret-state"
    assert note["tenantId"] == sim.tenant_id
    copy = sim.events(room)[0]
    assert note["resourceData"] == {
        "@odata.type": "#Microsoft.Graph.Event",
        "@odata.id": note["resource"],
        "id": copy["id"],
        "@odata.etag": copy["@odata.etag"],
    }


def test_failing_endpoint_gets_retries(graph: Graph, sim: Simulator, receiver: Receiver) -> None:
    room = rooms(sim)[0]
    _subscribe(graph, f"/users/{room}/events")
    receiver.fail_next = 2
    sim.outlook.create_meeting(users(sim)[0], room, "x", tomorrow_at(9), tomorrow_at(10))
    sim.settle()
    assert len(receiver.notifications()) == 1
    assert sim.deliveries[-1].attempts == ["503", "503", "202"]


def test_slow_endpoint_is_retried(graph: Graph, sim: Simulator, receiver: Receiver) -> None:
    room = rooms(sim)[0]
    _subscribe(graph, f"/users/{room}/events")
    receiver.slow_next = 1
    sim.outlook.create_meeting(users(sim)[0], room, "x", tomorrow_at(9), tomorrow_at(10))
    sim.settle()
    assert sim.deliveries[-1].attempts[0] == "timeout"
    assert sim.deliveries[-1].delivered


def test_dropped_and_duplicated_notifications(
    graph: Graph, sim: Simulator, receiver: Receiver
) -> None:
    room = rooms(sim)[0]
    _subscribe(graph, f"/users/{room}/events")
    sim.drop_notifications(1)
    sim.outlook.create_meeting(users(sim)[0], room, "x", tomorrow_at(9), tomorrow_at(10))
    sim.settle()
    assert receiver.notifications() == []
    sim.duplicate_notifications(1)
    sim.outlook.create_meeting(users(sim)[0], room, "y", tomorrow_at(11), tomorrow_at(12))
    sim.settle()
    assert len(receiver.notifications()) == 2


@pytest.mark.parametrize("event", list(LifecycleEvent))
def test_lifecycle_events_go_to_the_lifecycle_url(
    graph: Graph, sim: Simulator, receiver: Receiver, event: LifecycleEvent
) -> None:
    sub = _subscribe(graph, f"/users/{rooms(sim)[0]}/events").json()
    sim.send_lifecycle(sub["id"], event)
    sim.settle()
    [note] = receiver.notifications()
    assert note["lifecycleEvent"] == event.value
    assert note["subscriptionId"] == sub["id"]
    assert sim.deliveries[-1].url == LIFECYCLE
    still_there = graph.get(f"/subscriptions/{sub['id']}").status_code == 200
    assert still_there is (event is not LifecycleEvent.SUBSCRIPTION_REMOVED)


def test_renew_reauthorize_and_delete(graph: Graph, sim: Simulator) -> None:
    sub = _subscribe(graph, f"/users/{rooms(sim)[0]}/events").json()
    later = (datetime.now(UTC) + timedelta(days=5)).isoformat()
    renewed = graph.patch(f"/subscriptions/{sub['id']}", json={"expirationDateTime": later})
    assert renewed.status_code == 200
    assert renewed.json()["expirationDateTime"] != sub["expirationDateTime"]
    assert graph.post(f"/subscriptions/{sub['id']}/reauthorize").status_code == 204
    assert [s["id"] for s in graph.get("/subscriptions").json()["value"]] == [sub["id"]]
    assert graph.delete(f"/subscriptions/{sub['id']}").status_code == 204
    assert graph.get(f"/subscriptions/{sub['id']}").status_code == 404


def test_expired_subscriptions_are_removed(receiver: Receiver) -> None:
    clock = ManualClock()
    sim = Simulator(
        options=fast_options(),
        clock=clock,
        notification_transport=httpx.ASGITransport(app=receiver.app()),
    )
    sim.seed(rooms=1, users=1, events_per_room=0, recurring_series=0, private_meetings=0)
    try:
        with httpx.Client(transport=sim.transport()) as http:
            graph = Graph(http, token_for(sim, http))
            expires = (clock.now() + timedelta(hours=1)).isoformat()
            _subscribe(graph, f"/users/{rooms(sim)[0]}/events", expirationDateTime=expires)
            clock.advance(timedelta(hours=2))
            sim.outlook.create_meeting(
                users(sim)[0],
                rooms(sim)[0],
                "x",
                clock.now() + timedelta(days=1),
                clock.now() + timedelta(days=1, hours=1),
            )
            sim.settle()
            assert sim.subscriptions() == []
            assert receiver.notifications() == []
    finally:
        sim.close()
