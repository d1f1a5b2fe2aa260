"""Booking rules at the service layer: intervals, overlap, lifecycle, versions, history."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from roomsync.platform.db import Database
from roomsync.platform.enums import BookingStatus, ChangeSource, HistoryKind, Origin
from roomsync.platform.exceptions import (
    BookingClosedError,
    BookingConflictError,
    IllegalTransitionError,
    InvalidInputError,
    VersionMismatchError,
)
from roomsync.platform.models import Booking, BookingHistory
from roomsync.platform.services.bookings import (
    cancel_booking,
    create_booking,
    set_booking_status,
    update_booking,
)
from roomsync.platform.services.resources import retire_resource

T0 = datetime(2030, 1, 7, 9, tzinfo=UTC)


def at(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


@dataclass(frozen=True)
class Room:
    organization_id: uuid.UUID
    id: uuid.UUID


@pytest.fixture
def room(factory: Any) -> Room:
    organization_id = factory.organization()
    return Room(organization_id, factory.room(factory.building(organization_id)))


def book(database: Database, room: Room, start: float, end: float, **options: Any) -> Booking:
    with database.session() as session:
        return create_booking(
            session,
            organization_id=room.organization_id,
            resource_id=room.id,
            organizer_email="Ann@Acme.test",
            title="Standup",
            start=at(start),
            end=at(end),
            **options,
        )


def test_a_booking_is_stored_in_utc_confirmed_at_version_one(
    database: Database, room: Room
) -> None:
    eastern = datetime(2030, 1, 7, 4, tzinfo=UTC).astimezone(ZoneInfo("America/New_York"))
    with database.session() as session:
        booking = create_booking(
            session,
            organization_id=room.organization_id,
            resource_id=room.id,
            organizer_email="Ann@Acme.test",
            title="Early",
            start=eastern,
            end=eastern + timedelta(hours=1),
        )
    with database.session() as session:
        stored = session.get(Booking, booking.id)
        assert stored is not None
        assert stored.start_at == datetime(2030, 1, 7, 4, tzinfo=UTC)
        assert stored.start_at.tzinfo is UTC
        assert (stored.status, stored.version, stored.origin) == (
            BookingStatus.CONFIRMED,
            1,
            Origin.PLATFORM,
        )
        assert stored.organizer_email == "ann@acme.test"


def test_an_overlapping_booking_is_refused_naming_the_booking_that_holds_the_room(
    database: Database, room: Room
) -> None:
    holder = book(database, room, 0, 1)
    with pytest.raises(BookingConflictError) as caught:
        book(database, room, 0.5, 1.5)
    assert str(holder.id) in caught.value.message
    assert caught.value.details["conflicting_booking_id"] == str(holder.id)


@pytest.mark.parametrize(("start", "end"), [(1, 2), (-1, 0)])
def test_intervals_are_half_open_so_back_to_back_bookings_fit(
    database: Database, room: Room, start: float, end: float
) -> None:
    book(database, room, 0, 1)
    assert book(database, room, start, end).status is BookingStatus.CONFIRMED


def test_a_booking_inside_another_is_refused(database: Database, room: Room) -> None:
    book(database, room, 0, 4)
    with pytest.raises(BookingConflictError):
        book(database, room, 1, 2)


def test_cancelled_and_declined_bookings_free_the_room(database: Database, room: Room) -> None:
    cancelled = book(database, room, 0, 1)
    with database.session() as session:
        cancel_booking(session, booking_id=cancelled.id)
    declined = book(database, room, 0, 1, status=BookingStatus.PENDING)
    with database.session() as session:
        set_booking_status(session, booking_id=declined.id, status=BookingStatus.DECLINED)
    assert book(database, room, 0, 1).status is BookingStatus.CONFIRMED


def test_other_rooms_are_not_affected(database: Database, room: Room, factory: Any) -> None:
    other = Room(
        room.organization_id, factory.room(factory.building(room.organization_id, name="B"))
    )
    book(database, room, 0, 1)
    assert book(database, other, 0, 1).resource_id == other.id


@pytest.mark.parametrize(("start", "end"), [(1, 1), (2, 1)])
def test_end_must_be_after_start(database: Database, room: Room, start: float, end: float) -> None:
    with pytest.raises(InvalidInputError) as caught:
        book(database, room, start, end)
    assert caught.value.field == "end"


def test_bookings_longer_than_the_maximum_are_refused(database: Database, room: Room) -> None:
    with pytest.raises(InvalidInputError, match="at most 2 hours") as caught:
        book(database, room, 0, 3, max_duration=timedelta(hours=2))
    assert caught.value.field == "end"
    assert book(database, room, 0, 2, max_duration=timedelta(hours=2)).version == 1


def test_naive_times_are_refused_naming_the_field(database: Database, room: Room) -> None:
    with pytest.raises(InvalidInputError) as caught, database.session() as session:
        create_booking(
            session,
            organization_id=room.organization_id,
            resource_id=room.id,
            organizer_email="ann@acme.test",
            title="x",
            start=datetime(2030, 1, 7, 9),
            end=at(1),
        )
    assert caught.value.field == "start"


def test_a_retired_room_cannot_be_booked(database: Database, room: Room) -> None:
    with database.session() as session:
        retire_resource(session, resource_id=room.id)
    with pytest.raises(InvalidInputError) as caught:
        book(database, room, 0, 1)
    assert caught.value.field == "resource_id"


def test_what_the_room_mailbox_accepted_is_taken_even_when_it_overlaps(
    database: Database, room: Room
) -> None:
    book(database, room, 0, 1)
    mirrored = book(database, room, 0, 30, source=ChangeSource.MICROSOFT365)
    assert (mirrored.origin, mirrored.status) == (Origin.MICROSOFT365, BookingStatus.CONFIRMED)


def test_renaming_a_booking_longer_than_the_maximum_is_allowed(
    database: Database, room: Room
) -> None:
    conference = book(database, room, 0, 72, source=ChangeSource.MICROSOFT365)
    with database.session() as session:
        renamed = update_booking(session, booking_id=conference.id, title="Offsite")
    assert (renamed.title, renamed.version) == ("Offsite", 2)
    with pytest.raises(InvalidInputError), database.session() as session:
        update_booking(session, booking_id=conference.id, end=at(80))


ALLOWED = [
    (BookingStatus.PENDING, BookingStatus.CONFIRMED),
    (BookingStatus.PENDING, BookingStatus.DECLINED),
    (BookingStatus.PENDING, BookingStatus.CANCELLED),
    (BookingStatus.CONFIRMED, BookingStatus.CANCELLED),
    (BookingStatus.DECLINED, BookingStatus.CANCELLED),
    # A late acceptance by the room, and a withdrawn one (docs/sync.md).
    (BookingStatus.DECLINED, BookingStatus.CONFIRMED),
    (BookingStatus.CONFIRMED, BookingStatus.DECLINED),
]
ILLEGAL = [
    (BookingStatus.CONFIRMED, BookingStatus.PENDING),
    (BookingStatus.DECLINED, BookingStatus.PENDING),
    (BookingStatus.CANCELLED, BookingStatus.CONFIRMED),
    (BookingStatus.CANCELLED, BookingStatus.PENDING),
]


def _booking_in(database: Database, room: Room, status: BookingStatus) -> Booking:
    initial = BookingStatus.PENDING if status is not BookingStatus.CONFIRMED else status
    booking = book(database, room, 0, 1, status=initial)
    if status not in (initial,):
        with database.session() as session:
            set_booking_status(session, booking_id=booking.id, status=status, reason="setup")
    return booking


@pytest.mark.parametrize(("current", "target"), ALLOWED)
def test_lifecycle_allows(
    database: Database, room: Room, current: BookingStatus, target: BookingStatus
) -> None:
    booking = _booking_in(database, room, current)
    with database.session() as session:
        changed = set_booking_status(session, booking_id=booking.id, status=target, reason="why")
        assert (changed.status, changed.status_reason) == (target, "why")


@pytest.mark.parametrize(("current", "target"), ILLEGAL)
def test_lifecycle_refuses(
    database: Database, room: Room, current: BookingStatus, target: BookingStatus
) -> None:
    booking = _booking_in(database, room, current)
    with pytest.raises(IllegalTransitionError), database.session() as session:
        set_booking_status(session, booking_id=booking.id, status=target)


def test_a_replayed_status_changes_nothing(database: Database, room: Room) -> None:
    booking = book(database, room, 0, 1, status=BookingStatus.PENDING)
    for _ in range(2):
        with database.session() as session:
            result = set_booking_status(
                session,
                booking_id=booking.id,
                status=BookingStatus.CONFIRMED,
                source=ChangeSource.MICROSOFT365,
            )
    assert result.version == 2


def test_every_change_bumps_the_version_and_appends_history(database: Database, room: Room) -> None:
    booking = book(database, room, 0, 1, status=BookingStatus.PENDING)
    with database.session() as session:
        update_booking(session, booking_id=booking.id, title="Retro", expected_version=1)
        set_booking_status(
            session,
            booking_id=booking.id,
            status=BookingStatus.CONFIRMED,
            source=ChangeSource.MICROSOFT365,
        )
        cancel_booking(session, booking_id=booking.id, reason="no longer needed")
    with database.session() as session:
        history = session.scalars(
            select(BookingHistory)
            .where(BookingHistory.booking_id == booking.id)
            .order_by(BookingHistory.version)
        ).all()
        final = session.get(Booking, booking.id)
    assert final is not None
    assert final.version == 4
    assert [(h.version, h.kind, h.source) for h in history] == [
        (1, HistoryKind.CREATED, ChangeSource.PLATFORM),
        (2, HistoryKind.UPDATED, ChangeSource.PLATFORM),
        (3, HistoryKind.STATUS_CHANGED, ChangeSource.MICROSOFT365),
        (4, HistoryKind.CANCELLED, ChangeSource.PLATFORM),
    ]
    assert history[1].data == {"title": ["Standup", "Retro"]}
    assert final.cancelled_at is not None
    assert final.status_reason == "no longer needed"


def test_a_stale_expected_version_is_refused(database: Database, room: Room) -> None:
    booking = book(database, room, 0, 1)
    with database.session() as session:
        update_booking(session, booking_id=booking.id, title="First")
    with pytest.raises(VersionMismatchError), database.session() as session:
        update_booking(session, booking_id=booking.id, title="Second", expected_version=1)


def test_an_update_that_changes_nothing_keeps_the_version(database: Database, room: Room) -> None:
    booking = book(database, room, 0, 1)
    with database.session() as session:
        same = update_booking(session, booking_id=booking.id, title="Standup", start=at(0))
    assert same.version == 1


def test_moving_a_booking_onto_a_taken_slot_is_refused(database: Database, room: Room) -> None:
    book(database, room, 2, 3)
    mover = book(database, room, 0, 1)
    with database.session() as session:
        update_booking(session, booking_id=mover.id, start=at(0.5), end=at(1.5))
    with pytest.raises(BookingConflictError), database.session() as session:
        update_booking(session, booking_id=mover.id, start=at(1.5), end=at(2.5))


def test_moving_to_another_room_checks_that_room(
    database: Database, room: Room, factory: Any
) -> None:
    other_id = factory.room(factory.building(room.organization_id, name="Annex"))
    book(database, Room(room.organization_id, other_id), 0, 1)
    mover = book(database, room, 0, 1)
    with pytest.raises(BookingConflictError), database.session() as session:
        update_booking(session, booking_id=mover.id, resource_id=other_id)


@pytest.mark.parametrize("closing", [BookingStatus.CANCELLED, BookingStatus.DECLINED])
def test_cancelled_and_declined_bookings_cannot_be_edited(
    database: Database, room: Room, closing: BookingStatus
) -> None:
    booking = book(database, room, 0, 1, status=BookingStatus.PENDING)
    with database.session() as session:
        set_booking_status(session, booking_id=booking.id, status=closing)
    with pytest.raises(BookingClosedError), database.session() as session:
        update_booking(session, booking_id=booking.id, title="Again")


def test_cancelling_twice_changes_nothing_the_second_time(database: Database, room: Room) -> None:
    booking = book(database, room, 0, 1)
    with database.session() as session:
        first = cancel_booking(session, booking_id=booking.id)
    with database.session() as session:
        second = cancel_booking(session, booking_id=booking.id)
    assert first.version == second.version == 2
