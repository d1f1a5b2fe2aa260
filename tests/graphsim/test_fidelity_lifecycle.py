"""Fidelity: lifecycle events that happen by themselves, on graphsim's clock
(concepts/change-notifications-lifecycle-events.md).

- ``reauthorizationRequired`` "when the access token is about to expire", "when a
  subscription is about to expire" and when "an administrator has revoked your app's
  permissions", timed as the page's illustrative code: none while more than 12 h remain,
  then one and the next after an eighth of the time left, and every 15 minutes once 4 h
  or less remain.
- "eventually change notification delivery pauses, until you take the required action";
  ``/reauthorize`` or a renewing PATCH resumes it, and what changed meanwhile is lost.
- ``subscriptionRemoved`` when "the service detects that a subscription needs to be
  removed" — here, when the mailbox is gone.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from graphsim import ManualClock, Simulator, SystemClock
from tests.graphsim.graphsim_testkit import (
    FAST_NOTIFICATIONS,
    Graph,
    Receiver,
    fast_options,
    rooms,
    token_for,
    users,
)
from tests.polling import eventually

HOOK = "https://hooks.example.test/webhooks/microsoft365"
LIFECYCLE = "https://hooks.example.test/webhooks/microsoft365/lifecycle"
REAUTH = "reauthorizationRequired"


@dataclass
class Tenant:
    sim: Simulator
    clock: ManualClock
    http: httpx.Client
    receiver: Receiver

    def graph(self) -> Graph:
        """A Graph client with a token fresh on graphsim's clock."""
        return Graph(self.http, token_for(self.sim, self.http))

    def subscribe(self, days: float = 2.0, lifecycle: str | None = LIFECYCLE) -> str:
        expires = self.clock.now() + timedelta(days=days)
        response = self.graph().post(
            "/subscriptions",
            json={
                "changeType": "created",
                "notificationUrl": HOOK,
                "lifecycleNotificationUrl": lifecycle,
                "resource": f"/users/{rooms(self.sim)[0]}/events",
                "expirationDateTime": expires.isoformat(),
                "clientState": "s3cret-state",
            },
        )
        assert response.status_code == 201, response.text
        return str(response.json()["id"])

    def advance(self, **delta: float) -> None:
        self.clock.advance(timedelta(**delta))
        self.sim.settle()

    def book(self, hours_ahead: int) -> None:
        start = self.clock.now() + timedelta(hours=hours_ahead)
        room = rooms(self.sim)[0]
        self.sim.outlook.create_meeting(
            users(self.sim)[0], room, "x", start, start + timedelta(minutes=30)
        )
        self.sim.settle()


def _tenant(receiver: Receiver, **options: Any) -> Iterator[Tenant]:
    clock = ManualClock()
    sim = Simulator(
        options=fast_options(**options),
        clock=clock,
        notification_transport=httpx.ASGITransport(app=receiver.app()),
    )
    sim.seed(rooms=1, users=1, events_per_room=0, recurring_series=0, private_meetings=0)
    with httpx.Client(transport=sim.transport()) as http:
        yield Tenant(sim, clock, http, receiver)
    sim.close()


@pytest.fixture
def tenant(receiver: Receiver) -> Iterator[Tenant]:
    yield from _tenant(receiver)


@pytest.fixture
def long_tokens(receiver: Receiver) -> Iterator[Tenant]:
    """Access lasting ten days, so only the subscription's own expiry calls for challenges."""
    yield from _tenant(receiver, access_token_lifetime=10 * 86_400)


def test_reauthorization_is_asked_before_the_access_token_expires(tenant: Tenant) -> None:
    subscription = tenant.subscribe()
    tenant.advance(minutes=14)
    assert tenant.receiver.lifecycle() == []
    tenant.advance(minutes=1)
    [challenge] = tenant.receiver.lifecycle(REAUTH)
    assert challenge["subscriptionId"] == subscription
    tenant.advance(minutes=15)
    assert len(tenant.receiver.lifecycle(REAUTH)) == 2


def test_reauthorization_is_asked_as_the_subscription_nears_its_expiry(
    long_tokens: Tenant,
) -> None:
    long_tokens.subscribe(days=2)
    long_tokens.advance(hours=35, minutes=59)
    assert long_tokens.receiver.lifecycle() == []
    long_tokens.advance(minutes=1)  # 12 h left
    assert len(long_tokens.receiver.lifecycle(REAUTH)) == 1
    long_tokens.advance(hours=1, minutes=29)  # the next comes 12 h / 8 = 1.5 h later
    assert len(long_tokens.receiver.lifecycle(REAUTH)) == 1
    long_tokens.advance(minutes=1)
    assert len(long_tokens.receiver.lifecycle(REAUTH)) == 2


