"""A room's answer to a recurring meeting, as Set-CalendarProcessing documents it
(exchange/exchange-ps/exchange/Set-CalendarProcessing.md):

- ``AllowConflicts`` $false (the default): "The series is declined if the number or
  percentage of conflicts is higher than the ConflictPercentageAllowed or
  MaximumConflictInstances parameter values"; below them "the series is accepted, but
  conflicting occurrences are declined". $true: the series is accepted "regardless of
  whether any occurrences conflict", the two limits ignored.
- ``ConflictPercentageAllowed`` and ``MaximumConflictInstances`` default to 0: "When the
  value is 0, no conflicts are permitted for new recurring meeting requests."
- ``AllowRecurringMeetings`` $false: "Recurring meetings aren't allowed."

The organizer's series keeps one answer for the series (the room attendee on the master)
and, for an occurrence declined alone, the answer on that occurrence
(event-list-instances.md lists it with its own attendees).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from graphsim import Simulator, recurrence
from tests.graphsim.graphsim_testkit import Graph, meeting, rooms, tomorrow_at, users

OCCURRENCES = 10


def _setup(sim: Simulator, graph: Graph, busy_days: list[int], **rules: Any) -> dict[str, Any]:
    """A daily series of ten at 09:00 from tomorrow in a room already taken on ``busy_days``."""
    room, organizer, other = rooms(sim)[0], users(sim)[0], users(sim)[1]
    sim.set_calendar_processing(room, **rules)
    for day in busy_days:
        start = tomorrow_at(9) + timedelta(days=day)
        body = meeting(room, start, 30)
        assert graph.post(f"/users/{other}/events", json=body).status_code == 201
    sim.settle()
    pattern = recurrence("daily", tomorrow_at(9).date(), count=OCCURRENCES)
    body = meeting(room, tomorrow_at(9), 60, recurrence=pattern)
    response = graph.post(f"/users/{organizer}/events", json=body)
    assert response.status_code == 201, response.text
    sim.settle()
    return dict(response.json())


def _room_answer(event: dict[str, Any], room: str) -> str:
    return str(
        next(
            a["status"]["response"]
            for a in event["attendees"]
            if a["emailAddress"]["address"] == room
        )
    )


def _instances(graph: Graph, mailbox: str, master_id: str) -> list[dict[str, Any]]:
    params = {
        "startDateTime": tomorrow_at(0).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "endDateTime": (tomorrow_at(0) + timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    response = graph.get(f"/users/{mailbox}/events/{master_id}/instances", params=params)
    assert response.status_code == 200, response.text
    return list(response.json()["value"])


def _room_series_days(sim: Simulator, room: str) -> list[int]:
    """Days (from tomorrow) on which the room holds an occurrence of a series (the busy
    meetings are single ones)."""
    view = sim.calendar_view(room, tomorrow_at(0), tomorrow_at(0) + timedelta(days=30))
    return sorted(_days_from_tomorrow(v["start"]["dateTime"]) for v in view if v["seriesMasterId"])


def _days_from_tomorrow(text: str) -> int:
    return (date.fromisoformat(text[:10]) - tomorrow_at(0).date()).days


def test_by_default_one_conflict_declines_the_whole_series(graph: Graph, sim: Simulator) -> None:
    room = rooms(sim)[0]
    master = _setup(sim, graph, busy_days=[3])

    current = graph.get(f"/users/{users(sim)[0]}/events/{master['id']}").json()
    assert _room_answer(current, room) == "declined"
    assert _room_series_days(sim, room) == []


def test_within_the_limits_the_series_is_accepted_and_the_conflicts_declined_alone(
    graph: Graph, sim: Simulator
) -> None:
    room, organizer = rooms(sim)[0], users(sim)[0]
    master = _setup(
        sim, graph, busy_days=[3, 6], maximum_conflict_instances=2, conflict_percentage_allowed=20
    )

    current = graph.get(f"/users/{organizer}/events/{master['id']}").json()
    assert _room_answer(current, room) == "accepted"
    assert _room_series_days(sim, room) == [0, 1, 2, 4, 5, 7, 8, 9]
    answers = {
        _days_from_tomorrow(i["originalStart"]): _room_answer(i, room)
        for i in _instances(graph, organizer, master["id"])
    }
    declined = sorted(day for day, answer in answers.items() if answer == "declined")
    assert declined == [3, 6]
    assert len(answers) == OCCURRENCES


def test_more_conflicts_than_maximum_conflict_instances_decline_the_series(
    graph: Graph, sim: Simulator
) -> None:
    room = rooms(sim)[0]
    master = _setup(
        sim,
        graph,
        busy_days=[1, 3, 6],
        maximum_conflict_instances=2,
        conflict_percentage_allowed=50,
    )

    current = graph.get(f"/users/{users(sim)[0]}/events/{master['id']}").json()
    assert _room_answer(current, room) == "declined"


def test_a_higher_percentage_than_allowed_declines_the_series(graph: Graph, sim: Simulator) -> None:
    room = rooms(sim)[0]
    master = _setup(
        sim,
        graph,
        busy_days=[1, 3],
        maximum_conflict_instances=5,
        conflict_percentage_allowed=10,
    )

    current = graph.get(f"/users/{users(sim)[0]}/events/{master['id']}").json()
    assert _room_answer(current, room) == "declined"


def test_allow_conflicts_accepts_every_occurrence_whatever_the_limits(
    graph: Graph, sim: Simulator
) -> None:
    room = rooms(sim)[0]
    master = _setup(sim, graph, busy_days=[1, 3, 6], allow_conflicts=True)

    current = graph.get(f"/users/{users(sim)[0]}/events/{master['id']}").json()
    assert _room_answer(current, room) == "accepted"
    assert _room_series_days(sim, room) == list(range(OCCURRENCES))


def test_a_room_that_does_not_allow_recurring_meetings_declines_a_free_series(
    graph: Graph, sim: Simulator
) -> None:
    room = rooms(sim)[0]
    master = _setup(sim, graph, busy_days=[], allow_recurring_meetings=False)

    current = graph.get(f"/users/{users(sim)[0]}/events/{master['id']}").json()
    assert _room_answer(current, room) == "declined"
    assert _room_series_days(sim, room) == []
