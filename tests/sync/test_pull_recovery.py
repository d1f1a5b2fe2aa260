"""Pull rounds that Graph resets, throttles or that die mid-way still end exact:
every meeting of the room's calendar is one live booking, and nothing else is."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from graphsim import SimOptions, ThrottleLimits
from roomsync.platform.db import Database
from roomsync.platform.enums import BookingStatus, SyncRunTrigger
from roomsync.sync.context import SyncContext
from roomsync.sync.pull.workflow import pull_bookings
from roomsync.sync.runs import RunReport
from tests.sync.harness import Tenant, connect, connected_tenant, tomorrow_at


class Killed(BaseException):
    """The process dies: nothing after this point runs (not an Exception, so no handler
    of ours catches it, as with SIGKILL)."""


class DyingTransport(httpx.BaseTransport):
    """Lets ``lives`` requests through to graphsim, then kills the caller."""

    def __init__(self, inner: httpx.BaseTransport, lives: int) -> None:
        self.inner, self.lives = inner, lives

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("$batch"):
            if self.lives <= 0:
                raise Killed
            self.lives -= 1
        return self.inner.handle_request(request)


@pytest.fixture
def tenant(database: Database) -> Iterator[Tenant]:
    with connected_tenant(database, rooms=2, integration_options={"page_size": 2}) as connected:
        yield connected


def pull(tenant: Tenant, ctx: SyncContext | None = None) -> RunReport:
    tenant.sim.settle()
    return pull_bookings(ctx or tenant.ctx, tenant.integration_id, trigger=SyncRunTrigger.MANUAL)


def book_day(tenant: Tenant, room: str, meetings: int) -> list[str]:
    organizer = tenant.users[0]
    return [
        tenant.sim.outlook.create_meeting(
            organizer, room, f"Slot {n}", tomorrow_at(7 + n), tomorrow_at(7 + n, 30)
        )
        for n in range(meetings)
    ]


def assert_platform_mirrors_outlook(tenant: Tenant) -> None:
    for room in tenant.room_emails:
        calendar = sorted(
            datetime.fromisoformat(event["start"]["dateTime"][:19]).replace(tzinfo=UTC)
            for event in tenant.room_calendar(room)
        )
        bookings = tenant.bookings(room)
        assert sorted(b.start_at for b in bookings) == calendar, room
        ids = [tenant.link_of(b.id).room_event_id for b in bookings]  # type: ignore[union-attr]
        assert len(set(ids)) == len(ids), f"duplicate bookings in {room}"


@pytest.mark.parametrize("break_token", ["expire", "reset"])
def test_an_expired_or_reset_delta_token_recovers_without_duplicates_or_losses(
    tenant: Tenant, break_token: str
) -> None:
    room, organizer = tenant.room_emails[0], tenant.users[0]
    meetings = book_day(tenant, room, 4)
    pull(tenant)
    tenant.sim.outlook.cancel_meeting(organizer, meetings[0])
    tenant.sim.outlook.move_meeting(organizer, meetings[1], tomorrow_at(18), tomorrow_at(19))
    book_day(tenant, tenant.room_emails[1], 1)
    if break_token == "expire":
        tenant.sim.expire_delta_tokens(room)
    else:
        tenant.sim.reset_delta(room)

    report = pull(tenant)

    assert report.counts["delta_resets"] == 1
    assert report.counts["reconciled_rooms"] >= 1
    assert_platform_mirrors_outlook(tenant)


def test_a_round_killed_between_pages_resumes_without_duplicates_or_losses(
    tenant: Tenant,
) -> None:
    for room in tenant.room_emails:
        book_day(tenant, room, 7)  # four pages of two per room
    dying = SyncContext.build(
        tenant.ctx.settings,
        tenant.database,
        transport=DyingTransport(tenant.sim.transport(), lives=3),
    )

    with pytest.raises(Killed):
        pull(tenant, dying)
    half_done = len(tenant.bookings())
    pull(tenant)

    assert 0 < half_done < 14
    assert_platform_mirrors_outlook(tenant)


def test_a_throttled_round_completes(database: Database) -> None:
    limits = ThrottleLimits(requests=2, window_seconds=1, concurrent=4)
    tenant = connect(
        database,
        rooms=3,
        options=SimOptions(seed=7, room_processing_delay=0.0, throttle=limits),
        integration_options={"page_size": 2},
    )
    try:
        for room in tenant.room_emails:
            book_day(tenant, room, 5)
        tenant.sim.requests.clear()

        pull(tenant)

        assert tenant.sim.requests.count(status=429) > 0
        assert_platform_mirrors_outlook(tenant)
    finally:
        tenant.ctx.close()
        tenant.sim.close()


def test_a_meeting_moved_beyond_the_window_is_moved_not_cancelled(tenant: Tenant) -> None:
    room, organizer = tenant.room_emails[0], tenant.users[0]
    meeting = tenant.sim.outlook.create_meeting(
        organizer, room, "Offsite", tomorrow_at(9), tomorrow_at(10)
    )
    pull(tenant)
    far = tomorrow_at(9) + timedelta(days=120)

    tenant.sim.outlook.move_meeting(organizer, meeting, far, far + timedelta(hours=1))
    report = pull(tenant)

    [booking] = tenant.bookings(room)
    assert booking.start_at == far
    assert booking.status is BookingStatus.CONFIRMED
    assert report.counts["verify_removal"] == 1


def test_a_room_calendar_that_comes_back_empty_is_not_trusted_to_cancel_everything(
    tenant: Tenant,
) -> None:
    room, organizer = tenant.room_emails[0], tenant.users[0]
    meetings = book_day(tenant, room, 6)
    pull(tenant)
    for meeting in meetings:
        tenant.sim.outlook.cancel_meeting(organizer, meeting)
    tenant.sim.expire_delta_tokens(room)

    report = pull(tenant)

    assert len(tenant.bookings(room)) == 6
    assert any("came back empty" in warning for warning in report.warnings)


class ShutdownDuringRound(httpx.BaseTransport):
    """Asks for a shutdown (the worker got SIGTERM) as the second $batch goes out."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner
        self.batches = 0
        self.stopping: threading.Event | None = None

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("$batch"):
            self.batches += 1
            if self.batches == 2 and self.stopping is not None:
                self.stopping.set()
        return self.inner.handle_request(request)


def test_a_shutdown_finishes_the_page_in_hand_and_the_next_round_resumes(
    tenant: Tenant,
) -> None:
    for room in tenant.room_emails:
        book_day(tenant, room, 7)
    transport = ShutdownDuringRound(tenant.sim.transport())
    stopping_ctx = SyncContext.build(tenant.ctx.settings, tenant.database, transport=transport)
    transport.stopping = stopping_ctx.stopping

    report = pull(tenant, stopping_ctx)
    part_done = len(tenant.bookings())
    pull(tenant)

    assert any("stopped early" in warning for warning in report.warnings)
    assert 0 < part_done < 14
    assert_platform_mirrors_outlook(tenant)
