"""A private meeting booked in Outlook is a private booking, whatever the room's settings.

The room mailbox's copy says nothing about privacy (Set-CalendarProcessing
RemovePrivateProperty clears it, by default) and, with DeleteSubject off, shows the real
subject; the pull learns both from the organizer's own copy, asked once per organizer."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from graphsim import recurrence
from graphsim.ids import occurrence_id
from roomsync.platform.db import Database
from roomsync.platform.enums import Role, SyncRunTrigger
from roomsync.platform.models import Booking
from roomsync.platform.services.tokens import create_api_token
from roomsync.sync.planner import RoomCopy
from roomsync.sync.pull.organizer_privacy import as_organizer_sees_it
from roomsync.sync.pull.workflow import pull_bookings
from roomsync.sync.runs import RunReport
from roomsync.web.app import create_app
from roomsync.web.server import serving_in_background
from tests.sync.harness import Tenant, connected_tenant, tomorrow_at
from tests.web.tenants import bearer

PRIVATE_TITLE = "Private booking"


@pytest.fixture
def tenant(database: Database) -> Iterator[Tenant]:
    with connected_tenant(database) as connected:
        yield connected


def pull(tenant: Tenant) -> RunReport:
    tenant.sim.settle()
    return pull_bookings(tenant.ctx, tenant.integration_id, trigger=SyncRunTrigger.MANUAL)


def organizer_name(tenant: Tenant, email: str) -> str:
    user = tenant.sim.tenant.find_user(email)
    assert user is not None
    return user.display_name


def by_start(bookings: list[Booking]) -> list[Booking]:
    return sorted(bookings, key=lambda b: b.start_at)


def test_a_private_meeting_becomes_a_private_booking_titled_as_its_organizer_wrote_it(
    tenant: Tenant,
) -> None:
    room, organizer = tenant.room_emails[0], tenant.users[0]
    tenant.sim.outlook.create_meeting(
        organizer, room, "Salary talks", tomorrow_at(11), tomorrow_at(12), private=True
    )
    tenant.sim.outlook.create_meeting(organizer, room, "Stand-up", tomorrow_at(13), tomorrow_at(14))

    pull(tenant)

    [copy, _] = tenant.room_calendar(room)
    assert (copy["sensitivity"], copy["subject"]) == ("normal", organizer_name(tenant, organizer))
    private, normal = by_start(tenant.bookings(room))
    assert (private.private, private.title) == (True, "Salary talks")
    assert (normal.private, normal.title) == (False, organizer_name(tenant, organizer))


def test_with_delete_subject_off_occupants_still_never_read_a_private_subject(
    tenant: Tenant, tmp_path: Path
) -> None:
    room, organizer = tenant.room_emails[0], tenant.users[0]
    tenant.sim.set_calendar_processing(room, delete_subject=False, add_organizer_to_subject=False)
    tenant.sim.outlook.create_meeting(
        organizer, room, "Layoffs", tomorrow_at(11), tomorrow_at(12), private=True
    )

    pull(tenant)

    [copy] = tenant.room_calendar(room)
    assert (copy["sensitivity"], copy["subject"]) == ("normal", "Layoffs")
    [booking] = tenant.bookings(room)
    assert booking.private
    occupant_sees, admin_sees = titles_over_rest(tenant, tmp_path, booking)
    assert occupant_sees == PRIVATE_TITLE
    assert admin_sees == "Layoffs"


def titles_over_rest(tenant: Tenant, tmp_path: Path, booking: Booking) -> tuple[str, str]:
    """The booking's title as GET /api/v1/bookings/{id} shows it to an occupant, an admin."""
    settings = tenant.ctx.settings.model_copy(update={"queue_url": f"sqlite:///{tmp_path}/q.db"})
    with tenant.database.session() as session:
        tokens = [
            create_api_token(
                session,
                organization_id=tenant.organization_id,
                role=role,
                name=role.value,
                user="occupant@example.com" if role is Role.OCCUPANT else None,
            ).secret
            for role in (Role.OCCUPANT, Role.ADMIN)
        ]
    titles = []
    with serving_in_background(create_app(settings, tenant.database)) as base_url:
        for token in tokens:
            with httpx.Client(base_url=f"{base_url}/api/v1/", headers=bearer(token)) as api:
                response = api.get(f"bookings/{booking.id}")
                assert response.status_code == 200, response.text
                assert response.json()["private"] is True
                titles.append(str(response.json()["title"]))
    return titles[0], titles[1]


