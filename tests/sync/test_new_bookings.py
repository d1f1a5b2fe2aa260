"""New Outlook bookings are written through the driver with values already in the
database's form: read back through the ORM they equal what was collected, and the stored
values are byte for byte what SQLAlchemy's own ``INSERT`` stores (a format mismatch would
break comparisons in SQL, which the ORM's reading would hide)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any, cast
from zoneinfo import ZoneInfo

import pytest
from pydantic import TypeAdapter
from sqlalchemy import Table, insert, select, text
from sqlalchemy.orm import Session

from roomsync.m365.calendar import DeltaWindow
from roomsync.platform.db import Database, new_id
from roomsync.platform.models import Base, Booking, BookingHistory, EventLink
from roomsync.sync.planner import RoomCopy
from roomsync.sync.pull.new_bookings import NewBookings, insert_rows
from roomsync.sync.pull.rounds import RoomRound

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
_DIFFERENT = frozenset({"id", "booking_id", "room_event_id"})
GRAPH_INSTANT = TypeAdapter(datetime)
MODELS: tuple[type[Base], ...] = (Booking, BookingHistory, EventLink)


def room_round(factory: Any) -> RoomRound:
    organization = factory.organization()
    room = factory.room(factory.building(organization), email="room@contoso.test")
    now = datetime.now(UTC)
    return RoomRound(
        integration_id=factory.integration(organization),
        organization_id=organization,
        resource_id=room,
        room_email="room@contoso.test",
        window=DeltaWindow(now - timedelta(days=1), now + timedelta(days=30)),
        zone=AMSTERDAM,
        full=True,
        started_at=now,
    )


def collected(round_: RoomRound) -> NewBookings:
    """Two bookings: one with whole seconds in Amsterdam time, one with microseconds in UTC,
    a title outside ASCII, a series and an instant in UTC as pydantic reads Graph's."""
    new = NewBookings()
    copies = [
        RoomCopy(
            room_event_id="AAMk-1", ical_uid="uid-1", subject="Réunion d'équipe ☕",
            start=datetime(2026, 3, 29, 1, 30, tzinfo=AMSTERDAM),
            end=datetime(2026, 3, 29, 3, 30, tzinfo=AMSTERDAM),
            last_modified=datetime(2026, 3, 1, 12, 0, 0, 5, tzinfo=UTC),
            change_key="ck-1", organizer_email="Ann@Contoso.test", private=True,
        ),
        RoomCopy(
            room_event_id="AAMk-2", ical_uid="uid-2", subject="Standup",
            start=datetime(2026, 3, 30, 8, 0, 0, 123456, tzinfo=UTC),
            end=datetime(2026, 3, 30, 8, 15, tzinfo=UTC), all_day=False, series_id="series-9",
            last_modified=GRAPH_INSTANT.validate_python("2026-03-02T08:00:00.25Z"),
        ),
    ]  # fmt: skip
    now = datetime(2026, 3, 1, 9, 0, 0, 250000, tzinfo=UTC)
    for copy in copies:
        new.add(round_, copy, organizer_email=copy.organizer_email or "room@contoso.test",
                now=now)  # fmt: skip
    return new


def rows_of(new: NewBookings) -> list[list[dict[str, Any]]]:
    return [new.bookings, new.history, new.links]


def test_rows_read_back_through_the_orm_equal_what_was_collected(
    database: Database, factory: Any
) -> None:
    new = collected(room_round(factory))
    expected = [[dict(row) for row in rows] for rows in rows_of(new)]
    with database.session() as session:
        assert new.write(session) == 2
    with database.session() as session:
        for model, rows in zip(MODELS, expected, strict=True):
            for row in rows:
                stored = session.get_one(model, row["id"])
                assert {key: getattr(stored, key) for key in row} == row
                for key, value in row.items():
                    if isinstance(value, datetime):
                        assert getattr(stored, key).tzinfo is not None


def test_stored_values_are_those_sqlalchemys_own_insert_stores(
    database: Database, factory: Any
) -> None:
    new = collected(room_round(factory))
    fast = rows_of(new)
    reference = _with_new_ids(fast)
    with database.session() as session:
        for model, fast_rows, reference_rows in zip(MODELS, fast, reference, strict=True):
            table = cast("Table", model.__table__)
            session.execute(insert(table), reference_rows)
            insert_rows(session.connection(), table, fast_rows)
    with database.session() as session:
        for model, fast_rows, reference_rows in zip(MODELS, fast, reference, strict=True):
            for fast_row, reference_row in zip(fast_rows, reference_rows, strict=True):
                assert _raw(session, model, fast_row["id"]) == _raw(
                    session, model, reference_row["id"]
                )


def _with_new_ids(tables: list[list[dict[str, Any]]]) -> list[list[dict[str, Any]]]:
    """The same rows under new ids (and links and history pointing at the new bookings)."""
    renamed: dict[uuid.UUID, uuid.UUID] = {}
    copies: list[list[dict[str, Any]]] = []
    for rows in tables:
        copies.append([])
        for row in rows:
            copy = dict(row, id=new_id())
            renamed[row["id"]] = copy["id"]
            if "booking_id" in copy:
                copy["booking_id"] = renamed[row["booking_id"]]
            if "room_event_id" in copy:  # unique within the integration
                copy["room_event_id"] += "-reference"
            copies[-1].append(copy)
    return copies


def _raw(session: Session, model: type[Base], row_id: uuid.UUID) -> dict[str, Any]:
    """The stored values as the driver returns them, those that differ left out."""
    table = cast("Table", model.__table__)
    id_hex = row_id.hex if session.get_bind().dialect.name == "sqlite" else row_id
    names = [column.name for column in table.c if column.name not in _DIFFERENT]
    query = text(f"SELECT {', '.join(names)} FROM {table.name} WHERE id = :id")
    found = session.execute(query, {"id": id_hex})
    return dict(zip(names, found.one(), strict=True))


def test_a_booking_is_found_by_a_bound_instant(database: Database, factory: Any) -> None:
    new = collected(room_round(factory))
    start = new.bookings[1]["start_at"]
    with database.session() as session:
        new.write(session)
    with database.session() as session:
        found = session.scalars(select(Booking.title).where(Booking.start_at == start)).all()
    assert found == ["Standup"]


def test_a_naive_instant_is_refused_as_the_column_type_refuses_it(
    database: Database, factory: Any
) -> None:
    new = collected(room_round(factory))
    new.bookings[0]["start_at"] = datetime(2026, 3, 29, 1, 30)
    with database.session() as session, pytest.raises(ValueError, match="naive"):
        new.write(session)
