"""``/api/v1/integrations`` served by uvicorn, its sync context leading into an emulated
tenant: configuration and its validation, room import, retirement, check and status."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from pydantic import SecretStr

from graphsim import Simulator
from roomsync.platform.db import Database
from roomsync.web.app import create_app
from roomsync.web.server import serving_in_background
from tests.sync.rooms_testkit import context, remove_room, settings, tenant
from tests.web.tenants import ADMIN_TOKEN, SUPER_ADMIN, Tenant

ROOM = "room{:04d}@contoso.onmicrosoft.com"


@pytest.fixture
def sim() -> Iterator[Simulator]:
    with tenant() as simulator:
        yield simulator


@pytest.fixture
def server(database: Database, sim: Simulator) -> Iterator[str]:
    """The API with a sync context into ``sim``; its base URL."""
    ctx = context(database, sim)
    app = create_app(settings(admin_token=SecretStr(ADMIN_TOKEN)), database, sync_context=ctx)
    try:
        with serving_in_background(app) as url:
            yield url
    finally:
        ctx.close()


@pytest.fixture
def api(server: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=f"{server}/api/v1/", timeout=60) as client:
        yield client


def connection(sim: Simulator, **changes: Any) -> dict[str, Any]:
    """A POST /integrations body for the emulated tenant's app."""
    return {
        "tenant_id": sim.tenant_id,
        "client_id": sim.credentials.client_id,
        "client_secret": sim.credentials.client_secret,
        "client_secret_expires_at": "2027-04-23",
        "service_account": sim.service_account,
        "time_zone": "Europe/Paris",
        **changes,
    }


def connect(api: httpx.Client, tenant: Tenant, sim: Simulator, **changes: Any) -> dict[str, Any]:
    response = api.post("integrations", json=connection(sim, **changes), headers=tenant.admin)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def test_an_admin_connects_the_organization_and_the_secret_is_write_only(
    api: httpx.Client, tenant: Tenant, sim: Simulator
) -> None:
    created = connect(api, tenant, sim)

    assert created["organization_id"] == str(tenant.organization_id)
    assert created["client_secret_set"] is True
    assert "client_secret" not in created
    assert created["client_secret_expires_at"] == "2027-04-23T00:00:00Z"
    assert created["certificate"] is None
    assert created["room_source"] == "places"
    assert created["room_selection"] == {"mode": "all", "room_lists": []}
    assert [m["field"] for m in created["field_mappings"]] == [
        "name",
        "capacity",
        "floor",
        "equipment",
        "accessibility",
    ]
    assert created["field_mappings"][2]["source"] == ["floorLabel", "floorNumber"]
    assert created["options"]["max_retired_share"] == 0.2
    assert (created["mode"], created["enabled"], created["stopped_reason"]) == (
        "polling",
        True,
        None,
    )
    fetched = api.get(f"integrations/{created['id']}", headers=tenant.admin)
    listed = api.get("integrations", headers=tenant.admin).json()["items"]
    assert fetched.json() == created == listed[0]
    for response in (fetched.text, str(listed)):
        assert sim.credentials.client_secret not in response


