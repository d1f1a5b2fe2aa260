"""calendarView/delta rounds: paging, the window in the token, @removed, resets, expiry."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from graphsim import Simulator, recurrence
from tests.graphsim.graphsim_testkit import Graph, fast_options, rooms, token_for, users

START = datetime(2030, 5, 1, tzinfo=UTC)
WINDOW = {"startDateTime": "2030-05-01T00:00:00Z", "endDateTime": "2030-05-31T00:00:00Z"}


def _round(
    graph: Graph, first: str, params: dict[str, str] | None = None, page_size: int = 2
) -> tuple[list[dict[str, Any]], str, int]:
    """Follow nextLinks to the deltaLink: (items, deltaLink, pages)."""
    headers = {"Prefer": f"odata.maxpagesize={page_size}"}
    response = graph.get(first, params=params, headers=headers)
    assert response.status_code == 200, response.text
    page, items, pages = response.json(), [], 1
    items += page["value"]
    while "@odata.nextLink" in page:
        assert "@odata.deltaLink" not in page
        page = graph.get(page["@odata.nextLink"], headers=headers).json()
        items += page["value"]
        pages += 1
    return items, page["@odata.deltaLink"], pages


def _book(sim: Simulator, room: str, day: int, hour: int = 9) -> str:
    start = START + timedelta(days=day, hours=hour)
    return sim.outlook.create_meeting(
        users(sim)[0], room, f"Day {day}", start, start + timedelta(hours=1)
    )


def _prepare(sim: Simulator, count: int) -> str:
    room = rooms(sim)[0]
    sim.set_calendar_processing(room, booking_window_in_days=3000)
    for day in range(count):
        _book(sim, room, day)
    sim.settle()
    return room


def test_initial_round_pages_then_gives_a_delta_link(graph: Graph, sim: Simulator) -> None:
    room = _prepare(sim, 5)
    items, delta_link, pages = _round(graph, f"/users/{room}/calendarView/delta", WINDOW)
    assert pages == 3
    assert len(items) == 5
    assert all(i["@odata.type"] == "#microsoft.graph.event" for i in items)
    assert "$deltatoken=" in delta_link


def test_round_without_changes_is_empty(graph: Graph, sim: Simulator) -> None:
    room = _prepare(sim, 3)
    _, delta_link, _ = _round(graph, f"/users/{room}/calendarView/delta", WINDOW)
    items, next_link, pages = _round(graph, delta_link)
    assert items == []
    assert pages == 1
    assert "$deltatoken=" in next_link


def test_changes_and_removals_arrive_in_the_next_round(graph: Graph, sim: Simulator) -> None:
    room = _prepare(sim, 3)
    _, delta_link, _ = _round(graph, f"/users/{room}/calendarView/delta", WINDOW)
    organizer_events = sim.events(users(sim)[0])
    by_start = {e["start"]["dateTime"][:10]: e["id"] for e in organizer_events}
    sim.outlook.move_meeting(
        users(sim)[0],
        by_start["2030-05-02"],
        START + timedelta(days=2, hours=14),
        START + timedelta(days=2, hours=15),
    )
    sim.outlook.cancel_meeting(users(sim)[0], by_start["2030-05-01"])
    new_id = _book(sim, room, 10)
    sim.settle()
    items, _, _ = _round(graph, delta_link)
    removed = {i["id"] for i in items if "@removed" in i}
    changed = {i["id"] for i in items if "@removed" not in i}
    assert len(changed) == 2
    assert len(removed) == 1
    assert all(i["@removed"] == {"reason": "deleted"} for i in items if "@removed" in i)
    assert new_id not in changed  # the room copy has its own id


def test_the_window_is_fixed_in_the_token(graph: Graph, sim: Simulator) -> None:
    room = _prepare(sim, 2)
    _, delta_link, _ = _round(graph, f"/users/{room}/calendarView/delta", WINDOW)
    _book(sim, room, 45)
    sim.settle()
    items, _, _ = _round(graph, delta_link)
    assert len(items) == 1
    assert "@removed" in items[0]  # changes outside the window arrive as @removed


def test_moving_out_of_the_window_is_removed(graph: Graph, sim: Simulator) -> None:
    room = _prepare(sim, 1)
    _, delta_link, _ = _round(graph, f"/users/{room}/calendarView/delta", WINDOW)
    [event] = sim.events(users(sim)[0])
    later = START + timedelta(days=60)
    sim.outlook.move_meeting(users(sim)[0], event["id"], later, later + timedelta(hours=1))
    sim.settle()
    items, _, _ = _round(graph, delta_link)
    assert [i.get("@removed") for i in items] == [{"reason": "deleted"}]


def test_forced_reset_is_410_with_location(graph: Graph, sim: Simulator) -> None:
    room = _prepare(sim, 2)
    _, delta_link, _ = _round(graph, f"/users/{room}/calendarView/delta", WINDOW)
    sim.reset_delta(room)
    response = graph.get(delta_link)
    assert response.status_code == 410
    location = response.headers["Location"]
    assert "$deltatoken=" in location
    assert "startDateTime=" in location
    items, _, _ = _round(graph, location)
    assert len(items) == 2


def test_expired_tokens_are_sync_state_not_found(graph: Graph, sim: Simulator) -> None:
    room = _prepare(sim, 5)
    first = graph.get(
        f"/users/{room}/calendarView/delta",
        params=WINDOW,
        headers={"Prefer": "odata.maxpagesize=2"},
    ).json()
    _, delta_link, _ = _round(graph, f"/users/{room}/calendarView/delta", WINDOW)
    sim.expire_delta_tokens(room)
    for link in (first["@odata.nextLink"], delta_link):
        response = graph.get(link)
        assert response.status_code == 410
        assert response.json()["error"]["code"] == "SyncStateNotFound"
        assert "Location" not in response.headers


def test_trimmed_change_log_expires_old_tokens() -> None:
    sim = Simulator(options=fast_options(change_log_size=4))
    sim.seed(rooms=1, users=1, events_per_room=0, recurring_series=0, private_meetings=0)
    try:
        with httpx.Client(transport=sim.transport()) as http:
            graph = Graph(http, token_for(sim, http))
            room = _prepare(sim, 1)
            _, delta_link, _ = _round(graph, f"/users/{room}/calendarView/delta", WINDOW)
            for day in range(1, 8):
                _book(sim, room, day)
            sim.settle()
            assert graph.get(delta_link).json()["error"]["code"] == "SyncStateNotFound"
    finally:
        sim.close()


def test_series_occurrences_are_listed_without_the_master(graph: Graph, sim: Simulator) -> None:
    room = rooms(sim)[0]
    sim.set_calendar_processing(room, booking_window_in_days=3000)
    start = START + timedelta(hours=8)
    sim.outlook.create_meeting(
        users(sim)[0],
        room,
        "Daily",
        start,
        start + timedelta(minutes=15),
        recurrence=recurrence("daily", start.date(), count=4),
    )
    sim.settle()
    items, _, _ = _round(graph, f"/users/{room}/calendarView/delta", WINDOW, page_size=10)
    assert [i["type"] for i in items] == ["occurrence"] * 4
    assert len({i["iCalUId"] for i in items}) == 4
    assert all(i["seriesMasterId"] for i in items)


def test_delta_honours_outlook_timezone(graph: Graph, sim: Simulator) -> None:
    room = _prepare(sim, 1)
    response = graph.get(
        f"/users/{room}/calendarView/delta",
        params=WINDOW,
        headers={"Prefer": 'outlook.timezone="W. Europe Standard Time", odata.maxpagesize=5'},
    )
    [item] = response.json()["value"]
    assert item["start"] == {
        "dateTime": "2030-05-01T11:00:00.0000000",
        "timeZone": "W. Europe Standard Time",
    }
    assert "odata.maxpagesize=5" in response.headers["Preference-Applied"]


def test_delta_needs_a_window_or_a_token(graph: Graph, sim: Simulator) -> None:
    response = graph.get(f"/users/{rooms(sim)[0]}/calendarView/delta")
    assert response.status_code == 400


def test_tampered_token_is_refused(graph: Graph, sim: Simulator) -> None:
    room = _prepare(sim, 1)
    _, delta_link, _ = _round(graph, f"/users/{room}/calendarView/delta", WINDOW)
    assert graph.get(delta_link.replace("$deltatoken=", "$deltatoken=x")).status_code == 400


def test_immutable_id_preference_is_acknowledged(graph: Graph, sim: Simulator) -> None:
    room = _prepare(sim, 1)
    response = graph.get(
        f"/users/{room}/calendarView/delta",
        params=WINDOW,
        headers={"Prefer": 'IdType="ImmutableId"'},
    )
    assert 'IdType="ImmutableId"' in response.headers["Preference-Applied"]
