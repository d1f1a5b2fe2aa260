"""The bulk path's rows for a new Outlook booking are what the ORM path stores.

A first sync writes new Outlook bookings as rows (``outlook_booking_rows``) instead of
through ``create_booking``; the two must not drift: every column of the booking and of
its first history entry must come out the same, ids and timestamps aside.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from roomsync.platform.db import Database
from roomsync.platform.enums import BookingStatus, ChangeSource
from roomsync.platform.models import Booking, BookingHistory
from roomsync.platform.services.bookings import create_booking
from roomsync.platform.services.outlook_bookings import outlook_booking_rows

OWN_VALUES = {"id", "booking_id", "created_at", "updated_at"}
LINKED_AFTER_INSERT = "organizer_user_id"  # the bulk writer links organizers in one statement


def columns(row: Any, model: type[Any]) -> dict[str, Any]:
    names = [c.key for c in model.__table__.c if c.key not in OWN_VALUES]
    return {name: getattr(row, name) for name in names}


def test_a_new_outlook_booking_as_rows_equals_the_orm_paths_booking_and_history(
    database: Database, factory: Any
) -> None:
    organization_id = factory.organization()
    room_id = factory.room(factory.building(organization_id), email="room1@contoso.test")
    fields: dict[str, Any] = {
        "organization_id": organization_id,
        "resource_id": room_id,
        "organizer_email": "Ann@Contoso.test",
        "title": "Ann Lee",
        "start": datetime(2031, 3, 4, 9, 30, tzinfo=UTC),
        "end": datetime(2031, 3, 4, 10, 0, tzinfo=UTC),
        "private": True,
        "series_id": "series-1",
    }
    booking_row, history_row = outlook_booking_rows(**fields, now=datetime.now(UTC))
    with database.session() as session:
        booking = create_booking(
            session, **fields, status=BookingStatus.CONFIRMED, source=ChangeSource.MICROSOFT365
        )
        history = session.scalars(
            select(BookingHistory).where(BookingHistory.booking_id == booking.id)
        ).one()

        orm_columns = columns(booking, Booking)
        assert booking.organizer is not None
        assert booking.organizer.email == orm_columns["organizer_email"]
        del orm_columns[LINKED_AFTER_INSERT]
        assert {k: v for k, v in booking_row.items() if k not in OWN_VALUES} == orm_columns
        assert {k: v for k, v in history_row.items() if k not in OWN_VALUES} == columns(
            history, BookingHistory
        )