def test_ignored_reauthorization_pauses_delivery_until_reauthorized(tenant: Tenant) -> None:
    subscription = tenant.subscribe()
    tenant.advance(minutes=15)
    tenant.book(hours_ahead=24)
    assert len(tenant.receiver.changes()) == 1  # still flowing "for a while"
    tenant.advance(minutes=50)  # the access the subscription had ran out unanswered
    tenant.book(hours_ahead=25)
    assert len(tenant.receiver.changes()) == 1
    graph = tenant.graph()
    assert graph.post(f"/subscriptions/{subscription}/reauthorize").status_code == 204
    tenant.book(hours_ahead=26)
    assert len(tenant.receiver.changes()) == 2  # the one made while paused is lost


def test_a_renewing_patch_also_resumes_delivery(tenant: Tenant) -> None:
    subscription = tenant.subscribe()
    tenant.advance(minutes=15)
    tenant.advance(minutes=55)
    tenant.book(hours_ahead=24)
    assert tenant.receiver.changes() == []
    later = (tenant.clock.now() + timedelta(days=2)).isoformat()
    patched = tenant.graph().patch(
        f"/subscriptions/{subscription}", json={"expirationDateTime": later}
    )
    assert patched.status_code == 200
    tenant.book(hours_ahead=25)
    assert len(tenant.receiver.changes()) == 1


def test_a_challenge_after_a_long_jump_still_leaves_time_to_answer(tenant: Tenant) -> None:
    tenant.subscribe()
    tenant.advance(hours=3)  # the access ran out while nobody looked
    assert len(tenant.receiver.lifecycle(REAUTH)) == 1
    tenant.book(hours_ahead=24)
    assert len(tenant.receiver.changes()) == 1
    tenant.advance(minutes=15)
    tenant.book(hours_ahead=25)
    assert len(tenant.receiver.changes()) == 1


def test_a_subscription_without_lifecycle_url_is_never_paused(tenant: Tenant) -> None:
    tenant.subscribe(lifecycle=None)
    for _ in range(8):
        tenant.advance(minutes=15)
    tenant.book(hours_ahead=24)
    assert len(tenant.receiver.changes()) == 1
    assert tenant.receiver.lifecycle() == []


def test_revoked_permission_asks_for_reauthorization_at_once(tenant: Tenant) -> None:
    subscription = tenant.subscribe()
    tenant.sim.set_roles({"Place.Read.All"})
    tenant.advance(seconds=1)
    [challenge] = tenant.receiver.lifecycle(REAUTH)
    assert challenge["subscriptionId"] == subscription
    refused = tenant.graph().post(f"/subscriptions/{subscription}/reauthorize")
    assert refused.status_code == 403


def test_a_subscription_whose_mailbox_is_gone_is_removed(tenant: Tenant) -> None:
    subscription = tenant.subscribe()
    user = tenant.sim.tenant.find_user(rooms(tenant.sim)[0])
    assert user is not None
    user.has_mailbox = False
    tenant.advance(seconds=1)
    [removed] = tenant.receiver.lifecycle("subscriptionRemoved")
    assert removed["subscriptionId"] == subscription
    assert tenant.sim.subscriptions() == []


def test_lifecycle_events_come_on_the_system_clock_without_a_nudge(receiver: Receiver) -> None:
    options = fast_options(notifications=replace(FAST_NOTIFICATIONS, lifecycle_tick=0.05))
    sim = Simulator(
        options=options,
        clock=SystemClock(),
        notification_transport=httpx.ASGITransport(app=receiver.app()),
    )
    sim.seed(rooms=1, users=1, events_per_room=0, recurring_series=0, private_meetings=0)
    try:
        with httpx.Client(transport=sim.transport()) as http:
            graph = Graph(http, token_for(sim, http))
            room = rooms(sim)[0]
            expires = datetime.now(UTC) + timedelta(days=1)
            created = graph.post(
                "/subscriptions",
                json={
                    "changeType": "created",
                    "notificationUrl": HOOK,
                    "lifecycleNotificationUrl": LIFECYCLE,
                    "resource": f"/users/{room}/events",
                    "expirationDateTime": expires.isoformat(),
                    "clientState": "s",
                },
            )
            assert created.status_code == 201
            user = sim.tenant.find_user(room)
            assert user is not None
            user.has_mailbox = False
            assert eventually(lambda: receiver.lifecycle("subscriptionRemoved"))
            assert len(receiver.lifecycle("subscriptionRemoved")) == 1
    finally:
        sim.close()
