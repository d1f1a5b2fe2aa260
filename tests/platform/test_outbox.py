"""The transactional outbox: a push is owed exactly for pushable rooms, and it commits or
rolls back together with the booking change."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Connection, event, func, select
from sqlalchemy.orm import Session

from roomsync.platform.db import Database
from roomsync.platform.enums import (
    BookingStatus,
    ChangeSource,
    OutboxAction,
    OutboxState,
    SyncState,
)
from roomsync.platform.models import Booking, EventLink, OutboxEntry
from roomsync.platform.services.booking_sync import booking_sync_views
from roomsync.platform.services.bookings import (
    cancel_booking,
    create_booking,
    set_booking_status,
    update_booking,
)

T0 = datetime(2030, 1, 7, 9, tzinfo=UTC)


class RoomSetup:
    def __init__(self, factory: Any, *, email: str | None, integration: bool | None) -> None:
        self.organization_id = factory.organization()
        self.room_id = factory.room(factory.building(self.organization_id), email=email)
        self.integration_id = (
            factory.integration(self.organization_id, enabled=integration)
            if integration is not None
            else None
        )

    def book(self, session: Session, hours: float = 0, **options: Any) -> Booking:
        return create_booking(
            session,
            organization_id=self.organization_id,
            resource_id=self.room_id,
            organizer_email="ann@acme.test",
            title="Standup",
            start=T0 + timedelta(hours=hours),
            end=T0 + timedelta(hours=hours + 1),
            **options,
        )


@pytest.fixture
def m365_room(factory: Any) -> RoomSetup:
    return RoomSetup(factory, email="Room.1@Acme.test", integration=True)


def outbox_rows(database: Database) -> list[OutboxEntry]:
    with database.session() as session:
        return list(session.scalars(select(OutboxEntry).order_by(OutboxEntry.id)))


def count(database: Database, model: type[Any]) -> int:
    with database.session() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def test_a_booking_of_a_microsoft365_room_starts_pending_with_a_create_row(
    database: Database, m365_room: RoomSetup
) -> None:
    with database.session() as session:
        booking = m365_room.book(session)
    assert booking.status is BookingStatus.PENDING
    [row] = outbox_rows(database)
    assert (row.booking_id, row.action, row.booking_version, row.state) == (
        booking.id,
        OutboxAction.CREATE,
        1,
        OutboxState.PENDING,
    )
    assert row.organization_id == m365_room.organization_id


@pytest.mark.parametrize(
    ("email", "integration"),
    [(None, True), ("room@acme.test", None), ("room@acme.test", False)],
    ids=["room-without-mailbox", "no-integration", "integration-disabled"],
)
def test_no_outbox_row_and_a_confirmed_booking_when_nothing_is_pushed(
    database: Database, factory: Any, email: str | None, integration: bool | None
) -> None:
    setup = RoomSetup(factory, email=email, integration=integration)
    with database.session() as session:
        booking = setup.book(session)
        update_booking(session, booking_id=booking.id, title="Retro")
        cancel_booking(session, booking_id=booking.id)
    assert booking.status is BookingStatus.CANCELLED
    assert outbox_rows(database) == []


def test_updates_and_cancels_queue_their_own_rows_in_order(
    database: Database, m365_room: RoomSetup
) -> None:
    with database.session() as session:
        booking = m365_room.book(session)
        update_booking(session, booking_id=booking.id, title="Retro")
        cancel_booking(session, booking_id=booking.id)
    rows = outbox_rows(database)
    assert [(r.action, r.booking_version) for r in rows] == [
        (OutboxAction.CREATE, 1),
        (OutboxAction.UPDATE, 2),
        (OutboxAction.CANCEL, 3),
    ]


def test_moving_a_confirmed_pushable_booking_asks_the_room_again(
    database: Database, m365_room: RoomSetup
) -> None:
    with database.session() as session:
        booking = m365_room.book(session)
        set_booking_status(
            session,
            booking_id=booking.id,
            status=BookingStatus.CONFIRMED,
            source=ChangeSource.MICROSOFT365,
        )
        moved = update_booking(session, booking_id=booking.id, start=T0 + timedelta(minutes=30))
        assert moved.status is BookingStatus.PENDING
        retitled = update_booking(session, booking_id=booking.id, title="Only the title")
        assert retitled.status is BookingStatus.PENDING


def test_changes_from_microsoft365_never_write_outbox_rows(
    database: Database, m365_room: RoomSetup
) -> None:
    with database.session() as session:
        booking = m365_room.book(session, source=ChangeSource.MICROSOFT365)
        update_booking(
            session, booking_id=booking.id, title="Renamed", source=ChangeSource.MICROSOFT365
        )
        cancel_booking(session, booking_id=booking.id, source=ChangeSource.MICROSOFT365)
    assert booking.status is BookingStatus.CANCELLED
    assert outbox_rows(database) == []


@pytest.fixture
def failing_outbox_insert() -> Iterator[list[int]]:
    """Make the transaction fail right after the outbox row is inserted, through
    SQLAlchemy's mapper event seam; yields how many booking rows the transaction held then."""
    seen_bookings: list[int] = []

    def fail(_mapper: Any, connection: Connection, entry: OutboxEntry) -> None:
        held = select(func.count()).select_from(Booking).where(Booking.id == entry.booking_id)
        seen_bookings.append(connection.execute(held).scalar_one())
        raise RuntimeError("simulated failure after the outbox insert")

    event.listen(OutboxEntry, "after_insert", fail)
    try:
        yield seen_bookings
    finally:
        event.remove(OutboxEntry, "after_insert", fail)


