"""Room mailbox processing: accept with a room copy, decline on conflict or policy,
propagation of moves and cancellations, and Outlook users booking rooms directly."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from graphsim import Simulator, recurrence
from tests.graphsim.graphsim_testkit import Graph, meeting, rooms, tomorrow_at, users, when


def _room_status(graph: Graph, organizer: str, event_id: str, room: str) -> str:
    event = graph.get(f"/users/{organizer}/events/{event_id}").json()
    return next(
        a["status"]["response"] for a in event["attendees"] if a["emailAddress"]["address"] == room
    )


def _book(
    graph: Graph, sim: Simulator, room: str, start: datetime, minutes: int = 60, **extra: object
) -> dict[str, object]:
    response = graph.post(
        f"/users/{users(sim)[0]}/events", json=meeting(room, start, minutes, **extra)
    )
    assert response.status_code == 201
    sim.settle()
    return dict(response.json())


def test_room_accepts_and_gets_its_own_copy(graph: Graph, sim: Simulator) -> None:
    room = rooms(sim)[0]
    created = _book(graph, sim, room, tomorrow_at(9), sensitivity="private")
    assert _room_status(graph, users(sim)[0], str(created["id"]), room) == "accepted"
    [copy] = sim.events(room)
    assert copy["id"] != created["id"]
    assert copy["iCalUId"] == created["iCalUId"]
    organizer_name = sim.tenant.find_user(users(sim)[0]).display_name  # type: ignore[union-attr]
    assert copy["subject"] == organizer_name
    assert copy["body"]["content"] == ""
    assert copy["sensitivity"] == "normal"
    assert copy["isOrganizer"] is False
    assert copy["responseStatus"]["response"] == "accepted"


def test_processing_waits_for_the_configured_delay(graph: Graph, sim: Simulator) -> None:
    sim.room_processing_delay = 0.3
    room = rooms(sim)[0]
    created = graph.post(
        f"/users/{users(sim)[0]}/events", json=meeting(room, tomorrow_at(9))
    ).json()
    assert created["attendees"][0]["status"]["response"] == "none"
    sim.settle()
    assert _room_status(graph, users(sim)[0], created["id"], room) == "accepted"


def test_conflicting_request_is_declined_without_a_copy(graph: Graph, sim: Simulator) -> None:
    room = rooms(sim)[0]
    _book(graph, sim, room, tomorrow_at(9))
    second = _book(graph, sim, room, tomorrow_at(9, 30))
    assert _room_status(graph, users(sim)[0], str(second["id"]), room) == "declined"
    assert len(sim.events(room)) == 1


def test_allow_conflicts_accepts_overlaps(graph: Graph, sim: Simulator) -> None:
    room = rooms(sim)[0]
    sim.set_calendar_processing(room, allow_conflicts=True)
    _book(graph, sim, room, tomorrow_at(9))
    _book(graph, sim, room, tomorrow_at(9, 30))
    assert len(sim.events(room)) == 2


def test_booking_window_and_maximum_duration_decline(graph: Graph, sim: Simulator) -> None:
    room = rooms(sim)[0]
    sim.set_calendar_processing(room, booking_window_in_days=30, maximum_duration_in_minutes=90)
    far = _book(graph, sim, room, tomorrow_at(9) + timedelta(days=60))
    long = _book(graph, sim, room, tomorrow_at(9), minutes=120)
    assert _room_status(graph, users(sim)[0], str(far["id"]), room) == "declined"
    assert _room_status(graph, users(sim)[0], str(long["id"]), room) == "declined"
    assert sim.events(room) == []


def test_forced_decline(graph: Graph, sim: Simulator) -> None:
    room = rooms(sim)[0]
    sim.force_decline(room)
    first = _book(graph, sim, room, tomorrow_at(9))
    second = _book(graph, sim, room, tomorrow_at(11))
    assert _room_status(graph, users(sim)[0], str(first["id"]), room) == "declined"
    assert _room_status(graph, users(sim)[0], str(second["id"]), room) == "accepted"


def test_subject_rules_follow_calendar_processing(graph: Graph, sim: Simulator) -> None:
    room = rooms(sim)[0]
    sim.set_calendar_processing(
        room, add_organizer_to_subject=False, delete_subject=False, delete_comments=False
    )
    _book(graph, sim, room, tomorrow_at(9))
    [copy] = sim.events(room)
    assert copy["subject"] == "Project sync"
    assert copy["body"]["content"] == "<p>Agenda</p>"


def test_move_is_followed_by_the_room_copy(graph: Graph, sim: Simulator) -> None:
    room = rooms(sim)[0]
    created = _book(graph, sim, room, tomorrow_at(9))
    graph.patch(
        f"/users/{users(sim)[0]}/events/{created['id']}",
        json={"start": when(tomorrow_at(15)), "end": when(tomorrow_at(16))},
    )
    sim.settle()
    [copy] = sim.events(room)
    assert copy["start"]["dateTime"].startswith(tomorrow_at(15).strftime("%Y-%m-%dT15:00"))


def test_move_into_a_conflict_declines_and_removes_the_copy(graph: Graph, sim: Simulator) -> None:
    room = rooms(sim)[0]
    _book(graph, sim, room, tomorrow_at(9))
    movable = _book(graph, sim, room, tomorrow_at(13))
    assert len(sim.events(room)) == 2
    graph.patch(
        f"/users/{users(sim)[0]}/events/{movable['id']}",
        json={"start": when(tomorrow_at(9)), "end": when(tomorrow_at(10))},
    )
    sim.settle()
    assert _room_status(graph, users(sim)[0], str(movable["id"]), room) == "declined"
    assert len(sim.events(room)) == 1


def test_cancellation_removes_the_room_copy(graph: Graph, sim: Simulator) -> None:
    room = rooms(sim)[0]
    created = _book(graph, sim, room, tomorrow_at(9))
    graph.post(f"/users/{users(sim)[0]}/events/{created['id']}/cancel", json={})
    sim.settle()
    assert sim.events(room) == []


def test_removing_the_room_from_attendees_frees_it(graph: Graph, sim: Simulator) -> None:
    room = rooms(sim)[0]
    created = _book(graph, sim, room, tomorrow_at(9))
    graph.patch(f"/users/{users(sim)[0]}/events/{created['id']}", json={"attendees": []})
    sim.settle()
    assert sim.events(room) == []


def test_outlook_user_books_moves_and_cancels_directly(sim: Simulator) -> None:
    room, organizer = rooms(sim)[1], users(sim)[1]
    event_id = sim.outlook.create_meeting(
        organizer, room, "Walk-in", tomorrow_at(10), tomorrow_at(11)
    )
    sim.settle()
    assert len(sim.events(room)) == 1
    sim.outlook.move_meeting(organizer, event_id, tomorrow_at(12), tomorrow_at(13))
    sim.settle()
    assert sim.events(room)[0]["end"]["dateTime"].startswith(
        tomorrow_at(13).strftime("%Y-%m-%dT13:00")
    )
    sim.outlook.shorten_meeting(organizer, event_id, tomorrow_at(12, 30))
    sim.settle()
    assert sim.events(room)[0]["end"]["dateTime"].startswith(
        tomorrow_at(12).strftime("%Y-%m-%dT12:30")
    )
    sim.outlook.cancel_meeting(organizer, event_id)
    sim.settle()
    assert sim.events(room) == []


def test_outlook_series_occurrence_moved_and_cancelled_reach_the_room(sim: Simulator) -> None:
    room, organizer = rooms(sim)[2], users(sim)[0]
    start = datetime(2030, 3, 4, 9, tzinfo=UTC)
    sim.set_calendar_processing(room, booking_window_in_days=3000)
    series = sim.outlook.create_meeting(
        organizer,
        room,
        "Stand-up",
        start,
        start + timedelta(minutes=15),
        recurrence=recurrence("daily", start.date(), count=4),
    )
    sim.settle()
    window = (datetime(2030, 3, 1, tzinfo=UTC), datetime(2030, 3, 31, tzinfo=UTC))
    assert len(sim.calendar_view(room, *window)) == 4
    second = start + timedelta(days=1)
    sim.outlook.move_occurrence(
        organizer,
        series,
        second,
        second + timedelta(hours=5),
        second + timedelta(hours=5, minutes=15),
    )
    sim.outlook.cancel_occurrence(organizer, series, start + timedelta(days=2))
    sim.settle()
    view = sim.calendar_view(room, *window)
    assert [v["start"]["dateTime"][:16] for v in view] == [
        "2030-03-04T09:00",
        "2030-03-05T14:00",
        "2030-03-07T09:00",
    ]
    assert view[1]["type"] == "exception"


def test_occurrence_moved_into_a_conflict_is_declined_alone(sim: Simulator) -> None:
    room, organizer = rooms(sim)[2], users(sim)[0]
    start = datetime(2030, 3, 4, 9, tzinfo=UTC)
    sim.set_calendar_processing(room, booking_window_in_days=3000)
    sim.outlook.create_meeting(
        users(sim)[1],
        room,
        "Busy",
        datetime(2030, 3, 5, 14, tzinfo=UTC),
        datetime(2030, 3, 5, 15, tzinfo=UTC),
    )
    series = sim.outlook.create_meeting(
        organizer,
        room,
        "Stand-up",
        start,
        start + timedelta(minutes=15),
        recurrence=recurrence("daily", start.date(), count=3),
    )
    second = start + timedelta(days=1)
    sim.outlook.move_occurrence(
        organizer,
        series,
        second,
        second + timedelta(hours=5),
        second + timedelta(hours=5, minutes=15),
    )
    sim.settle()
    window = (datetime(2030, 3, 1, tzinfo=UTC), datetime(2030, 3, 31, tzinfo=UTC))
    series_copies = [v for v in sim.calendar_view(room, *window) if v["seriesMasterId"]]
    assert [v["start"]["dateTime"][:10] for v in series_copies] == ["2030-03-04", "2030-03-06"]
