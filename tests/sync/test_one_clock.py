"""The sync context and its database share one clock: a booking edited on the platform
is stamped on the same timeline the sync compares it with."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from pydantic import SecretStr

from roomsync.platform.db import Database
from roomsync.runtime.runtime import Runtime
from roomsync.settings import Settings
from roomsync.sync.context import SyncContext
from tests.sync.harness import StepClock, connected_tenant, tomorrow_at
from tests.sync.push_support import book, move

T0 = datetime(2031, 5, 6, 7, 0, tzinfo=UTC)
SETTINGS = Settings(_env_file=None, secret_key=SecretStr("one-clock-test-key-0123456789abcdefgh"))


def test_a_context_built_with_a_clock_makes_it_the_clock_of_its_database(
    database: Database,
) -> None:
    clock = StepClock(T0)
    ctx = SyncContext.build(SETTINGS, database, clock=clock)
    try:
        assert ctx.clock is clock
        assert database.now() == T0
    finally:
        ctx.close()


def test_a_context_built_without_a_clock_reads_the_clock_of_its_database(
    database: Database,
) -> None:
    database.clock = StepClock(T0)
    ctx = SyncContext.build(SETTINGS, database)
    try:
        assert ctx.clock() == T0
    finally:
        ctx.close()


def test_a_runtime_built_with_a_clock_stamps_rows_by_it(database: Database, tmp_path: Path) -> None:
    clock = StepClock(T0)
    settings = SETTINGS.model_copy(update={"queue_url": f"sqlite:///{tmp_path}/queue.db"})
    runtime = Runtime(settings, database, clock=clock)
    try:
        assert (runtime.ctx.clock, database.clock) == (clock, clock)
    finally:
        runtime.close()


def test_a_platform_edit_is_stamped_by_the_clock_the_sync_reads(database: Database) -> None:
    booked_at = datetime.now(UTC).replace(microsecond=0)
    clock = StepClock(booked_at)
    with connected_tenant(database, rooms=1, clock=clock) as tenant:
        booking_id = book(tenant, tenant.room_emails[0], tomorrow_at(9), tomorrow_at(10))
        clock.now = moved_at = booked_at + timedelta(minutes=3)
        move(tenant, booking_id, tomorrow_at(11), tomorrow_at(12))

        booking = tenant.booking(booking_id)
        assert (booking.created_at, booking.updated_at) == (booked_at, moved_at)
        assert tenant.ctx.clock() == moved_at
