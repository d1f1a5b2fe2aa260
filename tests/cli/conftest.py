"""Fixtures of the command-line tests that talk to Microsoft 365: graphsim serving its
tenant over HTTPS, the environment an operator would set, and a connected integration."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from graphsim import ServerHandle, serve
from roomsync.platform.db import Database
from roomsync.sync.context import SyncContext
from tests.sync.rooms_testkit import SECRET_KEY, connect, settings, tenant


@pytest.fixture
def graph_server() -> Iterator[ServerHandle]:
    with tenant() as sim, serve(sim) as handle:
        yield handle


@pytest.fixture
def environment(database_url: str, graph_server: ServerHandle) -> dict[str, str]:
    assert graph_server.ca_path is not None
    return {
        "ROOMSYNC_DATABASE_URL": database_url,
        "ROOMSYNC_SECRET_KEY": SECRET_KEY,
        "ROOMSYNC_LOGIN_URL": graph_server.base_url,
        "ROOMSYNC_GRAPH_URL": graph_server.base_url,
        "ROOMSYNC_CA_BUNDLE": graph_server.ca_path,
    }


@pytest.fixture
def integration_id(database: Database, factory: Any, graph_server: ServerHandle) -> str:
    ctx = SyncContext.build(settings(), database)
    try:
        return str(connect(ctx, graph_server.simulator, factory.organization("Contoso")))
    finally:
        ctx.close()
