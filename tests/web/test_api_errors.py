"""Every error is the envelope; probes and the OpenAPI document are there."""

from __future__ import annotations

from pathlib import Path

import httpx

from roomsync.platform.db import Database
from roomsync.settings import Settings
from roomsync.web.app import create_app
from roomsync.web.server import serving_in_background
from tests.web.tenants import SUPER_ADMIN, Tenant, booking_json


def test_unknown_routes_answer_the_error_envelope(http: httpx.Client) -> None:
    response = http.get("/api/v1/rooms", headers=SUPER_ADMIN)
    assert response.status_code == 404
    assert response.json() == {
        "error": {
            "code": "not_found",
            "message": "There is no GET /api/v1/rooms in this API; see /docs.",
            "details": None,
        }
    }


def test_a_wrong_method_answers_405_in_the_envelope(http: httpx.Client) -> None:
    response = http.put("/api/v1/bookings", headers=SUPER_ADMIN)
    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"


def test_validation_errors_name_every_bad_field(api: httpx.Client, tenant: Tenant) -> None:
    response = api.post(
        "bookings",
        json={"resource_id": "not-a-uuid", "title": "", "start": "tomorrow", "colour": "red"},
        headers=tenant.admin,
    )
    assert response.status_code == 422
    error = response.json()["error"]
    fields = {detail["field"] for detail in error["details"]}
    assert fields == {"resource_id", "title", "start", "end", "colour"}  # organizer: optional
    for field in fields:
        assert f"{field}:" in error["message"]


def test_a_body_that_is_not_json_is_a_422_about_the_body(api: httpx.Client, tenant: Tenant) -> None:
    response = api.post(
        "bookings", content=b"{oops", headers={**tenant.admin, "Content-Type": "application/json"}
    )
    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["field"] == "body"


def test_a_malformed_if_match_is_a_422(api: httpx.Client, tenant: Tenant) -> None:
    booking = api.post(
        "bookings",
        json=booking_json(
            tenant.room_id, "2030-01-07T09:00:00Z", "2030-01-07T10:00:00Z", title="x"
        ),
        headers=tenant.admin,
    ).json()
    response = api.patch(
        f"bookings/{booking['id']}", json={}, headers={**tenant.admin, "If-Match": "yesterday"}
    )
    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["field"] == "If-Match"


def test_health_and_readiness_probes_answer_ok(http: httpx.Client) -> None:
    assert http.get("/healthz").json() == {"status": "ok"}
    ready = http.get("/readyz")
    assert (ready.status_code, ready.json()) == (200, {"status": "ok"})


def test_readiness_fails_until_the_database_is_migrated(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/unmigrated.db"
    database = Database(url)
    try:
        app = create_app(Settings(_env_file=None, database_url=url), database)
        with serving_in_background(app) as base_url:
            live = httpx.get(f"{base_url}/healthz")
            ready = httpx.get(f"{base_url}/readyz")
    finally:
        database.dispose()
    assert live.status_code == 200
    assert ready.status_code == 503
    assert "roomsync db upgrade" in ready.json()["reason"]


def test_the_openapi_document_lists_the_api(http: httpx.Client) -> None:
    document = http.get("/openapi.json").json()
    assert {
        "/api/v1/organizations",
        "/api/v1/buildings",
        "/api/v1/resources",
        "/api/v1/users",
        "/api/v1/bookings",
        "/api/v1/bookings/{booking_id}",
    } <= set(document["paths"])
    assert "HTTPBearer" in document["components"]["securitySchemes"]
