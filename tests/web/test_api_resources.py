"""``/resources``, ``/buildings`` and ``/users``: visibility, validation and paging."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from roomsync.platform.enums import Role
from tests.web.tenants import COLLEAGUE, ORGANIZER, Tenant, bearer


@pytest.fixture
def secret_room(factory: Any, tenant: Tenant) -> str:
    return str(
        factory.room(
            tenant.building_id,
            name="Vault",
            email="vault@acme.test",
            attributes={"door_code": "4711", "screen": True},
            hidden_fields=("door_code", "capacity", "email"),
        )
    )


def test_occupants_do_not_see_hidden_fields(
    api: httpx.Client, tenant: Tenant, secret_room: str
) -> None:
    room = api.get(f"resources/{secret_room}", headers=tenant.occupant).json()
    listed = api.get("resources", params={"limit": 10}, headers=tenant.occupant).json()["items"]
    assert next(r for r in listed if r["id"] == secret_room) == room
    for hidden in ("capacity", "email", "hidden_fields"):
        assert hidden not in room
    assert room["attributes"] == {"screen": True}
    assert (room["name"], room["floor"]) == ("Vault", "2")


def test_admins_see_every_field_and_what_is_hidden(
    api: httpx.Client, tenant: Tenant, secret_room: str
) -> None:
    room = api.get(f"resources/{secret_room}", headers=tenant.admin).json()
    assert room["attributes"] == {"door_code": "4711", "screen": True}
    assert (room["capacity"], room["email"]) == (8, "vault@acme.test")
    assert room["hidden_fields"] == ["capacity", "door_code", "email"]
    assert set(room) == {
        "id",
        "building_id",
        "name",
        "email",
        "capacity",
        "floor",
        "attributes",
        "hidden_fields",
        "active",
        "excluded_from_import",
        "origin",
        "created_at",
        "updated_at",
    }


def test_an_admin_hides_and_reveals_fields_with_patch(
    api: httpx.Client, tenant: Tenant, secret_room: str
) -> None:
    changed = api.patch(
        f"resources/{secret_room}", json={"hidden_fields": ["floor"]}, headers=tenant.admin
    )
    assert changed.status_code == 200
    room = api.get(f"resources/{secret_room}", headers=tenant.occupant).json()
    assert "floor" not in room
    assert room["capacity"] == 8
    assert room["attributes"]["door_code"] == "4711"


def test_retiring_a_room_through_patch_keeps_it_listed_as_inactive(
    api: httpx.Client, tenant: Tenant
) -> None:
    retired = api.patch(f"resources/{tenant.room_id}", json={"active": False}, headers=tenant.admin)
    assert retired.json()["active"] is False
    active = api.get("resources", params={"active": "true"}, headers=tenant.admin).json()["items"]
    assert str(tenant.room_id) not in {r["id"] for r in active}


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("buildings", {"name": "Annex", "time_zone": "Mars/Olympus_Mons"}, "time_zone"),
        (
            "buildings",
            {"name": "Annex", "time_zone": "UTC", "m365_room_list_email": "x"},
            "m365_room_list_email",
        ),
        ("users", {"email": "not an email", "name": "Bob"}, "email"),
        ("resources", {"name": "Pod", "email": "pod(at)acme"}, "email"),
        ("resources", {"name": "Pod", "capacity": -3}, "capacity"),
        ("resources", {"name": "Pod", "capacity": 10**12}, "capacity"),
        ("resources", {"name": "Pod", "hidden_fields": ["name"]}, "hidden_fields"),
        ("resources", {"name": ""}, "name"),
    ],
)
def test_invalid_values_are_refused_naming_the_field(
    api: httpx.Client, tenant: Tenant, path: str, body: dict[str, Any], field: str
) -> None:
    if path == "resources":
        body = {"building_id": str(tenant.building_id), **body}
    response = api.post(path, json=body, headers=tenant.admin)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert [d["field"] for d in error["details"]] == [field]
    assert field in error["message"]


def test_duplicates_answer_409(api: httpx.Client, tenant: Tenant) -> None:
    body = {"name": "HQ", "time_zone": "UTC"}
    response = api.post("buildings", json=body, headers=tenant.admin)
    assert response.status_code == 409
    assert "HQ" in response.json()["error"]["message"]


def test_unknown_ids_answer_404(api: httpx.Client, tenant: Tenant) -> None:
    missing = "01920000-0000-7000-8000-000000000000"
    for path in ("buildings", "resources", "users", "bookings"):
        response = api.get(f"{path}/{missing}", headers=tenant.admin)
        assert response.status_code == 404
        assert missing in response.json()["error"]["message"]


def test_pagination_walks_every_room_once(api: httpx.Client, tenant: Tenant, factory: Any) -> None:
    for number in range(7):
        factory.room(tenant.building_id, name=f"Pod {number}")
    seen: list[str] = []
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"limit": 3} | ({"cursor": cursor} if cursor else {})
        page = api.get("resources", params=params, headers=tenant.occupant).json()
        assert len(page["items"]) <= 3
        seen += [room["id"] for room in page["items"]]
        if (cursor := page["next_cursor"]) is None:
            break
    everything = api.get("resources", params={"limit": 200}, headers=tenant.admin).json()
    assert len(seen) == len(set(seen)) == 8
    assert seen == [room["id"] for room in everything["items"]]
    assert everything["next_cursor"] is None


def test_a_cursor_that_was_not_handed_out_is_refused(api: httpx.Client, tenant: Tenant) -> None:
    response = api.get("resources", params={"cursor": "bogus"}, headers=tenant.admin)
    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["field"] == "cursor"


def test_users_are_listed_for_admins_with_their_fields(
    api: httpx.Client, tenant: Tenant, factory: Any
) -> None:
    api.post(
        "users",
        json={"email": "eve@acme.test", "name": "Eve", "external": True},
        headers=tenant.admin,
    )
    other_admin = bearer(factory.token(factory.organization("Other"), Role.ADMIN))
    mine = api.get("users", headers=tenant.admin).json()["items"]
    theirs = api.get("users", headers=other_admin).json()["items"]
    # The tenant's occupant tokens act for two people, who are users too.
    assert [(u["email"], u["name"], u["external"]) for u in mine] == [
        (ORGANIZER, ORGANIZER, False),
        (COLLEAGUE, COLLEAGUE, False),
        ("eve@acme.test", "Eve", True),
    ]
    assert theirs == []
