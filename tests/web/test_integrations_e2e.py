"""End to end over real HTTP: graphsim serving its tenant over HTTPS (its CA trusted through
``ROOMSYNC_CA_BUNDLE``), the roomsync API served by uvicorn with the sync context it builds
from its settings, and an admin driving the integration with curl-like calls. Also: the
client secret never shows in a log line, a response, an exception or the database."""

from __future__ import annotations

import logging
import traceback
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy import text

from graphsim import ServerHandle, serve
from roomsync.m365.exceptions import InvalidClientSecret
from roomsync.platform.db import Database
from roomsync.platform.enums import SyncRunTrigger
from roomsync.platform.models import Base
from roomsync.settings import Settings
from roomsync.sync.context import SyncContext
from roomsync.sync.rooms.workflow import sync_rooms
from roomsync.web.app import create_app
from roomsync.web.server import serving_in_background
from tests.sync.rooms_testkit import SECRET_KEY, tenant
from tests.web.tenants import ADMIN_TOKEN, Tenant

pytestmark = pytest.mark.slow


@pytest.fixture
def graph_server() -> Iterator[ServerHandle]:
    sim = tenant()
    try:
        with serve(sim) as handle:
            yield handle
    finally:
        sim.close()


@pytest.fixture
def server_settings(database_url: str, graph_server: ServerHandle) -> Settings:
    assert graph_server.ca_path is not None
    return Settings(
        _env_file=None,
        database_url=database_url,
        secret_key=SecretStr(SECRET_KEY),
        admin_token=SecretStr(ADMIN_TOKEN),
        login_url=graph_server.base_url,
        graph_url=graph_server.base_url,
        ca_bundle=Path(graph_server.ca_path),
    )


@pytest.fixture
def api(database: Database, server_settings: Settings) -> Iterator[httpx.Client]:
    app = create_app(server_settings, database)
    try:
        with (
            serving_in_background(app) as url,
            httpx.Client(base_url=f"{url}/api/v1/", timeout=60) as client,
        ):
            yield client
    finally:
        app.state.sync_context.close()


def configuration(handle: ServerHandle, secret: str) -> dict[str, Any]:
    sim = handle.simulator
    return {
        "tenant_id": sim.tenant_id,
        "client_id": sim.credentials.client_id,
        "client_secret": secret,
        "client_secret_expires_at": "2030-01-31",
        "service_account": sim.service_account,
        "time_zone": "Europe/Amsterdam",
        "field_mappings": [
            {"field": "name", "source": "displayName"},
            {"field": "capacity", "source": "capacity", "visible": False},
            {"field": "office", "source": "directory:officeLocation"},
        ],
    }


def test_an_admin_connects_checks_and_imports_rooms_over_https(
    api: httpx.Client, tenant: Tenant, graph_server: ServerHandle
) -> None:
    secret = graph_server.simulator.credentials.client_secret
    created = api.post(
        "integrations", json=configuration(graph_server, secret), headers=tenant.admin
    )
    assert created.status_code == 201, created.text
    integration_id = created.json()["id"]

    check = api.post(f"integrations/{integration_id}/check", headers=tenant.admin).json()
    imported = api.post(f"integrations/{integration_id}/sync/rooms", headers=tenant.admin).json()
    rooms = api.get("resources", params={"limit": 50}, headers=tenant.occupant).json()["items"]
    status = api.get(f"integrations/{integration_id}/status", headers=tenant.admin).json()

    assert check["ok"] is True, check
    assert (imported["outcome"], imported["counts"]["created"]) == ("succeeded", 6)
    imported_rooms = [room for room in rooms if room["name"].startswith("Room 0")]
    assert len(imported_rooms) == 6
    assert all("capacity" not in room for room in imported_rooms)
    assert all(room["attributes"]["office"].startswith("Building") for room in imported_rooms)
    assert [run["kind"] for run in status["runs"]["check"]] == ["check"]
    assert status["runs"]["rooms"][0]["counts"]["created"] == 6


def test_the_secret_never_appears_in_logs_responses_errors_or_the_database(
    *,
    api: httpx.Client,
    tenant: Tenant,
    graph_server: ServerHandle,
    server_settings: Settings,
    database: Database,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    sim = graph_server.simulator
    secret, wrong = sim.credentials.client_secret, "Wr0ng~secret-value-abc.123"
    seen: list[str] = []

    def call(method: str, url: str, **kwargs: Any) -> httpx.Response:
        response = api.request(method, url, headers=tenant.admin, **kwargs)
        seen.append(response.text)
        return response

    integration_id = call("POST", "integrations", json=configuration(graph_server, secret)).json()[
        "id"
    ]
    base = f"integrations/{integration_id}"
    for method, path in [("GET", base), ("POST", f"{base}/check"), ("POST", f"{base}/sync/rooms")]:
        assert call(method, path).status_code == 200
    call("PATCH", base, json={"client_secret": wrong})
    seen.append("".join(_exception_text(server_settings, database, integration_id)))
    assert call("POST", f"{base}/check").json()["ok"] is False
    assert call("POST", f"{base}/sync/rooms").status_code == 409
    call("PATCH", base, json={"client_secret": secret})
    sim.expire_client_secret()
    sim.expire_access_tokens()
    assert call("POST", f"{base}/sync/rooms").status_code == 502
    assert call("POST", f"{base}/check").json()["ok"] is False
    seen.append(httpx.get(str(api.base_url).replace("/api/v1/", "/metrics")).text)

    logged = caplog.text + "".join(str(r.args) for r in caplog.records)
    assert "AADSTS7000215" in "".join(seen)  # the wrong secret was refused …
    assert "AADSTS7000222" in "".join(seen)  # … and the expired one
    assert len(caplog.records) > 20  # DEBUG lines of httpx, msal and roomsync were captured
    for place, content in [
        ("responses", "".join(seen)),
        ("logs", logged),
        ("database", _dump(database)),
    ]:
        assert secret not in content, place
        assert wrong not in content, place


def _exception_text(settings: Settings, database: Database, integration_id: str) -> list[str]:
    """The error a workflow raises for the wrong secret, in every form it could be shown."""
    ctx = SyncContext.build(settings, database)
    try:
        sync_rooms(ctx, uuid.UUID(integration_id), trigger=SyncRunTrigger.MANUAL)
    except InvalidClientSecret as exc:
        return [str(exc), repr(exc), str(exc.details), *traceback.format_exception(exc)]
    finally:
        ctx.close()
    raise AssertionError("a wrong secret should have been refused")


def _dump(database: Database) -> str:
    with database.engine.connect() as connection:
        return "".join(
            str(row)
            for table in Base.metadata.sorted_tables
            for row in connection.execute(text(f"SELECT * FROM {table.name}"))
        )
