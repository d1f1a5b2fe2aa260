"""Pushes that go wrong are retried without duplicates, parked as failed with Graph's error
when they keep failing, and delayed but never lost when a worker or the queue dies."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest

from roomsync.platform.db import Database
from roomsync.platform.enums import OutboxAction, OutboxState, SyncState
from roomsync.platform.services.users import upsert_user_by_email
from roomsync.sync.context import SyncContext
from roomsync.sync.push.outbox import request_push_retry
from roomsync.sync.push.workflow import PushState, sweep_outbox
from tests.sync.harness import StepClock, Tenant, tomorrow_at
from tests.sync.push_support import (
    TimeoutAfterApplied,
    add_mailbox,
    book,
    cancel,
    connected,
    freeze,
    later,
    meetings,
    move,
    outbox_rows,
    pending_rows,
    pull,
    push,
    set_integration,
    span,
    sync_view,
)

VISITOR = "visitor@example.com"


class Killed(BaseException):
    """The worker process dies here (not an Exception: no handler of ours runs)."""


class DyingAfterApplied(httpx.BaseTransport):
    """Passes the create to graphsim, then kills the worker before it hears back."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        if request.method == "POST" and request.url.path.endswith("/events"):
            raise Killed
        return response


@pytest.fixture
def clock() -> StepClock:
    return StepClock()


@pytest.fixture
def tenant(database: Database, clock: StepClock) -> Iterator[Tenant]:
    with connected(database, clock=clock, push_max_attempts=3) as tenant:
        yield tenant


def context(tenant: Tenant, transport: httpx.BaseTransport) -> SyncContext:
    built = SyncContext.build(
        tenant.ctx.settings, tenant.database, transport=transport, clock=tenant.ctx.clock
    )
    return dataclasses.replace(built, sleep=lambda _seconds: None)


def test_a_create_whose_answer_was_lost_is_retried_into_the_same_meeting(
    tenant: Tenant, clock: StepClock
) -> None:
    room, organizer = tenant.room_emails[0], tenant.users[0]
    booking_id = book(tenant, room, tomorrow_at(9), tomorrow_at(10))
    lossy = TimeoutAfterApplied(tenant.sim.transport(), method="POST", path_suffix="/events")

    first = push(tenant, booking_id, context(tenant, lossy))
    later(clock, minutes=1)
    second = push(tenant, booking_id)

    assert lossy.lost == 1
    assert (first.state, second.state) == (PushState.RETRYING, PushState.PUSHED)
    assert tenant.sim.requests.count(method="POST", path_contains="/events") == 2
    assert len(meetings(tenant.sim, organizer)) == 1
    assert len(meetings(tenant.sim, room)) == 1
    assert sync_view(tenant, booking_id).state is SyncState.SYNCED


def test_a_retried_create_brings_a_meeting_up_to_the_latest_edit(
    tenant: Tenant, clock: StepClock
) -> None:
    organizer = tenant.users[0]
    booking_id = book(tenant, tenant.room_emails[0], tomorrow_at(9), tomorrow_at(10))
    lossy = TimeoutAfterApplied(tenant.sim.transport(), method="POST", path_suffix="/events")
    push(tenant, booking_id, context(tenant, lossy))

    move(tenant, booking_id, tomorrow_at(16), tomorrow_at(17))
    later(clock, minutes=1)
    push(tenant, booking_id)

    [event] = meetings(tenant.sim, organizer)
    assert span(event) == (tomorrow_at(16), tomorrow_at(17))


def test_the_room_copy_of_a_create_whose_answer_was_lost_is_not_a_second_booking(
    tenant: Tenant, clock: StepClock
) -> None:
    room = tenant.room_emails[0]
    booking_id = book(tenant, room, tomorrow_at(9), tomorrow_at(10))
    lossy = TimeoutAfterApplied(tenant.sim.transport(), method="POST", path_suffix="/events")
    push(tenant, booking_id, context(tenant, lossy))

    report = pull(tenant)
    later(clock, minutes=1)
    push(tenant, booking_id)
    pull(tenant)

    assert report.counts["adopted"] == 1
    assert [b.id for b in tenant.bookings(room)] == [booking_id]
    link = tenant.link_of(booking_id)
    assert link is not None
    assert link.organizer_event_id is not None
    assert len(meetings(tenant.sim, room)) == 1


