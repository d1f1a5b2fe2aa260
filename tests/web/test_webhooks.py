"""The webhooks Graph calls, served by uvicorn: the validation handshake, notifications
verified by clientState and answered 202 with a coalesced pull queued, forged ones
ignored, and a burst of 1,000 all answered well inside Graph's 3 seconds."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr
from sqlalchemy import select

from roomsync.platform.crypto import SecretBox
from roomsync.platform.db import Database
from roomsync.platform.models import RoomSyncState
from roomsync.runtime.runtime import Runtime
from roomsync.settings import Settings
from roomsync.sync.listener.notifications import NotificationOutcome
from roomsync.sync.room_states import ensure_room_states
from roomsync.web.app import create_app
from roomsync.web.server import serving_in_background
from roomsync.web.webhooks import MAX_BODY_BYTES, MAX_NOTIFICATIONS, notification_receiver

SECRET_KEY = SecretStr("webhook-tests-secret-key-0123456789abcdefghij")
NOTIFICATIONS = "/webhooks/microsoft365"
LIFECYCLE = "/webhooks/microsoft365/lifecycle"
GRAPH_TOKEN = (
    "Validation: Testing client application reachability for subscription "
    "Request-Id: 5e2f <b>&amp;+%/"
)


@dataclass
class Served:
    app: FastAPI
    runtime: Runtime
    http: httpx.Client


@dataclass(frozen=True)
class Room:
    integration_id: uuid.UUID
    resource_id: uuid.UUID
    subscription_id: str
    client_state: str


def settings_for(database_url: str, queue: Path) -> Settings:
    return Settings(
        _env_file=None,
        database_url=database_url,
        queue_url=f"sqlite:///{queue}",
        secret_key=SECRET_KEY,
    )


@pytest.fixture(scope="module")
def served(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    settings = settings_for(database_url, tmp_path_factory.mktemp("queue") / "q.db")
    database = Database(database_url)
    runtime = Runtime(settings, database)
    app = create_app(settings, database, runtime=runtime)
    try:
        with (
            serving_in_background(app) as url,
            httpx.Client(base_url=url, timeout=30) as http,
        ):
            yield Served(app, runtime, http)
    finally:
        runtime.close()
        database.dispose()


@pytest.fixture
def app(served: Served, database: Database) -> Iterator[Served]:
    """The served app over this test's (emptied afterwards) database and an empty queue,
    with a new receiver (as after a restart): no test spends another's budget of misses."""
    served.runtime.huey.flush()
    served.app.state.notification_receiver = None
    yield served
    served.runtime.huey.flush()


@pytest.fixture
def rooms(database: Database, factory: Any) -> list[Room]:
    """Two subscribed rooms of one listener integration."""
    organization = factory.organization()
    building = factory.building(organization)
    integration = factory.integration(organization)
    made = [factory.room(building, name=f"R{n}", email=f"r{n}@contoso.test") for n in range(2)]
    ensure_room_states(database, integration_id=integration, resource_ids=made)
    result = []
    for resource_id in made:
        room = Room(integration, resource_id, str(uuid.uuid4()), uuid.uuid4().hex * 2)
        record(database, room)
        result.append(room)
    return result


def record(database: Database, room: Room) -> None:
    with database.session() as session:
        state = session.scalars(
            select(RoomSyncState).where(RoomSyncState.resource_id == room.resource_id)
        ).one()
        state.subscription_id = room.subscription_id
        state.subscription_client_state_encrypted = SecretBox(SECRET_KEY).encrypt(room.client_state)


def change(room: Room, client_state: str | None = None) -> dict[str, Any]:
    return {
        "subscriptionId": room.subscription_id,
        "subscriptionExpirationDateTime": "2030-01-10T09:00:00.0000000+00:00",
        "changeType": "created",
        "resource": "Users/6f1e/Events/AAMkAGI=",
        "resourceData": {
            "@odata.type": "#Microsoft.Graph.Event",
            "@odata.id": "Users/6f1e/Events/AAMkAGI=",
            "@odata.etag": 'W/"DwAAABYAAAA="',
            "id": "AAMkAGI=",
        },
        "clientState": room.client_state if client_state is None else client_state,
        "tenantId": str(uuid.uuid4()),
    }


def pending_tasks(served: Served) -> list[str]:
    return [task.name for task in served.runtime.huey.pending()]


@pytest.mark.parametrize("path", [NOTIFICATIONS, LIFECYCLE])
def test_the_validation_handshake_echoes_the_decoded_token_as_plain_text(
    app: Served, path: str
) -> None:
    response = app.http.post(
        path,
        params={"validationToken": GRAPH_TOKEN},
        headers={"Content-Type": "text/plain; charset=utf-8"},
    )

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.text == GRAPH_TOKEN