def test_a_second_integration_for_the_organization_is_a_conflict(
    api: httpx.Client, tenant: Tenant, sim: Simulator
) -> None:
    first = connect(api, tenant, sim)
    second = api.post("integrations", json=connection(sim), headers=tenant.admin)

    assert second.status_code == 409
    assert second.json()["error"]["code"] == "duplicate"
    assert first["id"] in second.json()["error"]["message"]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"tenant_id": "contoso"}, "tenant_id"),
        ({"client_id": "12345"}, "client_id"),
        ({"time_zone": "Mars/Olympus_Mons"}, "time_zone"),
        ({"service_account": "svc at contoso"}, "service_account"),
        ({"client_secret_expires_at": "2027-04-23T10:00:00"}, "client_secret_expires_at"),
        (
            {"field_mappings": [{"field": "seats", "source": "capacityy"}]},
            "field_mappings.0.source",
        ),
        (
            {"field_mappings": [{"field": "x", "source": "directory:shoeSize"}]},
            "field_mappings.0.source",
        ),
        (
            {"field_mappings": [{"field": "name", "source": "displayName", "visible": False}]},
            "field_mappings.0",
        ),
        (
            {
                "field_mappings": [
                    {"field": "a", "source": "tags"},
                    {"field": "a", "source": "phone"},
                ]
            },
            "field_mappings.1.field",
        ),
        (
            {"room_selection": {"mode": "room_lists", "room_lists": [{"email": "x", "name": "X"}]}},
            "room_selection.room_lists.0.email",
        ),
        ({"room_selection": {"mode": "room_lists"}}, "room_selection"),
        (
            {
                "room_selection": {
                    "mode": "room_lists",
                    "room_lists": [
                        {"email": "a@b.test", "name": "A", "building_id": str(uuid.uuid4())}
                    ],
                }
            },
            "room_selection.room_lists.0.building_id",
        ),
        ({"room_source": "exchange"}, "room_source"),
        ({"room_source": "findrooms", "service_account": None}, "service_account"),
        ({"client_secret": None}, "client_secret"),
        ({"certificate": {"pem": "-----BEGIN CERTIFICATE-----\nnope"}}, "certificate"),
        ({"options": {"max_retired_share": 2}}, "options.max_retired_share"),
        ({"options": {"retire_everything": True}}, "options.retire_everything"),
        ({"mode": "push"}, "mode"),
    ],
)
def test_invalid_configuration_is_refused_naming_the_field(
    api: httpx.Client, tenant: Tenant, sim: Simulator, changes: dict[str, Any], field: str
) -> None:
    response = api.post("integrations", json=connection(sim, **changes), headers=tenant.admin)

    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "invalid_input"
    assert field in [detail["field"] for detail in error["details"]]
    assert sim.credentials.client_secret not in response.text


def test_occupants_and_other_organizations_cannot_reach_an_integration(
    api: httpx.Client, tenant: Tenant, other_tenant: Tenant, sim: Simulator
) -> None:
    created = connect(api, tenant, sim)
    refused = [
        api.post("integrations", json=connection(sim), headers=tenant.occupant),
        api.get(f"integrations/{created['id']}", headers=tenant.occupant),
        api.get(f"integrations/{created['id']}", headers=other_tenant.admin),
        api.patch(
            f"integrations/{created['id']}", json={"enabled": False}, headers=other_tenant.admin
        ),
        api.post(f"integrations/{created['id']}/sync/rooms", headers=other_tenant.admin),
        api.post(f"integrations/{created['id']}/check", headers=tenant.occupant),
        api.get(f"integrations/{created['id']}/status", headers=other_tenant.admin),
    ]
    assert [r.status_code for r in refused] == [403] * len(refused)
    assert api.get("integrations", headers=other_tenant.admin).json()["items"] == []
    assert api.get(f"integrations/{created['id']}", headers=SUPER_ADMIN).status_code == 200


def test_the_super_admin_names_the_organization(
    api: httpx.Client, tenant: Tenant, sim: Simulator
) -> None:
    missing = api.post("integrations", json=connection(sim), headers=SUPER_ADMIN)
    named = api.post(
        "integrations",
        json=connection(sim, organization_id=str(tenant.organization_id)),
        headers=SUPER_ADMIN,
    )
    assert (missing.status_code, named.status_code) == (422, 201)


def test_rotating_the_secret_bumps_the_credentials_version(
    api: httpx.Client, tenant: Tenant, sim: Simulator
) -> None:
    created = connect(api, tenant, sim)
    url = f"integrations/{created['id']}"

    renamed = api.patch(url, json={"time_zone": "Europe/Berlin"}, headers=tenant.admin).json()
    rotated = api.patch(
        url, json={"client_secret": "new-secret-value"}, headers=tenant.admin
    ).json()

    assert (renamed["credentials_version"], renamed["time_zone"]) == (1, "Europe/Berlin")
    assert rotated["credentials_version"] == 2
    assert "new-secret-value" not in str(rotated)
    refused = api.patch(url, json={"time_zone": None}, headers=tenant.admin)
    assert refused.status_code == 422


def test_room_import_answers_its_run_report_and_status_shows_the_runs(
    api: httpx.Client, tenant: Tenant, sim: Simulator
) -> None:
    integration_id = connect(api, tenant, sim)["id"]

    first = api.post(f"integrations/{integration_id}/sync/rooms", headers=tenant.admin).json()
    second = api.post(f"integrations/{integration_id}/sync/rooms", headers=tenant.admin).json()

    assert (first["kind"], first["outcome"], first["counts"]["created"]) == (
        "rooms",
        "succeeded",
        6,
    )
    assert second["counts"]["unchanged"] == 6
    assert second["counts"]["created"] == second["counts"]["updated"] == 0
    status = api.get(f"integrations/{integration_id}/status", headers=tenant.admin).json()
    assert set(status) >= {"health", "runs", "counts"}
    assert [run["id"] for run in status["runs"]["rooms"]] == [second["run_id"], first["run_id"]]
    assert status["runs"]["rooms"][0]["counts"]["unchanged"] == 6
    assert status["health"]["state"] == "active"
    assert status["health"]["credential"]["kind"] == "client_secret"
    assert status["counts"] == {
        "rooms_active": 6,
        "rooms_retired": 0,
        "buildings_for_room_lists": 2,
    }


