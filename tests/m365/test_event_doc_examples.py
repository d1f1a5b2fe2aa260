"""Events as Microsoft's api-reference pages show them parse, recurrence and every location
included. The payloads follow the documented responses of
api-reference/v1.0/api/user-post-events.md ("Create an event in multiple locations",
"Create a recurring event") and api-reference/v1.0/api/event-get.md (Response 2): their
properties, nulls and odd values (``"uniqueId": ""``, ``"endDate": "0001-01-01"``,
``"OnlineMeeting"`` capitalised) as shown; long ids and HTML bodies shortened."""

from __future__ import annotations

from datetime import date
from typing import Any

from roomsync.m365.calendar import parse_delta_page
from roomsync.m365.models import (
    DayOfWeek,
    Event,
    RecurrencePatternType,
    RecurrenceRangeType,
    WeekIndex,
)
from tests.m365.m365_fakes import GRAPH_URL

NOBODY_YET = {"response": "none", "time": "0001-01-01T00:00:00Z"}

MULTIPLE_LOCATIONS: dict[str, Any] = {
    "@odata.context": f"{GRAPH_URL}/v1.0/$metadata#users('cd209b0b')/events/$entity",
    "@odata.etag": 'W/"y53lbKh6jkaxHzFwGhgyxgAAw5zhug=="',
    "id": "AAMkADAGAADDdm4NAAA=",
    "createdDateTime": "2017-08-30T07:06:33.8673345Z",
    "lastModifiedDateTime": "2017-08-30T07:06:34.5079772Z",
    "changeKey": "y53lbKh6jkaxHzFwGhgyxgAAw5zhug==",
    "categories": [],
    "originalStartTimeZone": "Pacific Standard Time",
    "originalEndTimeZone": "Pacific Standard Time",
    "iCalUId": "040000008200E00074C5B7101A82E00800000000A8B0FB8DA220D301",
    "reminderMinutesBeforeStart": 15,
    "isReminderOn": True,
    "hasAttachments": False,
    "subject": "Plan summer company picnic",
    "bodyPreview": "Let's kick-start this event planning!",
    "importance": "normal",
    "sensitivity": "normal",
    "isAllDay": False,
    "isCancelled": False,
    "isOrganizer": True,
    "responseRequested": True,
    "seriesMasterId": None,
    "showAs": "busy",
    "type": "singleInstance",
    "webLink": "https://outlook.office365.com/owa/?itemid=AAMkADAGAADDdm4NAAA%3D&exvsurl=1&path=/calendar/item",
    "onlineMeetingUrl": None,
    "isOnlineMeeting": True,
    "onlineMeetingProvider": "unknown",
    "onlineMeeting": None,
    "allowNewTimeProposals": True,
    "responseStatus": {"response": "organizer", "time": "0001-01-01T00:00:00Z"},
    "body": {
        "contentType": "html",
        "content": "<html><body>Let's kick-start this event planning!</body></html>",
    },
    "start": {"dateTime": "2017-08-30T11:00:00.0000000", "timeZone": "Pacific Standard Time"},
    "end": {"dateTime": "2017-08-30T12:00:00.0000000", "timeZone": "Pacific Standard Time"},
    "location": {
        "displayName": "Conf Room 3; Fourth Coffee; Home Office",
        "locationType": "default",
        "uniqueId": "Conf Room 3; Fourth Coffee; Home Office",
        "uniqueIdType": "private",
    },
    "locations": [
        {"displayName": "Conf Room 3", "locationType": "default", "uniqueIdType": "unknown"},
        {
            "displayName": "Fourth Coffee",
            "locationType": "default",
            "uniqueId": "Fourth Coffee",
            "uniqueIdType": "private",
            "address": {
                "type": "unknown",
                "street": "4567 Main St",
                "city": "Redmond",
                "state": "WA",
                "countryOrRegion": "US",
                "postalCode": "32008",
            },
            "coordinates": {"latitude": 47.672, "longitude": -102.103},
        },
        {"displayName": "Home Office", "locationType": "default", "uniqueIdType": "unknown"},
    ],
    "recurrence": None,
    "attendees": [
        {
            "type": "required",
            "status": NOBODY_YET,
            "emailAddress": {"name": "Dana Swope", "address": "DanaS@contoso.onmicrosoft.com"},
        },
        {
            "type": "required",
            "status": NOBODY_YET,
            "emailAddress": {"name": "Alex Wilber", "address": "AlexW@contoso.onmicrosoft.com"},
        },
    ],
    "organizer": {
        "emailAddress": {"name": "Adele Vance", "address": "AdeleV@contoso.onmicrosoft.com"}
    },
}

