"""A room import killed with ``kill -9`` leaves nothing hanging: its lease lapses one
``ROOMSYNC_LEASE_SECONDS`` after its last heartbeat, the next process that looks marks the
run ``interrupted`` with when it was last seen, and a manual import goes ahead.

The import runs in a real ``roomsync integration sync --rooms`` process against graphsim
served over HTTPS, slowed down on ``/places`` so that it is killed mid-listing. The
surviving side reads the aftermath with its clock set to the instant of the kill, then to
one lease period later, instead of sleeping through it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from graphsim import ServerHandle, serve
from roomsync.platform.db import Database
from roomsync.platform.enums import SyncRunKind, SyncRunOutcome, SyncRunTrigger
from roomsync.platform.models import Lease, SyncRun
from roomsync.settings import Settings
from roomsync.sync.context import SyncContext
from roomsync.sync.exceptions import LeaseHeldError
from roomsync.sync.integration.status import integration_status
from roomsync.sync.rooms.workflow import rooms_lease_name, sync_rooms
from tests.polling import eventually
from tests.sync.harness import SECRET_KEY, StepClock, Tenant, connected_tenant

pytestmark = pytest.mark.slow  # a real import process, killed mid-listing

LEASE_SECONDS = 5  # the smallest ROOMSYNC_LEASE_SECONDS the settings accept


@pytest.fixture
def tenant(database: Database) -> Iterator[Tenant]:
    with connected_tenant(database, rooms=3) as connected:
        yield connected


@pytest.fixture
def served(tenant: Tenant) -> Iterator[ServerHandle]:
    with serve(tenant.sim) as handle:
        yield handle


def start_import(
    tenant: Tenant, served: ServerHandle, database_url: str, workdir: Path
) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "ROOMSYNC_DATABASE_URL": database_url,
        "ROOMSYNC_QUEUE_URL": f"sqlite:///{workdir / 'queue.db'}",
        "ROOMSYNC_SECRET_KEY": SECRET_KEY.get_secret_value(),
        "ROOMSYNC_LOGIN_URL": served.base_url,
        "ROOMSYNC_GRAPH_URL": served.base_url,
        "ROOMSYNC_CA_BUNDLE": str(served.ca_path),
        "ROOMSYNC_LEASE_SECONDS": str(LEASE_SECONDS),
    }
    command = [sys.executable, "-m", "roomsync", "integration", "sync"]
    return subprocess.Popen(
        [*command, str(tenant.integration_id), "--rooms", "--json"],
        cwd=workdir,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def survivor(tenant: Tenant, clock: StepClock) -> SyncContext:
    """The next process to look, with the same ``ROOMSYNC_LEASE_SECONDS``."""
    settings = Settings(_env_file=None, secret_key=SECRET_KEY, lease_seconds=LEASE_SECONDS)
    return SyncContext.build(
        settings, tenant.database, transport=tenant.sim.transport(), clock=clock
    )


def running_rooms_runs(tenant: Tenant) -> list[SyncRun]:
    with tenant.database.session() as session:
        return list(
            session.scalars(
                select(SyncRun).where(
                    SyncRun.kind == SyncRunKind.ROOMS, SyncRun.outcome == SyncRunOutcome.RUNNING
                )
            )
        )


def rooms_lease_held(tenant: Tenant) -> bool:
    with tenant.database.session() as session:
        return session.get(Lease, rooms_lease_name(tenant.integration_id)) is not None


def test_an_import_killed_mid_listing_is_interrupted_and_a_manual_one_runs_within_the_lease(
    tenant: Tenant, served: ServerHandle, database_url: str, tmp_path: Path
) -> None:
    tenant.sim.inject_latency(60_000, path_contains="/places")
    child = start_import(tenant, served, database_url, tmp_path)
    try:
        assert eventually(
            lambda: bool(running_rooms_runs(tenant)) and rooms_lease_held(tenant),
            timeout=60,
            every=0.25,
        ), "Timed out waiting for the import process to start its run."
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
    killed_at = datetime.now(UTC)
    tenant.sim.clear_faults()
    [dead] = running_rooms_runs(tenant)

    clock = StepClock(killed_at)
    ctx = survivor(tenant, clock)
    try:
        with pytest.raises(LeaseHeldError):  # the dead run's lease has not lapsed yet
            sync_rooms(ctx, tenant.integration_id, trigger=SyncRunTrigger.MANUAL)
        [seen_alive] = integration_status(ctx, tenant.integration_id).runs[SyncRunKind.ROOMS]
        assert seen_alive.outcome is SyncRunOutcome.RUNNING  # not yet silent for a lease period

        clock.now = killed_at + timedelta(seconds=LEASE_SECONDS)
        report = sync_rooms(ctx, tenant.integration_id, trigger=SyncRunTrigger.MANUAL)
        status = integration_status(ctx, tenant.integration_id)
    finally:
        ctx.close()

    assert report.counts["listed"] == 3
    runs = {run.id: run for kind in SyncRunKind for run in status.runs[kind]}
    assert runs[dead.id].outcome is SyncRunOutcome.INTERRUPTED
    assert runs[dead.id].last_seen_at is not None
    assert dead.started_at <= runs[dead.id].last_seen_at <= killed_at
    assert any("last seen alive at" in error for error in runs[dead.id].errors)
    assert runs[report.run_id].outcome is SyncRunOutcome.SUCCEEDED
    assert [run for run in runs.values() if run.outcome is SyncRunOutcome.RUNNING] == []