def test_a_genuine_notification_is_answered_202_and_queues_a_pull_of_its_room(
    app: Served, rooms: list[Room]
) -> None:
    response = app.http.post(NOTIFICATIONS, json={"value": [change(rooms[0]), change(rooms[0])]})

    assert response.status_code == 202
    assert pending_tasks(app) == ["roomsync.pull_room"]
    [task] = app.runtime.huey.pending()
    assert task.args == (str(rooms[0].integration_id), str(rooms[0].resource_id))


def test_notifications_of_a_room_already_queued_coalesce_into_its_pull(
    app: Served, rooms: list[Room]
) -> None:
    for _ in range(3):
        assert app.http.post(NOTIFICATIONS, json={"value": [change(rooms[1])]}).status_code == 202

    assert pending_tasks(app) == ["roomsync.pull_room"]


def test_forged_notifications_are_answered_202_and_change_nothing(
    app: Served, rooms: list[Room]
) -> None:
    before = notification_receiver(app.app).counts()
    stranger = Room(rooms[0].integration_id, rooms[0].resource_id, str(uuid.uuid4()), "x")
    forged = [
        change(rooms[0], client_state="guessed"),
        change(rooms[0], client_state=rooms[1].client_state),
        change(stranger),
    ]

    responses = [app.http.post(NOTIFICATIONS, json={"value": [item]}) for item in forged]

    assert [r.status_code for r in responses] == [202, 202, 202]
    assert pending_tasks(app) == []
    after = notification_receiver(app.app).counts()
    assert after[NotificationOutcome.CLIENT_STATE_MISMATCH] == (
        before[NotificationOutcome.CLIENT_STATE_MISMATCH] + 2
    )
    assert after[NotificationOutcome.UNKNOWN_SUBSCRIPTION] == (
        before[NotificationOutcome.UNKNOWN_SUBSCRIPTION] + 1
    )


def test_a_genuine_lifecycle_event_is_queued_for_a_worker(app: Served, rooms: list[Room]) -> None:
    event = {
        "subscriptionId": rooms[1].subscription_id,
        "subscriptionExpirationDateTime": "2030-01-10T09:00:00+00:00",
        "tenantId": str(uuid.uuid4()),
        "clientState": rooms[1].client_state,
        "lifecycleEvent": "reauthorizationRequired",
    }
    forged = {**event, "clientState": "forged", "lifecycleEvent": "subscriptionRemoved"}

    response = app.http.post(LIFECYCLE, json={"value": [event, forged]})

    assert response.status_code == 202
    [task] = app.runtime.huey.pending()
    assert task.name == "roomsync.subscription_lifecycle"
    assert task.args == (
        str(rooms[1].integration_id),
        str(rooms[1].resource_id),
        rooms[1].subscription_id,
        "reauthorizationRequired",
    )


@pytest.mark.parametrize(
    "body",
    [b"not json", b"[]", b'{"value": "nope"}', b'{"value": [{"changeType": "created"}]}'],
    ids=["not-json", "array", "value-not-a-list", "missing-fields"],
)
def test_a_body_that_is_not_a_notification_collection_is_400(app: Served, body: bytes) -> None:
    response = app.http.post(
        NOTIFICATIONS, content=body, headers={"Content-Type": "application/json"}
    )

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_notification"
    assert pending_tasks(app) == []


def test_a_burst_of_1000_notifications_is_all_answered_202_within_graphs_3_seconds(
    app: Served, rooms: list[Room]
) -> None:
    bodies = [{"value": [change(rooms[n % 2])]} for n in range(1000)]

    def post(body: dict[str, Any]) -> tuple[int, float]:
        started = time.perf_counter()
        status = app.http.post(NOTIFICATIONS, json=body).status_code
        return status, time.perf_counter() - started

    started = time.perf_counter()
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(post, bodies))
    elapsed = time.perf_counter() - started

    assert [status for status, _ in answers] == [202] * 1000
    assert max(seconds for _, seconds in answers) < 3.0  # Graph's limit per notification
    assert elapsed < 60  # generous: the figures belong to bench/webhook_burst.py
    assert sorted(pending_tasks(app)) == ["roomsync.pull_room"] * 2


def test_an_app_built_without_a_runtime_builds_one_from_its_settings(
    database_url: str, database: Database, rooms: list[Room], tmp_path: Path
) -> None:
    settings = settings_for(database_url, tmp_path / "own-queue.db")
    app = create_app(settings, database)

    with serving_in_background(app) as url:
        response = httpx.post(f"{url}{NOTIFICATIONS}", json={"value": [change(rooms[0])]})

    runtime = app.state.runtime
    try:
        assert response.status_code == 202
        assert isinstance(runtime, Runtime)
        assert [task.name for task in runtime.huey.pending()] == ["roomsync.pull_room"]
    finally:
        runtime.close()


