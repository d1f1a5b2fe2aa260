"""Private meetings as Graph shows them: in the organizer's calendar, not in the room's.

- ``calendarView`` (api-reference/v1.0/api/user-list-calendarview.md) lists single
  instances, occurrences and exceptions and "supports some of the OData Query Parameters";
  ``$filter`` with ``eq`` and ``or`` on a property is concepts/filter-query-parameter.md,
  ``sensitivity`` (normal, personal, private, confidential) a property of
  api-reference/v1.0/resources/event.md, which an occurrence can change on its own
  (event-update.md lists ``sensitivity`` among the updatable properties).
- The room's copy has no private flag: Set-CalendarProcessing ``RemovePrivateProperty``
  defaults to ``$true`` ("clears the private flag for incoming meetings",
  exchange/exchange-ps/exchange/Set-CalendarProcessing.md).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from graphsim import Simulator, recurrence
from tests.graphsim.graphsim_testkit import Graph, meeting, rooms, tomorrow_at, users

# Within the rooms' booking window (BookingWindowInDays, 180 by default).
WINDOW = {
    "startDateTime": tomorrow_at(0).strftime("%Y-%m-%dT%H:%M:%SZ"),
    "endDateTime": (tomorrow_at(0) + timedelta(days=14)).strftime("%Y-%m-%dT%H:%M:%SZ"),
}
PRIVATE = "sensitivity eq 'private' or sensitivity eq 'confidential'"


def _view(graph: Graph, mailbox: str, **params: str) -> list[dict[str, Any]]:
    response = graph.get(f"/users/{mailbox}/calendarView", params={**WINDOW, **params})
    assert response.status_code == 200, response.text
    return list(response.json()["value"])


def _book(graph: Graph, sim: Simulator, day: int, **extra: Any) -> dict[str, Any]:
    start = tomorrow_at(9) + timedelta(days=day)
    body = meeting(rooms(sim)[0], start, 30, **extra)
    response = graph.post(f"/users/{users(sim)[0]}/events", json=body)
    assert response.status_code == 201
    sim.settle()
    return dict(response.json())


def test_calendar_view_filters_on_sensitivity(graph: Graph, sim: Simulator) -> None:
    private = _book(graph, sim, 4, sensitivity="private", subject="Salary talks")
    _book(graph, sim, 5, sensitivity="confidential", subject="Merger")
    _book(graph, sim, 6, subject="Stand-up")
    _book(graph, sim, 7, sensitivity="personal", subject="Dentist")

    found = _view(graph, users(sim)[0], **{"$filter": PRIVATE, "$select": "iCalUId,subject"})

    assert sorted(e["subject"] for e in found) == ["Merger", "Salary talks"]
    assert private["iCalUId"] in {e["iCalUId"] for e in found}


def test_the_rooms_copy_of_a_private_meeting_is_not_private(graph: Graph, sim: Simulator) -> None:
    booked = _book(graph, sim, 4, sensitivity="private")

    [copy] = _view(graph, rooms(sim)[0])

    assert copy["iCalUId"] == booked["iCalUId"]
    assert copy["sensitivity"] == "normal"
    assert _view(graph, rooms(sim)[0], **{"$filter": PRIVATE}) == []


def test_every_occurrence_of_a_private_series_is_private(graph: Graph, sim: Simulator) -> None:
    pattern = recurrence("daily", (tomorrow_at(9) + timedelta(days=4)).date(), count=3)
    _book(graph, sim, 4, sensitivity="private", recurrence=pattern)

    found = _view(graph, users(sim)[0], **{"$filter": PRIVATE})

    assert [e["type"] for e in found] == ["occurrence"] * 3
    assert len({e["iCalUId"] for e in found}) == 3
    room_uids = {e["iCalUId"] for e in _view(graph, rooms(sim)[0])}
    assert room_uids == {e["iCalUId"] for e in found}


def test_an_exception_has_a_sensitivity_of_its_own(graph: Graph, sim: Simulator) -> None:
    pattern = recurrence("daily", (tomorrow_at(9) + timedelta(days=4)).date(), count=3)
    _book(graph, sim, 4, recurrence=pattern)
    organizer = users(sim)[0]
    _, second, _ = _view(graph, organizer)

    changed = graph.patch(
        f"/users/{organizer}/events/{second['id']}", json={"sensitivity": "private"}
    )
    sim.settle()

    assert changed.status_code == 200
    assert changed.json()["type"] == "exception"
    assert changed.json()["sensitivity"] == "private"
    [found] = _view(graph, organizer, **{"$filter": PRIVATE})
    assert found["id"] == second["id"]
    assert {e["sensitivity"] for e in _view(graph, rooms(sim)[0])} == {"normal"}
