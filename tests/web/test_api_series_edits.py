"""Changing and cancelling occurrences of a series through the API:
``?scope=occurrence|following|series``."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.web.tenants import Tenant, booking_json

BOOKINGS = "/bookings"


def _series(api: httpx.Client, tenant: Tenant, count: int = 5) -> list[dict[str, Any]]:
    body = booking_json(
        tenant.room_id,
        "2030-03-04T09:00:00+01:00",
        "2030-03-04T10:00:00+01:00",
        recurrence={
            "pattern": {"type": "weekly", "interval": 1, "daysOfWeek": ["monday"]},
            "range": {"type": "numbered", "numberOfOccurrences": count},
        },
    )
    response = api.post(BOOKINGS, json=body, headers=tenant.admin)
    assert response.status_code == 201, response.text
    return list(response.json()["occurrences"])


def _get(api: httpx.Client, tenant: Tenant, item: dict[str, Any]) -> dict[str, Any]:
    return dict(api.get(f"{BOOKINGS}/{item['id']}", headers=tenant.admin).json())


def test_an_occurrence_moved_alone_leaves_the_others(api: httpx.Client, tenant: Tenant) -> None:
    occurrences = _series(api, tenant)
    body = {"start": "2030-03-11T14:00:00+01:00", "end": "2030-03-11T15:00:00+01:00"}

    response = api.patch(f"{BOOKINGS}/{occurrences[1]['id']}", json=body, headers=tenant.admin)

    assert response.status_code == 200, response.text
    starts = [_get(api, tenant, item)["start"] for item in occurrences]
    assert starts == [
        "2030-03-04T08:00:00Z",
        "2030-03-11T13:00:00Z",
        "2030-03-18T08:00:00Z",
        "2030-03-25T08:00:00Z",
        "2030-04-01T07:00:00Z",
    ]


def test_this_and_following_moves_the_later_occurrences_by_the_same_amount(
    api: httpx.Client, tenant: Tenant
) -> None:
    occurrences = _series(api, tenant)
    body = {"start": "2030-03-18T11:00:00+01:00", "end": "2030-03-18T12:30:00+01:00"}

    response = api.patch(
        f"{BOOKINGS}/{occurrences[2]['id']}?scope=following", json=body, headers=tenant.admin
    )

    assert response.status_code == 200, response.text
    assert len(response.json()["occurrences"]) == 3
    spans = [(b["start"], b["end"]) for b in (_get(api, tenant, o) for o in occurrences)]
    assert spans == [
        ("2030-03-04T08:00:00Z", "2030-03-04T09:00:00Z"),
        ("2030-03-11T08:00:00Z", "2030-03-11T09:00:00Z"),
        ("2030-03-18T10:00:00Z", "2030-03-18T11:30:00Z"),
        ("2030-03-25T10:00:00Z", "2030-03-25T11:30:00Z"),
        ("2030-04-01T09:00:00Z", "2030-04-01T10:30:00Z"),
    ]


def test_a_series_rename_renames_every_occurrence(api: httpx.Client, tenant: Tenant) -> None:
    occurrences = _series(api, tenant)

    response = api.patch(
        f"{BOOKINGS}/{occurrences[3]['id']}?scope=series",
        json={"title": "Retro"},
        headers=tenant.admin,
    )

    assert response.status_code == 200, response.text
    assert {_get(api, tenant, o)["title"] for o in occurrences} == {"Retro"}


@pytest.mark.parametrize(
    ("scope", "cancelled"),
    [("occurrence", [2]), ("following", [2, 3, 4]), ("series", [0, 1, 2, 3, 4])],
)
def test_cancelling_with_a_scope_cancels_just_those_occurrences(
    api: httpx.Client, tenant: Tenant, scope: str, cancelled: list[int]
) -> None:
    occurrences = _series(api, tenant)

    response = api.delete(f"{BOOKINGS}/{occurrences[2]['id']}?scope={scope}", headers=tenant.admin)

    assert response.status_code == 200, response.text
    statuses = [_get(api, tenant, o)["status"] for o in occurrences]
    assert [i for i, status in enumerate(statuses) if status == "cancelled"] == cancelled


def test_a_scoped_move_onto_a_taken_slot_changes_nothing_and_says_why(
    api: httpx.Client, tenant: Tenant
) -> None:
    occurrences = _series(api, tenant)
    taken = booking_json(tenant.room_id, "2030-03-25T11:00:00+01:00", "2030-03-25T12:00:00+01:00")
    assert api.post(BOOKINGS, json=taken, headers=tenant.admin).status_code == 201
    body = {"start": "2030-03-04T11:00:00+01:00", "end": "2030-03-04T12:00:00+01:00"}

    response = api.patch(
        f"{BOOKINGS}/{occurrences[0]['id']}?scope=series", json=body, headers=tenant.admin
    )

    assert response.status_code == 409, response.text
    assert {_get(api, tenant, o)["start"][11:16] for o in occurrences} == {"08:00", "07:00"}


def test_editing_a_cancelled_occurrence_is_409(api: httpx.Client, tenant: Tenant) -> None:
    occurrences = _series(api, tenant)
    api.delete(f"{BOOKINGS}/{occurrences[1]['id']}", headers=tenant.admin)

    response = api.patch(
        f"{BOOKINGS}/{occurrences[1]['id']}?scope=following",
        json={"title": "Again"},
        headers=tenant.admin,
    )

    assert response.status_code == 409, response.text


def test_a_series_scope_on_a_single_booking_is_422_naming_scope(
    api: httpx.Client, tenant: Tenant
) -> None:
    single = booking_json(tenant.room_id, "2030-03-05T09:00:00+01:00", "2030-03-05T10:00:00+01:00")
    created = api.post(BOOKINGS, json=single, headers=tenant.admin).json()

    response = api.delete(f"{BOOKINGS}/{created['id']}?scope=series", headers=tenant.admin)

    assert response.status_code == 422, response.text
    assert "scope" in response.text


def test_moving_a_series_to_another_room_is_422_naming_resource_id(
    api: httpx.Client, tenant: Tenant
) -> None:
    occurrences = _series(api, tenant)
    other = api.post(
        "/resources",
        json={"building_id": str(tenant.building_id), "name": "Other", "capacity": 4},
        headers=tenant.admin,
    )
    assert other.status_code == 201, other.text

    response = api.patch(
        f"{BOOKINGS}/{occurrences[0]['id']}?scope=series",
        json={"resource_id": other.json()["id"]},
        headers=tenant.admin,
    )

    assert response.status_code == 422, response.text
    assert "resource_id" in response.text


def test_an_occurrence_moved_to_another_day_is_422_naming_start(
    api: httpx.Client, tenant: Tenant
) -> None:
    occurrences = _series(api, tenant)
    body = {"start": "2030-03-12T09:00:00+01:00", "end": "2030-03-12T10:00:00+01:00"}

    response = api.patch(f"{BOOKINGS}/{occurrences[1]['id']}", json=body, headers=tenant.admin)

    assert response.status_code == 422, response.text
    assert response.json()["error"]["details"][0]["field"] == "start"