@pytest.mark.parametrize("path", [NOTIFICATIONS, LIFECYCLE])
def test_a_lone_surrogate_client_state_is_answered_202_and_ignored(
    app: Served, rooms: list[Room], path: str
) -> None:
    # JSON's "\ud800" escape: a valid JSON string that no UTF-8 text can hold
    item = json.dumps(change(rooms[0], client_state="CLIENT_STATE")).replace(
        '"CLIENT_STATE"', '"\\ud800"'
    )
    lifecycle = item.replace('"changeType": "created"', '"lifecycleEvent": "missed"')
    body = f'{{"value": [{item if path == NOTIFICATIONS else lifecycle}]}}'
    before = notification_receiver(app.app).counts()[NotificationOutcome.CLIENT_STATE_MISMATCH]

    response = app.http.post(path, content=body, headers={"Content-Type": "application/json"})

    assert response.status_code == 202
    assert pending_tasks(app) == []
    after = notification_receiver(app.app).counts()[NotificationOutcome.CLIENT_STATE_MISMATCH]
    assert after == before + 1


@pytest.mark.parametrize(
    "body",
    [
        b'{"value": [1, "two", null]}',
        b'{"value": [{"subscriptionId": ["x"]}]}',
        b"[" * 100_000 + b"]" * 100_000,
        b'{"value": [' + b"[" * 50_000 + b"]" * 50_000 + b"]}",
        '{"value": "caf\u00e9"}'.encode("latin-1"),
    ],
    ids=["scalars", "id-not-a-string", "nested-100k", "nested-item", "not-utf-8"],
)
def test_any_other_json_is_400_never_500(app: Served, body: bytes) -> None:
    response = app.http.post(
        NOTIFICATIONS, content=body, headers={"Content-Type": "application/json"}
    )

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_notification"


def test_a_body_over_the_size_limit_is_413_without_being_read(app: Served) -> None:
    body = b'{"value": [' + b" " * MAX_BODY_BYTES + b"]}"

    response = app.http.post(
        NOTIFICATIONS, content=body, headers={"Content-Type": "application/json"}
    )

    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"
    assert response.json()["error"]["details"] == {"max_bytes": MAX_BODY_BYTES}


def test_a_streamed_body_over_the_size_limit_is_413(app: Served) -> None:
    def chunks() -> Iterator[bytes]:  # no Content-Length: chunked transfer encoding
        yield b'{"value": ['
        for _ in range(40):
            yield b" " * 32_768

    response = app.http.post(
        NOTIFICATIONS, content=chunks(), headers={"Content-Type": "application/json"}
    )

    assert response.status_code == 413


def test_more_notifications_than_the_limit_is_413_naming_value(
    app: Served, rooms: list[Room]
) -> None:
    forged = {"subscriptionId": str(uuid.uuid4()), "clientState": "x"}
    at_limit = app.http.post(NOTIFICATIONS, json={"value": [forged] * MAX_NOTIFICATIONS})
    over = app.http.post(NOTIFICATIONS, json={"value": [forged] * (MAX_NOTIFICATIONS + 1)})

    assert at_limit.status_code == 202
    assert over.status_code == 413
    assert over.json()["error"]["code"] == "too_many_notifications"
    assert over.json()["error"]["details"]["field"] == "value"


def test_a_flood_of_random_subscription_ids_is_refused_quickly_and_real_ones_still_pass(
    app: Served, rooms: list[Room]
) -> None:
    assert app.http.post(NOTIFICATIONS, json={"value": [change(rooms[0])]}).status_code == 202
    accepted = notification_receiver(app.app).counts()[NotificationOutcome.ACCEPTED]
    forged = [
        {"subscriptionId": str(uuid.uuid4()), "changeType": "created", "clientState": "x"}
        for _ in range(MAX_NOTIFICATIONS)
    ]
    started = time.perf_counter()
    statuses = [app.http.post(NOTIFICATIONS, json={"value": forged}).status_code for _ in range(20)]
    elapsed = time.perf_counter() - started
    genuine = app.http.post(NOTIFICATIONS, json={"value": [change(rooms[0])]})

    assert statuses == [202] * 20
    assert elapsed < 10  # 20,000 forged notifications; at one query each it took ~13 s
    assert genuine.status_code == 202
    counts = notification_receiver(app.app).counts()
    assert counts[NotificationOutcome.ACCEPTED] == accepted + 1
