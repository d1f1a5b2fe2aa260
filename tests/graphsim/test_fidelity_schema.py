"""Fidelity (b): every property name, primitive type and enum value graphsim returns is
one Microsoft's v1.0 schema defines for that type.

``data/v1.0-schema-subset.json`` holds the types graphsim returns and what they
reference, copied from the v1.0 CSDL (microsoftgraph/msgraph-metadata,
``clean_v10_metadata/cleanMetadata.xml``): properties with their types, base types and
enum members.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from graphsim import LifecycleEvent, Simulator, recurrence
from tests.graphsim.graphsim_testkit import (
    Graph,
    Receiver,
    meeting,
    rooms,
    tomorrow_at,
    users,
    when,
)

SCHEMA = json.loads((Path(__file__).parent / "data" / "v1.0-schema-subset.json").read_text())
TYPES: dict[str, Any] = SCHEMA["types"]
ENUMS: dict[str, list[str]] = SCHEMA["enums"]
# resourceData is an open type with no declared properties; changenotification.md documents
# ``id`` beside the @odata annotations.
OPEN_TYPE_PROPERTIES = {"resourceData": {"id": "Edm.String"}}
PRIMITIVES: dict[str, tuple[type, ...]] = {
    "Edm.String": (str,),
    "Edm.Boolean": (bool,),
    "Edm.Int32": (int,),
    "Edm.Int64": (int,),
    "Edm.Double": (int, float),
    "Edm.DateTimeOffset": (str,),
    "Edm.Guid": (str,),
    "Edm.Date": (str,),
}


def _properties(type_name: str) -> dict[str, str]:
    found: dict[str, str] = dict(OPEN_TYPE_PROPERTIES.get(type_name, {}))
    name: str | None = type_name
    while name:
        entry = TYPES[name]
        found.update(entry["properties"])
        found.update(entry["navigation"])
        name = entry["base"].removeprefix("graph.") if entry["base"] else None
    return found


def conforms(value: Any, type_name: str, path: str = "$") -> list[str]:
    """Problems found in ``value`` read as an instance of ``type_name``."""
    if not isinstance(value, dict):
        return [f"{path} should be an object of type {type_name}"]
    allowed, problems = _properties(type_name), []
    for key, item in value.items():
        if key.startswith("@"):
            continue
        if key not in allowed:
            problems.append(f"{path}.{key} is not a property of {type_name}")
        elif item is not None:
            problems += _value(item, allowed[key], f"{path}.{key}")
    return problems


def _value(value: Any, declared: str, path: str) -> list[str]:
    if declared.startswith("Collection("):
        if not isinstance(value, list):
            return [f"{path} should be a collection"]
        inner = declared[len("Collection(") : -1]
        return [p for n, v in enumerate(value) for p in _value(v, inner, f"{path}[{n}]")]
    name = declared.removeprefix("graph.")
    if name in ENUMS:
        return [] if value in ENUMS[name] else [f"{path}={value!r} is not a {name} member"]
    if name in TYPES:
        return conforms(value, name, path)
    expected = PRIMITIVES.get(declared)
    if expected and (
        not isinstance(value, expected) or (bool not in expected and isinstance(value, bool))
    ):
        return [f"{path}={value!r} is not an {declared}"]
    return []


def test_the_checker_catches_wrong_names_and_enum_values() -> None:
    bad = {
        "displayName": "x",
        "isWheelchairAccessible": True,
        "bookingType": "maybe",
        "capacity": "10",
    }
    problems = conforms(bad, "room")
    assert len(problems) == 3


def test_rooms_and_room_lists(graph: Graph) -> None:
    for room in graph.get("/places/microsoft.graph.room").json()["value"]:
        assert conforms(room, "room") == []
    for room_list in graph.get("/places/microsoft.graph.roomlist").json()["value"]:
        assert conforms(room_list, "roomList") == []


def test_users(graph: Graph, sim: Simulator) -> None:
    structural = {**TYPES["user"]["properties"], **TYPES["directoryObject"]["properties"]}
    every = ",".join(["id", *structural])
    for key in (sim.service_account, rooms(sim)[0]):
        body = graph.get(f"/users/{key}").json()
        assert conforms(body, "user") == []
        selected = graph.get(f"/users/{key}", params={"$select": every})
        assert selected.status_code == 200
        assert conforms(selected.json(), "user") == []


def _all_event_shapes(graph: Graph, sim: Simulator) -> list[dict[str, Any]]:
    organizer, room = users(sim)[0], rooms(sim)[0]
    single = graph.post(
        f"/users/{organizer}/events", json=meeting(room, tomorrow_at(9), sensitivity="private")
    ).json()
    start = datetime(2030, 3, 4, 9, tzinfo=UTC)
    series = graph.post(
        f"/users/{organizer}/events",
        json=meeting(
            rooms(sim)[1],
            start,
            30,
            recurrence=recurrence("weekly", start.date(), count=3, days_of_week=["monday"]),
        ),
    ).json()
    view = graph.get(
        f"/users/{organizer}/calendarView",
        params={"startDateTime": "2030-03-01T00:00:00Z", "endDateTime": "2030-04-01T00:00:00Z"},
    ).json()["value"]
    exception = graph.patch(
        f"/users/{organizer}/events/{view[1]['id']}",
        json={
            "start": when(start + timedelta(days=7, hours=2)),
            "end": when(start + timedelta(days=7, hours=3)),
        },
    ).json()
    sim.settle()
    delta = graph.get(
        f"/users/{room}/calendarView/delta",
        params={"startDateTime": "2020-01-01T00:00:00Z", "endDateTime": "2040-01-01T00:00:00Z"},
    ).json()["value"]
    return [single, series, *view, exception, *delta, *sim.events(room)]


def test_events_in_every_shape(graph: Graph, sim: Simulator) -> None:
    shapes = _all_event_shapes(graph, sim)
    assert {e["type"] for e in shapes} == {
        "singleInstance",
        "seriesMaster",
        "occurrence",
        "exception",
    }
    for event in shapes:
        assert conforms(event, "event") == []


def test_subscriptions_and_notifications(graph: Graph, sim: Simulator, receiver: Receiver) -> None:
    expires = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    sub = graph.post(
        "/subscriptions",
        json={
            "changeType": "created,updated,deleted",
            "resource": f"/users/{rooms(sim)[0]}/events",
            "notificationUrl": "https://hooks.example.test/n",
            "expirationDateTime": expires,
            "lifecycleNotificationUrl": "https://hooks.example.test/l",
            "clientState": "c",
        },
    ).json()
    assert conforms(sub, "subscription") == []
    sim.outlook.create_meeting(users(sim)[0], rooms(sim)[0], "n", tomorrow_at(9), tomorrow_at(10))
    sim.send_lifecycle(sub["id"], LifecycleEvent.MISSED)
    sim.settle()
    assert len(receiver.received) == 2
    for body in receiver.received:
        assert conforms(body, "changeNotificationCollection") == []


@pytest.mark.parametrize("segment", ["microsoft.graph.room", "microsoft.graph.roomlist"])
def test_collection_context_annotations_are_present(graph: Graph, segment: str) -> None:
    body = graph.get(f"/places/{segment}").json()
    assert body["@odata.context"].startswith("https://graph.microsoft.com/v1.0/$metadata#")
