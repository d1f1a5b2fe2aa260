"""No input reaches a 500: every bad field is a 422 naming it, the same on SQLite and
PostgreSQL, through the REST API served by uvicorn with a sync context into graphsim."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from graphsim import Simulator
from roomsync.platform.db import Database
from roomsync.web.app import create_app
from roomsync.web.server import serving_in_background
from tests.sync.rooms_testkit import context, settings, tenant
from tests.web.tenants import ADMIN_TOKEN, Tenant, booking_json, make_tenant

OVERFLOWING = ["0001-01-01T00:00:00+01:00", "9999-12-31T22:00:00-05:00"]


@pytest.fixture
def sim() -> Iterator[Simulator]:
    with tenant() as simulator:
        yield simulator


@pytest.fixture
def client(database: Database, sim: Simulator) -> Iterator[httpx.Client]:
    ctx = context(database, sim)
    app = create_app(settings(admin_token=SecretStr(ADMIN_TOKEN)), database, sync_context=ctx)
    try:
        with (
            serving_in_background(app) as url,
            httpx.Client(base_url=f"{url}/api/v1/", timeout=60) as http_client,
        ):
            yield http_client
    finally:
        ctx.close()


@pytest.fixture
def acme(factory: Any) -> Tenant:
    return make_tenant(factory, "Acme")


def refused_fields(response: httpx.Response) -> set[str]:
    """The fields a 422 in the error envelope names."""
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "invalid_input"
    return {detail["field"] for detail in error["details"]}


def connection(sim: Simulator, **changes: Any) -> dict[str, Any]:
    return {
        "tenant_id": sim.tenant_id,
        "client_id": sim.credentials.client_id,
        "client_secret": sim.credentials.client_secret,
        "service_account": sim.service_account,
        "time_zone": "Europe/Paris",
        **changes,
    }


@pytest.mark.parametrize("zone", ["America", "Europe/", "x" * 300, "Europe/Atlantis", ""])
def test_a_time_zone_outside_the_iana_list_is_a_422_naming_it(
    client: httpx.Client, acme: Tenant, sim: Simulator, zone: str
) -> None:
    building = {"name": "HQ", "time_zone": zone}
    assert refused_fields(client.post("buildings", json=building, headers=acme.admin)) == {
        "time_zone"
    }
    patch = client.patch(
        f"buildings/{acme.building_id}", json={"time_zone": zone}, headers=acme.admin
    )
    assert refused_fields(patch) == {"time_zone"}
    created = client.post("integrations", json=connection(sim, time_zone=zone), headers=acme.admin)
    assert refused_fields(created) == {"time_zone"}


@pytest.mark.parametrize("instant", OVERFLOWING)
def test_an_instant_that_would_overflow_in_utc_is_a_422_naming_the_field(
    client: httpx.Client, acme: Tenant, sim: Simulator, instant: str
) -> None:
    for field in ("start", "end"):
        body = booking_json(acme.room_id, **{field: instant})
        assert refused_fields(client.post("bookings", json=body, headers=acme.admin)) == {field}
        listed = client.get("bookings", params={field: instant}, headers=acme.admin)
        assert refused_fields(listed) == {field}
    expiring = connection(sim, client_secret_expires_at=instant)
    assert refused_fields(client.post("integrations", json=expiring, headers=acme.admin)) == {
        "client_secret_expires_at"
    }


@pytest.mark.parametrize("number", ["0.5", "1700000000", "-1"])
def test_a_number_is_not_taken_as_a_time(client: httpx.Client, acme: Tenant, number: str) -> None:
    listed = client.get("bookings", params={"start": number}, headers=acme.admin)
    assert refused_fields(listed) == {"start"}
    body = booking_json(acme.room_id, start=float(number))
    assert refused_fields(client.post("bookings", json=body, headers=acme.admin)) == {"start"}


def test_an_if_match_of_thousands_of_digits_is_a_422_naming_the_header(
    client: httpx.Client, acme: Tenant
) -> None:
    booking = client.post("bookings", json=booking_json(acme.room_id), headers=acme.admin).json()
    response = client.patch(
        f"bookings/{booking['id']}",
        json={"title": "Moved"},
        headers={**acme.admin, "If-Match": f'"{"9" * 5000}"'},
    )
    assert refused_fields(response) == {"If-Match"}
    assert client.get(f"bookings/{booking['id']}", headers=acme.admin).json()["title"] == "Planning"


def _nested(levels: int) -> dict[str, Any]:
    value: dict[str, Any] = {}
    for _ in range(levels - 1):
        value = {"a": value}
    return value


@pytest.mark.parametrize(
    "raw_attributes",
    [
        json.dumps(_nested(400)),
        '{"screen": NaN}',
        '{"screen": Infinity}',
        '{"screen": "\\u0000"}',
        '{"\\ud800": true}',
        json.dumps({"notes": "x" * 20_000}),
    ],
    ids=["400-levels", "nan", "infinity", "nul", "surrogate-key", "too-large"],
)
def test_room_attributes_are_bounded_json(
    client: httpx.Client, acme: Tenant, raw_attributes: str
) -> None:
    body = f'{{"building_id": "{acme.building_id}", "name": "Lab", "attributes": {raw_attributes}}}'
    headers = {**acme.admin, "Content-Type": "application/json"}
    assert refused_fields(client.post("resources", content=body, headers=headers)) == {"attributes"}
    patch = f'{{"attributes": {raw_attributes}}}'
    response = client.patch(f"resources/{acme.room_id}", content=patch, headers=headers)
    assert refused_fields(response) == {"attributes"}


def test_eight_levels_of_attributes_are_stored_as_given(client: httpx.Client, acme: Tenant) -> None:
    attributes = {"layout": _nested(7), "screen": 1.5}
    response = client.patch(
        f"resources/{acme.room_id}", json={"attributes": attributes}, headers=acme.admin
    )
    assert response.status_code == 200, response.text
    assert response.json()["attributes"] == attributes


@pytest.mark.parametrize("bad", ["HQ\\u0000", "\\ud800HQ", "HQ\\udfff"])
def test_a_name_with_nul_or_a_lone_surrogate_is_a_422_naming_it(
    client: httpx.Client, acme: Tenant, bad: str
) -> None:
    headers = {**acme.admin, "Content-Type": "application/json"}
    name = f'"name": "{bad}"'
    building = client.post("buildings", content=f'{{{name}, "time_zone": "UTC"}}', headers=headers)
    assert refused_fields(building) == {"name"}
    renamed = client.patch(
        f"organizations/{acme.organization_id}", content=f"{{{name}}}", headers=headers
    )
    assert refused_fields(renamed) == {"name"}


def test_a_five_megabyte_address_is_a_422_naming_it(client: httpx.Client, acme: Tenant) -> None:
    body = {"name": "HQ", "time_zone": "UTC", "address": "x" * 5_000_000}
    assert refused_fields(client.post("buildings", json=body, headers=acme.admin)) == {"address"}


def test_a_booking_outside_the_years_microsoft_365_takes_is_refused_saying_why(
    client: httpx.Client, factory: Any
) -> None:
    office = make_tenant(factory, "Office", room_email="room0001@contoso.onmicrosoft.com")
    factory.integration(office.organization_id)
    body = booking_json(office.room_id, "1899-12-31T09:00:00Z", "1899-12-31T10:00:00Z")
    response = client.post("bookings", json=body, headers=office.admin)
    assert refused_fields(response) == {"start", "end"}
    assert "Microsoft 365" in response.json()["error"]["message"]
    listed = client.get(
        "bookings", params={"resource_id": str(office.room_id)}, headers=office.admin
    )
    assert listed.json()["items"] == []


def test_bookings_are_listed_by_start_and_pages_neither_repeat_nor_skip(
    client: httpx.Client, acme: Tenant
) -> None:
    starts = ["2030-01-09T09:00:00Z", "2030-01-07T09:00:00Z", "2030-01-08T09:00:00Z"]
    starts += ["2030-01-07T11:00:00Z", "2030-01-06T09:00:00Z"]
    for start in starts:
        end = start.replace("T09:", "T10:").replace("T11:", "T12:")
        created = client.post(
            "bookings", json=booking_json(acme.room_id, start, end), headers=acme.admin
        )
        assert created.status_code == 201, created.text
    seen: list[str] = []
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = client.get("bookings", params=params, headers=acme.admin).json()
        seen += [item["start"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == sorted(starts)


def test_a_cursor_not_handed_out_is_a_422_naming_it(client: httpx.Client, acme: Tenant) -> None:
    for cursor in ["yesterday", uuid.uuid4().hex, "\u00fc"]:
        listed = client.get("bookings", params={"cursor": cursor}, headers=acme.admin)
        assert refused_fields(listed) == {"cursor"}


@pytest.mark.parametrize("bad", ["\\ud800", "a\\u0000b"], ids=["surrogate", "nul"])
def test_integration_texts_with_nul_or_a_lone_surrogate_are_a_422_naming_them(
    client: httpx.Client, acme: Tenant, sim: Simulator, bad: str
) -> None:
    headers = {**acme.admin, "Content-Type": "application/json"}
    base = json.dumps(connection(sim))[:-1]
    secret = client.post(
        "integrations", content=f'{base}, "client_secret": "{bad}"}}', headers=headers
    )
    assert refused_fields(secret) == {"client_secret"}
    lists = (
        f'{{"mode": "room_lists", "room_lists": [{{"email": "hq@contoso.test", "name": "{bad}"}}]}}'
    )
    selection = client.post(
        "integrations", content=f'{base}, "room_selection": {lists}}}', headers=headers
    )
    assert refused_fields(selection) == {"room_selection.room_lists.0.name"}


def test_an_expiry_date_outside_the_years_is_a_422_naming_it(
    client: httpx.Client, acme: Tenant, sim: Simulator
) -> None:
    body = connection(sim, client_secret_expires_at="0001-01-01")
    created = client.post("integrations", json=body, headers=acme.admin)
    assert refused_fields(created) == {"client_secret_expires_at"}
