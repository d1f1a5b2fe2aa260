"""GET /availability and GET /resources/{id}/schedule over the API: which rooms are free for
a whole interval (pending and confirmed bookings hold a room, declined and cancelled ones
do not), best fit first, filters that never leak hidden fields, and a day's busy blocks in
the building's time zone with private titles hidden."""

from __future__ import annotations

import uuid

import httpx
from sqlalchemy import update

from roomsync.platform.db import Database
from roomsync.platform.enums import BookingStatus
from roomsync.platform.models import Booking
from tests.web.availability_testkit import SLOT, book, free, room
from tests.web.tenants import Tenant, booking_json


def test_free_rooms_are_ranked_smallest_that_fits_first_and_held_only_by_live_bookings(
    api: httpx.Client, tenant: Tenant, database: Database
) -> None:
    big, small, middle = (
        room(api, tenant, n, c) for n, c in [("Big", 12), ("Small", 4), ("Mid", 6)]
    )
    taken = room(api, tenant, "Taken", 5)
    book(api, tenant, taken)  # pending: holds the room
    declined = room(api, tenant, "Declined", 7)
    with database.session() as session:
        session.execute(
            update(Booking)
            .where(Booking.id == uuid.UUID(book(api, tenant, declined)))
            .values(status=BookingStatus.DECLINED)
        )
    cancelled = book(api, tenant, big)
    assert api.delete(f"bookings/{cancelled}", headers=tenant.admin).status_code == 200
    book(api, tenant, middle, start="2030-01-07T11:00:00Z", end="2030-01-07T12:00:00Z")

    found = free(api, tenant, capacity_min=5)

    assert found == [
        ("Mid", "2030-01-07T11:00:00Z"),
        ("Declined", None),
        ("Acme room", None),
        ("Big", None),
    ]
    assert small not in [name for name, _ in found]


def test_a_room_booked_across_part_of_the_interval_is_not_free(
    api: httpx.Client, tenant: Tenant
) -> None:
    book(api, tenant, str(tenant.room_id), start="2030-01-07T09:45:00Z", end="2030-01-07T10:15:00Z")

    assert free(api, tenant) == []
    assert free(api, tenant, start="2030-01-07T08:00:00Z", end="2030-01-07T09:45:00Z") == [
        ("Acme room", "2030-01-07T09:45:00Z")
    ]


def test_equipment_and_accessible_filter_on_attributes_and_hidden_fields_never_match_for_occupants(
    api: httpx.Client, tenant: Tenant
) -> None:
    room(api, tenant, "Screen", 6, attributes={"equipment": ["Display", "whiteboard"]})
    room(
        api, tenant, "Secret screen", 6,
        attributes={"equipment": ["display"], "accessibility": True}, hidden_fields=["equipment"],
    )  # fmt: skip

    assert [n for n, _ in free(api, tenant, equipment="display")] == ["Screen", "Secret screen"]
    as_occupant = free(api, tenant, headers=tenant.occupant, equipment="display")
    assert [n for n, _ in as_occupant] == ["Screen"]
    assert [n for n, _ in free(api, tenant, accessible="true")] == ["Secret screen"]


def test_an_unknown_filter_is_refused_naming_it_never_ignored(
    api: httpx.Client, tenant: Tenant
) -> None:
    answer = api.get("availability", params={**SLOT, "seats": 8}, headers=tenant.admin)

    assert answer.status_code == 422
    assert answer.json()["error"]["details"][0]["field"] == "seats"


def test_bad_intervals_and_sizes_are_refused_naming_the_field(
    api: httpx.Client, tenant: Tenant
) -> None:
    cases = [
        ({"start": "2030-01-07T10:00:00Z", "end": "2030-01-07T09:00:00Z"}, "end"),
        ({"start": "2036-12-07T09:00:00Z", "end": "2036-12-07T10:00:00Z"}, "start"),
        ({"start": "2030-01-07T09:00:00Z", "end": "2030-01-09T09:00:00Z"}, "end"),
        ({**SLOT, "capacity_min": 0}, "capacity_min"),
        ({**SLOT, "capacity_min": 10000}, "capacity_min"),
    ]
    for query, field in cases:
        answer = api.get("availability", params=query, headers=tenant.admin)
        assert answer.status_code == 422, (query, answer.text)
        fields = [detail.get("field", "") for detail in answer.json()["error"]["details"]]
        assert any(field in name for name in fields), (query, fields)


def test_a_schedule_is_the_buildings_day_with_private_titles_hidden_from_others(
    api: httpx.Client, tenant: Tenant
) -> None:
    room_id = str(tenant.room_id)
    # In Europe/Amsterdam, 31 March 2030 is a 23-hour day (clocks go forward at 02:00): it
    # runs from 30 March 23:00 to 31 March 22:00 UTC.
    early = {"start": "2030-03-30T23:00:00Z", "end": "2030-03-30T23:30:00Z"}
    late = {"start": "2030-03-31T21:30:00Z", "end": "2030-03-31T22:00:00Z"}
    outside = {"start": "2030-03-31T22:00:00Z", "end": "2030-03-31T22:30:00Z"}
    for times, private in [(early, True), (late, False), (outside, False)]:
        body = booking_json(uuid.UUID(room_id), **times, private=private)
        assert api.post("bookings", json=body, headers=tenant.occupant).status_code == 201

    mine = api.get(
        f"resources/{room_id}/schedule", params={"date": "2030-03-31"}, headers=tenant.occupant
    )
    theirs = api.get(
        f"resources/{room_id}/schedule", params={"date": "2030-03-31"}, headers=tenant.colleague
    )

    assert mine.status_code == theirs.status_code == 200, theirs.text
    assert mine.json()["time_zone"] == "Europe/Amsterdam"
    assert [(b["start"], b["title"]) for b in mine.json()["items"]] == [
        (early["start"], "Planning"),
        (late["start"], "Planning"),
    ]
    assert [b["title"] for b in theirs.json()["items"]] == ["Private booking", "Planning"]
    unknown = api.get(
        f"resources/{room_id}/schedule", params={"date": "2030-03-31", "x": 1}, headers=tenant.admin
    )
    assert unknown.status_code == 422
