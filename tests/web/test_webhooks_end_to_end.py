"""Listener mode end to end: graphsim (acting as Outlook users and as Graph's notifier)
POSTs to roomsync's webhooks served by uvicorn; Huey worker threads run the pulls.
Changes made in Outlook reach the platform within 5 seconds (a functional bound: the
pull runs on a notification, not on a schedule, since no periodic task runs here)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from graphsim import LifecycleEvent
from roomsync.platform.db import Database
from roomsync.platform.enums import SyncRunTrigger
from roomsync.platform.models import SyncRun
from roomsync.sync.listener.workflow import renew_subscriptions
from tests.polling import eventually
from tests.sync.harness import tomorrow_at
from tests.sync.listener_harness import Listening, listening, workers

pytestmark = pytest.mark.slow  # uvicorn, queue workers and graphsim's notifier

ARRIVAL_SECONDS = 5.0


@pytest.fixture
def listener(database: Database, tmp_path: Path) -> Iterator[Listening]:
    with listening(database, tmp_path, rooms=2) as served:
        report = renew_subscriptions(served.ctx, served.tenant.integration_id)
        assert report.counts == {"create": 2}
        with workers(served.runtime):
            yield served


def spans(listener: Listening, room: str) -> list[tuple[datetime, datetime]]:
    return [(b.start_at, b.end_at) for b in listener.tenant.bookings(room)]


def runs(listener: Listening) -> list[SyncRunTrigger]:
    with listener.tenant.database.session() as session:
        return list(session.scalars(select(SyncRun.trigger).order_by(SyncRun.started_at)))


def test_a_meeting_booked_moved_shortened_and_cancelled_in_outlook_reaches_the_platform(
    listener: Listening,
) -> None:
    room, organizer = listener.tenant.room_emails[0], listener.tenant.users[0]
    outlook = listener.tenant.sim.outlook

    meeting = outlook.create_meeting(organizer, room, "Listen", tomorrow_at(9), tomorrow_at(10))
    assert eventually(
        lambda: spans(listener, room) == [(tomorrow_at(9), tomorrow_at(10))], ARRIVAL_SECONDS
    )

    outlook.move_meeting(organizer, meeting, tomorrow_at(13), tomorrow_at(15))
    assert eventually(
        lambda: spans(listener, room) == [(tomorrow_at(13), tomorrow_at(15))], ARRIVAL_SECONDS
    )

    outlook.shorten_meeting(organizer, meeting, tomorrow_at(14))
    assert eventually(
        lambda: spans(listener, room) == [(tomorrow_at(13), tomorrow_at(14))], ARRIVAL_SECONDS
    )

    outlook.cancel_meeting(organizer, meeting)
    assert eventually(lambda: spans(listener, room) == [], ARRIVAL_SECONDS)

    assert set(runs(listener)) == {SyncRunTrigger.NOTIFICATION}
    deliveries = listener.tenant.sim.deliveries
    assert deliveries
    assert all(d.attempts == ["202"] for d in deliveries)


def test_forged_notifications_change_nothing(listener: Listening) -> None:
    room, organizer = listener.tenant.room_emails[1], listener.tenant.users[1]
    sim = listener.tenant.sim
    sim.drop_notifications(100)  # the meeting's real notifications never arrive
    sim.outlook.create_meeting(organizer, room, "Quiet", tomorrow_at(8), tomorrow_at(9))
    sim.settle()
    sim.clear_faults()
    subscription_id = listener.state(room).subscription_id
    [subscription] = listener.graph_subscriptions(room)
    genuine = {
        "subscriptionId": subscription_id,
        "subscriptionExpirationDateTime": subscription["expirationDateTime"],
        "changeType": "created",
        "resource": f"Users/{room}/Events/AAMk",
        "clientState": subscription["clientState"],
        "tenantId": sim.tenant_id,
    }
    forged = [
        {**genuine, "clientState": "guessed-client-state"},
        {**genuine, "clientState": None},
        {**genuine, "subscriptionId": str(uuid.uuid4())},
    ]
    webhook = f"{listener.base_url}/webhooks/microsoft365"

    answers = [httpx.post(webhook, json={"value": [item]}).status_code for item in forged]
    time.sleep(1.5)  # long enough for a worker to have started any pull queued

    assert answers == [202, 202, 202]
    assert runs(listener) == []
    assert listener.tenant.bookings(room) == []

    assert httpx.post(webhook, json={"value": [genuine]}).status_code == 202
    assert eventually(lambda: len(listener.tenant.bookings(room)) == 1, ARRIVAL_SECONDS)


def quietly_book(listener: Listening, room: str) -> None:
    """A meeting whose notifications Graph fails to deliver."""
    sim = listener.tenant.sim
    sim.drop_notifications(100)
    sim.outlook.create_meeting(
        listener.tenant.users[0], room, "Missed", tomorrow_at(11), tomorrow_at(12)
    )
    sim.settle()
    sim.clear_faults()


def test_a_missed_lifecycle_event_resyncs_the_room(listener: Listening) -> None:
    room = listener.tenant.room_emails[0]
    quietly_book(listener, room)
    subscription_id = listener.recorded(room)

    listener.tenant.sim.send_lifecycle(subscription_id, LifecycleEvent.MISSED)

    assert eventually(lambda: len(listener.tenant.bookings(room)) == 1, ARRIVAL_SECONDS)
    assert listener.state(room).subscription_id == subscription_id


def test_subscription_removed_recreates_the_subscription_and_resyncs_the_room(
    listener: Listening,
) -> None:
    room = listener.tenant.room_emails[1]
    quietly_book(listener, room)
    removed = listener.recorded(room)

    listener.tenant.sim.send_lifecycle(removed, LifecycleEvent.SUBSCRIPTION_REMOVED)

    assert eventually(lambda: len(listener.tenant.bookings(room)) == 1, ARRIVAL_SECONDS)
    assert eventually(lambda: len(listener.graph_subscriptions(room)) == 1)
    [recreated] = listener.graph_subscriptions(room)
    assert recreated["id"] != removed
    assert listener.state(room).subscription_id == recreated["id"]


def test_reauthorization_required_renews_the_subscription(listener: Listening) -> None:
    room = listener.tenant.room_emails[0]
    subscription_id = listener.recorded(room)
    requests = listener.tenant.sim.requests

    listener.tenant.sim.send_lifecycle(subscription_id, LifecycleEvent.REAUTHORIZATION_REQUIRED)

    assert eventually(
        lambda: requests.count(method="PATCH", path=f"/subscriptions/{subscription_id}") == 1,
        ARRIVAL_SECONDS,
    )
    assert (
        requests.entries(method="PATCH", path=f"/subscriptions/{subscription_id}")[0].status == 200
    )
    assert [s["id"] for s in listener.graph_subscriptions(room)] == [subscription_id]
