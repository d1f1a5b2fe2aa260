"""A booking's description through the REST API: optional bounded plain text, changed or
removed with PATCH, never shown to others when the booking is private (neither in reads
and lists nor in a room's schedule), and not writable for a meeting booked in Outlook."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from roomsync.platform.api.fields import MAX_DESCRIPTION_LENGTH
from roomsync.platform.db import Database
from roomsync.platform.enums import ChangeSource
from roomsync.platform.exceptions import InvalidInputError
from roomsync.platform.services.bookings import create_booking, update_booking
from tests.web.tenants import Tenant, booking_json

AGENDA = "Quarterly numbers.\nBring the hiring plan."
SECRET = "The reorganisation of the Rotterdam office"


def book(api: httpx.Client, tenant: Tenant, **extra: Any) -> dict[str, Any]:
    response = api.post(
        "bookings", json=booking_json(tenant.room_id, **extra), headers=tenant.occupant
    )
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def field_of(response: httpx.Response) -> str:
    [detail] = response.json()["error"]["details"]
    field: str = detail["field"]
    return field


def test_a_description_is_stored_changed_and_removed(api: httpx.Client, tenant: Tenant) -> None:
    booking = book(api, tenant, description=AGENDA)
    assert booking["description"] == AGENDA
    url = f"bookings/{booking['id']}"
    assert api.get(url, headers=tenant.occupant).json()["description"] == AGENDA

    changed = api.patch(url, json={"description": "New agenda"}, headers=tenant.occupant)
    assert (changed.status_code, changed.json()["description"]) == (200, "New agenda")
    removed = api.patch(url, json={"description": ""}, headers=tenant.occupant)
    assert (removed.json()["description"], removed.json()["version"]) == (None, 3)


def test_a_booking_without_a_description_has_null(api: httpx.Client, tenant: Tenant) -> None:
    assert book(api, tenant)["description"] is None


@pytest.mark.parametrize(
    "description",
    ["x" * (MAX_DESCRIPTION_LENGTH + 1), "nul \x00 inside", 42],
    ids=["too-long", "nul", "not-text"],
)
def test_a_bad_description_is_a_422_naming_the_field(
    api: httpx.Client, tenant: Tenant, description: object
) -> None:
    body = booking_json(tenant.room_id, description=description)
    response = api.post("bookings", json=body, headers=tenant.occupant)
    assert response.status_code == 422, response.text
    assert field_of(response).endswith("description")


def test_the_longest_description_is_taken(api: httpx.Client, tenant: Tenant) -> None:
    longest = "é" * MAX_DESCRIPTION_LENGTH
    assert book(api, tenant, description=longest)["description"] == longest


def test_a_private_bookings_description_reaches_only_its_organizer_and_admins(
    api: httpx.Client, tenant: Tenant
) -> None:
    booking = book(api, tenant, private=True, description=SECRET)
    url = f"bookings/{booking['id']}"
    assert api.get(url, headers=tenant.admin).json()["description"] == SECRET
    assert api.get(url, headers=tenant.colleague).json()["description"] is None
    listing = api.get(
        "bookings",
        params={"resource_id": str(tenant.room_id)},
        headers=tenant.colleague,
    )
    assert listing.status_code == 200
    assert SECRET not in listing.text
    schedule = api.get(
        f"resources/{tenant.room_id}/schedule",
        params={"date": "2030-01-07"},
        headers=tenant.colleague,
    )
    assert schedule.status_code == 200, schedule.text
    assert schedule.json()["items"]
    assert SECRET not in schedule.text


def test_a_public_bookings_description_is_read_by_colleagues(
    api: httpx.Client, tenant: Tenant
) -> None:
    booking = book(api, tenant, description=AGENDA)
    shown = api.get(f"bookings/{booking['id']}", headers=tenant.colleague).json()
    assert shown["description"] == AGENDA


def test_a_meeting_booked_in_outlook_takes_no_description_from_the_platform(
    database: Database, tenant: Tenant
) -> None:
    with database.session() as session:
        booking_id: uuid.UUID = create_booking(
            session,
            organization_id=tenant.organization_id,
            resource_id=tenant.room_id,
            organizer_email="ann@acme.test",
            title="From Outlook",
            start=datetime(2030, 1, 7, 9, tzinfo=UTC),
            end=datetime(2030, 1, 7, 10, tzinfo=UTC),
            source=ChangeSource.MICROSOFT365,
        ).id
    with database.session() as session, pytest.raises(InvalidInputError) as refused:
        update_booking(session, booking_id=booking_id, description="Overwrite the body")
    assert refused.value.field == "description"
    with database.session() as session:
        renamed = update_booking(session, booking_id=booking_id, title="Renamed", description=None)
        assert (renamed.title, renamed.description) == ("Renamed", None)
