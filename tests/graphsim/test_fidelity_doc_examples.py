"""Fidelity (c): requests as Microsoft's api-reference pages write them are accepted and
answered as those pages show (user-post-events.md, delta-query-events.md,
subscription-post-subscriptions.md, json-batching.md). Only mailbox names and dates are
adapted to the simulated tenant."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from graphsim import Simulator
from tests.graphsim.graphsim_testkit import Graph, rooms, users

PACIFIC = {"Prefer": 'outlook.timezone="Pacific Standard Time"'}


def test_create_event_example_1_with_pacific_time(graph: Graph, sim: Simulator) -> None:
    body = {
        "subject": "Let's go for lunch",
        "body": {"contentType": "HTML", "content": "Does noon work for you?"},
        "start": {"dateTime": "2017-04-15T12:00:00", "timeZone": "Pacific Standard Time"},
        "end": {"dateTime": "2017-04-15T14:00:00", "timeZone": "Pacific Standard Time"},
        "location": {"displayName": "Harry's Bar"},
        "attendees": [
            {
                "emailAddress": {
                    "address": "samanthab@contoso.onmicrosoft.com",
                    "name": "Samantha Booth",
                },
                "type": "required",
            }
        ],
        "allowNewTimeProposals": True,
        "transactionId": "7E163156-7762-4BEB-A1C6-729EA81755A7",
    }
    response = graph.post(f"/users/{users(sim)[0]}/events", json=body, headers=PACIFIC)
    assert response.status_code == 201
    event = response.json()
    assert event["start"] == {
        "dateTime": "2017-04-15T12:00:00.0000000",
        "timeZone": "Pacific Standard Time",
    }
    assert event["originalStartTimeZone"] == "Pacific Standard Time"
    assert event["location"] == {
        "displayName": "Harry's Bar",
        "locationType": "default",
        "uniqueId": "Harry's Bar",
        "uniqueIdType": "private",
    }
    assert event["locations"] == [
        {"displayName": "Harry's Bar", "locationType": "default", "uniqueIdType": "unknown"}
    ]
    assert event["attendees"][0]["status"] == {"response": "none", "time": "0001-01-01T00:00:00Z"}
    assert event["transactionId"] == "7E163156-7762-4BEB-A1C6-729EA81755A7"


def test_create_event_example_2_with_capitalised_enums(graph: Graph, sim: Simulator) -> None:
    body = {
        "subject": "Plan summer company picnic",
        "body": {"contentType": "HTML", "content": "Let's kick-start this event planning!"},
        "start": {"dateTime": "2017-08-30T11:00:00", "timeZone": "Pacific Standard Time"},
        "end": {"dateTime": "2017-08-30T12:00:00", "timeZone": "Pacific Standard Time"},
        "attendees": [
            {
                "emailAddress": {"address": "DanaS@contoso.onmicrosoft.com", "name": "Dana Swope"},
                "type": "Required",
            },
            {
                "emailAddress": {"address": "AlexW@contoso.onmicrosoft.com", "name": "Alex Wilber"},
                "type": "Required",
            },
        ],
        "location": {
            "displayName": "Conf Room 3; Fourth Coffee; Home Office",
            "locationType": "Default",
        },
        "locations": [
            {"displayName": "Conf Room 3"},
            {
                "displayName": "Fourth Coffee",
                "address": {
                    "street": "4567 Main St",
                    "city": "Redmond",
                    "state": "WA",
                    "countryOrRegion": "US",
                    "postalCode": "32008",
                },
                "coordinates": {"latitude": 47.672, "longitude": -102.103},
            },
            {"displayName": "Home Office"},
        ],
    }
    response = graph.post(f"/users/{users(sim)[0]}/events", json=body, headers=PACIFIC)
    assert response.status_code == 201
    event = response.json()
    assert [a["type"] for a in event["attendees"]] == ["required", "required"]
    assert event["attendees"][0]["emailAddress"]["address"] == "DanaS@contoso.onmicrosoft.com"
    assert [loc["uniqueIdType"] for loc in event["locations"]] == ["unknown", "private", "unknown"]
    assert event["locations"][1]["coordinates"] == {"latitude": 47.672, "longitude": -102.103}


def test_create_event_example_3_recurring(graph: Graph, sim: Simulator) -> None:
    body = {
        "subject": "Let's go for lunch",
        "body": {"contentType": "HTML", "content": "Does noon time work for you?"},
        "start": {"dateTime": "2017-09-04T12:00:00", "timeZone": "Pacific Standard Time"},
        "end": {"dateTime": "2017-09-04T14:00:00", "timeZone": "Pacific Standard Time"},
        "recurrence": {
            "pattern": {"type": "weekly", "interval": 1, "daysOfWeek": ["Monday"]},
            "range": {"type": "endDate", "startDate": "2017-09-04", "endDate": "2017-12-31"},
        },
        "location": {"displayName": "Harry's Bar"},
        "attendees": [
            {
                "emailAddress": {
                    "address": "AdeleV@contoso.onmicrosoft.com",
                    "name": "Adele Vance",
                },
                "type": "required",
            }
        ],
    }
    response = graph.post(f"/users/{users(sim)[0]}/events", json=body)
    assert response.status_code == 201
    event = response.json()
    assert event["type"] == "seriesMaster"
    assert event["recurrence"] == {
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
    }
    view = graph.get(
        f"/users/{users(sim)[0]}/calendarView",
        headers=PACIFIC,
        params={
            "startDateTime": "2017-09-01T00:00:00-08:00",
            "endDateTime": "2018-01-01T00:00:00-08:00",
            "$top": "50",
        },
    ).json()
    assert len(view["value"]) == 17  # every Monday from 4 Sep to 25 Dec 2017
    assert all(o["start"]["dateTime"].endswith("T12:00:00.0000000") for o in view["value"])


def test_room_booking_as_the_location_section_describes(graph: Graph, sim: Simulator) -> None:
    room = sim.tenant.rooms[rooms(sim)[0]]
    start = (datetime.now(UTC) + timedelta(days=2)).strftime("%Y-%m-%dT07:00:00")
    end = (datetime.now(UTC) + timedelta(days=2)).strftime("%Y-%m-%dT07:30:00")
    body = {
        "subject": "Room booking",
        "start": {"dateTime": start, "timeZone": "UTC"},
        "end": {"dateTime": end, "timeZone": "UTC"},
        "location": {"displayName": room.display_name, "locationEmailAddress": room.email},
        "attendees": [
            {"emailAddress": {"address": room.email, "name": room.display_name}, "type": "resource"}
        ],
    }
    created = graph.post(f"/users/{users(sim)[0]}/events", json=body).json()
    sim.settle()
    read = graph.get(f"/users/{users(sim)[0]}/events/{created['id']}").json()
    assert read["attendees"][0]["status"]["response"] == "accepted"
    assert read["location"]["locationType"] == "conferenceRoom"


def test_delta_query_example_with_max_page_size(graph: Graph, sim: Simulator) -> None:
    room = rooms(sim)[0]
    for day in range(5):
        start = datetime(2016, 12, 5 + day, 9, tzinfo=UTC)
        sim.outlook.create_meeting(users(sim)[0], room, "x", start, start + timedelta(hours=1))
    sim.set_calendar_processing(room, booking_window_in_days=10_000)
    response = graph.get(
        f"/users/{room}/calendarView/delta?startDateTime=2016-12-01T00:00:00Z"
        "&endDateTime=2016-12-30T00:00:00Z",
        headers={"Prefer": "odata.maxpagesize=2"},
    )
    assert response.status_code == 200
    assert response.json()["@odata.context"].endswith("$metadata#Collection(event)")


def test_subscription_create_example(graph: Graph, sim: Simulator) -> None:
    expires = (datetime.now(UTC) + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%S.9356913Z")
    body: dict[str, Any] = {
        "changeType": "created",
        "notificationUrl": "https://webhook.azurewebsites.net/api/send/myNotifyClient",
        "resource": f"users/{rooms(sim)[0]}/events",
        "expirationDateTime": expires,
        "clientState": "secretClientValue",
        "latestSupportedTlsVersion": "v1_2",
    }
    response = graph.post("/subscriptions", json=body)
    assert response.status_code == 201
    created = response.json()
    assert created["@odata.context"].endswith("$metadata#subscriptions/$entity")
    assert created["changeType"] == "created"
    assert created["latestSupportedTlsVersion"] == "v1_2"


def test_batch_example_with_depends_on_headers_and_unslashed_urls(
    graph: Graph, sim: Simulator
) -> None:
    organizer = users(sim)[0]
    body = {
        "requests": [
            {"id": "1", "method": "GET", "url": f"/users/{organizer}"},
            {"id": "2", "dependsOn": ["1"], "method": "GET", "url": f"/users/{organizer}/events"},
            {
                "id": "3",
                "dependsOn": ["2"],
                "method": "GET",
                "url": "/places/microsoft.graph.roomlist",
            },
            {
                "id": "4",
                "url": f"/users/{organizer}/events",
                "method": "POST",
                "body": {
                    "subject": "Batch",
                    "start": {"dateTime": "2030-01-01T09:00:00", "timeZone": "UTC"},
                    "end": {"dateTime": "2030-01-01T10:00:00", "timeZone": "UTC"},
                },
                "headers": {"Content-Type": "application/json"},
                "dependsOn": ["3"],
            },
            {
                "id": "5",
                "url": "users?$select=id,displayName,userPrincipalName&$top=5",
                "method": "GET",
                "headers": {"ConsistencyLevel": "eventual"},
                "dependsOn": ["4"],
            },
        ]
    }
    response = graph.post("/$batch", json=body)
    assert response.status_code == 200
    statuses = {r["id"]: r["status"] for r in response.json()["responses"]}
    assert statuses == {"1": 200, "2": 200, "3": 200, "4": 201, "5": 200}
