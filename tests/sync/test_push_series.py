"""A series booked on the platform reaches Outlook as one series: one master in the
organizer's mailbox, its occurrences in the room's calendar, each booking linked to its
own occurrence and confirmed or declined by the room occurrence by occurrence."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import delete, select, update

from graphsim import recurrence
from roomsync.platform.db import Database
from roomsync.platform.enums import BookingStatus, OutboxState
from roomsync.platform.models import BookingSeries, EventLink, OutboxEntry
from roomsync.platform.services.series import ConflictChoice, create_series
from roomsync.sync.push.room_answers import check_answers_of
from roomsync.sync.push.series import series_transaction_id
from roomsync.sync.push.workflow import PushState
from tests.sync.harness import Tenant
from tests.sync.push_support import (
    book,
    cancel,
    connected,
    meetings,
    move,
    outbox_rows,
    pull,
    push,
    span,
)

WEEKS = 10


@pytest.fixture
def tenant(database: Database) -> Iterator[Tenant]:
    with connected(database) as tenant:
        yield tenant


def next_monday_at(hour: int) -> datetime:
    today = datetime.now(UTC).date()
    monday = today + timedelta(days=7 - today.weekday())
    return datetime(monday.year, monday.month, monday.day, hour, tzinfo=UTC)


def weekly(count: int = WEEKS) -> dict[str, Any]:
    return {
        "pattern": {"type": "weekly", "interval": 1, "daysOfWeek": ["monday"]},
        "range": {"type": "numbered", "numberOfOccurrences": count},
    }


def book_series(
    tenant: Tenant,
    start: datetime,
    *,
    count: int = WEEKS,
    conflicts: ConflictChoice = ConflictChoice.FAIL,
) -> list[uuid.UUID]:
    with tenant.database.session() as session:
        result = create_series(
            session,
            organization_id=tenant.organization_id,
            resource_id=tenant.rooms[tenant.room_emails[0]],
            organizer_email=tenant.users[0],
            title="Weekly sync",
            start=start,
            end=start + timedelta(hours=1),
            recurrence=weekly(count),
            conflicts=conflicts,
        )
        return [booking.id for booking in result.bookings]


def room_occurrences(tenant: Tenant, days: int = 7 * WEEKS + 14) -> list[dict[str, Any]]:
    return [
        event
        for event in tenant.room_calendar(tenant.room_emails[0], days=days)
        if not event.get("isCancelled")
    ]


def push_all(tenant: Tenant, booking_ids: list[uuid.UUID]) -> dict[uuid.UUID, PushState]:
    """Push each booking (the first push takes the whole series) and read the answers."""
    states = {b: push(tenant, b).state for b in booking_ids}
    check_answers_of(tenant.ctx, booking_ids)
    return states


def test_a_weekly_series_becomes_one_graph_series_with_every_occurrence_confirmed(
    tenant: Tenant,
) -> None:
    start = next_monday_at(8)
    booking_ids = book_series(tenant, start)

    first = push(tenant, booking_ids[0])
    check_answers_of(tenant.ctx, booking_ids)

    assert first.state is PushState.PUSHED
    [master] = meetings(tenant.sim, tenant.users[0])
    assert master["type"] == "seriesMaster"
    assert master["transactionId"] == series_transaction_id(
        tenant.booking(booking_ids[0]).series_id or ""
    )
    assert master["recurrence"]["range"]["recurrenceTimeZone"] == "Romance Standard Time"
    occurrences = room_occurrences(tenant)
    assert len(occurrences) == WEEKS
    assert {span(event) for event in occurrences} == {
        (start + timedelta(weeks=n), start + timedelta(weeks=n, hours=1)) for n in range(WEEKS)
    }
    for booking_id in booking_ids:
        assert tenant.booking(booking_id).status is BookingStatus.CONFIRMED
        assert [row.state for row in outbox_rows(tenant, booking_id)] == [OutboxState.DONE]
    ical_uids = {tenant.link_of(b).ical_uid for b in booking_ids}  # type: ignore[union-attr]
    assert ical_uids == {event["iCalUId"] for event in occurrences}


def test_pushing_every_occurrence_after_the_first_sends_nothing_more(tenant: Tenant) -> None:
    booking_ids = book_series(tenant, next_monday_at(8))
    push(tenant, booking_ids[0])
    tenant.sim.requests.clear()

    states = {b: push(tenant, b).state for b in booking_ids}

    assert set(states.values()) == {PushState.NOTHING_DUE}
    assert tenant.sim.requests.count(method="POST") == 0


def test_a_series_create_retried_after_its_answer_was_lost_returns_the_same_master(
    tenant: Tenant,
) -> None:
    start = next_monday_at(8)
    booking_ids = book_series(tenant, start)
    push(tenant, booking_ids[0])
    with tenant.database.session() as session:  # as if the create had never been recorded
        row = session.scalar(select(BookingSeries))
        assert row is not None
        master_id, row.master_event_id = row.master_event_id, None
        session.execute(delete(EventLink).where(EventLink.booking_id == booking_ids[3]))
    moved = start + timedelta(weeks=3, hours=2)
    move(tenant, booking_ids[3], moved, moved + timedelta(hours=1))

    push(tenant, booking_ids[3])

    [master] = meetings(tenant.sim, tenant.users[0])
    assert master["id"] == master_id
    spans = {span(event) for event in room_occurrences(tenant)}
    assert len(spans) == WEEKS
    assert (moved, moved + timedelta(hours=1)) in spans


def test_skipped_and_cancelled_occurrences_are_cancelled_in_the_graph_series(
    tenant: Tenant,
) -> None:
    start = next_monday_at(8)
    taken = book(
        tenant,
        tenant.room_emails[0],
        start + timedelta(weeks=2),
        start + timedelta(weeks=2, hours=1),
    )
    push(tenant, taken)
    booking_ids = book_series(tenant, start, conflicts=ConflictChoice.SKIP)
    cancel(tenant, booking_ids[4])

    push_all(tenant, booking_ids)

    spans = sorted(span(event) for event in room_occurrences(tenant))
    series_spans = [s for s in spans if s[0] != start + timedelta(weeks=2)]
    assert len(series_spans) == WEEKS - 2
    assert (start + timedelta(weeks=5), start + timedelta(weeks=5, hours=1)) not in spans
    assert len(booking_ids) == WEEKS - 1


def test_moving_one_occurrence_patches_just_that_occurrence(tenant: Tenant) -> None:
    start = next_monday_at(8)
    booking_ids = book_series(tenant, start)
    push_all(tenant, booking_ids)
    tenant.sim.requests.clear()

    moved = booking_ids[2]
    new_start = start + timedelta(weeks=2, hours=3)
    move(tenant, moved, new_start, new_start + timedelta(hours=1))
    push(tenant, moved)
    check_answers_of(tenant.ctx, [moved])

    assert tenant.sim.requests.count(method="PATCH") == 1
    spans = sorted(span(event) for event in room_occurrences(tenant))
    assert (new_start, new_start + timedelta(hours=1)) in spans
    assert (start + timedelta(weeks=2), start + timedelta(weeks=2, hours=1)) not in spans
    assert len(spans) == WEEKS
    assert tenant.booking(moved).status is BookingStatus.CONFIRMED


def test_cancelling_one_occurrence_cancels_just_that_occurrence(tenant: Tenant) -> None:
    start = next_monday_at(8)
    booking_ids = book_series(tenant, start)
    push_all(tenant, booking_ids)

    cancel(tenant, booking_ids[5])
    push(tenant, booking_ids[5])

    spans = sorted(span(event) for event in room_occurrences(tenant))
    assert len(spans) == WEEKS - 1
    assert (start + timedelta(weeks=5), start + timedelta(weeks=5, hours=1)) not in spans
    [master] = meetings(tenant.sim, tenant.users[0])
    assert master["type"] == "seriesMaster"


def _taken_in_outlook(tenant: Tenant, start: datetime) -> None:
    """A meeting the platform has not pulled yet holds the room at ``start``."""
    tenant.sim.outlook.create_meeting(
        tenant.users[1], tenant.room_emails[0], "Board", start, start + timedelta(hours=1)
    )
    tenant.sim.settle()


def test_a_room_that_allows_a_conflict_declines_just_that_occurrence(tenant: Tenant) -> None:
    start = next_monday_at(8)
    tenant.sim.set_calendar_processing(
        tenant.room_emails[0], maximum_conflict_instances=1, conflict_percentage_allowed=10
    )
    booking_ids = book_series(tenant, start)
    _taken_in_outlook(tenant, start + timedelta(weeks=4))

    push_all(tenant, booking_ids)

    statuses = [tenant.booking(b).status for b in booking_ids]
    assert statuses[4] is BookingStatus.DECLINED
    assert statuses[:4] + statuses[5:] == [BookingStatus.CONFIRMED] * (WEEKS - 1)


def test_a_room_that_allows_no_conflict_declines_every_occurrence(tenant: Tenant) -> None:
    start = next_monday_at(8)
    booking_ids = book_series(tenant, start)
    _taken_in_outlook(tenant, start + timedelta(weeks=4))

    push_all(tenant, booking_ids)

    assert {tenant.booking(b).status for b in booking_ids} == {BookingStatus.DECLINED}


def test_the_pull_adopts_occurrences_whose_push_was_not_recorded_and_makes_no_booking(
    tenant: Tenant,
) -> None:
    booking_ids = book_series(tenant, next_monday_at(8))
    push(tenant, booking_ids[0])
    with tenant.database.session() as session:  # as if the worker died before recording
        session.execute(delete(EventLink))
        session.execute(
            update(OutboxEntry).values(state=OutboxState.PENDING, done_at=None, attempts=1)
        )

    report = pull(tenant)
    push_all(tenant, booking_ids)

    assert report.counts["create_booking"] == 0
    assert report.counts["adopted"] == WEEKS
    assert len(tenant.bookings(tenant.room_emails[0])) == WEEKS
    assert {tenant.booking(b).status for b in booking_ids} == {BookingStatus.CONFIRMED}
    assert len(meetings(tenant.sim, tenant.users[0])) == 1
    assert len(room_occurrences(tenant)) == WEEKS


def _outlook_series(tenant: Tenant, start: datetime) -> str:
    """A weekly series of ``WEEKS`` booked in Outlook by its organizer, pulled."""
    series = tenant.sim.outlook.create_meeting(
        tenant.users[1],
        tenant.room_emails[0],
        "Team meeting",
        start,
        start + timedelta(hours=1),
        recurrence=recurrence("weekly", start.date(), count=WEEKS, days_of_week=["monday"]),
    )
    pull(tenant)
    return series


def _organizer_spans(tenant: Tenant, days: int = 7 * WEEKS + 14) -> list[tuple[datetime, datetime]]:
    low = datetime.now(UTC) - timedelta(days=1)
    view = tenant.sim.calendar_view(tenant.users[1], low, low + timedelta(days=days))
    return sorted(span(event) for event in view if not event.get("isCancelled"))


def test_an_occurrence_of_an_outlook_series_cancelled_on_the_platform_leaves_both_calendars(
    tenant: Tenant,
) -> None:
    start = next_monday_at(8)
    _outlook_series(tenant, start)
    bookings = tenant.bookings(tenant.room_emails[0])
    assert len(bookings) == WEEKS
    freed = bookings[3]

    cancel(tenant, freed.id)
    push(tenant, freed.id)
    pull(tenant)

    gone = (start + timedelta(weeks=3), start + timedelta(weeks=3, hours=1))
    room_spans = sorted(span(event) for event in room_occurrences(tenant))
    assert gone not in room_spans
    assert len(room_spans) == WEEKS - 1
    assert gone not in _organizer_spans(tenant)
    assert len(_organizer_spans(tenant)) == WEEKS - 1
    assert len(tenant.bookings(tenant.room_emails[0])) == WEEKS - 1
    assert tenant.booking(freed.id).status is BookingStatus.CANCELLED


def test_an_occurrence_of_an_outlook_series_moved_on_the_platform_moves_in_outlook(
    tenant: Tenant,
) -> None:
    start = next_monday_at(8)
    _outlook_series(tenant, start)
    moved = tenant.bookings(tenant.room_emails[0])[2]
    new_start = start + timedelta(weeks=2, hours=5)

    move(tenant, moved.id, new_start, new_start + timedelta(hours=1))
    push(tenant, moved.id)
    pull(tenant)

    assert (new_start, new_start + timedelta(hours=1)) in _organizer_spans(tenant)
    room_spans = sorted(span(event) for event in room_occurrences(tenant))
    assert (new_start, new_start + timedelta(hours=1)) in room_spans
    assert len(room_spans) == WEEKS
    assert tenant.booking(moved.id).start_at.replace(tzinfo=UTC) == new_start


def test_a_last_occurrence_skipped_for_a_clash_is_cancelled_in_the_graph_series(
    tenant: Tenant,
) -> None:
    start = next_monday_at(8)
    last = start + timedelta(weeks=WEEKS - 1)
    taken = book(tenant, tenant.room_emails[0], last, last + timedelta(hours=1))
    push(tenant, taken)
    booking_ids = book_series(tenant, start, conflicts=ConflictChoice.SKIP)

    push_all(tenant, booking_ids)

    organizer_view = tenant.sim.calendar_view(
        tenant.users[0], start - timedelta(days=1), last + timedelta(days=2)
    )
    series_starts = [span(e)[0] for e in organizer_view if e.get("seriesMasterId")]
    assert last not in series_starts
    assert len(series_starts) == WEEKS - 1
    assert {tenant.booking(b).status for b in booking_ids} == {BookingStatus.CONFIRMED}