WEEKLY_UNTIL_A_DATE: dict[str, Any] = {
    "@odata.etag": 'W/"DwtdTpq+9E+NNxh5Jz8DLgAAhRiYYw=="',
    "id": "AAMkADQwMD",
    "iCalUId": "040000008200E00074C5B7101A82E00800000000AA1E5F4A1D24D301",
    "subject": "Let's go for lunch",
    "bodyPreview": "Does late morning work for you?",
    "isOrganizer": True,
    "seriesMasterId": None,
    "showAs": "busy",
    "type": "seriesMaster",
    "start": {"dateTime": "2017-09-04T12:00:00.0000000", "timeZone": "Pacific Standard Time"},
    "end": {"dateTime": "2017-09-04T14:00:00.0000000", "timeZone": "Pacific Standard Time"},
    "location": {
        "displayName": "Harry's Bar",
        "locationType": "default",
        "uniqueId": "Harry's Bar",
        "uniqueIdType": "private",
    },
    "locations": [
        {"displayName": "Harry's Bar", "locationType": "default", "uniqueIdType": "unknown"}
    ],
    "recurrence": {
        "pattern": {
            "type": "weekly",
            "interval": 1,
            "month": 0,
            "dayOfMonth": 0,
            "daysOfWeek": ["monday"],
            "firstDayOfWeek": "sunday",
            "index": "first",
        },
        "range": {
            "type": "endDate",
            "startDate": "2017-09-04",
            "endDate": "2017-12-31",
            "recurrenceTimeZone": "Pacific Standard Time",
            "numberOfOccurrences": 0,
        },
    },
    "attendees": [
        {
            "type": "required",
            "status": NOBODY_YET,
            "emailAddress": {"name": "Adele Vance", "address": "AdeleV@contoso.onmicrosoft.com"},
        }
    ],
    "organizer": {
        "emailAddress": {"name": "Alex Wilber", "address": "AlexW@contoso.onmicrosoft.com"}
    },
    "OnlineMeeting": None,
}

DAILY_TWICE_RANGE: dict[str, Any] = {
    "type": "numbered",
    "startDate": "2020-02-25",
    "endDate": "0001-01-01",
    "recurrenceTimeZone": "Pacific Standard Time",
    "numberOfOccurrences": 2,
}

EVENT_GET_RESPONSE_2: dict[str, Any] = {
    "@odata.etag": 'W/"IiLKjG2I7E+Xv0+ys6MD0wAEd5/kNQ=="',
    "id": "AAMkAGVmMDEzMTM4LTZmYWUtNDdkNC1hMDZiLTU1OGY5OTZhYmY4OABGAAAa_WKzAAA=",
    "subject": "New Product Regulations Touchpoint",
    "start": {"dateTime": "2014-11-03T17:00:00.0000000", "timeZone": "UTC"},
    "end": {"dateTime": "2014-11-03T17:30:00.0000000", "timeZone": "UTC"},
    "location": {
        "displayName": "Conf Room Rainier",
        "locationType": "default",
        "uniqueId": "Conf Room Rainier",
        "uniqueIdType": "private",
    },
    "locations": [
        {
            "displayName": "Conf Room Rainier",
            "locationType": "default",
            "uniqueId": "",
            "uniqueIdType": "unknown",
        }
    ],
    "organizer": {
        "emailAddress": {
            "name": "Engineering",
            "address": "engineering@M365x214355.onmicrosoft.com",
        }
    },
    "calendar@odata.associationLink": f"{GRAPH_URL}/v1.0/users('48d31887')/calendars('A')/$ref",
}


