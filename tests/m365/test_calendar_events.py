"""calendarView/delta requests and the event writes of a push, on a MockTransport."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from roomsync.m365.calendar import (
    BOOKING_ID_PROPERTY,
    DeltaWindow,
    EventDraft,
    booking_id_of,
    cancel_event,
    create_event,
    delete_event,
    delta_request_url,
    fetch_delta_page,
    find_events_by_booking_id,
    find_events_by_ical_uid,
    get_event,
    update_event,
)
from roomsync.m365.exceptions import BadRequest, SyncStateExpired
from roomsync.m365.models import EmailAddress
from roomsync.m365.timezones import to_graph
from tests.m365.m365_fakes import GRAPH_URL, GraphRoutes, graph_error, graph_json, make_graph

ROOM = EmailAddress(name="Conf Room 100", address="cf100@contoso.com")
ORGANIZER = "adelev@contoso.com"
EVENTS_PATH = f"/v1.0/users/{ORGANIZER}/events"
WINDOW = DeltaWindow(
    start=datetime(2025, 3, 1, tzinfo=UTC),
    end=datetime(2025, 3, 1, tzinfo=UTC) + timedelta(days=60),
)


def _draft() -> EventDraft:
    start = datetime(2025, 3, 4, 8, 0, tzinfo=UTC)
    return EventDraft(
        subject="Quarterly review",
        start=to_graph(start, "Europe/Paris"),
        end=to_graph(start + timedelta(hours=1), "Europe/Paris"),
        room=ROOM,
        body_text="Booked in roomsync",
        private=True,
    )


def _created(request: httpx.Request) -> httpx.Response:
    sent = json_of(request)
    event = {
        "id": "AAMkORGANIZER=",
        "iCalUId": "040000008200E00074C5B7101A82E008",
        "changeKey": "CK1",
        "subject": sent["subject"],
        "start": sent["start"],
        "end": sent["end"],
        "transactionId": sent["transactionId"],
        "attendees": [{**a, "status": {"response": "none", "time": "0001-01-01T00:00:00Z"}}
                      for a in sent["attendees"]],
        "responseStatus": {"response": "organizer", "time": "0001-01-01T00:00:00Z"},
    }  # fmt: skip
    return graph_json(event, status=201)


def json_of(request: httpx.Request) -> Any:
    return json.loads(request.content)


def test_the_first_delta_request_names_the_window_in_utc() -> None:
    url = delta_request_url("cf100@contoso.com", WINDOW)

    assert url == (
        "/users/cf100@contoso.com/calendarView/delta"
        "?startDateTime=2025-03-01T00:00:00Z&endDateTime=2025-04-30T00:00:00Z"
    )


def test_a_delta_window_must_be_aware_and_forward() -> None:
    with pytest.raises(ValueError, match="aware"):
        DeltaWindow(start=datetime(2025, 1, 1), end=datetime(2025, 1, 2))
    with pytest.raises(ValueError, match="end after"):
        DeltaWindow(start=WINDOW.end, end=WINDOW.start)


def test_fetching_a_delta_page_asks_for_small_immutable_utc_pages() -> None:
    routes = GraphRoutes()
    body = {"value": [], "@odata.deltaLink": f"{GRAPH_URL}/v1.0/x?$deltatoken=t"}
    routes.add(
        "GET", "/v1.0/users/cf100@contoso.com/calendarView/delta", lambda r: graph_json(body)
    )

    page = fetch_delta_page(
        make_graph(routes),
        delta_request_url("cf100@contoso.com", WINDOW),
        mailbox="cf100@contoso.com",
    )

    assert page.is_last
    assert routes.requests[0].headers["Prefer"] == (
        'odata.maxpagesize=16, IdType="ImmutableId", outlook.timezone="UTC"'
    )
    assert routes.requests[0].url.params["startDateTime"] == "2025-03-01T00:00:00Z"


def test_an_expired_delta_token_is_sync_state_expired_with_the_reset_link() -> None:
    routes = GraphRoutes()
    reset = f"{GRAPH_URL}/v1.0/users/cf100@contoso.com/calendarView/delta?$deltatoken="
    routes.add(
        "GET",
        "/v1.0/users/cf100@contoso.com/calendarView/delta",
        lambda r: graph_error(410, "", "", headers={"Location": reset}),
    )

    with pytest.raises(SyncStateExpired) as caught:
        fetch_delta_page(
            make_graph(routes),
            f"{GRAPH_URL}/v1.0/users/cf100@contoso.com/calendarView/delta?$deltatoken=old",
            mailbox="cf100@contoso.com",
        )

    assert caught.value.reset_url == reset


def test_create_books_the_room_as_resource_attendee_with_transaction_id_and_tag() -> None:
    routes = GraphRoutes()
    routes.add("POST", EVENTS_PATH, _created)

    event = create_event(
        make_graph(routes), ORGANIZER, _draft(), booking_id="bk-42", transaction_id="roomsync-bk-42"
    )

    sent = routes.json_sent()
    assert sent["transactionId"] == "roomsync-bk-42"
    assert sent["singleValueExtendedProperties"] == [{"id": BOOKING_ID_PROPERTY, "value": "bk-42"}]
    assert sent["attendees"] == [
        {"emailAddress": {"name": "Conf Room 100", "address": "cf100@contoso.com"},
         "type": "resource"}
    ]  # fmt: skip
    assert sent["location"] == {
        "displayName": "Conf Room 100",
        "locationEmailAddress": "cf100@contoso.com",
        "locationType": "conferenceRoom",
    }
    assert sent["start"] == {"dateTime": "2025-03-04T09:00:00.0000000",
                             "timeZone": "Romance Standard Time"}  # fmt: skip
    assert sent["sensitivity"] == "private"
    assert sent["body"] == {"contentType": "text", "content": "Booked in roomsync"}
    assert 'IdType="ImmutableId"' in routes.requests[0].headers["Prefer"]
    assert event.i_cal_u_id == "040000008200E00074C5B7101A82E008"
    assert event.transaction_id == "roomsync-bk-42"


def test_update_patches_the_event_and_returns_the_new_version() -> None:
    routes = GraphRoutes()
    routes.add(
        "PATCH",
        f"{EVENTS_PATH}/AAMkORGANIZER=",
        lambda r: graph_json({"id": "AAMkORGANIZER=", "changeKey": "CK2", **json_of(r)}),
    )

    event = update_event(make_graph(routes), ORGANIZER, "AAMkORGANIZER=", {"subject": "Moved"})

    assert routes.json_sent() == {"subject": "Moved"}
    assert event.change_key == "CK2"
    assert event.subject == "Moved"


def test_cancel_sends_the_comment_and_accepts_202() -> None:
    routes = GraphRoutes()
    routes.add("POST", f"{EVENTS_PATH}/AAMkORGANIZER=/cancel", lambda r: httpx.Response(202))

    cancel_event(make_graph(routes), ORGANIZER, "AAMkORGANIZER=", comment="Room released")

    assert routes.json_sent() == {"Comment": "Room released"}


def test_cancelling_as_an_attendee_is_a_bad_request() -> None:
    routes = GraphRoutes()
    routes.add(
        "POST",
        f"{EVENTS_PATH}/AAMkX=/cancel",
        lambda r: graph_error(400, "ErrorInvalidRequest", "Your request can't be completed. "
                              "You need to be an organizer to cancel a meeting."),
    )  # fmt: skip

    with pytest.raises(BadRequest, match="organizer to cancel"):
        cancel_event(make_graph(routes), ORGANIZER, "AAMkX=")


def test_delete_accepts_204() -> None:
    routes = GraphRoutes()
    routes.add("DELETE", f"{EVENTS_PATH}/AAMkORGANIZER=", lambda r: httpx.Response(204))

    delete_event(make_graph(routes), ORGANIZER, "AAMkORGANIZER=")

    assert routes.requests[0].method == "DELETE"


def test_get_expands_the_booking_id_property() -> None:
    routes = GraphRoutes()
    event = {"id": "AAMk1=", "singleValueExtendedProperties": [
        {"id": BOOKING_ID_PROPERTY, "value": "bk-42"}]}  # fmt: skip
    routes.add("GET", f"{EVENTS_PATH}/AAMk1=", lambda r: graph_json(event))

    found = get_event(make_graph(routes), ORGANIZER, "AAMk1=")

    assert booking_id_of(found) == "bk-42"
    assert routes.requests[0].url.params["$expand"] == (
        f"singleValueExtendedProperties($filter=id eq '{BOOKING_ID_PROPERTY}')"
    )


def test_events_are_found_by_ical_uid() -> None:
    routes = GraphRoutes()
    routes.add("GET", "/v1.0/users/cf100@contoso.com/events",
               lambda r: graph_json({"value": [{"id": "AAMkROOM="}]}))  # fmt: skip

    (event,) = find_events_by_ical_uid(make_graph(routes), "cf100@contoso.com", "0400000082")

    assert event.id == "AAMkROOM="
    assert routes.requests[0].url.params["$filter"] == "iCalUId eq '0400000082'"


def test_events_are_found_by_the_booking_id_property() -> None:
    routes = GraphRoutes()
    routes.add("GET", EVENTS_PATH, lambda r: graph_json({"value": []}))

    assert find_events_by_booking_id(make_graph(routes), ORGANIZER, "bk-42") == []
    assert routes.requests[0].url.params["$filter"] == (
        f"singleValueExtendedProperties/Any(ep: ep/id eq '{BOOKING_ID_PROPERTY}' "
        "and ep/value eq 'bk-42')"
    )
