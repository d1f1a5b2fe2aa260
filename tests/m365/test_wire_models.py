"""Pydantic wire models against payloads shaped like Microsoft's documentation examples."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from roomsync.m365.calendar import parse_delta_page, quiet_delta_link
from roomsync.m365.exceptions import InvalidResponse
from roomsync.m365.models import (
    AttendeeType,
    BookingType,
    DateTimeTimeZone,
    Event,
    EventType,
    FreeBusyStatus,
    ResponseType,
    Room,
    RoomList,
)
from roomsync.m365.notification_models import (
    ChangeType,
    LifecycleEvent,
    NotificationBatch,
    Subscription,
)
from roomsync.m365.wire import parse_wire
from tests.m365.m365_fakes import GRAPH_URL

ROOM_EVENT: dict[str, Any] = {
    "@odata.type": "#microsoft.graph.event",
    "@odata.etag": 'W/"EZ9r3czxY0m2jz8c45czkwAAFXcvIw=="',
    "id": "AAMkADNkNmAA=",
    "createdDateTime": "2025-03-03T08:12:41.0915373Z",
    "lastModifiedDateTime": "2025-03-03T08:12:42.7579581Z",
    "changeKey": "EZ9r3czxY0m2jz8c45czkwAAFXcvIw==",
    "categories": [],
    "transactionId": None,
    "originalStartTimeZone": "Romance Standard Time",
    "originalEndTimeZone": "Romance Standard Time",
    "iCalUId": "040000008200E00074C5B7101A82E00800000000D0F1",
    "reminderMinutesBeforeStart": 15,
    "isReminderOn": False,
    "hasAttachments": False,
    "subject": "Adele Vance",
    "bodyPreview": "",
    "importance": "normal",
    "sensitivity": "normal",
    "isAllDay": False,
    "isCancelled": False,
    "isOrganizer": False,
    "responseRequested": True,
    "seriesMasterId": None,
    "showAs": "busy",
    "type": "singleInstance",
    "webLink": "https://outlook.office365.com/owa/?itemid=AAMkADNkNmAA%3D&exvsurl=1&path=/calendar/item",
    "responseStatus": {"response": "accepted", "time": "2025-03-03T08:12:42Z"},
    "start": {"dateTime": "2025-03-04T09:00:00.0000000", "timeZone": "UTC"},
    "end": {"dateTime": "2025-03-04T10:00:00.0000000", "timeZone": "UTC"},
    "location": {
        "displayName": "Conf Room 100",
        "locationType": "default",
        "uniqueId": "Conf Room 100",
        "uniqueIdType": "private",
    },
    "attendees": [
        {
            "type": "required",
            "status": {"response": "none", "time": "0001-01-01T00:00:00Z"},
            "emailAddress": {"name": "Adele Vance", "address": "adelev@contoso.com"},
        },
        {
            "type": "resource",
            "status": {"response": "accepted", "time": "2025-03-03T08:12:42Z"},
            "emailAddress": {"name": "Conf Room 100", "address": "cf100@contoso.com"},
        },
    ],
    "organizer": {"emailAddress": {"name": "Adele Vance", "address": "adelev@contoso.com"}},
}


def test_a_delta_page_separates_events_from_removed_ids() -> None:
    body = {
        "@odata.context": f"{GRAPH_URL}/v1.0/$metadata#Collection(event)",
        "@odata.nextLink": f"{GRAPH_URL}/v1.0/users/cf100@contoso.com/calendarView/delta"
        "?$skiptoken=R0usmcCM996atia_s",
        "value": [
            ROOM_EVENT,
            {"@odata.type": "#microsoft.graph.event", "id": "AAMkGONE=",
             "@removed": {"reason": "deleted"}},
        ],
    }  # fmt: skip

    page = parse_delta_page(body, mailbox="cf100@contoso.com")

    (event,) = page.events
    assert page.removed_ids == ["AAMkGONE="]
    assert page.next_link == body["@odata.nextLink"]
    assert page.delta_link is None
    assert not page.is_last
    assert event.i_cal_u_id == ROOM_EVENT["iCalUId"]
    assert event.etag == ROOM_EVENT["@odata.etag"]


def test_an_event_reads_every_property_roomsync_uses() -> None:
    event = Event.model_validate(ROOM_EVENT)

    assert event.start == DateTimeTimeZone(date_time="2025-03-04T09:00:00.0000000", time_zone="UTC")
    assert event.last_modified_date_time == datetime(2025, 3, 3, 8, 12, 42, 757958, tzinfo=UTC)
    assert event.show_as is FreeBusyStatus.BUSY
    assert event.type is EventType.SINGLE_INSTANCE
    assert event.organizer is not None
    assert event.organizer.email_address is not None
    assert event.organizer.email_address.address == "adelev@contoso.com"
    room = event.attendee("CF100@contoso.com")
    assert room is not None
    assert room.type is AttendeeType.RESOURCE
    assert room.status is not None
    assert room.status.response is ResponseType.ACCEPTED
    assert event.response_status is not None
    assert event.location is not None
    assert event.location.display_name == "Conf Room 100"


def test_a_last_page_carries_the_delta_link() -> None:
    body = {"value": [], "@odata.deltaLink": f"{GRAPH_URL}/v1.0/x?$deltatoken=abc"}

    page = parse_delta_page(body, mailbox="cf100@contoso.com")

    assert page.is_last
    assert page.events == []


def test_an_empty_last_page_is_read_as_its_delta_link_alone() -> None:
    link = f"{GRAPH_URL}/v1.0/x?$deltatoken=abc"

    assert quiet_delta_link({"@odata.context": "x", "value": [], "@odata.deltaLink": link}) == link


@pytest.mark.parametrize(
    "body",
    [
        {"value": [ROOM_EVENT], "@odata.deltaLink": "https://g/b"},
        {"value": [], "@odata.nextLink": "https://g/a"},
        {"value": [], "@odata.nextLink": "https://g/a", "@odata.deltaLink": "https://g/b"},
        {"value": [], "@odata.deltaLink": 7},
        {"@odata.deltaLink": "https://g/b"},
        [],
    ],
)
def test_any_other_page_is_left_for_the_full_reading(body: object) -> None:
    assert quiet_delta_link(body) is None


@pytest.mark.parametrize(
    "links",
    [{}, {"@odata.nextLink": "https://g/a", "@odata.deltaLink": "https://g/b"}],
)
def test_a_delta_page_without_exactly_one_link_is_unreadable(links: dict[str, str]) -> None:
    with pytest.raises(InvalidResponse, match=r"calendarView/delta of cf100@contoso\.com"):
        parse_delta_page({"value": [], **links}, mailbox="cf100@contoso.com")


def test_an_updated_item_may_carry_only_its_id_and_changes() -> None:
    event = Event.model_validate({"id": "AAMk1", "subject": "Moved"})

    assert event.subject == "Moved"
    assert event.start is None
    assert event.attendees == []


def test_enum_values_microsoft_adds_later_read_as_unknown() -> None:
    event = Event.model_validate({"id": "x", "showAs": "unknownFutureValue", "type": "brandNew"})

    assert event.show_as is FreeBusyStatus.UNKNOWN
    assert event.type is EventType.UNKNOWN


def test_a_room_from_the_places_example_keeps_its_raw_properties() -> None:
    item = {
        "id": "3162F1E1-C4C0-604B-51D8-91DA78989EB1",
        "emailAddress": "cf100@contoso.com",
        "displayName": "Conf Room 100",
        "address": {"street": "4567 Main Street", "city": "Buffalo", "state": "NY",
                    "postalCode": "98052", "countryOrRegion": "USA"},
        "geoCoordinates": {"latitude": 47.640568390488626, "longitude": -122.1293731033803},
        "phone": "000-000-0000",
        "nickname": "Conf Room",
        "label": "100",
        "capacity": "50",
        "building": "1",
        "floorNumber": 1,
        "isManaged": True,
        "isWheelchairAccessible": False,
        "bookingType": "standard",
        "tags": ["bean bags"],
        "audioDeviceName": None,
        "videoDeviceName": None,
        "displayDevice": "surface hub",
    }  # fmt: skip

    room = parse_wire(Room, item, source="GET /places/microsoft.graph.room")

    assert room.capacity == 50
    assert room.is_wheel_chair_accessible is False
    assert room.booking_type is BookingType.STANDARD
    assert room.address is not None
    assert room.address.city == "Buffalo"
    assert room.raw["displayDevice"] == "surface hub"
    assert room.raw["isManaged"] is True
    assert "raw" not in room.to_wire()


def test_a_room_list_accepts_the_lower_case_geocoordinates_of_the_example() -> None:
    room_list = RoomList.model_validate(
        {"id": "DC40", "displayName": "Building 1", "geocoordinates": {"latitude": 1.5},
         "emailAddress": "bldg1@contoso.com"}
    )  # fmt: skip

    assert room_list.geo_coordinates is not None
    assert room_list.geo_coordinates.latitude == 1.5


def test_a_room_without_an_id_is_reported_as_unreadable() -> None:
    with pytest.raises(InvalidResponse, match=r"GET /places/microsoft\.graph\.room"):
        parse_wire(Room, {"displayName": "No id"}, source="GET /places/microsoft.graph.room")


def test_models_accept_snake_case_names_too() -> None:
    value = DateTimeTimeZone(date_time="2025-01-01T00:00:00.0000000", time_zone="UTC")

    assert value.to_wire() == {"dateTime": "2025-01-01T00:00:00.0000000", "timeZone": "UTC"}


EVENT_PATH = "Users/622eaaff-0683-4862-9de4-f2ec83c2bd98/Events/AAMkAGUwNjQ4ZjIxAAA="


def test_notifications_are_split_into_changes_and_lifecycle_events() -> None:
    body = {
        "value": [
            {
                "subscriptionId": "7f105c7d-2dc5-4530-97cd-4e7ae6534c07",
                "subscriptionExpirationDateTime": "2025-03-20T11:00:00.0000000Z",
                "changeType": "updated",
                "resource": EVENT_PATH,
                "resourceData": {
                    "@odata.type": "#Microsoft.Graph.Event",
                    "@odata.id": EVENT_PATH,
                    "@odata.etag": 'W/"CQAAABYAAADkrWGo7bouTKlsgTZMr9KwAAAUWRHf"',
                    "id": "AAMkAGUwNjQ4ZjIxAAA=",
                },
                "clientState": "secretClientValue",
                "tenantId": "84bd8158-6d4d-4958-8b9f-9d6445542f95",
            },
            {
                "subscriptionId": "7f105c7d-2dc5-4530-97cd-4e7ae6534c07",
                "subscriptionExpirationDateTime": "2025-03-20T11:00:00.0000000Z",
                "tenantId": "84bd8158-6d4d-4958-8b9f-9d6445542f95",
                "clientState": "secretClientValue",
                "lifecycleEvent": "reauthorizationRequired",
            },
        ]
    }  # fmt: skip

    batch = NotificationBatch.from_body(body)

    (change,) = batch.changes
    (lifecycle,) = batch.lifecycle
    assert change.change_type is ChangeType.UPDATED
    assert change.resource_data is not None
    assert change.resource_data.id == "AAMkAGUwNjQ4ZjIxAAA="
    assert lifecycle.lifecycle_event is LifecycleEvent.REAUTHORIZATION_REQUIRED
    assert "secretClientValue" not in repr(batch)


def test_a_notification_body_without_value_is_refused() -> None:
    with pytest.raises(ValueError, match="value"):
        NotificationBatch.from_body({"validationTokens": []})


def test_a_subscription_never_shows_its_client_state() -> None:
    subscription = Subscription.model_validate(
        {
            "id": "7f105c7d-2dc5-4530-97cd-4e7ae6534c07",
            "resource": "/users/cf100@contoso.com/events",
            "changeType": "created,updated,deleted",
            "clientState": "do-not-print-me",
            "notificationUrl": "https://roomsync.example/webhooks/microsoft365",
            "expirationDateTime": "2025-03-20T11:00:00.0000000Z",
        }
    )

    assert subscription.client_state == "do-not-print-me"
    assert "do-not-print-me" not in repr(subscription)
