"""What the API answers is what its OpenAPI description says: ``Allow`` on a 405 lists
every method of the path, and 400, 401 and 409 are declared where they are answered."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.web.tenants import SUPER_ADMIN, Tenant, booking_json


@pytest.fixture
def description(http: httpx.Client) -> dict[str, Any]:
    paths: dict[str, Any] = http.get("/openapi.json").json()["paths"]
    return paths


def test_a_405_lists_every_method_of_the_path_in_allow(api: httpx.Client, tenant: Tenant) -> None:
    booking = api.post("bookings", json=booking_json(tenant.room_id), headers=tenant.admin).json()
    single = api.put(f"bookings/{booking['id']}", headers=tenant.admin)
    assert (single.status_code, single.headers["Allow"]) == (405, "DELETE, GET, PATCH")
    collection = api.request("OPTIONS", "buildings", headers=tenant.admin)
    assert (collection.status_code, collection.headers["Allow"]) == (405, "GET, POST")
    assert "use GET, POST" in collection.json()["error"]["message"]


def test_a_body_that_is_not_utf8_is_a_400_in_the_envelope(api: httpx.Client) -> None:
    headers = {**SUPER_ADMIN, "Content-Type": "application/json"}
    response = api.post("organizations", content=b'{"name": "\xff\xfe"}', headers=headers)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "malformed_body"


def test_every_operation_with_a_body_declares_its_400(description: dict[str, Any]) -> None:
    with_body = [
        (path, method, operation["responses"])
        for path, item in description.items()
        for method, operation in item.items()
        if "requestBody" in operation
    ]
    assert len(with_body) >= 10
    assert [(path, method) for path, method, responses in with_body if "400" not in responses] == []


def test_duplicates_and_a_missing_token_are_declared(description: dict[str, Any]) -> None:
    assert "409" in description["/api/v1/users"]["post"]["responses"]
    assert "409" in description["/api/v1/buildings"]["post"]["responses"]
    retry = description["/api/v1/bookings/{booking_id}/sync/retry"]["post"]["responses"]
    assert {"401", "403", "404", "409"} <= set(retry)


def test_a_patch_field_that_refuses_null_is_not_described_as_nullable(http: httpx.Client) -> None:
    schemas = http.get("/openapi.json").json()["components"]["schemas"]
    building = schemas["BuildingPatch"]["properties"]
    assert "anyOf" not in building["name"]
    assert building["name"]["type"] == "string"
    assert {"type": "null"} in building["address"]["anyOf"]


def test_listing_bookings_documents_the_order_by_start(description: dict[str, Any]) -> None:
    assert "by start" in description["/api/v1/bookings"]["get"]["summary"]
