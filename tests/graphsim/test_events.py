"""Events: create, read, update, delete, cancel, extended properties, filters, recurrence."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx

from graphsim import Simulator, recurrence
from tests.graphsim.graphsim_testkit import (
    Graph,
    meeting,
    rooms,
    token_for,
    tomorrow_at,
    users,
    when,
)

PROP = "String {66f5a359-4659-4830-9070-00040ec6ac6e} Name BookingId"


def test_create_is_201_with_ids_and_utc_times(graph: Graph, sim: Simulator) -> None:
    response = graph.post(
        f"/users/{users(sim)[0]}/events", json=meeting(rooms(sim)[0], tomorrow_at(9))
    )
    assert response.status_code == 201
    event = response.json()
    assert event["id"]
    assert event["iCalUId"]
    assert event["changeKey"]
    assert event["@odata.etag"] == f'W/"{event["changeKey"]}"'
    assert event["start"]["timeZone"] == "UTC"
    assert event["start"]["dateTime"].endswith(".0000000")
    assert event["type"] == "singleInstance"
    assert event["isOrganizer"] is True
    assert event["responseStatus"]["response"] == "organizer"
    assert event["transactionId"] is None


def test_repeated_transaction_id_returns_the_first_event(graph: Graph, sim: Simulator) -> None:
    body = meeting(rooms(sim)[0], tomorrow_at(9), transactionId="booking-42")
    first = graph.post(f"/users/{users(sim)[0]}/events", json=body)
    again = graph.post(f"/users/{users(sim)[0]}/events", json=body)
    assert again.status_code == 201
    assert again.json()["id"] == first.json()["id"]
    assert len(sim.events(users(sim)[0])) == 1


def test_update_changes_change_key_and_etag(graph: Graph, sim: Simulator) -> None:
    created = graph.post(
        f"/users/{users(sim)[0]}/events", json=meeting(rooms(sim)[0], tomorrow_at(9))
    ).json()
    response = graph.patch(
        f"/users/{users(sim)[0]}/events/{created['id']}", json={"subject": "Renamed"}
    )
    assert response.status_code == 200
    updated = response.json()
    assert updated["subject"] == "Renamed"
    assert updated["changeKey"] != created["changeKey"]
    assert updated["@odata.etag"] != created["@odata.etag"]
    assert updated["iCalUId"] == created["iCalUId"]


def test_delete_is_204_then_404(graph: Graph, sim: Simulator) -> None:
    created = graph.post(
        f"/users/{users(sim)[0]}/events", json=meeting(rooms(sim)[0], tomorrow_at(9))
    ).json()
    path = f"/users/{users(sim)[0]}/events/{created['id']}"
    response = graph.delete(path)
    assert response.status_code == 204
    assert response.content == b""
    missing = graph.get(path)
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "ErrorItemNotFound"


def test_cancel_is_202_for_the_organizer(graph: Graph, sim: Simulator) -> None:
    created = graph.post(
        f"/users/{users(sim)[0]}/events", json=meeting(rooms(sim)[0], tomorrow_at(9))
    ).json()
    response = graph.post(
        f"/users/{users(sim)[0]}/events/{created['id']}/cancel", json={"Comment": "Cancelling"}
    )
    assert response.status_code == 202
    assert sim.events(users(sim)[0]) == []


def test_cancel_by_an_attendee_is_400(graph: Graph, sim: Simulator) -> None:
    room = rooms(sim)[0]
    graph.post(f"/users/{users(sim)[0]}/events", json=meeting(room, tomorrow_at(9)))
    sim.settle()
    room_copy = sim.events(room)[0]
    response = graph.post(f"/users/{room}/events/{room_copy['id']}/cancel", json={})
    assert response.status_code == 400
    assert "organizer" in response.json()["error"]["message"]


def test_unknown_property_is_refused(graph: Graph, sim: Simulator) -> None:
    body = meeting(rooms(sim)[0], tomorrow_at(9), isWheelchairAccessible=True)
    response = graph.post(f"/users/{users(sim)[0]}/events", json=body)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "RequestBodyRead"


def test_writing_needs_calendars_read_write(sim: Simulator, http: httpx.Client) -> None:
    sim.set_roles({"Calendars.Read"})
    reader = Graph(http, token_for(sim, http))
    response = reader.post(
        f"/users/{users(sim)[0]}/events", json=meeting(rooms(sim)[0], tomorrow_at(9))
    )
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "ErrorAccessDenied"
    assert reader.get(f"/users/{users(sim)[0]}/events").status_code == 200


def test_mailbox_less_user_has_no_calendar(graph: Graph, sim: Simulator) -> None:
    response = graph.get(f"/users/{sim.service_account}/events")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "MailboxNotEnabledForRESTAPI"


def test_extended_property_is_stored_filtered_and_expanded(graph: Graph, sim: Simulator) -> None:
    organizer = users(sim)[0]
    body = meeting(
        rooms(sim)[0], tomorrow_at(9), singleValueExtendedProperties=[{"id": PROP, "value": "b-1"}]
    )
    created = graph.post(f"/users/{organizer}/events", json=body).json()
    graph.post(f"/users/{organizer}/events", json=meeting(rooms(sim)[1], tomorrow_at(9)))
    assert "singleValueExtendedProperties" not in created
    wanted = f"singleValueExtendedProperties/Any(ep: ep/id eq '{PROP}' and ep/value eq 'B-1')"
    found = graph.get(f"/users/{organizer}/events", params={"$filter": wanted}).json()["value"]
    assert [e["id"] for e in found] == [created["id"]]
    assert "singleValueExtendedProperties" not in found[0]
    expand = f"singleValueExtendedProperties($filter=id eq '{PROP}')"
    read = graph.get(
        f"/users/{organizer}/events/{created['id']}", params={"$expand": expand}
    ).json()
    assert read["singleValueExtendedProperties"] == [{"id": PROP, "value": "b-1"}]


def test_filter_by_ical_uid(graph: Graph, sim: Simulator) -> None:
    organizer = users(sim)[0]
    created = graph.post(
        f"/users/{organizer}/events", json=meeting(rooms(sim)[0], tomorrow_at(9))
    ).json()
    graph.post(f"/users/{organizer}/events", json=meeting(rooms(sim)[1], tomorrow_at(9)))
    found = graph.get(
        f"/users/{organizer}/events", params={"$filter": f"iCalUId eq '{created['iCalUId']}'"}
    ).json()["value"]
    assert [e["id"] for e in found] == [created["id"]]


def test_event_list_pages_with_next_link(graph: Graph, sim: Simulator) -> None:
    organizer = users(sim)[0]
    for day in range(5):
        graph.post(
            f"/users/{organizer}/events",
            json=meeting(rooms(sim)[0], tomorrow_at(9) + timedelta(days=day)),
        )
    page = graph.get(f"/users/{organizer}/events", params={"$top": "2"}).json()
    seen = [e["id"] for e in page["value"]]
    while "@odata.nextLink" in page:
        page = graph.get(page["@odata.nextLink"]).json()
        seen += [e["id"] for e in page["value"]]
    assert len(seen) == len(set(seen)) == 5


def test_prefer_outlook_timezone_windows_and_iana(graph: Graph, sim: Simulator) -> None:
    organizer = users(sim)[0]
    created = graph.post(
        f"/users/{organizer}/events",
        json=meeting(rooms(sim)[0], datetime(2030, 1, 15, 9, tzinfo=UTC)),
    ).json()
    for zone in ("Pacific Standard Time", "America/Los_Angeles"):
        response = graph.get(
            f"/users/{organizer}/events/{created['id']}",
            headers={"Prefer": f'outlook.timezone="{zone}"'},
        )
        assert response.json()["start"] == {
            "dateTime": "2030-01-15T01:00:00.0000000",
            "timeZone": zone,
        }
        assert zone in response.headers["Preference-Applied"]


def test_unknown_time_zone_is_refused(graph: Graph, sim: Simulator) -> None:
    body = meeting(rooms(sim)[0], tomorrow_at(9))
    body["start"]["timeZone"] = "Mars Standard Time"
    response = graph.post(f"/users/{users(sim)[0]}/events", json=body)
    assert response.status_code == 400


def _series(graph: Graph, sim: Simulator, pattern: dict[str, object]) -> dict[str, object]:
    start = datetime(2030, 3, 4, 9, tzinfo=UTC)
    body = meeting(rooms(sim)[0], start, 30, recurrence=pattern)
    response = graph.post(f"/users/{users(sim)[0]}/events", json=body)
    assert response.status_code == 201
    return dict(response.json())


def _view(graph: Graph, sim: Simulator, start: str, end: str) -> list[dict[str, object]]:
    page = graph.get(
        f"/users/{users(sim)[0]}/calendarView",
        params={"startDateTime": start, "endDateTime": end, "$top": "100"},
    ).json()
    return list(page["value"])


def test_daily_series_is_expanded_into_occurrences(graph: Graph, sim: Simulator) -> None:
    master = _series(graph, sim, recurrence("daily", datetime(2030, 3, 4).date(), count=5))
    assert master["type"] == "seriesMaster"
    occurrences = _view(graph, sim, "2030-03-01T00:00:00Z", "2030-03-31T00:00:00Z")
    assert [o["start"]["dateTime"][:10] for o in occurrences] == [
        "2030-03-04",
        "2030-03-05",
        "2030-03-06",
        "2030-03-07",
        "2030-03-08",
    ]
    assert {o["type"] for o in occurrences} == {"occurrence"}
    assert {o["seriesMasterId"] for o in occurrences} == {master["id"]}
    assert len({o["id"] for o in occurrences}) == 5
    assert len({o["iCalUId"] for o in occurrences}) == 5
    assert occurrences[0]["originalStart"] == "2030-03-04T09:00:00.0000000Z"


def test_weekly_series_on_two_days(graph: Graph, sim: Simulator) -> None:
    _series(
        graph,
        sim,
        recurrence(
            "weekly", datetime(2030, 3, 4).date(), count=4, days_of_week=["monday", "thursday"]
        ),
    )
    days = [
        o["start"]["dateTime"][:10]
        for o in _view(graph, sim, "2030-03-01T00:00:00Z", "2030-04-01T00:00:00Z")
    ]
    assert days == ["2030-03-04", "2030-03-07", "2030-03-11", "2030-03-14"]


def test_absolute_monthly_series(graph: Graph, sim: Simulator) -> None:
    _series(
        graph,
        sim,
        recurrence(
            "absoluteMonthly",
            datetime(2030, 3, 4).date(),
            until=datetime(2030, 6, 30).date(),
            day_of_month=4,
        ),
    )
    days = [
        o["start"]["dateTime"][:10]
        for o in _view(graph, sim, "2030-03-01T00:00:00Z", "2030-12-01T00:00:00Z")
    ]
    assert days == ["2030-03-04", "2030-04-04", "2030-05-04", "2030-06-04"]


def test_relative_monthly_series_first_monday(graph: Graph, sim: Simulator) -> None:
    _series(
        graph,
        sim,
        recurrence(
            "relativeMonthly",
            datetime(2030, 3, 4).date(),
            count=3,
            days_of_week=["monday"],
            index="first",
        ),
    )
    days = [
        o["start"]["dateTime"][:10]
        for o in _view(graph, sim, "2030-03-01T00:00:00Z", "2030-12-01T00:00:00Z")
    ]
    assert days == ["2030-03-04", "2030-04-01", "2030-05-06"]


def test_occurrence_can_be_moved_and_cancelled_by_id(graph: Graph, sim: Simulator) -> None:
    _series(graph, sim, recurrence("daily", datetime(2030, 3, 4).date(), count=3))
    first, second, third = _view(graph, sim, "2030-03-01T00:00:00Z", "2030-03-31T00:00:00Z")
    organizer = users(sim)[0]
    moved = graph.patch(
        f"/users/{organizer}/events/{second['id']}",
        json={
            "start": when(datetime(2030, 3, 5, 14, tzinfo=UTC)),
            "end": when(datetime(2030, 3, 5, 14, 30, tzinfo=UTC)),
        },
    )
    assert moved.status_code == 200
    assert moved.json()["type"] == "exception"
    assert graph.delete(f"/users/{organizer}/events/{third['id']}").status_code == 204
    after = _view(graph, sim, "2030-03-01T00:00:00Z", "2030-03-31T00:00:00Z")
    assert [(o["id"], o["type"]) for o in after] == [
        (first["id"], "occurrence"),
        (second["id"], "exception"),
    ]


def test_moving_an_occurrence_across_its_neighbour_is_refused(graph: Graph, sim: Simulator) -> None:
    _series(graph, sim, recurrence("daily", datetime(2030, 3, 4).date(), count=3))
    _, second, _ = _view(graph, sim, "2030-03-01T00:00:00Z", "2030-03-31T00:00:00Z")
    response = graph.patch(
        f"/users/{users(sim)[0]}/events/{second['id']}",
        json={
            "start": when(datetime(2030, 3, 6, 9, 15, tzinfo=UTC)),
            "end": when(datetime(2030, 3, 6, 9, 45, tzinfo=UTC)),
        },
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "ErrorOccurrenceCrossingBoundary"


def test_calendar_view_requires_a_window(graph: Graph, sim: Simulator) -> None:
    response = graph.get(f"/users/{users(sim)[0]}/calendarView")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "ErrorInvalidParameter"
