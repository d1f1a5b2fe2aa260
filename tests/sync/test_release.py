"""Releasing bookings nobody checked in to, against the emulated tenant: the room is freed
in Exchange too (a platform booking's meeting cancelled with a comment, an Outlook-born one
losing its room), once, however many releasers run and wherever one dies."""

from __future__ import annotations

import dataclasses
import threading
import uuid
from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest

from roomsync.platform.db import Database
from roomsync.platform.enums import BookingStatus, OutboxState
from roomsync.platform.services.checkin import check_in, release_due_bookings
from roomsync.sync.context import SyncContext
from roomsync.sync.push.graph import RELEASE_COMMENT
from roomsync.sync.push.workflow import sweep_outbox
from tests.sync.checkin_testkit import require_checkin
from tests.sync.harness import StepClock, Tenant, tomorrow_at
from tests.sync.push_support import book, connected, meetings, outbox_rows, pull, push

START = tomorrow_at(9)


@pytest.fixture
def clock() -> StepClock:
    return StepClock(START - timedelta(hours=2))


@pytest.fixture
def tenant(database: Database, clock: StepClock) -> Iterator[Tenant]:
    with connected(database, clock=clock) as tenant:
        require_checkin(tenant, now=clock())
        yield tenant


class Recording(httpx.BaseTransport):
    """Passes every request to graphsim and keeps the bodies sent (graphsim does not keep a
    cancellation's comment)."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner
        self.sent: list[tuple[str, str]] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.sent.append((request.url.path, request.content.decode()))
        return self.inner.handle_request(request)


def _context(tenant: Tenant, transport: httpx.BaseTransport) -> SyncContext:
    built = SyncContext.build(
        tenant.ctx.settings, tenant.database, transport=transport, clock=tenant.ctx.clock
    )
    return dataclasses.replace(built, sleep=lambda _seconds: None)


def _release(tenant: Tenant) -> list[uuid.UUID]:
    with tenant.database.session() as session:
        return release_due_bookings(session)


def _room_holds_slot(tenant: Tenant, room: str) -> bool:
    return any(
        not event.get("isCancelled")
        and event["start"]["dateTime"].startswith(START.strftime("%Y-%m-%dT%H"))
        for event in tenant.room_calendar(room)
    )


def test_a_platform_booking_not_checked_in_is_cancelled_in_outlook_with_a_comment(
    tenant: Tenant, clock: StepClock
) -> None:
    room, organizer = tenant.room_emails[0], tenant.users[0]
    booking_id = book(tenant, room, START, START + timedelta(hours=1))
    push(tenant, booking_id)
    pull(tenant)
    assert _room_holds_slot(tenant, room)

    clock.now = START + timedelta(minutes=10)
    released = _release(tenant)
    recording = Recording(tenant.sim.transport())
    push(tenant, booking_id, _context(tenant, recording))

    assert released == [booking_id]
    assert tenant.booking(booking_id).status is BookingStatus.RELEASED
    [comment] = [body for path, body in recording.sent if path.endswith("/cancel")]
    assert RELEASE_COMMENT in comment
    assert meetings(tenant.sim, organizer) == []
    assert not _room_holds_slot(tenant, room)
    pull(tenant)  # the room's copy going away changes nothing more
    assert tenant.booking(booking_id).status is BookingStatus.RELEASED


def test_an_outlook_born_booking_not_checked_in_loses_its_room_in_outlook(
    tenant: Tenant, clock: StepClock
) -> None:
    room, organizer = tenant.room_emails[0], tenant.users[0]
    tenant.sim.outlook.create_meeting(organizer, room, "Review", START, START + timedelta(hours=1))
    pull(tenant)
    [booking] = tenant.bookings(room)

    clock.now = START + timedelta(minutes=10)
    assert _release(tenant) == [booking.id]
    push(tenant, booking.id)
    pull(tenant)

    [meeting] = meetings(tenant.sim, organizer)
    assert room not in {a["emailAddress"]["address"] for a in meeting["attendees"]}
    assert not _room_holds_slot(tenant, room)
    assert tenant.booking(booking.id).status is BookingStatus.RELEASED


def test_a_checked_in_booking_is_kept_in_outlook(tenant: Tenant, clock: StepClock) -> None:
    room = tenant.room_emails[0]
    booking_id = book(tenant, room, START, START + timedelta(hours=1))
    push(tenant, booking_id)
    pull(tenant)
    clock.now = START + timedelta(minutes=3)
    with tenant.database.session() as session:
        check_in(session, booking_id=booking_id, actor="test")

    clock.now = START + timedelta(minutes=30)

    assert _release(tenant) == []
    assert tenant.booking(booking_id).status is BookingStatus.CONFIRMED
    assert _room_holds_slot(tenant, room)


def test_two_releasers_at_once_release_each_booking_once(tenant: Tenant, clock: StepClock) -> None:
    bookings = [
        book(tenant, room, START, START + timedelta(hours=1)) for room in tenant.room_emails
    ]
    clock.now = START + timedelta(minutes=11)
    results: list[list[uuid.UUID]] = []
    barrier = threading.Barrier(2)

    def releaser() -> None:
        barrier.wait()
        results.append(_release(tenant))

    threads = [threading.Thread(target=releaser) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(results[0] + results[1]) == sorted(bookings)
    for booking_id in bookings:
        releases = [row for row in outbox_rows(tenant, booking_id) if row.action == "cancel"]
        assert len(releases) == 1


def test_a_release_whose_process_died_before_the_graph_call_is_sent_once_later(
    tenant: Tenant, clock: StepClock
) -> None:
    room, organizer = tenant.room_emails[0], tenant.users[0]
    booking_id = book(tenant, room, START, START + timedelta(hours=1))
    push(tenant, booking_id)
    clock.now = START + timedelta(minutes=10)
    _release(tenant)  # committed; the process is killed before it pushes

    clock.now += timedelta(minutes=1)
    sweep_outbox(tenant.ctx)
    tenant.sim.settle()
    sweep_outbox(tenant.ctx)
    _release(tenant)

    assert tenant.sim.requests.count(method="POST", path_contains="/cancel") == 1
    assert meetings(tenant.sim, organizer) == []
    assert all(row.state is OutboxState.DONE for row in outbox_rows(tenant, booking_id))
