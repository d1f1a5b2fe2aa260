"""Midnight reconciliation: rooms gone from Microsoft 365 are retired, never on a failed,
partial or suspiciously short listing, and their future bookings are cancelled and
reported without a push."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from graphsim import Simulator
from graphsim.control.seeding import add_room
from roomsync.m365.exceptions import ServiceUnavailable
from roomsync.platform.db import Database
from roomsync.platform.enums import (
    BookingStatus,
    ChangeSource,
    OutboxAction,
    SyncRunKind,
    SyncRunOutcome,
    SyncRunTrigger,
)
from roomsync.platform.models import Booking, OutboxEntry, Resource, SyncRun
from roomsync.platform.services.bookings import create_booking
from roomsync.sync.context import SyncContext
from roomsync.sync.rooms.reconcile import next_local_midnight, reconcile_rooms
from roomsync.sync.rooms.workflow import sync_rooms
from tests.sync.rooms_testkit import (
    connect,
    context,
    remove_room,
    room_lists,
    selection_with_a_gone_list,
    tenant,
)

SCHEDULE = SyncRunTrigger.SCHEDULE
ROOM = "room{:04d}@contoso.onmicrosoft.com"


def room(ctx: SyncContext, email: str) -> Resource:
    with ctx.database.session() as session:
        return session.scalars(select(Resource).where(Resource.email == email)).one()


def book(
    ctx: SyncContext,
    resource: Resource,
    start: datetime,
    *,
    source: ChangeSource = ChangeSource.PLATFORM,
    private: bool = False,
) -> uuid.UUID:
    with ctx.database.session() as session:
        return create_booking(
            session,
            organization_id=resource.organization_id,
            resource_id=resource.id,
            organizer_email="ann@contoso.onmicrosoft.com",
            title="Quarterly review",
            start=start,
            end=start + timedelta(hours=1),
            private=private,
            source=source,
        ).id


def test_a_room_gone_from_microsoft_365_is_retired_and_its_future_bookings_cancelled(
    ctx: SyncContext, sim: Simulator, organization_id: uuid.UUID
) -> None:
    integration_id = connect(ctx, sim, organization_id)
    sync_rooms(ctx, integration_id, trigger=SCHEDULE)
    doomed = room(ctx, ROOM.format(1))
    now = datetime.now(UTC).replace(microsecond=0)
    future = book(ctx, doomed, now + timedelta(days=2))
    private = book(ctx, doomed, now + timedelta(days=3), private=True)
    past = book(ctx, doomed, now - timedelta(days=2), source=ChangeSource.MICROSOFT365)
    remove_room(sim, ROOM.format(1))

    report = reconcile_rooms(ctx, integration_id, trigger=SCHEDULE)

    assert (report.counts["retired"], report.counts["bookings_cancelled"]) == (1, 2)
    retired = room(ctx, ROOM.format(1))
    assert not retired.active
    assert retired.retired_at is not None
    with ctx.database.session() as session:
        statuses = {b.id: b for b in session.scalars(select(Booking))}
        pushes = session.scalars(select(OutboxEntry.action)).all()
    assert statuses[future].status is BookingStatus.CANCELLED
    assert "removed from Microsoft 365" in (statuses[future].status_reason or "")
    assert statuses[past].status is not BookingStatus.CANCELLED
    assert OutboxAction.CANCEL not in pushes  # cancelled as the room's decision: no push
    text = "\n".join(report.warnings)
    assert ROOM.format(1) in text
    assert str(future) in text
    assert "'Quarterly review'" in text
    assert f"{private} (a private booking" in text
    assert room(ctx, ROOM.format(2)).active


def test_the_half_hourly_import_never_retires_a_room(
    ctx: SyncContext, sim: Simulator, organization_id: uuid.UUID
) -> None:
    integration_id = connect(ctx, sim, organization_id)
    sync_rooms(ctx, integration_id, trigger=SCHEDULE)
    remove_room(sim, ROOM.format(1))

    report = sync_rooms(ctx, integration_id, trigger=SCHEDULE)

    assert report.counts["retired"] == 0
    assert room(ctx, ROOM.format(1)).active


@pytest.fixture
def ten_rooms() -> Iterator[Simulator]:
    with tenant(rooms=10) as sim:
        yield sim


@pytest.fixture
def big_ctx(database: Database, ten_rooms: Simulator) -> Iterator[SyncContext]:
    built = context(database, ten_rooms)
    yield built
    built.close()


def test_losing_a_fifth_of_the_rooms_at_once_is_trusted(
    big_ctx: SyncContext, ten_rooms: Simulator, organization_id: uuid.UUID
) -> None:
    integration_id = connect(big_ctx, ten_rooms, organization_id)
    sync_rooms(big_ctx, integration_id, trigger=SCHEDULE)
    for n in (1, 2):
        remove_room(ten_rooms, ROOM.format(n))

    report = reconcile_rooms(big_ctx, integration_id, trigger=SCHEDULE)

    assert report.counts["retired"] == 2


def test_losing_more_than_a_fifth_needs_a_forced_run(
    big_ctx: SyncContext, ten_rooms: Simulator, organization_id: uuid.UUID
) -> None:
    integration_id = connect(big_ctx, ten_rooms, organization_id)
    sync_rooms(big_ctx, integration_id, trigger=SCHEDULE)
    for n in (1, 2, 3):
        remove_room(ten_rooms, ROOM.format(n))

    refused = reconcile_rooms(big_ctx, integration_id, trigger=SCHEDULE)

    assert refused.outcome is SyncRunOutcome.WARNING
    assert refused.counts["retired"] == 0
    assert "3 of 10 rooms are missing" in refused.warnings[-1]
    assert "--force" in refused.warnings[-1]
    assert room(big_ctx, ROOM.format(1)).active

    forced = reconcile_rooms(big_ctx, integration_id, trigger=SyncRunTrigger.MANUAL, force=True)

    assert forced.counts["retired"] == 3
    assert not room(big_ctx, ROOM.format(3)).active


def test_an_empty_listing_retires_nothing_unless_forced(
    ctx: SyncContext, sim: Simulator, organization_id: uuid.UUID
) -> None:
    integration_id = connect(ctx, sim, organization_id)
    sync_rooms(ctx, integration_id, trigger=SCHEDULE)
    for n in range(1, 7):
        remove_room(sim, ROOM.format(n))

    refused = reconcile_rooms(ctx, integration_id, trigger=SCHEDULE)
    assert refused.counts["retired"] == 0
    assert "listed no rooms at all" in refused.warnings[-1]

    forced = reconcile_rooms(ctx, integration_id, trigger=SCHEDULE, force=True)
    assert forced.counts["retired"] == 6


def test_a_partial_listing_never_retires_even_when_forced(
    ctx: SyncContext, sim: Simulator, organization_id: uuid.UUID
) -> None:
    selection, present = selection_with_a_gone_list(sim)
    integration_id = connect(ctx, sim, organization_id, room_selection=selection)
    sync_rooms(ctx, integration_id, trigger=SCHEDULE)
    victim = room_lists(sim)[present][0]
    remove_room(sim, victim)

    report = reconcile_rooms(ctx, integration_id, trigger=SCHEDULE, force=True)

    assert report.counts["retired"] == 0
    assert "incomplete" in report.warnings[-1]
    assert room(ctx, victim).active


def test_a_failed_listing_retires_nothing_and_is_recorded_as_failed(
    ctx: SyncContext, sim: Simulator, organization_id: uuid.UUID
) -> None:
    integration_id = connect(ctx, sim, organization_id)
    sync_rooms(ctx, integration_id, trigger=SCHEDULE)
    sim.fail_next(20, status=503, path_contains="/places")

    with pytest.raises(ServiceUnavailable):
        reconcile_rooms(ctx, integration_id, trigger=SCHEDULE, force=True)

    assert all(room(ctx, ROOM.format(n)).active for n in range(1, 7))
    with ctx.database.session() as session:
        run = session.scalars(select(SyncRun).where(SyncRun.kind == SyncRunKind.RECONCILE)).one()
        assert run.outcome is SyncRunOutcome.FAILED
        assert "503" in run.errors[0]


def test_a_retired_room_that_comes_back_is_reactivated(
    ctx: SyncContext, sim: Simulator, organization_id: uuid.UUID
) -> None:
    integration_id = connect(ctx, sim, organization_id)
    sync_rooms(ctx, integration_id, trigger=SCHEDULE)
    remove_room(sim, ROOM.format(6))
    reconcile_rooms(ctx, integration_id, trigger=SCHEDULE)
    with sim.core.lock:
        add_room(sim.core, ROOM.format(6), "Room 0006 (rebuilt)")

    report = sync_rooms(ctx, integration_id, trigger=SCHEDULE)

    assert report.counts["reactivated"] == 1
    back = room(ctx, ROOM.format(6))
    assert back.active
    assert back.retired_at is None
    assert back.name == "Room 0006 (rebuilt)"


AMSTERDAM = ZoneInfo("Europe/Amsterdam")


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        ("2026-03-28T12:00:00+00:00", "2026-03-28T23:00:00+00:00"),  # winter time, CET
        ("2026-03-29T12:00:00+00:00", "2026-03-29T22:00:00+00:00"),  # the day DST begins
        ("2026-10-25T12:00:00+00:00", "2026-10-25T23:00:00+00:00"),  # the day DST ends
        ("2026-10-24T22:30:00+00:00", "2026-10-25T23:00:00+00:00"),  # just past midnight
    ],
)
def test_next_local_midnight_follows_daylight_saving_time(now: str, expected: str) -> None:
    found = next_local_midnight(datetime.fromisoformat(now), AMSTERDAM)
    assert found == datetime.fromisoformat(expected)
    assert found.tzinfo is not None
    assert found.utcoffset() == timedelta(0)


def test_where_dst_skips_midnight_the_day_starts_at_the_jump() -> None:
    santiago = ZoneInfo("America/Santiago")  # clocks go from 00:00 to 01:00 on 6 Sep 2026
    found = next_local_midnight(datetime(2026, 9, 5, 16, tzinfo=UTC), santiago)
    assert found == datetime(2026, 9, 6, 4, tzinfo=UTC)
    assert found.astimezone(santiago).hour == 1


@given(
    now=st.datetimes(
        min_value=datetime(2000, 1, 1), max_value=datetime(2037, 12, 31), timezones=st.just(UTC)
    ),
    zone=st.sampled_from(
        ["Europe/Amsterdam", "America/Santiago", "Australia/Lord_Howe", "Asia/Kolkata", "UTC"]
    ),
)
def test_next_local_midnight_is_the_first_instant_of_the_next_local_day(
    now: datetime, zone: str
) -> None:
    tz = ZoneInfo(zone)
    found = next_local_midnight(now, tz)
    assert found > now
    assert found.astimezone(tz).date() == now.astimezone(tz).date() + timedelta(days=1)
    assert (found - timedelta(microseconds=1)).astimezone(tz).date() == now.astimezone(tz).date()
