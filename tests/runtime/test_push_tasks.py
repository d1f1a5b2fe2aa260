"""The queue side of pushes: a booking change's commit queues its push, a worker sends it and
reads the room's answer back, and the sweep delivers what a lost message left behind."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from roomsync.platform.db import Database
from roomsync.platform.enums import BookingStatus, OutboxState
from roomsync.runtime.runtime import Runtime
from tests.polling import eventually
from tests.sync.harness import StepClock, Tenant, tomorrow_at
from tests.sync.push_support import (
    book,
    connected,
    meetings,
    move,
    outbox_rows,
    pending_rows,
    span,
)


@pytest.fixture
def clock() -> StepClock:
    return StepClock()  # real time until a test sets it


@pytest.fixture
def tenant(database: Database) -> Iterator[Tenant]:
    with connected(database) as tenant:
        yield tenant


@pytest.fixture
def runtime(tenant: Tenant, tmp_path: Path, clock: StepClock) -> Iterator[Runtime]:
    settings = tenant.ctx.settings.model_copy(update={"queue_url": f"sqlite:///{tmp_path}/q.db"})
    built = Runtime(settings, tenant.database, transport=tenant.sim.transport(), clock=clock)
    yield built
    built.close()


def all_done(tenant: Tenant, booking_id: object) -> bool:
    rows = outbox_rows(tenant, booking_id)  # type: ignore[arg-type]
    return bool(rows) and all(row.state is OutboxState.DONE for row in rows)


def test_a_committed_booking_is_pushed_by_a_worker_and_confirmed_by_the_rooms_answer(
    tenant: Tenant, runtime: Runtime
) -> None:
    room = tenant.room_emails[0]

    booking_id = book(tenant, room, tomorrow_at(9), tomorrow_at(10))
    assert runtime.huey.pending_count() == 1  # queued by the commit itself
    workers = runtime.start_workers(workers=2, periodic=False)
    try:
        assert eventually(
            lambda: tenant.booking(booking_id).status is BookingStatus.CONFIRMED, timeout=20
        )
    finally:
        workers.stop(graceful=True)

    [room_copy] = meetings(tenant.sim, room)
    assert span(room_copy) == (tomorrow_at(9), tomorrow_at(10))


def test_a_push_whose_queue_message_was_lost_is_delivered_by_the_sweep(
    tenant: Tenant, runtime: Runtime, clock: StepClock
) -> None:
    room = tenant.room_emails[0]
    booking_id = book(tenant, room, tomorrow_at(9), tomorrow_at(10))
    runtime.huey.flush()  # the queue lost the message
    assert runtime.huey.pending_count() == 0
    clock.now = datetime.now(UTC) + timedelta(seconds=30)

    runtime.pushes.sweep()
    workers = runtime.start_workers(workers=1, periodic=False)
    try:
        assert eventually(lambda: all_done(tenant, booking_id), timeout=20)
    finally:
        workers.stop(graceful=True)

    assert len(meetings(tenant.sim, room)) == 1


def test_the_minute_sweep_sweeps_now_and_queues_the_sweeps_of_the_rest_of_the_minute(
    tenant: Tenant, runtime: Runtime, clock: StepClock
) -> None:
    room = tenant.room_emails[0]
    booking_id = book(tenant, room, tomorrow_at(9), tomorrow_at(10))
    runtime.huey.flush()  # the queue lost the push message
    clock.now = datetime.now(UTC) + timedelta(seconds=30)
    before = datetime.now(UTC).replace(tzinfo=None)

    runtime.pushes.sweep_this_minute.call_local()
    after = datetime.now(UTC).replace(tzinfo=None)

    assert all_done(tenant, booking_id)  # swept at once
    assert len(meetings(tenant.sim, room)) == 1
    later = sorted(t.eta for t in runtime.huey.pending() if t.name == "roomsync.sweep_outbox")
    # Queued after the sweep, by the queue's wall clock: however long the sweep took.
    delays = [timedelta(seconds=s) for s in (15, 30, 45)]
    assert len(later) == len(delays)
    assert all(before + d <= eta <= after + d for eta, d in zip(later, delays, strict=True))


def test_edits_made_while_the_push_waits_in_the_queue_go_out_as_one_patch(
    tenant: Tenant, runtime: Runtime
) -> None:
    organizer = tenant.users[0]
    booking_id = book(tenant, tenant.room_emails[0], tomorrow_at(9), tomorrow_at(10))
    workers = runtime.start_workers(workers=2, periodic=False)
    try:
        assert eventually(lambda: all_done(tenant, booking_id), timeout=20)
    finally:
        workers.stop(graceful=True)
    tenant.sim.requests.clear()

    for hour in (11, 12, 13, 14):
        move(tenant, booking_id, tomorrow_at(hour), tomorrow_at(hour + 1))
    workers = runtime.start_workers(workers=2, periodic=False)
    try:
        assert eventually(lambda: not pending_rows(tenant, booking_id), timeout=20)
        assert eventually(lambda: runtime.huey.pending_count() == 0, timeout=20)
    finally:
        workers.stop(graceful=True)

    assert tenant.sim.requests.count(method="PATCH", mailbox=organizer) == 1
    [event] = meetings(tenant.sim, organizer)
    assert span(event) == (tomorrow_at(14), tomorrow_at(15))


def test_reading_a_rooms_answer_goes_before_queued_pushes(tenant: Tenant, runtime: Runtime) -> None:
    waiting = book(tenant, tenant.room_emails[0], tomorrow_at(9), tomorrow_at(10))

    runtime.pushes.check_answer(str(waiting))

    queued = [message.name for message in runtime.huey.pending()]
    assert queued == ["roomsync.check_room_answer", "roomsync.push_booking"]


def test_commits_made_while_a_push_is_queued_are_taken_by_it(
    tenant: Tenant, runtime: Runtime
) -> None:
    room = tenant.room_emails[0]
    bookings = [book(tenant, room, tomorrow_at(h), tomorrow_at(h + 1)) for h in (8, 10, 12)]
    assert runtime.huey.pending_count() == 1  # one push for the organization

    workers = runtime.start_workers(workers=2, periodic=False)
    try:
        assert eventually(lambda: all(all_done(tenant, b) for b in bookings), timeout=20)
    finally:
        workers.stop(graceful=True)
    assert len(meetings(tenant.sim, room)) == 3

    book(tenant, room, tomorrow_at(14), tomorrow_at(15))  # that push started: a new one
    assert runtime.huey.pending_count() >= 1
