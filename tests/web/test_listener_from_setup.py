"""Listener mode from the first minute: an integration created through the API in
listener mode imports its rooms, subscribes them and catches up at once, with no manual
sync and no scheduler tick (the workers here run no periodic task)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy import select

from graphsim import SimOptions, Simulator
from roomsync.platform.db import Database
from roomsync.platform.models import Booking
from roomsync.runtime.runtime import Runtime
from roomsync.settings import Settings
from roomsync.web.app import create_app
from roomsync.web.server import serving_in_background
from tests.polling import eventually
from tests.sync.harness import SECRET_KEY, tomorrow_at
from tests.sync.listener_harness import free_port, workers
from tests.web.tenants import ADMIN_TOKEN, SUPER_ADMIN

pytestmark = pytest.mark.slow  # uvicorn, queue workers and graphsim's notifier

SUBSCRIBED_SECONDS = 10.0
ARRIVAL_SECONDS = 5.0


@pytest.fixture
def sim() -> Iterator[Simulator]:
    simulator = Simulator(seed=11, options=SimOptions(seed=11, room_processing_delay=0.0))
    simulator.seed(
        rooms=2, room_lists=1, users=2, events_per_room=0, recurring_series=0, private_meetings=0
    )
    try:
        yield simulator
    finally:
        simulator.close()


@pytest.fixture
def api(database: Database, sim: Simulator, tmp_path: Path) -> Iterator[httpx.Client]:
    port = free_port()
    settings = Settings(
        _env_file=None,
        secret_key=SECRET_KEY,
        admin_token=SecretStr(ADMIN_TOKEN),
        queue_url=f"sqlite:///{tmp_path}/queue-{uuid.uuid4().hex[:8]}.db",
        public_url=f"http://127.0.0.1:{port}",
    )
    runtime = Runtime(settings, database, transport=sim.transport())
    try:
        with (
            serving_in_background(create_app(settings, database, runtime=runtime), port=port),
            workers(runtime),
            httpx.Client(base_url=f"{settings.public_url}/api/v1/", timeout=30) as client,
        ):
            yield client
    finally:
        runtime.close()


def bookings(database: Database) -> list[tuple[str, Any]]:
    with database.session() as session:
        return [(b.title, b.start_at) for b in session.scalars(select(Booking))]


def test_an_integration_created_in_listener_mode_listens_within_seconds(
    api: httpx.Client, sim: Simulator, database: Database
) -> None:
    room, organizer = sorted(sim.tenant.rooms)[0], sorted(sim.tenant.users)[0]
    organizer_mail = sim.tenant.users[organizer].mail
    sim.outlook.create_meeting(organizer_mail, room, "Before", tomorrow_at(8), tomorrow_at(9))
    organization = api.post("organizations", json={"name": "Contoso"}, headers=SUPER_ADMIN)
    body = {
        "organization_id": organization.json()["id"],
        "tenant_id": sim.tenant_id,
        "client_id": sim.credentials.client_id,
        "client_secret": sim.credentials.client_secret,
        "time_zone": "Europe/Paris",
        "mode": "listener",
    }

    assert api.post("integrations", json=body, headers=SUPER_ADMIN).status_code == 201
    assert eventually(lambda: len(sim.subscriptions()) == 2, SUBSCRIBED_SECONDS)
    assert eventually(lambda: len(bookings(database)) == 1, ARRIVAL_SECONDS), "caught up"
    sim.outlook.create_meeting(organizer_mail, room, "After", tomorrow_at(10), tomorrow_at(11))

    assert eventually(lambda: len(bookings(database)) == 2, ARRIVAL_SECONDS)
