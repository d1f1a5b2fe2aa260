"""A tenant in listener mode with roomsync's webhooks served for real.

graphsim answers Graph calls in-process (the transport seam) and delivers its validation
requests and notifications over real HTTP to roomsync's app, served by uvicorn on a
loopback port that ``ROOMSYNC_PUBLIC_URL`` names. The runtime's queue is a SQLite file;
workers are started by the tests that want pulls to run.
"""

from __future__ import annotations

import contextlib
import socket
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from sqlalchemy import select

from graphsim import SimOptions
from roomsync.platform.db import Database
from roomsync.platform.enums import IntegrationMode
from roomsync.platform.models import Integration, RoomSyncState
from roomsync.runtime.runtime import Runtime
from roomsync.sync.context import SyncContext
from roomsync.web.app import create_app
from roomsync.web.server import serving_in_background
from tests.sync.harness import StepClock, Tenant, connect


@dataclass
class Listening:
    tenant: Tenant
    runtime: Runtime
    app: FastAPI
    base_url: str
    clock: StepClock

    @property
    def ctx(self) -> SyncContext:
        """The runtime's context: its settings name the served webhooks."""
        return self.runtime.ctx

    def state(self, room: str) -> RoomSyncState:
        with self.tenant.database.session() as session:
            return session.scalars(
                select(RoomSyncState).where(RoomSyncState.resource_id == self.tenant.rooms[room])
            ).one()

    def subscription_id(self, room: str) -> str | None:
        """The subscription roomsync recorded for ``room`` (None before its state exists)."""
        with self.tenant.database.session() as session:
            return session.scalar(
                select(RoomSyncState.subscription_id).where(
                    RoomSyncState.resource_id == self.tenant.rooms[room]
                )
            )

    def recorded(self, room: str) -> str:
        """The subscription roomsync recorded for ``room``, which must have one."""
        subscription_id = self.subscription_id(room)
        assert subscription_id is not None, f"{room} has no subscription recorded"
        return subscription_id

    def graph_subscriptions(self, room: str | None = None) -> list[dict[str, Any]]:
        """graphsim's live subscriptions, of one room's calendar or all."""
        found = self.tenant.sim.subscriptions()
        if room is None:
            return found
        return [s for s in found if s["resource"].lower() == f"/users/{room}/events".lower()]

    def set_mode(self, mode: IntegrationMode) -> None:
        with self.tenant.database.session() as session:
            session.get_one(Integration, self.tenant.integration_id).mode = mode


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextlib.contextmanager
def listening(
    database: Database, tmp_path: Path, *, rooms: int = 2, options: SimOptions | None = None
) -> Iterator[Listening]:
    tenant = connect(database, rooms=rooms, options=options)
    clock = StepClock()
    port = free_port()
    settings = tenant.ctx.settings.model_copy(
        update={
            "queue_url": f"sqlite:///{tmp_path}/queue-{uuid.uuid4().hex[:8]}.db",
            "public_url": f"http://127.0.0.1:{port}",
        }
    )
    runtime = Runtime(settings, database, transport=tenant.sim.transport(), clock=clock)
    app = create_app(settings, database, runtime=runtime)
    try:
        with serving_in_background(app, port=port) as base_url:
            listener = Listening(tenant, runtime, app, base_url, clock)
            listener.set_mode(IntegrationMode.LISTENER)
            yield listener
    finally:
        runtime.close()
        tenant.ctx.close()
        tenant.sim.close()


@contextlib.contextmanager
def workers(runtime: Runtime, count: int = 2) -> Iterator[None]:
    consumer = runtime.start_workers(workers=count, periodic=False)
    try:
        yield
    finally:
        consumer.stop(graceful=True)
