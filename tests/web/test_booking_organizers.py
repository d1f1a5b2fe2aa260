"""Through the REST API: a booking names its organizer, the name follows the directory after
a user sync, and the integration status lists the bookings of a disabled account."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from roomsync.platform.db import Database
from roomsync.platform.enums import Role, SyncRunTrigger
from roomsync.sync.integration.status import integration_status
from roomsync.sync.users.workflow import sync_users
from tests.sync.harness import Tenant, connected_tenant, tomorrow_at
from tests.web.tenants import bearer


@pytest.fixture
def tenant(database: Database) -> Iterator[Tenant]:
    with connected_tenant(database, rooms=1) as connected:
        yield connected


@pytest.fixture
def admin(tenant: Tenant, factory: Any) -> dict[str, str]:
    return bearer(factory.token(tenant.organization_id, Role.ADMIN))


def book(api: httpx.Client, tenant: Tenant, admin: dict[str, str], organizer: str) -> str:
    body = {
        "resource_id": str(tenant.rooms[tenant.room_emails[0]]),
        "organizer_email": organizer,
        "title": "Planning",
        "start": tomorrow_at(9).isoformat(),
        "end": tomorrow_at(10).isoformat(),
    }
    response = api.post("bookings", json=body, headers=admin)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def seeded_name(tenant: Tenant, email: str) -> str:
    found = tenant.sim.tenant.find_user(email)
    assert found is not None
    assert found.display_name.startswith("User ")  # the seeded name, not the address
    return found.display_name


def test_a_booking_names_its_organizer_as_the_directory_does(
    api: httpx.Client, tenant: Tenant, admin: dict[str, str]
) -> None:
    organizer = tenant.users[0]
    booking_id = book(api, tenant, admin, organizer.upper())
    assert api.get(f"bookings/{booking_id}", headers=admin).json()["organizer_name"] == organizer

    sync_users(tenant.ctx, tenant.integration_id, trigger=SyncRunTrigger.MANUAL)
    named = api.get(f"bookings/{booking_id}", headers=admin).json()
    assert seeded_name(tenant, organizer) == named["organizer_name"]
    tenant.sim.directory.rename(organizer, "Grace Hopper")
    sync_users(tenant.ctx, tenant.integration_id, trigger=SyncRunTrigger.MANUAL)
    renamed = api.get("bookings", headers=admin).json()["items"]

    assert [b["organizer_name"] for b in renamed] == ["Grace Hopper"]


def test_the_status_lists_bookings_whose_organizer_was_disabled(
    api: httpx.Client, tenant: Tenant, admin: dict[str, str]
) -> None:
    organizer = tenant.users[1]
    booking_id = book(api, tenant, admin, organizer)
    sync_users(tenant.ctx, tenant.integration_id, trigger=SyncRunTrigger.MANUAL)
    tenant.sim.directory.set_account_enabled(organizer, False)
    sync_users(tenant.ctx, tenant.integration_id, trigger=SyncRunTrigger.MANUAL)

    # What GET /integrations/{id}/status answers (this test's API server has no secret key
    # to reach Microsoft 365 with, so the status is read through the same function).
    status = integration_status(tenant.ctx, tenant.integration_id).model_dump(mode="json")

    assert status["organizers"] == {
        "disabled_accounts": 1,
        "deleted_accounts": 0,
        "bookings_of_inactive_organizers": 1,
        "booking_ids": [booking_id],
    }
    assert status["runs"]["users"][0]["counts"]["disabled"] == 1