def test_transient_failures_back_off_then_park_the_push_with_graphs_error(
    tenant: Tenant, clock: StepClock
) -> None:
    booking_id = book(tenant, tenant.room_emails[0], tomorrow_at(9), tomorrow_at(10))
    tenant.sim.fail_next(100, 503, path_contains="/events")
    patient = context(tenant, tenant.sim.transport())

    outcomes, waits = [], []
    for _ in range(3):
        tried_at = freeze(clock)
        outcome = push(tenant, booking_id, patient)
        outcomes.append(outcome.state)
        if outcome.retry_at is not None:
            waits.append(outcome.retry_at - tried_at)
            clock.now = outcome.retry_at + timedelta(seconds=1)

    assert outcomes == [PushState.RETRYING, PushState.RETRYING, PushState.FAILED]
    assert waits[1] > waits[0] > timedelta(0)  # exponential backoff
    [row] = outbox_rows(tenant, booking_id)
    assert (row.state, row.attempts) == (OutboxState.FAILED, 3)
    view = sync_view(tenant, booking_id)
    assert view.state is SyncState.FAILED
    assert view.error is not None
    assert "503" in view.error
    assert "request-id" in view.error


def test_a_throttled_push_waits_as_long_as_retry_after_says(
    tenant: Tenant, clock: StepClock
) -> None:
    booking_id = book(tenant, tenant.room_emails[0], tomorrow_at(9), tomorrow_at(10))
    tenant.sim.fail_next(1, 429, path_contains="/events", retry_after=120)
    now = freeze(clock)

    outcome = push(tenant, booking_id)

    assert outcome.state is PushState.RETRYING
    assert outcome.retry_at == now + timedelta(seconds=120)
    [row] = pending_rows(tenant, booking_id)
    assert row.next_attempt_at == now + timedelta(seconds=120)
    assert row.last_error is not None
    assert "429" in row.last_error
    later(clock, seconds=100)
    assert push(tenant, booking_id).state is PushState.NOTHING_DUE
    later(clock, seconds=21)
    assert push(tenant, booking_id).state is PushState.PUSHED


def test_an_organizer_without_a_mailbox_is_booked_through_the_service_account(
    tenant: Tenant,
) -> None:
    room = tenant.room_emails[0]
    service = add_mailbox(tenant.sim, "bookings@contoso.onmicrosoft.com", "Room bookings")
    set_integration(tenant, service_account=service)
    booking_id = book(tenant, room, tomorrow_at(9), tomorrow_at(10), organizer=VISITOR)

    outcome = push(tenant, booking_id)

    assert outcome.state is PushState.PUSHED
    [event] = meetings(tenant.sim, service)
    assert VISITOR in event["bodyPreview"]
    assert len(meetings(tenant.sim, room)) == 1
    link = tenant.link_of(booking_id)
    assert link is not None
    assert link.organizer_email == service

    cancel(tenant, booking_id)
    push(tenant, booking_id)
    assert meetings(tenant.sim, service) == []
    assert meetings(tenant.sim, room) == []


def test_an_organizer_known_to_be_external_goes_straight_to_the_service_account(
    tenant: Tenant,
) -> None:
    service = add_mailbox(tenant.sim, "bookings@contoso.onmicrosoft.com", "Room bookings")
    set_integration(tenant, service_account=service)
    with tenant.database.session() as session:
        upsert_user_by_email(
            session, organization_id=tenant.organization_id, email=VISITOR, name="V", external=True
        )
    booking_id = book(
        tenant, tenant.room_emails[0], tomorrow_at(9), tomorrow_at(10), organizer=VISITOR
    )

    push(tenant, booking_id)

    assert tenant.sim.requests.count(path_contains=VISITOR) == 0
    assert len(meetings(tenant.sim, service)) == 1


