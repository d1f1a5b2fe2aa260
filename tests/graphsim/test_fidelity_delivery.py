"""Fidelity: how notifications reach a webhook.

- concepts/includes/change-notifications-delivery-notificationurl-validation.md: the
  endpoint must answer the validation request "within 10 seconds".
- concepts/change-notifications-delivery-webhooks.md: 2xx within 3 seconds or resent for
  up to 4 hours; "multiple notifications that correspond to different subscriptions in
  the same POST request"; a response over 2,900 ms is slow, and once an endpoint has
  received 100 notifications, 10 % slow ones make it a slow endpoint (notifications
  delayed 10 minutes) and 15 % make its notifications dropped.
- concepts/change-notifications-lifecycle-events.md: ``missed`` "when some change
  notifications weren't delivered. For example, because of throttling".
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from graphsim import NotificationTimings, Simulator
from tests.graphsim.graphsim_testkit import (
    FAST_NOTIFICATIONS,
    Graph,
    Receiver,
    fast_options,
    rooms,
    token_for,
    tomorrow_at,
    users,
)

HOOK = "https://hooks.example.test/webhooks/microsoft365"
LIFECYCLE = "https://hooks.example.test/webhooks/microsoft365/lifecycle"


@pytest.fixture
def make_sim(receiver: Receiver) -> Iterator[Any]:
    made: list[Simulator] = []

    def build(**timings: Any) -> tuple[Simulator, Graph]:
        options = fast_options(notifications=replace(FAST_NOTIFICATIONS, **timings))
        sim = Simulator(options=options, notification_transport=httpx.ASGITransport(receiver.app()))
        made.append(sim)
        sim.seed(rooms=2, users=1, events_per_room=0, recurring_series=0, private_meetings=0)
        http = httpx.Client(transport=sim.transport())
        return sim, Graph(http, token_for(sim, http))

    yield build
    for sim in made:
        sim.close()


def _subscribe(
    graph: Graph,
    room: str,
    change_type: str = "created,updated,deleted",
    lifecycle: str | None = LIFECYCLE,
) -> Any:
    expires = datetime.now(UTC) + timedelta(days=2)
    return graph.post(
        "/subscriptions",
        json={
            "changeType": change_type,
            "notificationUrl": HOOK,
            "lifecycleNotificationUrl": lifecycle,
            "resource": f"/users/{room}/events",
            "expirationDateTime": expires.isoformat(),
            "clientState": "s3cret-state",
        },
    )


@pytest.mark.slow  # waits on real HTTP timeouts (seconds)
def test_validation_answered_after_five_seconds_is_accepted(
    make_sim: Any, receiver: Receiver
) -> None:
    sim, graph = make_sim(validation_timeout=NotificationTimings().validation_timeout)
    receiver.validation_delay = 5.5  # past httpx's default 5 s timeout, within Graph's 10 s
    assert _subscribe(graph, rooms(sim)[0], lifecycle=None).status_code == 201


def test_validation_answered_too_late_fails(make_sim: Any, receiver: Receiver) -> None:
    sim, graph = make_sim(validation_timeout=0.3)
    receiver.validation_delay = 0.5
    response = _subscribe(graph, rooms(sim)[0])
    assert response.status_code == 400
    assert sim.subscriptions() == []


@pytest.mark.slow  # waits on real HTTP timeouts (seconds)
def test_a_retry_waits_its_whole_timeout(make_sim: Any, receiver: Receiver) -> None:
    sim, graph = make_sim(ack_timeout=0.2, retry_timeout=10.0, retry_for=30.0)
    _subscribe(graph, rooms(sim)[0], "created")
    receiver.slow_next, receiver.slow_seconds = 2, 5.5
    sim.outlook.create_meeting(users(sim)[0], rooms(sim)[0], "x", tomorrow_at(9), tomorrow_at(10))
    sim.settle()
    assert sim.deliveries[-1].attempts == ["timeout", "202"]


def test_notifications_due_together_share_one_post(make_sim: Any, receiver: Receiver) -> None:
    sim, graph = make_sim(batch_window=0.5)
    first, second = rooms(sim)
    ids = {_subscribe(graph, room, "created").json()["id"] for room in (first, second)}
    organizer = users(sim)[0]
    sim.outlook.create_meeting(organizer, first, "a", tomorrow_at(9), tomorrow_at(10))
    sim.outlook.create_meeting(organizer, second, "b", tomorrow_at(9), tomorrow_at(10))
    sim.settle()
    [body] = receiver.received
    assert {n["subscriptionId"] for n in body["value"]} == ids
    assert len(body["value"]) == 2


def _book(sim: Simulator, n: int) -> None:
    start = tomorrow_at(0) + timedelta(minutes=10 * n)
    sim.outlook.create_meeting(
        users(sim)[0], rooms(sim)[0], f"m{n}", start, start + timedelta(minutes=10)
    )
    sim.settle()


@pytest.mark.slow  # waits on real HTTP timeouts (seconds)
def test_an_endpoint_with_slow_answers_is_throttled_then_dropped(
    make_sim: Any, receiver: Receiver
) -> None:
    sim, graph = make_sim(ack_timeout=0.5, slow_response=0.1, throttled_delay=0.2, batch_window=0.0)
    subscription = _subscribe(graph, rooms(sim)[0], "created").json()
    receiver.slow_next, receiver.slow_seconds = 12, 0.15  # 12 of the first 100: 12 %
    for n in range(100):
        _book(sim, n)
    assert all(d.attempts == ["202"] for d in sim.deliveries)
    _book(sim, 100)  # 12 / 101 slow: still a slow endpoint, so it waits 10 "minutes"
    assert sim.deliveries[-1].attempts == ["throttled", "202"]
    receiver.slow_next = 4
    for n in range(101, 105):
        _book(sim, n)  # 16 / 105 slow: over 15 %
    _book(sim, 105)
    dropped = [d for d in sim.deliveries if d.url == HOOK][-1]
    assert dropped.attempts == ["dropped"]
    [missed] = receiver.lifecycle("missed")
    assert missed["subscriptionId"] == subscription["id"]
    assert len(receiver.changes()) == 105


def test_a_notification_given_up_after_its_retries_is_reported_missed(
    make_sim: Any, receiver: Receiver
) -> None:
    sim, graph = make_sim()
    subscription = _subscribe(graph, rooms(sim)[0], "created").json()
    receiver.fail_next = 5  # every attempt within FAST_NOTIFICATIONS.retry_for
    _book(sim, 0)
    assert receiver.changes() == []
    [missed] = receiver.lifecycle("missed")
    assert missed["subscriptionId"] == subscription["id"]
    assert sim.deliveries[-1].url == LIFECYCLE