def test_booking_pull_answers_its_run_report_and_status_shows_rooms_and_outbox(
    api: httpx.Client, tenant: Tenant, sim: Simulator
) -> None:
    integration_id = connect(api, tenant, sim, enabled=True)["id"]
    api.post(f"integrations/{integration_id}/sync/rooms", headers=tenant.admin)
    organizer = next(u.mail for u in sim.tenant.users.values() if u.mail.startswith("user"))
    start = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(days=1)
    sim.outlook.create_meeting(
        organizer, ROOM.format(1), "Review", start, start + timedelta(hours=1)
    )
    sim.settle()

    pulled = api.post(f"integrations/{integration_id}/sync/bookings", headers=tenant.admin)
    again = api.post(f"integrations/{integration_id}/sync/bookings", headers=tenant.admin)
    occupant = api.post(f"integrations/{integration_id}/sync/bookings", headers=tenant.occupant)

    assert pulled.status_code == 200, pulled.text
    assert (pulled.json()["kind"], pulled.json()["counts"]["create_booking"]) == ("bookings", 1)
    assert again.json()["counts"].get("create_booking", 0) == 0
    assert occupant.status_code == 403
    status = api.get(f"integrations/{integration_id}/status", headers=tenant.admin).json()
    assert status["outbox"] == {
        "pending": 0,
        "failed": 0,
        "oldest_pending_seconds": None,
        "failed_pushes": [],
    }
    assert len(status["rooms"]) == 6
    assert all(room["last_outcome"] == "succeeded" for room in status["rooms"])
    assert status["subscriptions"]["missing"] == 0  # polling mode wants none


def test_occupants_do_not_see_fields_mapped_as_hidden(
    api: httpx.Client, tenant: Tenant, sim: Simulator
) -> None:
    mappings = [
        {"field": "name", "source": "displayName"},
        {"field": "capacity", "source": "capacity", "visible": False},
        {"field": "floor", "source": "floorLabel"},
        {"field": "equipment", "source": "tags", "combine": "all"},
        {
            "field": "wing",
            "source": "directory:onPremisesExtensionAttributes/extensionAttribute1",
            "visible": False,
        },
    ]
    integration_id = connect(api, tenant, sim, field_mappings=mappings)["id"]
    api.post(f"integrations/{integration_id}/sync/rooms", headers=tenant.admin)

    params = {"limit": 50}
    seen_by_occupant = api.get("resources", params=params, headers=tenant.occupant).json()["items"]
    seen_by_admin = api.get("resources", params=params, headers=tenant.admin).json()["items"]
    occupant_room = next(r for r in seen_by_occupant if r.get("name") == "Room 0001")
    admin_room = next(r for r in seen_by_admin if r["name"] == "Room 0001")
    assert "capacity" not in occupant_room
    assert occupant_room["attributes"] == {"equipment": ["seeded"]}
    assert occupant_room["floor"] == "Floor 1"
    assert admin_room["capacity"] == 5
    assert admin_room["attributes"] == {"equipment": ["seeded"], "wing": "Building 02"}
    assert admin_room["hidden_fields"] == ["capacity", "wing"]


def test_reconciling_over_the_api_needs_force_when_many_rooms_go_at_once(
    api: httpx.Client, tenant: Tenant, sim: Simulator
) -> None:
    integration_id = connect(api, tenant, sim)["id"]
    url = f"integrations/{integration_id}/sync/rooms"
    api.post(url, headers=tenant.admin)
    for n in (1, 2):
        remove_room(sim, ROOM.format(n))

    refused = api.post(url, params={"reconcile": "true"}, headers=tenant.admin).json()
    forced = api.post(url, params={"reconcile": "true", "force": "true"}, headers=tenant.admin)

    assert (refused["kind"], refused["outcome"], refused["counts"]["retired"]) == (
        "reconcile",
        "warning",
        0,
    )
    assert "2 of 6 rooms are missing" in refused["warnings"][-1]
    assert forced.json()["counts"]["retired"] == 2
    active = api.get("resources", params={"active": "false"}, headers=tenant.admin).json()["items"]
    assert sorted(r["email"] for r in active) == [ROOM.format(1), ROOM.format(2)]