def test_a_failure_after_the_outbox_insert_leaves_neither_booking_nor_outbox_row(
    database: Database, m365_room: RoomSetup, failing_outbox_insert: list[int]
) -> None:
    with pytest.raises(RuntimeError, match="simulated failure"), database.session() as session:
        m365_room.book(session)
    assert failing_outbox_insert == [1]  # the booking was written in the same transaction
    assert count(database, Booking) == 0
    assert count(database, OutboxEntry) == 0


def test_sync_state_follows_the_outbox_and_the_event_link(
    database: Database, m365_room: RoomSetup, factory: Any
) -> None:
    plain = RoomSetup(factory, email=None, integration=None)
    with database.session() as session:
        pending = m365_room.book(session, hours=0)
        failed = m365_room.book(session, hours=2)
        synced = m365_room.book(session, hours=4)
        unpushed = plain.book(session)
        _settle(session, failed, OutboxState.FAILED, error="The room mailbox refused access.")
        _settle(session, synced, OutboxState.DONE)
        session.add(_link(synced, m365_room.integration_id, ical_uid="uid-synced"))
    with database.session() as session:
        views = booking_sync_views(session, [pending, failed, synced, unpushed])
    assert views[pending.id].state is SyncState.PENDING
    assert (views[failed.id].state, views[failed.id].error) == (
        SyncState.FAILED,
        "The room mailbox refused access.",
    )
    assert (views[synced.id].state, views[synced.id].ical_uid) == (SyncState.SYNCED, "uid-synced")
    assert views[unpushed.id].state is SyncState.NOT_SYNCED


def _settle(
    session: Session, booking: Booking, state: OutboxState, error: str | None = None
) -> None:
    for row in session.scalars(select(OutboxEntry).where(OutboxEntry.booking_id == booking.id)):
        row.state, row.last_error = state, error


def _link(booking: Booking, integration_id: uuid.UUID | None, *, ical_uid: str) -> EventLink:
    assert integration_id is not None
    return EventLink(
        booking_id=booking.id,
        integration_id=integration_id,
        room_email="room.1@acme.test",
        room_event_id=f"event-{booking.id}",
        ical_uid=ical_uid,
    )
