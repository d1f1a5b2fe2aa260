"""A private booking stays private: only the organizer or an admin may change it (its
``private`` too), and no answer to anyone else carries its title — single reads, lists,
PATCH answers (refused or applied), conflict and version errors, and ``/metrics``."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from roomsync.platform.api.auth import Principal
from roomsync.platform.api.booking_privacy import PRIVATE_TITLE, permitted_changes, shown_title
from roomsync.platform.enums import Role
from roomsync.platform.exceptions import PermissionDeniedError
from roomsync.platform.models import Booking
from tests.web.tenants import SUPER_ADMIN, Tenant, booking_json, make_tenant

SECRET_TITLE = "Layoffs in the Rotterdam office"
NINE, TEN = "2030-01-07T09:00:00Z", "2030-01-07T10:00:00Z"


def book(api: httpx.Client, tenant: Tenant, *, private: bool, **extra: Any) -> dict[str, Any]:
    body = booking_json(tenant.room_id, NINE, TEN, title=SECRET_TITLE, private=private, **extra)
    response = api.post("bookings", json=body, headers=tenant.admin)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def as_admin(api: httpx.Client, tenant: Tenant, booking: dict[str, Any]) -> dict[str, Any]:
    stored: dict[str, Any] = api.get(f"bookings/{booking['id']}", headers=tenant.admin).json()
    return stored


def assert_refused_as_not_organizer(response: httpx.Response) -> None:
    assert response.status_code == 403, response.text
    assert "organizer" in response.json()["error"]["message"]
    assert SECRET_TITLE not in response.text


def test_an_occupant_cannot_make_a_private_booking_public_nor_read_its_title(
    api: httpx.Client, tenant: Tenant
) -> None:
    booking = book(api, tenant, private=True)
    refused = api.patch(
        f"bookings/{booking['id']}", json={"private": False}, headers=tenant.colleague
    )
    assert_refused_as_not_organizer(refused)
    stored = as_admin(api, tenant, booking)
    assert (stored["private"], stored["title"], stored["version"]) == (True, SECRET_TITLE, 1)


def test_a_refused_privacy_change_applies_none_of_the_other_fields(
    api: httpx.Client, tenant: Tenant
) -> None:
    booking = book(api, tenant, private=True)
    changes = {"private": False, "title": "Renamed", "end": "2030-01-07T11:00:00Z"}
    refused = api.patch(f"bookings/{booking['id']}", json=changes, headers=tenant.colleague)
    assert_refused_as_not_organizer(refused)
    assert as_admin(api, tenant, booking) == booking


def test_an_occupant_cannot_make_a_public_booking_private(
    api: httpx.Client, tenant: Tenant
) -> None:
    booking = book(api, tenant, private=False)
    refused = api.patch(
        f"bookings/{booking['id']}", json={"private": True}, headers=tenant.colleague
    )
    assert_refused_as_not_organizer(refused)
    assert as_admin(api, tenant, booking)["private"] is False


def test_the_organizer_may_change_their_private_booking_and_reads_its_title(
    api: httpx.Client, tenant: Tenant
) -> None:
    booking = book(api, tenant, private=True)
    url = f"bookings/{booking['id']}"
    moved = api.patch(
        url, json={"private": True, "end": "2030-01-07T10:30:00Z"}, headers=tenant.occupant
    )
    renamed = api.patch(url, json={"title": "Guessing"}, headers=tenant.colleague)
    assert moved.status_code == 200, moved.text
    assert (moved.json()["end"], moved.json()["private"]) == ("2030-01-07T10:30:00Z", True)
    assert moved.json()["title"] == SECRET_TITLE
    assert_refused_as_not_organizer(renamed)
    assert as_admin(api, tenant, booking)["title"] == SECRET_TITLE


@pytest.mark.parametrize("admin", ["organization admin", "super-admin"])
def test_an_admin_may_make_a_private_booking_public_and_private_again(
    api: httpx.Client, tenant: Tenant, admin: str
) -> None:
    headers = tenant.admin if admin == "organization admin" else SUPER_ADMIN
    booking = book(api, tenant, private=True)
    url = f"bookings/{booking['id']}"
    public = api.patch(url, json={"private": False}, headers=headers)
    assert public.status_code == 200, public.text
    assert (public.json()["private"], public.json()["title"]) == (False, SECRET_TITLE)
    assert api.get(url, headers=tenant.colleague).json()["title"] == SECRET_TITLE
    assert api.patch(url, json={"private": True}, headers=headers).status_code == 200
    assert api.get(url, headers=tenant.colleague).json()["title"] == PRIVATE_TITLE


def test_occupant_reads_lists_and_cancellations_carry_no_private_title(
    api: httpx.Client, tenant: Tenant
) -> None:
    booking = book(api, tenant, private=True)
    url = f"bookings/{booking['id']}"
    in_range = {"resource_id": str(tenant.room_id), "start": NINE, "end": TEN}
    answers = [
        api.get(url, headers=tenant.colleague),
        api.get("bookings", headers=tenant.colleague),
        api.get("bookings", params=in_range, headers=tenant.colleague),
        api.get("bookings", params={"status": "confirmed"}, headers=tenant.colleague),
    ]
    assert api.delete(url, headers=tenant.admin).status_code == 200
    answers.append(api.get("bookings", params={"status": "cancelled"}, headers=tenant.colleague))
    assert [answer.status_code for answer in answers] == [200] * len(answers)
    assert [SECRET_TITLE in answer.text for answer in answers] == [False] * len(answers)
    assert answers[2].json()["items"][0]["title"] == PRIVATE_TITLE


def test_a_conflict_with_a_private_booking_names_it_without_its_title(
    api: httpx.Client, tenant: Tenant
) -> None:
    booking = book(api, tenant, private=True)
    overlapping = booking_json(tenant.room_id, "2030-01-07T09:30:00Z", "2030-01-07T10:30:00Z")
    refused_create = api.post("bookings", json=overlapping, headers=tenant.occupant)
    later = booking_json(tenant.room_id, "2030-01-07T11:00:00Z", "2030-01-07T12:00:00Z")
    other = api.post("bookings", json=later, headers=tenant.occupant).json()
    refused_move = api.patch(
        f"bookings/{other['id']}", json={"start": NINE, "end": TEN}, headers=tenant.occupant
    )
    for refused in (refused_create, refused_move):
        assert refused.status_code == 409, refused.text
        assert refused.json()["error"]["details"]["conflicting_booking_id"] == booking["id"]
        assert SECRET_TITLE not in refused.text


def test_stale_and_closed_booking_errors_carry_no_private_title(
    api: httpx.Client, tenant: Tenant
) -> None:
    booking = book(api, tenant, private=True)
    url = f"bookings/{booking['id']}"
    stale = api.patch(url, json={"title": "Late"}, headers={**tenant.occupant, "If-Match": '"7"'})
    api.delete(url, headers=tenant.admin)
    closed = api.patch(url, json={"title": "Revived"}, headers=tenant.occupant)
    assert (stale.status_code, closed.status_code) == (412, 409)
    assert SECRET_TITLE not in stale.text
    assert SECRET_TITLE not in closed.text


def test_metrics_carry_no_booking_title(api: httpx.Client, api_base_url: str, factory: Any) -> None:
    tenant = make_tenant(factory, "Initech", room_email="board@initech.test")
    factory.integration(tenant.organization_id)
    booking = book(api, tenant, private=True)
    assert booking["sync"]["state"] == "pending"  # an outbox row the gauges count
    metrics = httpx.get(f"{api_base_url}/metrics", timeout=30)
    assert metrics.status_code == 200
    assert "roomsync_outbox_pending" in metrics.text
    assert SECRET_TITLE not in metrics.text


def _private_booking_of(organizer_email: str) -> Booking:
    return Booking(organizer_email=organizer_email, title=SECRET_TITLE, private=True)


def test_a_caller_acting_for_the_organizer_sees_the_title_and_may_change_privacy() -> None:
    booking = _private_booking_of("ann@acme.test")
    ann = Principal(role=Role.OCCUPANT, organization_id=uuid.uuid4(), email="Ann@Acme.test")
    assert shown_title(ann, booking) == SECRET_TITLE
    assert permitted_changes(ann, booking, {"private": False}) == {"private": False}


def test_a_caller_acting_for_someone_else_neither_sees_the_title_nor_changes_privacy() -> None:
    booking = _private_booking_of("ann@acme.test")
    bob = Principal(role=Role.OCCUPANT, organization_id=uuid.uuid4(), email="bob@acme.test")
    assert shown_title(bob, booking) == PRIVATE_TITLE
    assert permitted_changes(bob, booking, {"private": True, "title": "x"}) == {"title": "x"}
    with pytest.raises(PermissionDeniedError) as refused:
        permitted_changes(bob, booking, {"private": False})
    assert refused.value.details == [{"field": "private", "message": refused.value.message}]
