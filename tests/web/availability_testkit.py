"""Rooms, bookings and searches made over the API for the availability tests."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from tests.web.tenants import Tenant, booking_json

SLOT = {"start": "2030-01-07T09:00:00Z", "end": "2030-01-07T10:00:00Z"}


def room(api: httpx.Client, tenant: Tenant, name: str, capacity: int | None, **fields: Any) -> str:
    body = {"building_id": str(tenant.building_id), "name": name, "capacity": capacity, **fields}
    made = api.post("resources", json=body, headers=tenant.admin)
    assert made.status_code == 201, made.text
    return str(made.json()["id"])


def book(api: httpx.Client, tenant: Tenant, room_id: str, **times: str) -> str:
    made = api.post(
        "bookings", json=booking_json(uuid.UUID(room_id), **(times or SLOT)), headers=tenant.admin
    )
    assert made.status_code == 201, made.text
    return str(made.json()["id"])


def free(
    api: httpx.Client, tenant: Tenant, headers: dict[str, str] | None = None, **query: Any
) -> list[tuple[str, str | None]]:
    answer = api.get("availability", params={**SLOT, **query}, headers=headers or tenant.admin)
    assert answer.status_code == 200, answer.text
    return [(item["resource"]["name"], item["next_busy_start"]) for item in answer.json()["items"]]


def search(api: httpx.Client, headers: dict[str, str], **query: Any) -> httpx.Response:
    """GET /availability with exactly ``query`` (no default slot)."""
    return api.get("availability", params=query, headers=headers)


def names_and_next_busy(answer: httpx.Response) -> list[tuple[str, str | None]]:
    assert answer.status_code == 200, answer.text
    return [(item["resource"]["name"], item["next_busy_start"]) for item in answer.json()["items"]]


def refused_field(answer: httpx.Response) -> str:
    """The one field a 422 names."""
    assert answer.status_code == 422, answer.text
    fields = {detail["field"] for detail in answer.json()["error"]["details"]}
    assert len(fields) == 1, fields
    return fields.pop()
