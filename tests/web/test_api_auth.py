"""Bearer tokens: who may read and change what. One organization never reaches another's
data, and occupants only book."""

from __future__ import annotations

import httpx
import pytest

from tests.web.tenants import SUPER_ADMIN, Tenant, bearer, booking_json


@pytest.mark.parametrize(
    "headers",
    [{}, bearer("rs_not-a-real-token"), {"Authorization": "Basic dXNlcjpwYXNz"}],
    ids=["missing", "unknown", "not-bearer"],
)
def test_requests_without_a_valid_token_get_401(
    api: httpx.Client, tenant: Tenant, headers: dict[str, str]
) -> None:
    for path in ("organizations", "resources", f"bookings?resource_id={tenant.room_id}"):
        response = api.get(path, headers=headers)
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "unauthenticated"
        assert response.headers["WWW-Authenticate"] == "Bearer"


def test_only_the_super_admin_creates_organizations(api: httpx.Client, tenant: Tenant) -> None:
    refused = api.post("organizations", json={"name": "Rogue"}, headers=tenant.admin)
    created = api.post("organizations", json={"name": "Umbrella"}, headers=SUPER_ADMIN)
    assert refused.status_code == 403
    assert created.status_code == 201
    assert created.json()["name"] == "Umbrella"


def test_a_token_sees_only_its_own_organization(
    api: httpx.Client, tenant: Tenant, other_tenant: Tenant
) -> None:
    mine = api.get("organizations", headers=tenant.occupant).json()["items"]
    everything = api.get("organizations", headers=SUPER_ADMIN).json()["items"]
    assert [o["id"] for o in mine] == [str(tenant.organization_id)]
    assert {o["id"] for o in everything} == {
        str(tenant.organization_id),
        str(other_tenant.organization_id),
    }
    rooms = api.get("resources", headers=tenant.admin).json()["items"]
    assert [r["id"] for r in rooms] == [str(tenant.room_id)]


def test_naming_another_organizations_object_is_forbidden(
    api: httpx.Client, tenant: Tenant, other_tenant: Tenant
) -> None:
    foreign_booking = api.post(
        "bookings",
        json=booking_json(
            other_tenant.room_id, "2030-01-07T09:00:00Z", "2030-01-07T10:00:00Z", title="Theirs"
        ),
        headers=other_tenant.admin,
    ).json()
    attempts = [
        api.get(f"organizations/{other_tenant.organization_id}", headers=tenant.admin),
        api.get(f"buildings/{other_tenant.building_id}", headers=tenant.admin),
        api.get(f"resources/{other_tenant.room_id}", headers=tenant.admin),
        api.patch(f"resources/{other_tenant.room_id}", json={"name": "Mine"}, headers=tenant.admin),
        api.get(
            "bookings", params={"resource_id": str(other_tenant.room_id)}, headers=tenant.admin
        ),
        api.get(
            "resources",
            params={"organization_id": str(other_tenant.organization_id)},
            headers=tenant.admin,
        ),
        api.get(f"bookings/{foreign_booking['id']}", headers=tenant.occupant),
        api.patch(
            f"bookings/{foreign_booking['id']}", json={"title": "Mine"}, headers=tenant.admin
        ),
        api.delete(f"bookings/{foreign_booking['id']}", headers=tenant.admin),
        api.post(
            "buildings",
            json={
                "organization_id": str(other_tenant.organization_id),
                "name": "Annex",
                "time_zone": "UTC",
            },
            headers=tenant.admin,
        ),
        api.post(
            "bookings",
            json=booking_json(
                other_tenant.room_id, "2030-01-08T09:00:00Z", "2030-01-08T10:00:00Z", title="Sneaky"
            ),
            headers=tenant.admin,
        ),
    ]
    assert [r.status_code for r in attempts] == [403] * len(attempts)
    assert {r.json()["error"]["code"] for r in attempts} == {"forbidden"}
    untouched = api.get(f"bookings/{foreign_booking['id']}", headers=other_tenant.admin).json()
    assert (untouched["title"], untouched["status"]) == ("Theirs", "confirmed")


def test_moving_a_booking_into_another_organizations_room_is_forbidden(
    api: httpx.Client, tenant: Tenant, other_tenant: Tenant
) -> None:
    booking = api.post(
        "bookings",
        json=booking_json(
            tenant.room_id, "2030-01-07T09:00:00Z", "2030-01-07T10:00:00Z", title="Ours"
        ),
        headers=tenant.occupant,
    ).json()
    response = api.patch(
        f"bookings/{booking['id']}",
        json={"resource_id": str(other_tenant.room_id)},
        headers=tenant.admin,
    )
    assert response.status_code == 403


def test_occupants_cannot_do_admin_work(api: httpx.Client, tenant: Tenant) -> None:
    attempts = [
        api.post("buildings", json={"name": "Annex", "time_zone": "UTC"}, headers=tenant.occupant),
        api.patch(f"buildings/{tenant.building_id}", json={"name": "X"}, headers=tenant.occupant),
        api.post(
            "resources",
            json={"building_id": str(tenant.building_id), "name": "Pod"},
            headers=tenant.occupant,
        ),
        api.patch(f"resources/{tenant.room_id}", json={"capacity": 99}, headers=tenant.occupant),
        api.post("users", json={"email": "bob@acme.test", "name": "Bob"}, headers=tenant.occupant),
        api.get("users", headers=tenant.occupant),
        api.patch(
            f"organizations/{tenant.organization_id}", json={"name": "X"}, headers=tenant.occupant
        ),
    ]
    assert [r.status_code for r in attempts] == [403] * len(attempts)


def test_admins_of_an_organization_manage_its_buildings_rooms_and_users(
    api: httpx.Client, tenant: Tenant
) -> None:
    building = api.post(
        "buildings", json={"name": "Annex", "time_zone": "America/New_York"}, headers=tenant.admin
    )
    assert building.status_code == 201
    assert building.json()["organization_id"] == str(tenant.organization_id)
    room = api.post(
        "resources",
        json={"building_id": building.json()["id"], "name": "Pod", "email": "Pod@Acme.test"},
        headers=tenant.admin,
    )
    assert (room.status_code, room.json()["email"]) == (201, "pod@acme.test")
    user = api.post("users", json={"email": "Bob@Acme.test", "name": "Bob"}, headers=tenant.admin)
    assert user.status_code == 201
    assert {k: user.json()[k] for k in ("email", "name", "external")} == {
        "email": "bob@acme.test",
        "name": "Bob",
        "external": False,
    }


def test_occupants_list_rooms_and_book_change_and_cancel(api: httpx.Client, tenant: Tenant) -> None:
    assert api.get("resources", headers=tenant.occupant).status_code == 200
    created = api.post(
        "bookings",
        json=booking_json(
            tenant.room_id, "2030-01-07T09:00:00Z", "2030-01-07T09:30:00Z", title="1:1"
        ),
        headers=tenant.occupant,
    )
    url = f"bookings/{created.json()['id']}"
    changed = api.patch(url, json={"title": "1:1 (moved)"}, headers=tenant.occupant)
    cancelled = api.delete(url, headers=tenant.occupant)
    listed = api.get("bookings", headers=tenant.occupant)
    assert [created.status_code, changed.status_code, cancelled.status_code] == [201, 200, 200]
    assert [b["status"] for b in listed.json()["items"]] == ["cancelled"]


def test_the_super_admin_must_say_which_organization_gets_a_building(api: httpx.Client) -> None:
    response = api.post("buildings", json={"name": "HQ", "time_zone": "UTC"}, headers=SUPER_ADMIN)
    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["field"] == "organization_id"