def test_a_private_series_makes_private_occurrences_and_an_exception_may_differ(
    tenant: Tenant,
) -> None:
    room, organizer = tenant.room_emails[0], tenant.users[0]
    first = tomorrow_at(8)
    pattern = recurrence("daily", first.date(), count=3)
    series = tenant.sim.outlook.create_meeting(
        organizer, room, "Therapy", first, first + timedelta(hours=1), recurrence=pattern
    )
    tenant.sim.outlook.update_meeting(organizer, series, {"sensitivity": "private"})
    second = occurrence_id(series, first + timedelta(days=1))
    tenant.sim.outlook.update_meeting(organizer, second, {"sensitivity": "normal"})

    pull(tenant)

    bookings = by_start(tenant.bookings(room))
    assert [b.private for b in bookings] == [True, False, True]
    assert [b.title for b in bookings] == ["Therapy", organizer_name(tenant, organizer), "Therapy"]
    assert len({b.series_id for b in bookings}) == 1


def test_one_occurrence_made_private_later_becomes_a_private_booking(tenant: Tenant) -> None:
    room, organizer = tenant.room_emails[0], tenant.users[0]
    first = tomorrow_at(8)
    series = tenant.sim.outlook.create_meeting(
        organizer,
        room,
        "1:1",
        first,
        first + timedelta(hours=1),
        recurrence=recurrence("daily", first.date(), count=3),
    )
    pull(tenant)
    assert not any(b.private for b in tenant.bookings(room))

    third = occurrence_id(series, first + timedelta(days=2))
    tenant.sim.outlook.update_meeting(organizer, third, {"sensitivity": "private"})
    pull(tenant)

    assert [b.private for b in by_start(tenant.bookings(room))] == [False, False, True]


def test_a_meeting_made_private_in_outlook_becomes_private_and_back(tenant: Tenant) -> None:
    room, organizer = tenant.room_emails[0], tenant.users[0]
    meeting = tenant.sim.outlook.create_meeting(
        organizer, room, "Budget", tomorrow_at(9), tomorrow_at(10)
    )
    pull(tenant)
    [booking] = tenant.bookings(room)
    assert (booking.private, booking.title) == (False, organizer_name(tenant, organizer))

    tenant.sim.outlook.update_meeting(organizer, meeting, {"sensitivity": "confidential"})
    pull(tenant)
    [made_private] = tenant.bookings(room)
    assert made_private.id == booking.id
    assert (made_private.private, made_private.title) == (True, "Budget")

    tenant.sim.outlook.update_meeting(organizer, meeting, {"sensitivity": "normal"})
    pull(tenant)
    [public_again] = tenant.bookings(room)
    assert (public_again.private, public_again.title) == (False, organizer_name(tenant, organizer))


def test_privacy_costs_one_query_per_organizer_not_one_per_meeting(tenant: Tenant) -> None:
    for day in range(4):
        for hour, (room, organizer) in enumerate(
            zip(tenant.room_emails, tenant.users, strict=True), start=9
        ):
            start = tomorrow_at(hour) + timedelta(days=day)
            tenant.sim.outlook.create_meeting(
                organizer, room, "Sync", start, start + timedelta(hours=1), private=day == 0
            )
    tenant.sim.requests.clear()

    pull(tenant)

    assert len(tenant.bookings()) == 12
    assert sum(b.private for b in tenant.bookings()) == 3
    for organizer in tenant.users:
        asked = tenant.sim.requests.entries(path_contains="/calendarView", mailbox=organizer)
        assert len(asked) == 1
        assert asked[0].in_batch


def test_a_quiet_pull_asks_no_organizer(tenant: Tenant) -> None:
    room, organizer = tenant.room_emails[0], tenant.users[0]
    tenant.sim.outlook.create_meeting(
        organizer, room, "Retro", tomorrow_at(9), tomorrow_at(10), private=True
    )
    pull(tenant)
    tenant.sim.requests.clear()

    pull(tenant)

    assert tenant.sim.requests.count(path_contains="/calendarView", mailbox=organizer) == 0
    [booking] = tenant.bookings(room)
    assert booking.private


