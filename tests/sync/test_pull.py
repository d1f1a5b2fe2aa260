"""Workflow 2: meetings booked, moved and cancelled in Outlook reach the platform by pull."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from graphsim import recurrence
from roomsync.platform.db import Database
from roomsync.platform.enums import BookingStatus, Origin, SyncRunTrigger
from roomsync.sync.pull.workflow import pull_bookings
from roomsync.sync.runs import RunReport
from tests.sync.harness import Tenant, connected_tenant, tomorrow_at


@pytest.fixture
def tenant(database: Database) -> Iterator[Tenant]:
    with connected_tenant(database) as connected:
        yield connected


def pull(tenant: Tenant) -> RunReport:
    tenant.sim.settle()
    return pull_bookings(tenant.ctx, tenant.integration_id, trigger=SyncRunTrigger.MANUAL)


def test_a_meeting_booked_in_outlook_becomes_a_confirmed_booking(tenant: Tenant) -> None:
    room, organizer = tenant.room_emails[0], tenant.users[0]
    tenant.sim.outlook.create_meeting(organizer, room, "Planning", tomorrow_at(9), tomorrow_at(10))

    report = pull(tenant)

    [booking] = tenant.bookings(room)
    assert (booking.start_at, booking.end_at) == (tomorrow_at(9), tomorrow_at(10))
    assert booking.status is BookingStatus.CONFIRMED
    assert booking.origin is Origin.MICROSOFT365
    assert booking.organizer_email == organizer.lower()
    assert report.counts["create_booking"] == 1


def test_a_second_pull_with_no_change_in_outlook_changes_nothing(tenant: Tenant) -> None:
    room = tenant.room_emails[0]
    tenant.sim.outlook.create_meeting(
        tenant.users[0], room, "Sync", tomorrow_at(9), tomorrow_at(10)
    )
    pull(tenant)
    [before] = tenant.bookings(room)

    report = pull(tenant)

    [after] = tenant.bookings(room)
    assert after.version == before.version
    assert report.counts["create_booking"] == 0


def test_moving_and_shortening_in_outlook_update_the_booking(tenant: Tenant) -> None:
    room, organizer = tenant.room_emails[0], tenant.users[0]
    meeting = tenant.sim.outlook.create_meeting(
        organizer, room, "Review", tomorrow_at(9), tomorrow_at(10)
    )
    pull(tenant)

    tenant.sim.outlook.move_meeting(organizer, meeting, tomorrow_at(13), tomorrow_at(15))
    pull(tenant)
    [moved] = tenant.bookings(room)
    assert (moved.start_at, moved.end_at) == (tomorrow_at(13), tomorrow_at(15))

    tenant.sim.outlook.shorten_meeting(organizer, meeting, tomorrow_at(14))
    pull(tenant)
    [shortened] = tenant.bookings(room)
    assert shortened.id == moved.id
    assert shortened.end_at == tomorrow_at(14)


def test_a_meeting_cancelled_in_outlook_cancels_the_booking(tenant: Tenant) -> None:
    room, organizer = tenant.room_emails[0], tenant.users[0]
    meeting = tenant.sim.outlook.create_meeting(
        organizer, room, "Retro", tomorrow_at(9), tomorrow_at(10)
    )
    pull(tenant)
    [booking] = tenant.bookings(room)

    tenant.sim.outlook.cancel_meeting(organizer, meeting)
    pull(tenant)

    assert tenant.bookings(room) == []
    assert tenant.booking(booking.id).status is BookingStatus.CANCELLED


def test_recurring_series_arrive_as_their_occurrences_with_exceptions(tenant: Tenant) -> None:
    room, organizer = tenant.room_emails[0], tenant.users[0]
    first = tomorrow_at(8)
    daily = tenant.sim.outlook.create_meeting(
        organizer,
        room,
        "Stand-up",
        first,
        first + timedelta(minutes=15),
        recurrence=recurrence("daily", first.date(), count=5),
    )
    weekly_start = tomorrow_at(16)
    weekday = weekly_start.strftime("%A").lower()
    weekly = tenant.sim.outlook.create_meeting(
        organizer,
        room,
        "Weekly sync",
        weekly_start,
        weekly_start + timedelta(hours=1),
        recurrence=recurrence("weekly", weekly_start.date(), count=3, days_of_week=[weekday]),
    )
    second = first + timedelta(days=1)
    tenant.sim.outlook.move_occurrence(
        organizer,
        daily,
        second,
        second + timedelta(hours=2),
        second + timedelta(hours=2, minutes=15),
    )
    tenant.sim.outlook.cancel_occurrence(organizer, weekly, weekly_start + timedelta(days=7))

    pull(tenant)

    bookings = tenant.bookings(room)
    daily_starts = sorted(b.start_at for b in bookings if b.start_at.hour in (8, 10))
    expected_daily = [first + timedelta(days=n) for n in range(5)]
    expected_daily[1] += timedelta(hours=2)
    assert daily_starts == sorted(expected_daily)
    weekly_starts = sorted(b.start_at for b in bookings if b.start_at.hour == 16)
    assert weekly_starts == [weekly_start, weekly_start + timedelta(days=14)]
    assert len({b.series_id for b in bookings}) == 2
    assert all(b.series_id for b in bookings)


def test_a_private_meeting_becomes_a_private_booking(tenant: Tenant) -> None:
    room = tenant.room_emails[0]
    tenant.sim.set_calendar_processing(room, remove_private_property=False)
    tenant.sim.outlook.create_meeting(
        tenant.users[0], room, "Salary talks", tomorrow_at(11), tomorrow_at(12), private=True
    )

    pull(tenant)

    [booking] = tenant.bookings(room)
    assert booking.private


def test_meetings_in_every_room_arrive_and_each_room_is_pulled_once(tenant: Tenant) -> None:
    for hour, room in enumerate(tenant.room_emails, start=9):
        tenant.sim.outlook.create_meeting(
            tenant.users[0], room, f"Meeting {hour}", tomorrow_at(hour), tomorrow_at(hour + 1)
        )
    tenant.sim.requests.clear()

    pull(tenant)

    for room in tenant.room_emails:
        assert len(tenant.bookings(room)) == 1
        assert tenant.sim.requests.count(path_contains="calendarView/delta", mailbox=room) == 1
