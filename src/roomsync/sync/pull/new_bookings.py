"""Outlook bookings created by one transaction, inserted together as rows.

A first sync creates a booking, its history entry and its link for every item of every
room: built as ORM objects and flushed one by one, they cost more than everything else
the round does. They are collected here as plain rows and written with one multi-row
``INSERT`` per table when the transaction's pages have been applied. Should a later item
of the same transaction match one of them (the same meeting seen twice), they are written
at once and the item goes the ordinary way, through the rows the database now holds.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from operator import itemgetter
from typing import Any, cast

from psycopg.types.json import Json
from sqlalchemy import JSON, Table, Uuid
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session
from sqlalchemy.types import TypeEngine

from roomsync.platform.db import UTCDateTime, new_id
from roomsync.platform.models import Booking, BookingHistory, EventLink
from roomsync.platform.models.base import EnumText
from roomsync.platform.services.checkin_policy import schedule_release_of_rows
from roomsync.platform.services.outlook_bookings import outlook_booking_rows
from roomsync.platform.services.users import link_organizers
from roomsync.sync.links import synced_state
from roomsync.sync.planner import RoomCopy
from roomsync.sync.pull.rounds import RoomRound


class NewBookings:
    """The rows of the Outlook bookings a transaction created and has not written yet."""

    def __init__(self) -> None:
        self.bookings: list[dict[str, Any]] = []
        self.history: list[dict[str, Any]] = []
        self.links: list[dict[str, Any]] = []
        self.room_event_ids: set[str] = set()
        self.ical_uids: set[tuple[str, str]] = set()

    def __len__(self) -> int:
        return len(self.bookings)

    def add(
        self, round_: RoomRound, copy: RoomCopy, *, organizer_email: str, now: datetime
    ) -> None:
        """A booking for the room copy, agreed by both sides (what ``_create`` records)."""
        booking, history = outlook_booking_rows(
            organization_id=round_.organization_id,
            resource_id=round_.resource_id,
            organizer_email=organizer_email,
            title=copy.subject,
            start=copy.start,
            end=copy.end,
            private=copy.private,
            all_day=copy.all_day,
            series_id=copy.series_id,
            now=now,
        )
        self.bookings.append(booking)
        self.history.append(history)
        self.links.append(_link_row(round_, copy, booking, seen_at=now))
        self.room_event_ids.add(copy.room_event_id)
        self.ical_uids.add((round_.room_email, copy.ical_uid))

    def holds(self, room_email: str, room_event_id: str, ical_uid: str | None) -> bool:
        """Whether an item would match a booking created here (identity rule 1)."""
        return room_event_id in self.room_event_ids or (room_email, ical_uid or "") in (
            self.ical_uids
        )

    def write(self, session: Session) -> int:
        """Insert what was collected (bookings first: the others refer to them); returns
        how many bookings that was."""
        written = len(self.bookings)
        schedule_release_of_rows(session, self.bookings)
        connection = session.connection()
        for model, rows in ((Booking, self.bookings), (BookingHistory, self.history),
                            (EventLink, self.links)):  # fmt: skip
            insert_rows(connection, cast("Table", model.__table__), rows)
        link_organizers(session, [row["id"] for row in self.bookings])
        self.bookings, self.history, self.links = [], [], []
        self.room_event_ids, self.ical_uids = set(), set()
        return written


def _link_row(
    round_: RoomRound, copy: RoomCopy, booking: dict[str, Any], *, seen_at: datetime
) -> dict[str, Any]:
    """The link :func:`note_room_copy` and :func:`agree_on` would leave for a new booking
    (created, like the booking, at the transaction's time)."""
    return {
        "id": new_id(),
        "booking_id": booking["id"],
        "integration_id": round_.integration_id,
        "room_email": round_.room_email,
        "room_event_id": copy.room_event_id,
        "ical_uid": copy.ical_uid,
        "organizer_email": copy.organizer_email,
        "organizer_event_id": None,
        "change_key": copy.change_key,
        "organizer_change_key": None,
        "last_modified_at": copy.last_modified,
        "synced_state": synced_state(
            start=booking["start_at"],
            end=booking["end_at"],
            title=booking["title"],
            private=booking["private"],
        ),
        "synced_version": booking["version"],
        "pulled_hash": copy.details_hash,
        "last_seen_at": seen_at,
        "created_at": seen_at,
        "updated_at": seen_at,
    }


# --- Rows written in the database's own form ----------------------------------------------

_Column = tuple[Any, ...]
_NO_OFFSET = timedelta(0)
_Convert = Callable[[_Column], Iterable[Any]]


def insert_rows(connection: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """``INSERT`` rows (all with the same keys) through the driver's ``executemany``.

    The values are converted here, a column at a time, to what SQLAlchemy's column type
    would bind (SQLite: UUIDs as 32 hex digits, instants as naive UTC text, JSON as text;
    PostgreSQL: UUIDs and aware datetimes as they are): the value-by-value processing of
    SQLAlchemy's own ``executemany`` cost four times as much per row.
    """
    if not rows:
        return
    keys = list(rows[0])
    dialect = connection.dialect
    converters = [_converter(table.c[key].type, dialect.name) for key in keys]
    columns = zip(*map(itemgetter(*keys), rows), strict=True)
    converted = [convert(column) for convert, column in zip(converters, columns, strict=True)]
    preparer = dialect.identifier_preparer
    into = f"{preparer.format_table(table)} ({', '.join(map(preparer.quote, keys))})"
    markers = ", ".join(["?" if dialect.paramstyle == "qmark" else "%s"] * len(keys))
    sql = f"INSERT INTO {into} VALUES ({markers})"  # noqa: S608 - names from the metadata
    connection.exec_driver_sql(sql, list(zip(*converted, strict=True)))


def _converter(column_type: TypeEngine[Any], dialect_name: str) -> _Convert:
    """How one column's values are handed to the driver (``None`` stays SQL ``NULL``)."""
    sqlite = dialect_name == "sqlite"
    if isinstance(column_type, UTCDateTime):
        return _repeats_reused(_sqlite_instant) if sqlite else _aware_instants
    if isinstance(column_type, Uuid) and sqlite:
        return _repeats_reused(_uuid_hex)
    if isinstance(column_type, JSON):
        dump = json.dumps if sqlite else Json
        return lambda column: [None if value is None else dump(value) for value in column]
    if isinstance(column_type, EnumText):  # a StrEnum's str() is its value
        return lambda column: [None if value is None else str(value) for value in column]
    return _as_is


def _repeats_reused(convert: Callable[[Any], Any]) -> _Convert:
    """``convert`` applied to each value of a column, except that a value which is the
    very object of the row before reuses its result: a transaction's rows share their
    ``created_at``, ``updated_at`` and ``last_seen_at`` and a room's rows their ids."""

    def converted(column: _Column) -> list[Any]:
        values: list[Any] = []
        last: Any = values  # no value is this list
        result = None
        for value in column:
            if value is not last:
                last, result = value, convert(value)
            values.append(result)
        return values

    return converted


def _as_is(column: _Column) -> _Column:
    return column


def _uuid_hex(value: uuid.UUID | None) -> str | None:
    return None if value is None else value.hex


def _aware_instants(column: _Column) -> _Column:
    """Instants as :class:`UTCDateTime` accepts them: naive datetimes are refused."""
    for value in column:
        if value is not None and value.utcoffset() is None:
            raise ValueError(f"refusing to store the naive datetime {value.isoformat()}")
    return column


def _sqlite_instant(value: datetime | None) -> str | None:
    """An instant as SQLAlchemy stores it on SQLite: naive UTC, ``YYYY-MM-DD
    HH:MM:SS.ffffff`` (``[:26]`` drops the ``+00:00`` of an instant already in UTC, as
    pydantic's are)."""
    if value is None:
        return None
    if value.tzinfo is UTC or value.utcoffset() == _NO_OFFSET:
        return value.isoformat(" ", "microseconds")[:26]
    _aware_instants((value,))
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")
