"""What comes back after a push: the echo of our own change changes nothing, the room's
decline declines the booking with its reason, and meetings born in Outlook are changed in
their organizer's calendar."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from roomsync.platform.db import Database
from roomsync.platform.enums import BookingStatus, Origin
from roomsync.platform.exceptions import ManagedInOutlookError
from roomsync.platform.services.bookings import update_booking
from roomsync.platform.services.users import upsert_user_by_email
from roomsync.sync.mapping import ROOM_DECLINED
from roomsync.sync.push.room_answers import RoomAnswer, check_room_answer, check_room_answers
from tests.sync.harness import StepClock, Tenant, tomorrow_at
from tests.sync.push_support import (
    book,
    cancel,
    connected,
    later,
    meetings,
    move,
    pull,
    push,
    rename,
    span,
)


@pytest.fixture
def clock() -> StepClock:
    return StepClock()


@pytest.fixture
def tenant(database: Database, clock: StepClock) -> Iterator[Tenant]:
    with connected(database, clock=clock, room_answer_timeout_seconds=60) as tenant:
        yield tenant


def test_the_echo_of_a_push_makes_no_second_booking_and_no_version_bump(tenant: Tenant) -> None:
    room = tenant.room_emails[0]
    booking_id = book(tenant, room, tomorrow_at(9), tomorrow_at(10))
    push(tenant, booking_id)

    report = pull(tenant)
    confirmed = tenant.booking(booking_id)
    rename(tenant, booking_id, "Renamed on the platform")
    push(tenant, booking_id)
    echo = pull(tenant)

    assert report.counts["create_booking"] == 0
    assert confirmed.status is BookingStatus.CONFIRMED
    assert confirmed.version == 2  # created, then confirmed by the room: nothing else
    assert [b.id for b in tenant.bookings(room)] == [booking_id]
    assert echo.counts["record_unchanged"] == 1
    assert tenant.booking(booking_id).version == confirmed.version + 1  # the rename only


def test_the_echo_of_a_move_only_confirms_the_move(tenant: Tenant) -> None:
    room = tenant.room_emails[0]
    booking_id = book(tenant, room, tomorrow_at(9), tomorrow_at(10))
    push(tenant, booking_id)
    pull(tenant)

    move(tenant, booking_id, tomorrow_at(15), tomorrow_at(16))
    moved = tenant.booking(booking_id)
    push(tenant, booking_id)
    pull(tenant)
    pull(tenant)

    booking = tenant.booking(booking_id)
    assert moved.status is BookingStatus.PENDING
    assert booking.status is BookingStatus.CONFIRMED
    assert booking.version == moved.version + 1
    assert (booking.start_at, booking.end_at) == (tomorrow_at(15), tomorrow_at(16))
    assert [b.id for b in tenant.bookings(room)] == [booking_id]


def test_a_slot_already_taken_in_outlook_is_declined_with_the_reason(tenant: Tenant) -> None:
    room = tenant.room_emails[0]
    tenant.sim.outlook.create_meeting(
        tenant.users[1], room, "Booked in Outlook", tomorrow_at(9), tomorrow_at(10)
    )
    booking_id = book(tenant, room, tomorrow_at(9, 30), tomorrow_at(10, 30))

    push(tenant, booking_id)
    answer = check_room_answer(tenant.ctx, booking_id)

    assert answer.answer is RoomAnswer.DECLINED
    booking = tenant.booking(booking_id)
    assert booking.status is BookingStatus.DECLINED
    assert booking.status_reason == ROOM_DECLINED
    [outlook_meeting] = meetings(tenant.sim, room)  # the room holds only what it accepted
    assert span(outlook_meeting) == (tomorrow_at(9), tomorrow_at(10))


def test_a_move_into_a_taken_slot_is_declined(tenant: Tenant) -> None:
    room = tenant.room_emails[0]
    booking_id = book(tenant, room, tomorrow_at(9), tomorrow_at(10))
    push(tenant, booking_id)
    pull(tenant)
    tenant.sim.outlook.create_meeting(
        tenant.users[1], room, "Booked in Outlook", tomorrow_at(14), tomorrow_at(15)
    )

    move(tenant, booking_id, tomorrow_at(14), tomorrow_at(15))
    push(tenant, booking_id)
    answers = check_room_answers(tenant.ctx)

    assert answers[booking_id] is RoomAnswer.DECLINED
    assert tenant.booking(booking_id).status is BookingStatus.DECLINED


def test_a_room_that_never_answers_declines_the_booking_after_the_timeout(
    tenant: Tenant, clock: StepClock
) -> None:
    room = tenant.room_emails[0]
    tenant.sim.set_calendar_processing(room, automate_processing="None")
    booking_id = book(tenant, room, tomorrow_at(9), tomorrow_at(10))
    push(tenant, booking_id)

    waiting = check_room_answer(tenant.ctx, booking_id)
    later(clock, seconds=61)
    timed_out = check_room_answer(tenant.ctx, booking_id)

    assert waiting.answer is RoomAnswer.WAITING
    assert waiting.check_again_in is not None
    assert timed_out.answer is RoomAnswer.TIMED_OUT
    booking = tenant.booking(booking_id)
    assert booking.status is BookingStatus.DECLINED
    assert booking.status_reason is not None
    assert "did not answer within 1 minutes" in booking.status_reason


def outlook_booking(tenant: Tenant) -> tuple[str, str]:
    """A meeting booked in Outlook by an organizer of the tenant, pulled: (room, event id)."""
    room, organizer = tenant.room_emails[0], tenant.users[0]
    event_id = tenant.sim.outlook.create_meeting(
        organizer, room, "Team sync", tomorrow_at(9), tomorrow_at(10), attendees=["a@b.test"]
    )
    pull(tenant)
    return room, event_id


def test_a_meeting_born_in_outlook_moved_on_the_platform_moves_the_organizers_meeting(
    tenant: Tenant,
) -> None:
    room, organizer = tenant.room_emails[0], tenant.users[0]
    outlook_booking(tenant)
    [booking] = tenant.bookings(room)
    assert booking.origin is Origin.MICROSOFT365

    move(tenant, booking.id, tomorrow_at(11), tomorrow_at(12))
    push(tenant, booking.id)
    pull(tenant)

    [event] = meetings(tenant.sim, organizer)
    assert span(event) == (tomorrow_at(11), tomorrow_at(12))
    assert event["subject"] == "Team sync"  # the room's rewritten subject was not pushed back
    assert tenant.sim.requests.count(method="POST", path_contains="/events") == 0
    [after] = tenant.bookings(room)
    assert (after.id, after.status) == (booking.id, BookingStatus.CONFIRMED)
    assert (after.start_at, after.end_at) == (tomorrow_at(11), tomorrow_at(12))


def test_a_meeting_born_in_outlook_cancelled_on_the_platform_loses_only_its_room(
    tenant: Tenant,
) -> None:
    room, organizer = tenant.room_emails[0], tenant.users[0]
    outlook_booking(tenant)
    [booking] = tenant.bookings(room)

    cancel(tenant, booking.id)
    push(tenant, booking.id)
    pull(tenant)

    [event] = meetings(tenant.sim, organizer)
    assert [a["emailAddress"]["address"] for a in event["attendees"]] == ["a@b.test"]
    assert meetings(tenant.sim, room) == []
    assert tenant.bookings(room) == []
    assert tenant.booking(booking.id).status is BookingStatus.CANCELLED


def test_a_meeting_organized_outside_the_tenant_cannot_be_edited_on_the_platform(
    tenant: Tenant,
) -> None:
    room, organizer = tenant.room_emails[0], tenant.users[0]
    outlook_booking(tenant)
    [booking] = tenant.bookings(room)
    with tenant.database.session() as session:
        upsert_user_by_email(
            session,
            organization_id=tenant.organization_id,
            email=organizer,
            name="Outsider",
            external=True,
        )

    with pytest.raises(ManagedInOutlookError, match="change or cancel it in Outlook"):
        move(tenant, booking.id, tomorrow_at(11), tomorrow_at(12))
    with pytest.raises(ManagedInOutlookError):
        cancel(tenant, booking.id)
    assert tenant.booking(booking.id).version == booking.version


def test_platform_bookings_of_an_external_organizer_stay_editable(tenant: Tenant) -> None:
    room = tenant.room_emails[0]
    booking_id = book(tenant, room, tomorrow_at(9), tomorrow_at(10), organizer="x@example.com")
    with tenant.database.session() as session:
        upsert_user_by_email(
            session,
            organization_id=tenant.organization_id,
            email="x@example.com",
            name="X",
            external=True,
        )
        update_booking(session, booking_id=booking_id, title="Still ours")

    assert tenant.booking(booking_id).title == "Still ours"
