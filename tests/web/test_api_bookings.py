"""``/api/v1/bookings`` as a client sees it: rules, errors, versions, filters, sync state."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.web.tenants import MAX_BOOKING_HOURS, Tenant, booking_json, make_tenant

BOOKINGS = "bookings"


def create(api: httpx.Client, tenant: Tenant, start: str, end: str, **extra: Any) -> httpx.Response:
    return api.post(
        BOOKINGS, json=booking_json(tenant.room_id, start, end, **extra), headers=tenant.admin
    )


def test_a_booking_is_created_and_answered_in_utc_with_an_etag(
    api: httpx.Client, tenant: Tenant
) -> None:
    response = create(api, tenant, "2030-01-07T10:00:00+01:00", "2030-01-07T11:30:00+01:00")
    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["start"], body["end"]) == ("2030-01-07T09:00:00Z", "2030-01-07T10:30:00Z")
    assert body["created_at"].endswith("Z")
    assert (body["status"], body["origin"], body["version"]) == ("confirmed", "platform", 1)
    assert body["organizer_email"] == "ann@acme.test"
    assert body["sync"] == {
        "state": "not_synced",
        "error": None,
        "ical_uid": None,
        "web_link": None,
    }
    assert response.headers["ETag"] == '"1"'
    fetched = api.get(f"{BOOKINGS}/{body['id']}", headers=tenant.occupant)
    assert fetched.json() == body
    assert fetched.headers["ETag"] == '"1"'


def test_a_booking_of_a_microsoft365_room_is_pending_until_the_room_decides(
    api: httpx.Client, factory: Any
) -> None:
    tenant = make_tenant(factory, "Initech", room_email="board@initech.test")
    factory.integration(tenant.organization_id)
    response = create(api, tenant, "2030-01-07T09:00:00Z", "2030-01-07T10:00:00Z")
    assert response.status_code == 201
    assert response.json()["status"] == "pending"
    assert response.json()["sync"]["state"] == "pending"


@pytest.mark.parametrize("field", ["start", "end"])
def test_naive_times_are_refused_naming_the_field(
    api: httpx.Client, tenant: Tenant, field: str
) -> None:
    times = {"start": "2030-01-07T09:00:00Z", "end": "2030-01-07T10:00:00Z"}
    times[field] = times[field].removesuffix("Z")
    response = create(api, tenant, times["start"], times["end"])
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid_input"
    assert field in error["message"]
    assert [d["field"] for d in error["details"]] == [field]


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [
        ("2030-01-07T10:00:00Z", "2030-01-07T10:00:00Z", "after start"),
        ("2030-01-07T10:00:00Z", "2030-01-07T09:00:00Z", "after start"),
        ("2030-01-07T00:00:00Z", f"2030-01-07T{MAX_BOOKING_HOURS + 1:02d}:00:00Z", "at most"),
    ],
    ids=["empty", "backwards", "too-long"],
)
def test_bad_intervals_are_refused_naming_end(
    api: httpx.Client, tenant: Tenant, start: str, end: str, message: str
) -> None:
    response = create(api, tenant, start, end)
    assert response.status_code == 422
    error = response.json()["error"]
    assert message in error["message"]
    assert error["details"][0]["field"] == "end"


def test_a_taken_slot_answers_409_naming_the_booking_that_holds_it(
    api: httpx.Client, tenant: Tenant
) -> None:
    holder = create(api, tenant, "2030-01-07T09:00:00Z", "2030-01-07T10:00:00Z").json()
    response = create(api, tenant, "2030-01-07T09:59:00Z", "2030-01-07T11:00:00Z")
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "booking_conflict"
    assert holder["id"] in error["message"]
    assert error["details"]["conflicting_booking_id"] == holder["id"]
    adjacent = create(api, tenant, "2030-01-07T10:00:00Z", "2030-01-07T11:00:00Z")
    assert adjacent.status_code == 201


def test_patch_honours_if_match_and_bumps_the_version(api: httpx.Client, tenant: Tenant) -> None:
    booking = create(api, tenant, "2030-01-07T09:00:00Z", "2030-01-07T10:00:00Z").json()
    url = f"{BOOKINGS}/{booking['id']}"
    moved = api.patch(
        url,
        json={"start": "2030-01-07T12:00:00+01:00", "end": "2030-01-07T13:00:00+01:00"},
        headers={**tenant.occupant, "If-Match": '"1"'},
    )
    assert moved.status_code == 200, moved.text
    assert (moved.json()["start"], moved.json()["version"]) == ("2030-01-07T11:00:00Z", 2)
    assert moved.headers["ETag"] == '"2"'
    stale = api.patch(url, json={"title": "Late"}, headers={**tenant.admin, "If-Match": '"1"'})
    assert stale.status_code == 412
    assert stale.json()["error"]["details"]["current_version"] == 2
    unconditional = api.patch(url, json={"title": "Late"}, headers=tenant.admin)
    assert (unconditional.status_code, unconditional.json()["version"]) == (200, 3)


def test_patch_refuses_null_for_fields_that_cannot_be_cleared(
    api: httpx.Client, tenant: Tenant
) -> None:
    booking = create(api, tenant, "2030-01-07T09:00:00Z", "2030-01-07T10:00:00Z").json()
    response = api.patch(f"{BOOKINGS}/{booking['id']}", json={"title": None}, headers=tenant.admin)
    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["field"] == "title"


def test_delete_cancels_and_a_cancelled_booking_cannot_be_edited(
    api: httpx.Client, tenant: Tenant
) -> None:
    booking = create(api, tenant, "2030-01-07T09:00:00Z", "2030-01-07T10:00:00Z").json()
    url = f"{BOOKINGS}/{booking['id']}"
    cancelled = api.delete(url, headers=tenant.occupant)
    assert cancelled.status_code == 200
    assert (cancelled.json()["status"], cancelled.json()["version"]) == ("cancelled", 2)
    edit = api.patch(url, json={"title": "Revived"}, headers=tenant.admin)
    assert edit.status_code == 409
    assert edit.json()["error"]["code"] == "booking_closed"
    rebook = create(api, tenant, "2030-01-07T09:00:00Z", "2030-01-07T10:00:00Z")
    assert rebook.status_code == 201


def test_occupants_see_private_titles_hidden_and_admins_see_them(
    api: httpx.Client, tenant: Tenant
) -> None:
    booking = create(
        api, tenant, "2030-01-07T09:00:00Z", "2030-01-07T10:00:00Z", title="Layoffs", private=True
    ).json()
    as_occupant = api.get(f"{BOOKINGS}/{booking['id']}", headers=tenant.colleague).json()
    listed = api.get(BOOKINGS, headers=tenant.colleague).json()["items"]
    as_admin = api.get(f"{BOOKINGS}/{booking['id']}", headers=tenant.admin).json()
    assert as_occupant["title"] == listed[0]["title"] == "Private booking"
    assert as_admin["title"] == "Layoffs"


def test_listing_a_room_in_a_range_returns_the_overlapping_bookings(
    api: httpx.Client, tenant: Tenant
) -> None:
    for start, end in [("08:00", "09:00"), ("09:30", "10:30"), ("11:00", "12:00")]:
        create(api, tenant, f"2030-01-07T{start}:00Z", f"2030-01-07T{end}:00Z")
    response = api.get(
        BOOKINGS,
        params={
            "resource_id": str(tenant.room_id),
            "start": "2030-01-07T09:00:00Z",
            "end": "2030-01-07T11:00:00Z",
        },
        headers=tenant.occupant,
    )
    assert response.status_code == 200
    assert [b["start"] for b in response.json()["items"]] == ["2030-01-07T09:30:00Z"]


def test_listing_filters_by_status(api: httpx.Client, tenant: Tenant) -> None:
    kept = create(api, tenant, "2030-01-07T08:00:00Z", "2030-01-07T09:00:00Z").json()
    dropped = create(api, tenant, "2030-01-07T10:00:00Z", "2030-01-07T11:00:00Z").json()
    api.delete(f"{BOOKINGS}/{dropped['id']}", headers=tenant.admin)
    confirmed = api.get(BOOKINGS, params={"status": "confirmed"}, headers=tenant.admin).json()
    cancelled = api.get(BOOKINGS, params={"status": "cancelled"}, headers=tenant.admin).json()
    assert [b["id"] for b in confirmed["items"]] == [kept["id"]]
    assert [b["id"] for b in cancelled["items"]] == [dropped["id"]]


def test_a_range_filter_needs_times_with_an_offset(api: httpx.Client, tenant: Tenant) -> None:
    response = api.get(BOOKINGS, params={"start": "2030-01-07T09:00:00"}, headers=tenant.admin)
    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["field"] == "start"


def test_pagination_walks_every_booking_once(api: httpx.Client, tenant: Tenant) -> None:
    created = [
        create(api, tenant, f"2030-01-{day:02d}T09:00:00Z", f"2030-01-{day:02d}T10:00:00Z").json()[
            "id"
        ]
        for day in range(1, 12)
    ]
    seen: list[str] = []
    cursor: str | None = None
    pages = 0
    while True:
        params: dict[str, Any] = {"limit": 4} | ({"cursor": cursor} if cursor else {})
        page = api.get(BOOKINGS, params=params, headers=tenant.admin).json()
        seen += [b["id"] for b in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert pages == 3
    assert seen == created
