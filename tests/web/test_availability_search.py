"""GET /availability on fixtures a live calendar holds: pending, declined, cancelled, private
and recurring bookings, searches by date and wall-clock time in the building's zone (across
the change to and from daylight-saving time), the ranking with its page limit, and every
bad combination refused naming the parameter. The tenant's building is in
Europe/Amsterdam: UTC+1 in winter, UTC+2 from 31 March 2030 02:00 to 27 October 2030 03:00.
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from sqlalchemy import update

from roomsync.platform.db import Database
from roomsync.platform.enums import BookingStatus
from roomsync.platform.models import Booking
from tests.web.availability_testkit import book, names_and_next_busy, refused_field, room, search
from tests.web.tenants import Tenant, booking_json

HOUR = {"start": "2030-01-07T09:00:00Z", "end": "2030-01-07T10:00:00Z"}
ROOM = "Acme room"  # the tenant's own room, capacity 8


def set_status(database: Database, booking_id: str, status: BookingStatus) -> None:
    with database.session() as session:
        session.execute(
            update(Booking).where(Booking.id == uuid.UUID(booking_id)).values(status=status)
        )


def test_a_pending_booking_holds_the_room(
    api: httpx.Client, tenant: Tenant, database: Database
) -> None:
    booking_id = book(api, tenant, str(tenant.room_id))
    set_status(database, booking_id, BookingStatus.PENDING)  # waiting for the room's answer
    assert api.get(f"bookings/{booking_id}", headers=tenant.admin).json()["status"] == "pending"

    assert names_and_next_busy(search(api, tenant.admin, **HOUR)) == []


def test_declined_and_cancelled_bookings_leave_the_room_free_and_are_not_its_next_busy(
    api: httpx.Client, tenant: Tenant, database: Database
) -> None:
    room_id = str(tenant.room_id)
    declined = book(api, tenant, room_id)
    set_status(database, declined, BookingStatus.DECLINED)
    later = {"start": "2030-01-07T11:00:00Z", "end": "2030-01-07T12:00:00Z"}
    cancelled_later = book(api, tenant, room_id, **later)
    assert api.delete(f"bookings/{cancelled_later}", headers=tenant.admin).status_code == 200
    confirmed = book(api, tenant, room_id, start="2030-01-07T13:00:00Z", end="2030-01-07T14:00:00Z")
    set_status(database, confirmed, BookingStatus.CONFIRMED)

    assert names_and_next_busy(search(api, tenant.admin, **HOUR)) == [
        (ROOM, "2030-01-07T13:00:00Z")
    ]


def test_a_private_booking_holds_the_room_and_others_see_only_that_it_is_busy(
    api: httpx.Client, tenant: Tenant
) -> None:
    body = booking_json(tenant.room_id, private=True, title="Reorganisation")
    assert api.post("bookings", json=body, headers=tenant.occupant).status_code == 201

    assert names_and_next_busy(search(api, tenant.colleague, **HOUR)) == []
    before = {"start": "2030-01-07T08:00:00Z", "end": "2030-01-07T09:00:00Z"}
    assert names_and_next_busy(search(api, tenant.colleague, **before)) == [
        (ROOM, "2030-01-07T09:00:00Z")
    ]
    schedule = api.get(
        f"resources/{tenant.room_id}/schedule", params={"date": "2030-01-07"},
        headers=tenant.colleague,
    )  # fmt: skip
    [block] = schedule.json()["items"]
    assert (block["title"], block["private"]) == ("Private booking", True)
    assert block["organizer_name"]  # who holds it is shown, what it is about is not
    own = api.get(
        f"resources/{tenant.room_id}/schedule", params={"date": "2030-01-07"},
        headers=tenant.occupant,
    )  # fmt: skip
    assert [b["title"] for b in own.json()["items"]] == ["Reorganisation"]


def test_every_occurrence_of_a_series_holds_the_room_at_its_wall_clock_time_across_dst(
    api: httpx.Client, tenant: Tenant
) -> None:
    weekly = {
        "pattern": {"type": "weekly", "interval": 1, "daysOfWeek": ["monday"]},
        "range": {"type": "numbered", "numberOfOccurrences": 3},
    }
    body = booking_json(
        tenant.room_id, "2030-03-25T09:00:00+01:00", "2030-03-25T10:00:00+01:00",
        recurrence=weekly,
    )  # fmt: skip
    made = api.post("bookings", json=body, headers=tenant.admin)
    assert made.status_code == 201, made.text

    def at(day: str, time: str) -> list[tuple[str, str | None]]:
        query = {"date": day, "time": time, "duration": "PT1H"}
        return names_and_next_busy(search(api, tenant.admin, **query))

    # Monday 1 April, after the change: the occurrence is 09:00 local, 07:00 UTC.
    assert at("2030-04-01", "09:00") == []
    assert at("2030-04-01", "10:00") == [(ROOM, "2030-04-08T07:00:00Z")]
    assert at("2030-03-25", "09:00") == []
    assert at("2030-03-25", "08:00") == [(ROOM, "2030-03-25T08:00:00Z")]


def test_a_date_and_time_are_read_in_the_buildings_zone_on_both_sides_of_the_change(
    api: httpx.Client, tenant: Tenant
) -> None:
    def interval(day: str, time: str, duration: str) -> tuple[str, str, str]:
        answer = search(
            api, tenant.admin, date=day, time=time, duration=duration,
            building_id=str(tenant.building_id),
        )  # fmt: skip
        assert answer.status_code == 200, answer.text
        body = answer.json()
        return body["start"], body["end"], body["time_zone"]

    zone = "Europe/Amsterdam"
    assert interval("2030-03-30", "09:00", "PT1H") == (
        "2030-03-30T08:00:00Z", "2030-03-30T09:00:00Z", zone,
    )  # fmt: skip
    assert interval("2030-03-31", "09:00", "60") == (
        "2030-03-31T07:00:00Z", "2030-03-31T08:00:00Z", zone,
    )  # fmt: skip
    # Across the jump: 01:30 CET plus two elapsed hours is 04:30 CEST.
    assert interval("2030-03-31", "01:30", "PT2H") == (
        "2030-03-31T00:30:00Z", "2030-03-31T02:30:00Z", zone,
    )  # fmt: skip
    # 02:30 on 27 October happens twice: the first one (CEST) is meant.
    assert interval("2030-10-27", "02:30", "PT30M") == (
        "2030-10-27T00:30:00Z", "2030-10-27T01:00:00Z", zone,
    )  # fmt: skip
    skipped = search(api, tenant.admin, date="2030-03-31", time="02:30", duration="PT1H")
    assert refused_field(skipped) == "time"
    assert "Europe/Amsterdam" in skipped.json()["error"]["message"]


def test_a_search_across_the_change_finds_the_room_free_only_when_it_is(
    api: httpx.Client, tenant: Tenant
) -> None:
    # 04:00-04:30 CEST on the day of the change.
    book(api, tenant, str(tenant.room_id), start="2030-03-31T02:00:00Z", end="2030-03-31T02:30:00Z")

    def rooms(time: str, duration: str) -> list[tuple[str, str | None]]:
        query = {"date": "2030-03-31", "time": time, "duration": duration}
        return names_and_next_busy(search(api, tenant.admin, **query))

    # 01:30 CET and 90 elapsed minutes is 04:00 CEST (on the wall clock, 03:00 would be
    # wrong: the hour from 02:00 to 03:00 does not happen).
    assert rooms("01:30", "PT1H30M") == [(ROOM, "2030-03-31T02:00:00Z")]
    assert rooms("01:30", "PT1H45M") == []
    assert rooms("04:30", "PT1H") == [(ROOM, None)]


def test_without_a_building_the_zone_is_the_one_the_organizations_buildings_share(
    api: httpx.Client, tenant: Tenant
) -> None:
    slot = {"date": "2030-01-07", "time": "10:00", "duration": "PT1H"}
    shared = search(api, tenant.admin, **slot)
    assert (shared.json()["start"], shared.json()["time_zone"]) == (
        "2030-01-07T09:00:00Z", "Europe/Amsterdam",
    )  # fmt: skip
    made = api.post(
        "buildings",
        json={"organization_id": str(tenant.organization_id), "name": "NYC",
              "time_zone": "America/New_York"},
        headers=tenant.admin,
    )  # fmt: skip
    assert made.status_code == 201, made.text

    assert refused_field(search(api, tenant.admin, **slot)) == "building_id"
    in_new_york = search(api, tenant.admin, **slot, building_id=made.json()["id"])
    assert in_new_york.json()["start"] == "2030-01-07T15:00:00Z"
    by_instants = search(api, tenant.admin, **HOUR)
    assert by_instants.status_code == 200
    assert by_instants.json()["time_zone"] is None


def test_the_smallest_room_that_fits_comes_first_unknown_capacity_last_within_the_limit(
    api: httpx.Client, tenant: Tenant
) -> None:
    for name, capacity in [("Hall", 40), ("Unknown", None), ("Booth", 2), ("Den", 6)]:
        room(api, tenant, name, capacity)
    busy_den = {"start": "2030-01-07T10:30:00Z", "end": "2030-01-07T11:00:00Z"}
    book(api, tenant, room(api, tenant, "Den 2", 6), **busy_den)

    everything = names_and_next_busy(search(api, tenant.admin, **HOUR))
    for_five = names_and_next_busy(search(api, tenant.admin, **HOUR, capacity_min=5, limit=3))

    assert [name for name, _ in everything] == [
        "Booth", "Den", "Den 2", ROOM, "Hall", "Unknown",
    ]  # fmt: skip
    assert for_five == [("Den", None), ("Den 2", "2030-01-07T10:30:00Z"), (ROOM, None)]


def test_equipment_matching_only_rooms_far_down_the_ranking_is_still_found(
    api: httpx.Client, tenant: Tenant
) -> None:
    for n in range(12):
        room(api, tenant, f"Plain {n:02d}", 2)
    room(api, tenant, "Screen", 30, attributes={"equipment": ["display"]})

    found = search(api, tenant.admin, **HOUR, equipment="display", limit=1)

    assert names_and_next_busy(found) == [("Screen", None)]


def test_bad_combinations_are_refused_naming_the_parameter(
    api: httpx.Client, tenant: Tenant, other_tenant: Tenant
) -> None:
    slot: dict[str, Any] = {"date": "2030-01-07", "time": "09:00", "duration": "PT1H"}
    cases: list[tuple[dict[str, Any], str]] = [
        ({**HOUR, **slot}, "date"),
        ({"capacity_min": 4}, "start"),
        ({"start": HOUR["start"]}, "end"),
        ({"date": "2030-01-07", "duration": "PT1H"}, "time"),
        ({"date": "2030-01-07", "time": "09:00"}, "duration"),
        ({"time": "09:00", "duration": "PT1H"}, "date"),
        ({**slot, "duration": "PT9H"}, "duration"),  # the longest booking is 8 hours
        ({**slot, "duration": "0"}, "duration"),
        ({**slot, "duration": "P1D"}, "duration"),
        ({**slot, "duration": "an hour"}, "duration"),
        ({**slot, "time": "25:00"}, "time"),
        ({**slot, "time": "09:00+02:00"}, "time"),
        ({**slot, "date": "2040-01-07"}, "date"),
        ({"start": "2040-01-07T09:00:00Z", "end": "2040-01-07T10:00:00Z"}, "start"),
        ({"start": HOUR["end"], "end": HOUR["start"]}, "end"),
        ({**slot, "capacity_min": 0}, "capacity_min"),
        ({**slot, "capacity_min": 10000}, "capacity_min"),
        ({**slot, "building_id": str(uuid.uuid4())}, "building_id"),
        ({**HOUR, "building_id": str(other_tenant.building_id)}, "building_id"),
        ({**slot, "building_id": "HQ"}, "building_id"),
        ({**slot, "equipment": "teleporter"}, "equipment"),
        ({**slot, "people": 8}, "people"),
    ]
    for query, field in cases:
        answer = search(api, tenant.admin, **query)
        assert answer.status_code == 422, (query, answer.text)
        assert refused_field(answer) == field, query


def test_equipment_only_a_hidden_field_holds_is_unknown_to_occupants(
    api: httpx.Client, tenant: Tenant
) -> None:
    room(api, tenant, "Secret", 6, attributes={"equipment": ["display"]},
         hidden_fields=["equipment"])  # fmt: skip

    assert names_and_next_busy(search(api, tenant.admin, **HOUR, equipment="display")) == [
        ("Secret", None)
    ]
    assert refused_field(search(api, tenant.occupant, **HOUR, equipment="display")) == ("equipment")
