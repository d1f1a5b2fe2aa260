"""Outlook bookings created by one transaction, inserted together as rows.

A first sync creates a booking, its history entry and its link for every item of every
room: built as ORM objects and flushed one by one, they cost more than everything else
the round does. They are collected here as plain rows and written with one multi-row
``INSERT`` per table when the transaction's pages have been applied. Should a later item
of the same transaction match one of them (the same meeting seen twice), they are written
at once and the item goes the ordinary way, through the rows the database now holds.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, insert
from sqlalchemy.orm import Session

from roomsync.platform.db import new_id, utcnow
from roomsync.platform.models import Booking, BookingHistory, EventLink
from roomsync.platform.services.bookings import outlook_booking_rows
from roomsync.sync.links import synced_state
from roomsync.sync.planner import RoomCopy
from roomsync.sync.rounds import RoomRound

# Rows per INSERT: SQLite allows 32,766 bound values per statement (a booking has 17).
_INSERT_CHUNK = 1000


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
        for model, rows in ((Booking, self.bookings), (BookingHistory, self.history),
                            (EventLink, self.links)):  # fmt: skip
            table = cast("Table", model.__table__)
            for start in range(0, len(rows), _INSERT_CHUNK):
                session.execute(insert(table), rows[start : start + _INSERT_CHUNK])
        self.bookings, self.history, self.links = [], [], []
        self.room_event_ids, self.ical_uids = set(), set()
        return written


def _link_row(
    round_: RoomRound, copy: RoomCopy, booking: dict[str, Any], *, seen_at: datetime
) -> dict[str, Any]:
    """The link :func:`note_room_copy` and :func:`agree_on` would leave for a new booking."""
    now = utcnow()
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
        "created_at": now,
        "updated_at": now,
    }