def test_an_organizer_calendar_refusing_the_filter_is_read_whole(tenant: Tenant) -> None:
    room, organizer = tenant.room_emails[0], tenant.users[0]
    tenant.sim.outlook.create_meeting(
        organizer, room, "Appraisal", tomorrow_at(9), tomorrow_at(10), private=True
    )
    tenant.sim.fail_next(1, 400, path_contains="/calendarView", mailbox=organizer)

    pull(tenant)

    [booking] = tenant.bookings(room)
    assert (booking.private, booking.title) == (True, "Appraisal")
    [whole] = [
        e
        for e in tenant.sim.requests.entries(path_contains="/calendarView", mailbox=organizer)
        if e.status == 200
    ]
    assert "filter" not in whole.query


def test_an_organizer_without_a_readable_calendar_leaves_the_rooms_privacy(
    tenant: Tenant,
) -> None:
    room, organizer = tenant.room_emails[0], tenant.users[0]
    tenant.sim.set_calendar_processing(room, remove_private_property=False)
    tenant.sim.outlook.create_meeting(
        organizer, room, "Offsite", tomorrow_at(9), tomorrow_at(10), private=True
    )
    tenant.sim.fail_next(1, 403, path_contains="/calendarView", mailbox=organizer)

    report = pull(tenant)

    [booking] = tenant.bookings(room)
    assert booking.private
    assert any(organizer in warning for warning in report.warnings)


def test_a_failed_privacy_lookup_creates_nothing_until_the_next_pull_can_ask(
    tenant: Tenant,
) -> None:
    room, organizer = tenant.room_emails[0], tenant.users[0]
    tenant.sim.outlook.create_meeting(
        organizer, room, "Exit interview", tomorrow_at(9), tomorrow_at(10), private=True
    )
    tenant.sim.fail_next(50, 503, path_contains="/calendarView", mailbox=organizer)
    # The retries' back-off is recorded, not slept: the faults are counted, not timed.
    sleeps: list[float] = []
    patient = dataclasses.replace(tenant.ctx, sleep=sleeps.append)

    tenant.sim.settle()
    pull_bookings(patient, tenant.integration_id, trigger=SyncRunTrigger.MANUAL)
    assert tenant.bookings(room) == []
    assert sleeps, "the lookup was retried before it gave up"

    tenant.sim.clear_faults()
    pull(tenant)

    [booking] = tenant.bookings(room)
    assert (booking.private, booking.title) == (True, "Exit interview")


def room_copy(*, private: bool = False) -> RoomCopy:
    return RoomCopy(
        room_event_id="room-1",
        ical_uid="uid-1",
        start=tomorrow_at(9),
        end=tomorrow_at(10),
        subject="Ann Organizer",
        private=private,
        organizer_email="ann@contoso.test",
    )


def test_the_organizers_copy_decides_privacy_and_the_private_title() -> None:
    private = {"ann@contoso.test": {"uid-1": " Salary talks "}}
    public: dict[str, dict[str, str] | None] = {"ann@contoso.test": {"uid-2": "Other"}}

    made_private = as_organizer_sees_it(room_copy(), private)
    made_public = as_organizer_sees_it(room_copy(private=True), public)

    assert (made_private.private, made_private.subject) == (True, "Salary talks")
    assert (made_public.private, made_public.subject) == (False, "Ann Organizer")


def test_an_unreadable_or_untitled_organizer_copy_leaves_the_room_copy_as_it_is() -> None:
    unreadable: dict[str, dict[str, str] | None] = {"ann@contoso.test": None}
    untitled = {"ann@contoso.test": {"uid-1": ""}}

    assert as_organizer_sees_it(room_copy(private=True), unreadable) == room_copy(private=True)
    assert as_organizer_sees_it(room_copy(), {}) == room_copy()
    assert as_organizer_sees_it(room_copy(), untitled).subject == "Ann Organizer"
    assert as_organizer_sees_it(room_copy(), untitled).private