def test_the_check_answers_a_verdict_per_permission(
    api: httpx.Client, tenant: Tenant, sim: Simulator
) -> None:
    integration_id = connect(api, tenant, sim)["id"]
    sim.set_roles({"Calendars.ReadWrite", "User.Read.All"})

    report = api.post(f"integrations/{integration_id}/check", headers=tenant.admin).json()

    assert report["ok"] is False
    verdicts = {p["permission"]: p["verdict"] for p in report["permissions"]}
    assert verdicts["Place.Read.All"] == "missing"
    assert verdicts["User.Read.All"] == "ok"
    place = next(p for p in report["permissions"] if p["permission"] == "Place.Read.All")
    assert "Grant admin consent" in place["remedy"]
    assert report["credential"]["days_until_secret_expiry"] is not None


def test_an_expired_secret_stops_the_integration_until_a_new_one_is_saved(
    api: httpx.Client, tenant: Tenant, sim: Simulator
) -> None:
    integration_id = connect(api, tenant, sim)["id"]
    sim.expire_client_secret()

    check = api.post(f"integrations/{integration_id}/check", headers=tenant.admin).json()
    stopped = api.post(f"integrations/{integration_id}/sync/rooms", headers=tenant.admin)

    assert check["ok"] is False
    assert "AADSTS7000222" in check["token"]["detail"]
    assert stopped.status_code == 409
    assert stopped.json()["error"]["code"] == "integration_unavailable"
    status = api.get(f"integrations/{integration_id}/status", headers=tenant.admin).json()
    assert status["health"]["state"] == "stopped"

    fresh = sim.add_app("roomsync 2", {"Calendars.ReadWrite", "Place.Read.All", "User.Read.All"})
    saved = api.patch(
        f"integrations/{integration_id}",
        json={"client_id": fresh.client_id, "client_secret": fresh.client_secret},
        headers=tenant.admin,
    ).json()
    assert saved["stopped_reason"] is None
    resumed = api.post(f"integrations/{integration_id}/sync/rooms", headers=tenant.admin)
    assert resumed.json()["counts"]["created"] == 6


def test_a_certificate_credential_is_shown_by_thumbprint_only(
    api: httpx.Client, tenant: Tenant, sim: Simulator
) -> None:
    certificate = sim.add_certificate()
    pem = certificate.private_key_pem + certificate.certificate_pem
    created = connect(api, tenant, sim, client_secret=None, certificate={"pem": pem})

    assert created["client_secret_set"] is False
    assert created["certificate"]["thumbprint"] == certificate.thumbprint.upper()
    assert created["certificate"]["not_valid_after"].endswith("Z")
    assert "PRIVATE KEY" not in str(created)
    report = api.post(f"integrations/{created['id']}/sync/rooms", headers=tenant.admin).json()
    assert report["counts"]["created"] == 6


def test_an_encrypted_private_key_is_used_with_its_passphrase(
    api: httpx.Client, tenant: Tenant, sim: Simulator
) -> None:
    certificate = sim.add_certificate()
    key = serialization.load_pem_private_key(certificate.private_key_pem.encode(), password=None)
    locked = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"open sesame"),
    ).decode()
    pem = locked + certificate.certificate_pem
    body = connection(sim, client_secret=None, certificate={"pem": pem})

    refused = api.post("integrations", json=body, headers=tenant.admin)
    body["certificate"]["passphrase"] = "open sesame"
    created = connect(api, tenant, sim, client_secret=None, certificate=body["certificate"])

    assert refused.status_code == 422
    assert refused.json()["error"]["details"][0]["field"] == "certificate"
    check = api.post(f"integrations/{created['id']}/check", headers=tenant.admin).json()
    assert check["ok"] is True
    assert "open sesame" not in refused.text + str(created) + str(check)


def test_metrics_expose_how_long_the_secret_has_left(
    api: httpx.Client, server: str, tenant: Tenant, sim: Simulator
) -> None:
    expires = (datetime.now(UTC) + timedelta(days=10)).isoformat()
    integration_id = connect(api, tenant, sim, client_secret_expires_at=expires)["id"]

    metrics = httpx.get(f"{server}/metrics", timeout=30)

    assert metrics.status_code == 200
    pattern = rf'roomsync_client_secret_expiry_seconds{{integration="{integration_id}"}} (\S+)'
    match = re.search(pattern, metrics.text)
    assert match is not None, metrics.text
    assert 9.9 * 86_400 < float(match.group(1)) <= 10 * 86_400
    status = api.get(f"integrations/{integration_id}/status", headers=tenant.admin).json()
    assert any("expires within 14 days" in notice for notice in status["health"]["notices"])