def test_an_organizer_without_a_mailbox_and_no_service_account_fails_clearly(
    tenant: Tenant,
) -> None:
    room = tenant.room_emails[0]
    booking_id = book(tenant, room, tomorrow_at(9), tomorrow_at(10), organizer=VISITOR)

    outcome = push(tenant, booking_id)

    assert outcome.state is PushState.FAILED  # at once: retrying cannot help
    view = sync_view(tenant, booking_id)
    assert view.state is SyncState.FAILED
    assert view.error is not None
    assert VISITOR in view.error
    assert "service_account" in view.error
    assert meetings(tenant.sim, room) == []

    service = add_mailbox(tenant.sim, "bookings@contoso.onmicrosoft.com", "Room bookings")
    set_integration(tenant, service_account=service)
    with tenant.database.session() as session:
        request_push_retry(session, booking_id=booking_id, now=tenant.ctx.clock())
    assert outbox_rows(tenant, booking_id)[-1].action is OutboxAction.CREATE  # the pull adopts
    assert push(tenant, booking_id).state is PushState.PUSHED
    assert len(meetings(tenant.sim, room)) == 1
    assert sync_view(tenant, booking_id).state is SyncState.SYNCED


def test_a_worker_killed_mid_push_is_finished_by_the_sweep_without_a_duplicate(
    tenant: Tenant, clock: StepClock
) -> None:
    room, organizer = tenant.room_emails[0], tenant.users[0]
    booking_id = book(tenant, room, tomorrow_at(9), tomorrow_at(10))

    with pytest.raises(Killed):
        push(tenant, booking_id, context(tenant, DyingAfterApplied(tenant.sim.transport())))
    later(clock, seconds=30)
    assert sweep_outbox(tenant.ctx).outcomes == {}  # the dead worker's claim still holds
    later(clock, minutes=3)
    report = sweep_outbox(tenant.ctx)
    tenant.sim.settle()

    assert report.outcomes[booking_id].state is PushState.PUSHED
    assert len(meetings(tenant.sim, organizer)) == 1
    assert len(meetings(tenant.sim, room)) == 1
    assert pending_rows(tenant, booking_id) == []


def test_an_edit_made_during_a_push_waits_for_it_then_goes_out_in_order(
    tenant: Tenant, clock: StepClock
) -> None:
    room, organizer = tenant.room_emails[0], tenant.users[0]
    booking_id = book(tenant, room, tomorrow_at(9), tomorrow_at(10))
    with pytest.raises(Killed):  # the create reached Graph; its worker still holds the rows
        push(tenant, booking_id, context(tenant, DyingAfterApplied(tenant.sim.transport())))
    move(tenant, booking_id, tomorrow_at(11), tomorrow_at(12))

    assert push(tenant, booking_id).state is PushState.BUSY
    assert len(pending_rows(tenant, booking_id)) == 2
    later(clock, minutes=3)  # the dead worker's claim expires
    assert push(tenant, booking_id).state is PushState.PUSHED

    assert [span(m) for m in meetings(tenant.sim, organizer)] == [
        (tomorrow_at(11), tomorrow_at(12))
    ]
    assert len(meetings(tenant.sim, room)) == 1
    assert pending_rows(tenant, booking_id) == []


def test_the_sweep_pushes_rows_whose_queue_message_was_lost_but_leaves_fresh_ones(
    tenant: Tenant, clock: StepClock
) -> None:
    room = tenant.room_emails[0]
    booking_id = book(tenant, room, tomorrow_at(9), tomorrow_at(10))

    assert sweep_outbox(tenant.ctx).outcomes == {}  # its queued push is still due to run
    later(clock, seconds=15)
    report = sweep_outbox(tenant.ctx)
    tenant.sim.settle()

    assert report.outcomes[booking_id].state is PushState.PUSHED
    assert len(meetings(tenant.sim, room)) == 1
