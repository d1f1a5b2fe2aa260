"""Recurring bookings through the API: one booking per occurrence, in the building's zone."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.web.tenants import Tenant, booking_json

BOOKINGS = "/bookings"


def weekly(count: int = 10, **range_: Any) -> dict[str, Any]:
    return {
        "pattern": {"type": "weekly", "interval": 1, "daysOfWeek": ["monday"]},
        "range": {"type": "numbered", "numberOfOccurrences": count} | range_,
    }


def test_a_weekly_series_keeps_its_wall_clock_time_across_dst(
    api: httpx.Client, tenant: Tenant
) -> None:
    # 2030-03-18 09:00 Amsterdam is UTC+1; after 2030-03-31 it is UTC+2.
    body = booking_json(
        tenant.room_id,
        "2030-03-18T09:00:00+01:00",
        "2030-03-18T10:00:00+01:00",
        recurrence=weekly(4),
    )
    response = api.post(BOOKINGS, json=body, headers=tenant.admin)
    assert response.status_code == 201, response.text
    starts = [item["start"] for item in response.json()["occurrences"]]
    assert starts == [
        "2030-03-18T08:00:00Z",
        "2030-03-25T08:00:00Z",
        "2030-04-01T07:00:00Z",
        "2030-04-08T07:00:00Z",
    ]
    series_ids = {
        api.get(f"{BOOKINGS}/{item['id']}", headers=tenant.admin).json()["series_id"]
        for item in response.json()["occurrences"]
    }
    assert len(series_ids) == 1
    assert None not in series_ids


def test_a_clash_is_reported_before_saving_and_skipped_when_asked(
    api: httpx.Client, tenant: Tenant
) -> None:
    single = booking_json(tenant.room_id, "2030-01-14T09:30:00Z", "2030-01-14T10:30:00Z")
    held = api.post(BOOKINGS, json=single, headers=tenant.admin)
    assert held.status_code == 201
    body = booking_json(
        tenant.room_id, "2030-01-07T09:00:00Z", "2030-01-07T10:00:00Z", recurrence=weekly(3)
    )
    refused = api.post(BOOKINGS, json=body, headers=tenant.admin)
    assert refused.status_code == 409
    conflicts = refused.json()["error"]["details"]["conflicts"]
    assert [c["start"] for c in conflicts] == ["2030-01-14T09:00:00Z"]
    listed = api.get(BOOKINGS, params={"resource_id": str(tenant.room_id)}, headers=tenant.admin)
    assert len(listed.json()["items"]) == 1
    skipped = api.post(f"{BOOKINGS}?conflicts=skip", json=body, headers=tenant.admin)
    assert skipped.status_code == 201
    assert len(skipped.json()["occurrences"]) == 2
    assert skipped.json()["skipped"][0]["conflicting_booking_id"] == held.json()["id"]


@pytest.mark.parametrize(
    ("recurrence", "field"),
    [
        (weekly(type="noEnd"), "recurrence.range.type"),
        (
            {
                "pattern": {"type": "daily", "interval": 0},
                "range": {"type": "numbered", "numberOfOccurrences": 2},
            },
            "recurrence.pattern.interval",
        ),
        (
            {
                "pattern": {"type": "daily", "daysOfWeek": ["monday"]},
                "range": {"type": "numbered", "numberOfOccurrences": 2},
            },
            "recurrence.pattern.daysOfWeek",
        ),
        (weekly(type="endDate", endDate="2030-01-01"), "recurrence.range.endDate"),
        (weekly(201), "recurrence.range.numberOfOccurrences"),
        (
            {
                "pattern": {"type": "absoluteMonthly", "dayOfMonth": 31},
                "range": {"type": "endDate", "endDate": "2030-01-20"},
            },
            "recurrence.pattern",
        ),
    ],
)
def test_bad_series_are_refused_naming_the_field(
    api: httpx.Client, tenant: Tenant, recurrence: dict[str, Any], field: str
) -> None:
    body = booking_json(
        tenant.room_id, "2030-01-07T09:00:00Z", "2030-01-07T10:00:00Z", recurrence=recurrence
    )
    response = api.post(BOOKINGS, json=body, headers=tenant.admin)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["details"][0]["field"] == field


def test_monthly_day_31_skips_months_without_it(api: httpx.Client, tenant: Tenant) -> None:
    recurrence = {
        "pattern": {"type": "absoluteMonthly", "dayOfMonth": 31},
        "range": {"type": "numbered", "numberOfOccurrences": 3},
    }
    body = booking_json(
        tenant.room_id, "2030-01-31T09:00:00Z", "2030-01-31T10:00:00Z", recurrence=recurrence
    )
    response = api.post(BOOKINGS, json=body, headers=tenant.admin)
    assert response.status_code == 201, response.text
    days = [item["start"][:10] for item in response.json()["occurrences"]]
    assert days == ["2030-01-31", "2030-03-31", "2030-05-31"]


def test_a_series_starting_in_the_past_is_refused(api: httpx.Client, tenant: Tenant) -> None:
    body = booking_json(
        tenant.room_id, "2020-01-06T09:00:00Z", "2020-01-06T10:00:00Z", recurrence=weekly(2)
    )
    response = api.post(BOOKINGS, json=body, headers=tenant.admin)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["details"][0]["field"] == "start"


def test_relative_monthly_takes_the_first_weekday_of_each_month(
    api: httpx.Client, tenant: Tenant
) -> None:
    weekdays = ["monday", "tuesday", "wednesday", "thursday", "friday"]
    recurrence = {
        "pattern": {"type": "relativeMonthly", "daysOfWeek": weekdays, "index": "first"},
        "range": {"type": "numbered", "numberOfOccurrences": 3},
    }
    # 2030-01-01 is a Tuesday; 2030-02-01 a Friday; 2030-03-01 a Friday.
    body = booking_json(
        tenant.room_id, "2030-01-01T09:00:00Z", "2030-01-01T10:00:00Z", recurrence=recurrence
    )
    response = api.post(BOOKINGS, json=body, headers=tenant.admin)
    assert response.status_code == 201, response.text
    days = [item["start"][:10] for item in response.json()["occurrences"]]
    assert days == ["2030-01-01", "2030-02-01", "2030-03-01"]
