"""Every booking pushed to Microsoft 365 reaches a final, truthful state: a push that can
never succeed, or that does not get through within the integration's
``room_answer_timeout_seconds``, declines the booking with the reason, frees its slot on the
platform and lists it among the integration's failed pushes; the room mailbox decides
occupancy; an admin's retry after the fix makes it wait for its room again."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Iterator

import pytest

from graphsim.control.seeding import add_user
from roomsync.platform.db import Database
from roomsync.platform.enums import BookingStatus, OutboxState, SyncState
from roomsync.platform.exceptions import BookingConflictError
from roomsync.sync.context import SyncContext
from roomsync.sync.exceptions import NothingToRetryError
from roomsync.sync.integration.status import integration_status
from roomsync.sync.push.claim import claim_push, push_claim_for
from roomsync.sync.push.failure import end_overdue_pushes
from roomsync.sync.push.outbox import request_push_retry
from roomsync.sync.push.room_answers import RoomAnswer, check_room_answer, check_room_answers
from roomsync.sync.push.workflow import PushState, push_booking
from tests.sync.harness import StepClock, Tenant, tomorrow_at
from tests.sync.push_support import (
    add_mailbox,
    book,
    connected,
    freeze,
    later,
    meetings,
    outbox_rows,
    pull,
    push,
    set_integration,
    span,
    sync_view,
)

TIMEOUT_SECONDS = 60


@pytest.fixture
def clock() -> StepClock:
    return StepClock()


@pytest.fixture
def tenant(database: Database, clock: StepClock) -> Iterator[Tenant]:
    with connected(
        database, clock=clock, push_max_attempts=50, room_answer_timeout_seconds=TIMEOUT_SECONDS
    ) as tenant:
        yield tenant


def mailboxless_organizer(tenant: Tenant) -> str:
    """A tenant user without a mailbox (Graph: 404 ``MailboxNotEnabledForRESTAPI``), with the
    integration's service account mailbox-less too, as graphsim's own is."""
    with tenant.sim.core.lock:
        organizer = add_user(
            tenant.sim.core, "kiosk@contoso.onmicrosoft.com", "Kiosk", has_mailbox=False
        )
    set_integration(tenant, service_account=tenant.sim.service_account)
    return organizer.mail


def unhurried(tenant: Tenant) -> SyncContext:
    """The tenant's context with Graph's retry waits not slept."""
    return dataclasses.replace(tenant.ctx, sleep=lambda _seconds: None)


def retry(tenant: Tenant, booking_id: uuid.UUID) -> None:
    with tenant.database.session() as session:
        request_push_retry(session, booking_id=booking_id, now=tenant.ctx.clock())


def test_a_push_that_can_never_succeed_declines_the_booking_and_frees_its_slot(
    tenant: Tenant,
) -> None:
    room = tenant.room_emails[0]
    organizer = mailboxless_organizer(tenant)
    booking_id = book(tenant, room, tomorrow_at(9), tomorrow_at(10), organizer=organizer)

    assert push(tenant, booking_id).state is PushState.FAILED

    booking = tenant.booking(booking_id)
    assert booking.status is BookingStatus.DECLINED
    assert booking.status_reason is not None
    assert "no longer holds the room" in booking.status_reason
    assert tenant.sim.service_account in booking.status_reason
    view = sync_view(tenant, booking_id)
    assert view.state is SyncState.FAILED
    assert view.error is not None
    assert organizer in view.error
    [failed] = integration_status(tenant.ctx, tenant.integration_id).outbox.failed_pushes
    assert (failed.booking_id, failed.booking_status) == (booking_id, BookingStatus.DECLINED)
    assert failed.error == view.error
    # The platform no longer holds the slot, and the room mailbox decides who gets it.
    other = book(tenant, room, tomorrow_at(9), tomorrow_at(10))
    assert push(tenant, other).state is PushState.PUSHED
    assert check_room_answer(tenant.ctx, other).answer is RoomAnswer.ACCEPTED
    assert [span(event) for event in meetings(tenant.sim, room)] == [
        (tomorrow_at(9), tomorrow_at(10))
    ]


def test_a_retry_after_the_fix_makes_the_booking_wait_for_its_room_again(
    tenant: Tenant,
) -> None:
    room = tenant.room_emails[0]
    booking_id = book(
        tenant, room, tomorrow_at(9), tomorrow_at(10), organizer=mailboxless_organizer(tenant)
    )
    push(tenant, booking_id)
    service = add_mailbox(tenant.sim, "bookings@contoso.onmicrosoft.com", "Room bookings")
    set_integration(tenant, service_account=service)

    retry(tenant, booking_id)

    assert tenant.booking(booking_id).status is BookingStatus.PENDING
    assert push(tenant, booking_id).state is PushState.PUSHED
    assert check_room_answer(tenant.ctx, booking_id).answer is RoomAnswer.ACCEPTED
    assert tenant.booking(booking_id).status is BookingStatus.CONFIRMED
    assert sync_view(tenant, booking_id).state is SyncState.SYNCED
    assert integration_status(tenant.ctx, tenant.integration_id).outbox.failed_pushes == []


def test_a_retry_is_refused_when_the_freed_slot_was_taken_meanwhile(tenant: Tenant) -> None:
    room = tenant.room_emails[0]
    booking_id = book(
        tenant, room, tomorrow_at(9), tomorrow_at(10), organizer=mailboxless_organizer(tenant)
    )
    push(tenant, booking_id)
    book(tenant, room, tomorrow_at(9, 30), tomorrow_at(10, 30))

    with pytest.raises(BookingConflictError):
        retry(tenant, booking_id)
    assert tenant.booking(booking_id).status is BookingStatus.DECLINED


def test_a_push_still_failing_at_the_room_answer_timeout_declines_the_booking(
    tenant: Tenant, clock: StepClock
) -> None:
    booking_id = book(tenant, tenant.room_emails[0], tomorrow_at(9), tomorrow_at(10))
    tenant.sim.fail_next(1000, 503, path_contains="/events")
    freeze(clock)
    assert push(tenant, booking_id, unhurried(tenant)).state is PushState.RETRYING

    later(clock, seconds=TIMEOUT_SECONDS - 5)
    assert end_overdue_pushes(tenant.ctx) == []
    later(clock, seconds=6)
    assert end_overdue_pushes(tenant.ctx) == [booking_id]

    booking = tenant.booking(booking_id)
    assert booking.status is BookingStatus.DECLINED
    assert booking.status_reason is not None
    assert f"within {TIMEOUT_SECONDS} seconds" in booking.status_reason
    assert "503" in booking.status_reason
    assert [row.state for row in outbox_rows(tenant, booking_id)] == [OutboxState.FAILED]
    assert sync_view(tenant, booking_id).state is SyncState.FAILED
    assert end_overdue_pushes(tenant.ctx) == []


def test_a_push_held_up_by_a_stopped_integration_declines_the_booking_at_the_timeout(
    tenant: Tenant, clock: StepClock
) -> None:
    reason = "Entra ID refused the client secret: save a new one."
    set_integration(tenant, stopped_reason=reason)
    booking_id = book(tenant, tenant.room_emails[0], tomorrow_at(9), tomorrow_at(10))
    assert push(tenant, booking_id).state is PushState.NOTHING_DUE

    later(clock, seconds=TIMEOUT_SECONDS + 1)
    assert end_overdue_pushes(tenant.ctx) == [booking_id]

    status_reason = tenant.booking(booking_id).status_reason
    assert status_reason is not None
    assert reason in status_reason


def test_a_booking_the_room_is_still_deciding_on_is_left_to_the_room(
    tenant: Tenant, clock: StepClock
) -> None:
    booking_id = book(tenant, tenant.room_emails[0], tomorrow_at(9), tomorrow_at(10))
    tenant.sim.room_processing_delay = 2.0  # the room answers after the checks below
    freeze(clock)
    assert push_booking(tenant.ctx, booking_id).state is PushState.PUSHED

    later(clock, seconds=TIMEOUT_SECONDS + 1)

    assert end_overdue_pushes(tenant.ctx) == []  # pushed: the answer check decides
    assert tenant.booking(booking_id).status is BookingStatus.PENDING


def test_retrying_a_synced_booking_is_refused_and_changes_nothing(tenant: Tenant) -> None:
    booking_id = book(tenant, tenant.room_emails[0], tomorrow_at(9), tomorrow_at(10))
    push(tenant, booking_id)
    pull(tenant)
    assert sync_view(tenant, booking_id).state is SyncState.SYNCED
    rows = len(outbox_rows(tenant, booking_id))

    with pytest.raises(NothingToRetryError):
        retry(tenant, booking_id)

    assert sync_view(tenant, booking_id).state is SyncState.SYNCED
    assert len(outbox_rows(tenant, booking_id)) == rows


def test_a_room_answer_that_cannot_be_read_by_the_timeout_declines_the_booking(
    tenant: Tenant, clock: StepClock
) -> None:
    booking_id = book(tenant, tenant.room_emails[0], tomorrow_at(9), tomorrow_at(10))
    tenant.sim.room_processing_delay = 2.0
    freeze(clock)
    assert push_booking(tenant.ctx, booking_id).state is PushState.PUSHED
    tenant.sim.fail_next(1000, 503)  # Graph fails every read of the room's answer

    assert check_room_answers(unhurried(tenant)) == {booking_id: RoomAnswer.WAITING}
    later(clock, seconds=TIMEOUT_SECONDS + 1)
    assert check_room_answers(unhurried(tenant)) == {booking_id: RoomAnswer.TIMED_OUT}

    booking = tenant.booking(booking_id)
    assert booking.status is BookingStatus.DECLINED
    assert booking.status_reason is not None
    assert "did not answer" in booking.status_reason


def test_a_booking_a_push_is_sending_right_now_is_left_to_that_push(
    tenant: Tenant, clock: StepClock
) -> None:
    booking_id = book(tenant, tenant.room_emails[0], tomorrow_at(9), tomorrow_at(10))
    later(clock, seconds=TIMEOUT_SECONDS + 1)
    with tenant.database.session() as session:
        claim_for = push_claim_for(tenant.ctx.settings)
        job = claim_push(session, booking_id, now=tenant.ctx.clock(), claim_for=claim_for)
        assert job is not None

    assert end_overdue_pushes(tenant.ctx) == []
    assert tenant.booking(booking_id).status is BookingStatus.PENDING
