"""A batch of notifications: genuine ones ask for one pull per room (or queue their
lifecycle event); an unknown subscription or a wrong clientState is counted and ignored.
The subscription directory answers from memory and reads the database only on a miss,
within a budget; raw items of any shape are screened without raising."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from typing import Any

import pytest
from pydantic import SecretStr
from sqlalchemy import event, select

from roomsync.m365.notification_models import LifecycleEvent, NotificationBatch
from roomsync.platform.crypto import SecretBox
from roomsync.platform.db import Database
from roomsync.platform.models import RoomSyncState
from roomsync.sync.listener.notifications import (
    InvalidNotificationError,
    KnownSubscription,
    NotificationOutcome,
    NotificationReceiver,
    SubscriptionDirectory,
)
from roomsync.sync.listener.workflow import LifecycleNotice
from roomsync.sync.room_states import ensure_room_states
from tests.conftest import PlatformFactory

SECRETS = SecretBox(SecretStr("notification-tests-secret-key-0123456789abcdef"))


@dataclass
class Subscribed:
    integration_id: uuid.UUID
    rooms: list[uuid.UUID]
    subscription_ids: list[str]
    client_states: list[str]


@dataclass
class Queue:
    """What the receiver asked the runtime to do."""

    pulls: list[tuple[uuid.UUID, uuid.UUID]] = field(default_factory=list)
    lifecycle: list[LifecycleNotice] = field(default_factory=list)
    already_queued: set[uuid.UUID] = field(default_factory=set)

    def request_pull(self, integration_id: uuid.UUID, resource_id: uuid.UUID) -> bool:
        self.pulls.append((integration_id, resource_id))
        return resource_id not in self.already_queued

    def queue_lifecycle(self, notice: LifecycleNotice) -> None:
        self.lifecycle.append(notice)


class ManualMonotonic:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def subscribed(database: Database, factory: PlatformFactory) -> Subscribed:
    organization = factory.organization()
    building = factory.building(organization)
    rooms = [factory.room(building, name=f"R{n}", email=f"r{n}@contoso.test") for n in range(2)]
    integration = factory.integration(organization)
    ensure_room_states(database, integration_id=integration, resource_ids=rooms)
    ids = [str(uuid.uuid4()) for _ in rooms]
    states = [f"client-state-{n}-{uuid.uuid4().hex}" for n in range(len(rooms))]
    for room, subscription_id, client_state in zip(rooms, ids, states, strict=True):
        record(database, room, subscription_id, client_state)
    return Subscribed(integration, rooms, ids, states)


def record(database: Database, room: uuid.UUID, subscription_id: str, client_state: str) -> None:
    with database.session() as session:
        state = session.scalars(
            select(RoomSyncState).where(RoomSyncState.resource_id == room)
        ).one()
        state.subscription_id = subscription_id
        state.subscription_client_state_encrypted = SECRETS.encrypt(client_state)


def change(subscription_id: str, client_state: str | None) -> dict[str, Any]:
    return {
        "subscriptionId": subscription_id,
        "subscriptionExpirationDateTime": "2030-01-10T09:00:00+00:00",
        "changeType": "updated",
        "resource": "Users/abc/Events/AAMk",
        "resourceData": {"@odata.type": "#Microsoft.Graph.Event", "id": "AAMk"},
        "clientState": client_state,
        "tenantId": str(uuid.uuid4()),
    }


def lifecycle(subscription_id: str, client_state: str, event: str) -> dict[str, Any]:
    return {
        "subscriptionId": subscription_id,
        "subscriptionExpirationDateTime": "2030-01-10T09:00:00+00:00",
        "tenantId": str(uuid.uuid4()),
        "clientState": client_state,
        "lifecycleEvent": event,
    }


def batch(*items: dict[str, Any]) -> NotificationBatch:
    return NotificationBatch.from_body({"value": list(items)})


@pytest.fixture
def queue() -> Queue:
    return Queue()


@pytest.fixture
def receiver(database: Database, queue: Queue) -> NotificationReceiver:
    return NotificationReceiver(
        SubscriptionDirectory(database, SECRETS),
        request_pull=queue.request_pull,
        queue_lifecycle=queue.queue_lifecycle,
    )


def test_genuine_notifications_ask_for_one_pull_per_room(
    subscribed: Subscribed, receiver: NotificationReceiver, queue: Queue
) -> None:
    first, second = zip(subscribed.subscription_ids, subscribed.client_states, strict=True)

    receipt = receiver.receive(batch(change(*first), change(*first), change(*second)))

    assert receipt.accepted == 3
    assert receipt.ignored == 0
    assert sorted(queue.pulls) == sorted((subscribed.integration_id, r) for r in subscribed.rooms)


def test_a_wrong_client_state_is_counted_and_never_acted_on(
    subscribed: Subscribed, receiver: NotificationReceiver, queue: Queue
) -> None:
    subscription_id, client_state = subscribed.subscription_ids[0], subscribed.client_states[0]
    forged = [
        change(subscription_id, client_state[:-1] + "x"),
        change(subscription_id, subscribed.client_states[1]),  # another room's
        change(subscription_id, None),
        change(subscription_id, ""),
    ]

    receipt = receiver.receive(batch(*forged))

    assert receipt.accepted == 0
    assert receipt.ignored == 4
    assert queue.pulls == []
    assert receiver.counts()[NotificationOutcome.CLIENT_STATE_MISMATCH] == 4


def test_an_unknown_subscription_is_counted_and_never_acted_on(
    subscribed: Subscribed, receiver: NotificationReceiver, queue: Queue
) -> None:
    receipt = receiver.receive(
        batch(
            change(str(uuid.uuid4()), subscribed.client_states[0]),
            change("not-a-guid", subscribed.client_states[0]),
        )
    )

    assert receipt.ignored == 2
    assert queue.pulls == []
    assert receiver.counts()[NotificationOutcome.UNKNOWN_SUBSCRIPTION] == 2


def test_a_pull_already_queued_counts_as_coalesced(
    subscribed: Subscribed, receiver: NotificationReceiver, queue: Queue
) -> None:
    queue.already_queued.add(subscribed.rooms[0])

    receiver.receive(batch(change(subscribed.subscription_ids[0], subscribed.client_states[0])))

    counts = receiver.counts()
    assert counts[NotificationOutcome.PULLS_COALESCED] == 1
    assert counts[NotificationOutcome.PULLS_REQUESTED] == 0


def test_genuine_lifecycle_events_are_queued_and_forged_ones_are_not(
    subscribed: Subscribed, receiver: NotificationReceiver, queue: Queue
) -> None:
    subscription_id, client_state = subscribed.subscription_ids[1], subscribed.client_states[1]

    receipt = receiver.receive(
        batch(
            lifecycle(subscription_id, client_state, "subscriptionRemoved"),
            lifecycle(subscription_id, "forged", "missed"),
        )
    )

    assert receipt.lifecycle_queued == 1
    assert receipt.ignored == 1
    assert queue.lifecycle == [
        LifecycleNotice(
            subscribed.integration_id,
            subscribed.rooms[1],
            subscription_id,
            LifecycleEvent.SUBSCRIPTION_REMOVED,
        )
    ]
    assert queue.pulls == []


def test_the_directory_answers_from_memory_until_its_entry_is_stale(
    database: Database, subscribed: Subscribed
) -> None:
    clock = ManualMonotonic()
    directory = SubscriptionDirectory(database, SECRETS, ttl=60.0, monotonic=clock)
    subscription_id = subscribed.subscription_ids[0]
    expected = KnownSubscription(
        subscribed.integration_id, subscribed.rooms[0], subscribed.client_states[0]
    )
    assert directory.lookup(subscription_id) == expected

    record(database, subscribed.rooms[0], str(uuid.uuid4()), "replaced")
    assert directory.lookup(subscription_id) == expected  # still cached

    clock.now += 61
    assert directory.lookup(subscription_id) is None


def test_the_directory_reads_every_subscription_in_one_query_for_a_burst_after_a_start(
    database: Database, subscribed: Subscribed
) -> None:
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(str(args[2]))

    event.listen(database.engine, "before_cursor_execute", count)
    try:
        directory = SubscriptionDirectory(database, SECRETS)
        found = [
            directory.lookup(subscription_id) for subscription_id in subscribed.subscription_ids
        ]
    finally:
        event.remove(database.engine, "before_cursor_execute", count)

    assert [known.resource_id if known else None for known in found] == subscribed.rooms
    assert len([sql for sql in statements if "room_sync_state" in sql]) == 1


def test_a_subscription_recorded_after_the_directory_was_read_is_found_at_once(
    database: Database, subscribed: Subscribed
) -> None:
    directory = SubscriptionDirectory(database, SECRETS)
    assert directory.lookup(subscribed.subscription_ids[0]) is not None  # the cache is read
    new_id = str(uuid.uuid4())
    record(database, subscribed.rooms[1], new_id, "fresh-state")

    found = directory.lookup(new_id)

    assert found is not None
    assert found.accepts("fresh-state")


def test_a_flood_of_unknown_ids_costs_the_miss_budget_not_a_query_each(
    database: Database, subscribed: Subscribed
) -> None:
    clock = ManualMonotonic()
    directory = SubscriptionDirectory(
        database, SECRETS, miss_reads_per_second=2.0, miss_burst=5, monotonic=clock
    )
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(str(args[2]))

    event.listen(database.engine, "before_cursor_execute", count)
    try:
        flood = [directory.lookup(str(uuid.uuid4())) for _ in range(5_000)]
        new_id = str(uuid.uuid4())
        record(database, subscribed.rooms[1], new_id, "fresh-state")
        during_flood = directory.lookup(new_id)
        clock.now += 0.5  # one read's worth of budget again
        after = directory.lookup(new_id)
    finally:
        event.remove(database.engine, "before_cursor_execute", count)
    reads = [sql for sql in statements if "client_state_encrypted IS NOT NULL" in sql]

    assert flood == [None] * 5_000
    assert during_flood is None  # the budget is spent: refused from memory
    assert after is not None
    assert after.accepts("fresh-state")
    assert len(reads) == 1 + 5 + 1  # the full read, the burst, and the one after the refill


@pytest.mark.parametrize(
    "client_state",
    ["\ud800", "x" * 100_000, "é" * 255],
    ids=["lone-surrogate", "100k-characters", "255-non-ascii"],
)
def test_a_client_state_of_any_content_or_length_is_refused_not_raised(
    client_state: str,
) -> None:
    known = KnownSubscription(uuid.uuid4(), uuid.uuid4(), "the-real-client-state")
    assert known.accepts(client_state) is False


@pytest.mark.parametrize(
    "item",
    [
        42,
        "notification",
        None,
        [{"subscriptionId": "x"}],
        {"subscriptionId": 7, "clientState": "x"},
        {"clientState": "x"},
    ],
    ids=["number", "string", "null", "list", "id-not-a-string", "no-id"],
)
def test_an_item_that_is_not_a_notification_object_is_refused_whole(
    receiver: NotificationReceiver, queue: Queue, item: object
) -> None:
    with pytest.raises(InvalidNotificationError):
        receiver.receive_items([item])
    assert queue.pulls == []


def test_forged_items_of_any_shape_are_ignored_without_being_read_as_models(
    subscribed: Subscribed, receiver: NotificationReceiver, queue: Queue
) -> None:
    genuine = change(subscribed.subscription_ids[0], subscribed.client_states[0])
    forged = [
        {"subscriptionId": str(uuid.uuid4()), "changeType": 5, "resource": ["x"]},
        {"subscriptionId": "\ud800" * 40, "clientState": "\ud800"},
        {**genuine, "clientState": "\ud800", "changeType": {"not": "valid"}},
        {**genuine, "clientState": 12345},
        {"subscriptionId": "a" * 200_000},
    ]

    receipt = receiver.receive_items([*forged, genuine])

    assert (receipt.accepted, receipt.ignored) == (1, 5)
    assert queue.pulls == [(subscribed.integration_id, subscribed.rooms[0])]


def test_a_genuine_item_that_is_not_a_valid_notification_is_refused(
    subscribed: Subscribed, receiver: NotificationReceiver
) -> None:
    genuine = change(subscribed.subscription_ids[0], subscribed.client_states[0])
    with pytest.raises(InvalidNotificationError):
        receiver.receive_items([{**genuine, "resource": {"not": "a string"}}])


def test_a_known_subscription_never_shows_its_client_state() -> None:
    known = KnownSubscription(uuid.uuid4(), uuid.uuid4(), "very-secret-state")
    assert "very-secret-state" not in repr(known)


def test_forged_posts_are_warned_about_once_per_interval_not_once_each(
    receiver: NotificationReceiver, caplog: pytest.LogCaptureFixture
) -> None:
    forged = change(str(uuid.uuid4()), "guess")
    with caplog.at_level(logging.WARNING, logger="roomsync.sync.listener.notifications"):
        receipts = [receiver.receive_items([forged, forged]) for _ in range(50)]

    assert [receipt.ignored for receipt in receipts] == [2] * 50
    warnings = [r.getMessage() for r in caplog.records if "not from Microsoft Graph" in r.message]
    assert warnings == [
        "Ignored 2 notifications not from Microsoft Graph (unknown subscription: 2, "
        "wrong clientState: 0)"
    ]
    assert receiver.counts()[NotificationOutcome.UNKNOWN_SUBSCRIPTION] == 100
