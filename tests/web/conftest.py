"""The REST API served for real: uvicorn on a loopback port, one server per test module
and database, talked to with httpx."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from roomsync.platform.db import Database
from roomsync.settings import Settings
from roomsync.web.app import create_app
from roomsync.web.server import serving_in_background
from tests.web.tenants import ADMIN_TOKEN, MAX_BOOKING_HOURS, Tenant, make_tenant


@pytest.fixture(scope="module")
def api_base_url(database_url: str) -> Iterator[str]:
    settings = Settings(
        _env_file=None,
        database_url=database_url,
        admin_token=SecretStr(ADMIN_TOKEN),
        max_booking_hours=MAX_BOOKING_HOURS,
    )
    database = Database(database_url)
    try:
        with serving_in_background(create_app(settings, database)) as url:
            yield url
    finally:
        database.dispose()


@pytest.fixture
def http(api_base_url: str, database: Database) -> Iterator[httpx.Client]:
    """A client of the server's root; the ``database`` dependency empties it afterwards."""
    with httpx.Client(base_url=api_base_url, timeout=60) as client:
        yield client


@pytest.fixture
def api(http: httpx.Client) -> httpx.Client:
    """The same client, rooted at ``/api/v1``."""
    http.base_url = http.base_url.join("/api/v1/")
    return http


@pytest.fixture
def tenant(factory: Any) -> Tenant:
    return make_tenant(factory, "Acme")


@pytest.fixture
def other_tenant(factory: Any) -> Tenant:
    return make_tenant(factory, "Globex")