def test_without_a_secret_key_the_integrations_api_says_how_to_set_one(
    database: Database, database_url: str, tenant: Tenant, sim: Simulator
) -> None:
    keyless = settings(secret_key=None, database_url=database_url)
    with serving_in_background(create_app(keyless, database)) as url:
        response = httpx.post(
            f"{url}/api/v1/integrations", json=connection(sim), headers=tenant.admin, timeout=30
        )
    assert response.json()["error"]["code"] == "configuration_error"
    assert "ROOMSYNC_SECRET_KEY is not set" in response.json()["error"]["message"]


def test_a_wrong_secret_on_a_shared_tenant_and_app_never_borrows_the_right_ones_tokens(
    api: httpx.Client, tenant: Tenant, other_tenant: Tenant, sim: Simulator
) -> None:
    right = connect(api, tenant, sim)["id"]
    assert api.post(f"integrations/{right}/check", headers=tenant.admin).json()["ok"] is True
    imported = api.post(f"integrations/{right}/sync/rooms", headers=tenant.admin).json()

    wrong = connect(api, other_tenant, sim, client_secret="not-the-secret")["id"]
    check = api.post(f"integrations/{wrong}/check", headers=other_tenant.admin).json()
    refused = api.post(f"integrations/{wrong}/sync/rooms", headers=other_tenant.admin)

    assert imported["counts"]["created"] == 6
    assert check["ok"] is False
    assert check["token"]["ok"] is False
    assert "AADSTS7000215" in check["token"]["detail"]
    assert refused.status_code == 409
    rooms = api.get("resources", headers=other_tenant.admin).json()["items"]
    assert [room["email"] for room in rooms if room["email"]] == []
    status = api.get(f"integrations/{right}/status", headers=tenant.admin).json()
    assert status["health"]["state"] != "stopped"


def test_one_organizations_rotation_never_changes_anothers_on_the_same_tenant_and_app(
    api: httpx.Client, tenant: Tenant, other_tenant: Tenant, sim: Simulator
) -> None:
    first = connect(api, tenant, sim)["id"]
    second = connect(api, other_tenant, sim)["id"]
    for integration_id, admin in ((first, tenant.admin), (second, other_tenant.admin)):
        assert api.post(f"integrations/{integration_id}/check", headers=admin).json()["ok"]

    api.patch(
        f"integrations/{first}", json={"client_secret": "a-bad-rotation"}, headers=tenant.admin
    )
    broken = api.post(f"integrations/{first}/check", headers=tenant.admin).json()
    api.patch(
        f"integrations/{second}",
        json={"client_secret": sim.credentials.client_secret},
        headers=other_tenant.admin,
    )
    rotated = api.post(f"integrations/{second}/sync/rooms", headers=other_tenant.admin)
    untouched = api.post(f"integrations/{second}/check", headers=other_tenant.admin).json()

    assert broken["ok"] is False
    assert "AADSTS7000215" in broken["token"]["detail"]
    assert untouched["ok"] is True
    assert rotated.status_code == 200
    assert rotated.json()["counts"]["created"] == 6
    second_status = api.get(f"integrations/{second}/status", headers=other_tenant.admin).json()
    first_status = api.get(f"integrations/{first}/status", headers=tenant.admin).json()
    assert second_status["health"]["state"] != "stopped"
    assert first_status["health"]["state"] == "stopped"


def test_a_new_secret_keeps_the_saved_expiry_date_and_the_answer_says_so(
    api: httpx.Client, tenant: Tenant, sim: Simulator
) -> None:
    url = f"integrations/{connect(api, tenant, sim)['id']}"

    kept = api.patch(url, json={"client_secret": "another-value"}, headers=tenant.admin).json()
    given = api.patch(
        url,
        json={"client_secret": "third-value", "client_secret_expires_at": "2028-01-31"},
        headers=tenant.admin,
    ).json()

    assert kept["client_secret_expires_at"] == "2027-04-23T00:00:00Z"
    assert "2027-04-23" in kept["warnings"][0]
    assert given["client_secret_expires_at"] == "2028-01-31T00:00:00Z"
    assert given["warnings"] == []