def test_every_location_of_a_multi_location_event_is_read() -> None:
    event = Event.model_validate(MULTIPLE_LOCATIONS)

    assert [place.display_name for place in event.locations] == [
        "Conf Room 3",
        "Fourth Coffee",
        "Home Office",
    ]
    coffee = event.locations[1]
    assert (coffee.address and coffee.address.city, coffee.unique_id_type) == ("Redmond", "private")
    assert coffee.coordinates is not None
    assert (coffee.coordinates.latitude, coffee.coordinates.longitude) == (47.672, -102.103)
    assert event.location is not None
    assert event.location.display_name == "Conf Room 3; Fourth Coffee; Home Office"
    assert event.recurrence is None


def test_a_weekly_series_until_a_date_keeps_its_pattern_and_range() -> None:
    recurrence = Event.model_validate(WEEKLY_UNTIL_A_DATE).recurrence

    assert recurrence is not None
    assert recurrence.pattern
    assert recurrence.range
    pattern, span = recurrence.pattern, recurrence.range
    assert (pattern.type, pattern.interval, pattern.days_of_week) == (
        RecurrencePatternType.WEEKLY,
        1,
        [DayOfWeek.MONDAY],
    )
    assert (pattern.first_day_of_week, pattern.index) == (DayOfWeek.SUNDAY, WeekIndex.FIRST)
    assert (span.type, span.start_date, span.end_date) == (
        RecurrenceRangeType.END_DATE,
        date(2017, 9, 4),
        date(2017, 12, 31),
    )
    assert span.recurrence_time_zone == "Pacific Standard Time"


def test_a_numbered_range_reads_its_count_and_the_placeholder_end_date() -> None:
    event = Event.model_validate(
        {
            "id": "AAMkADNumbered",
            "recurrence": {
                "pattern": {"type": "daily", "interval": 1, "month": 0, "dayOfMonth": 0,
                            "firstDayOfWeek": "sunday", "index": "first"},
                "range": DAILY_TWICE_RANGE,
            },
        }
    )  # fmt: skip

    assert event.recurrence is not None
    assert event.recurrence.range is not None
    span = event.recurrence.range
    assert (span.type, span.number_of_occurrences) == (RecurrenceRangeType.NUMBERED, 2)
    assert span.end_date == date(1, 1, 1)


def test_recurrence_goes_back_to_graph_in_its_own_shape() -> None:
    wire = Event.model_validate(WEEKLY_UNTIL_A_DATE).to_wire()

    assert wire["recurrence"]["pattern"]["daysOfWeek"] == ["monday"]
    assert wire["recurrence"]["range"] == WEEKLY_UNTIL_A_DATE["recurrence"]["range"]
    assert wire["locations"][0]["uniqueIdType"] == "unknown"


def test_a_relative_monthly_pattern_and_a_new_pattern_type_both_read() -> None:
    monthly = {"type": "relativeMonthly", "interval": 1, "daysOfWeek": ["thursday"],
               "index": "third"}  # fmt: skip
    event = Event.model_validate({"id": "A", "recurrence": {"pattern": monthly}})
    later = Event.model_validate({"id": "B", "recurrence": {"pattern": {"type": "hourly"}}})

    assert event.recurrence
    assert event.recurrence.pattern
    assert event.recurrence.pattern.index is WeekIndex.THIRD
    assert later.recurrence
    assert later.recurrence.pattern
    assert later.recurrence.pattern.type is RecurrencePatternType.UNKNOWN


def test_null_collections_read_as_empty() -> None:
    event = Event.model_validate({"id": "A", "attendees": None, "locations": None})
    assert (event.attendees, event.locations) == ([], [])


def test_a_page_of_the_documented_examples_parses() -> None:
    page = parse_delta_page(
        {
            "@odata.context": f"{GRAPH_URL}/v1.0/$metadata#Collection(event)",
            "value": [MULTIPLE_LOCATIONS, WEEKLY_UNTIL_A_DATE, EVENT_GET_RESPONSE_2],
            "@odata.deltaLink": f"{GRAPH_URL}/v1.0/users/r@c.com/calendarView/delta?$deltatoken=x",
        },
        mailbox="room1@contoso.com",
    )

    assert [event.subject for event in page.events] == [
        "Plan summer company picnic",
        "Let's go for lunch",
        "New Product Regulations Touchpoint",
    ]
    assert page.events[2].locations[0].unique_id == ""
    assert page.is_last
