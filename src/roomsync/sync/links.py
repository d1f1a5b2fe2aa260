"""Event links: how a booking is known in Microsoft 365 (docs/sync.md "The link row").

:class:`LinkIndex` loads, in two queries, the links and bookings a page of room items may
match (identity rule 1: by room event id, then by iCalUId) and keeps itself current as the
page is applied, so a duplicate item later in the same page matches what an earlier one
created. :func:`linked_facts` reduces a link and its booking to the planner's facts.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from roomsync.platform.enums import BookingStatus, Origin
from roomsync.platform.models import Booking, EventLink
from roomsync.sync.planner import LinkedBooking, RoomCopy

AWAITING_ROOM = frozenset({BookingStatus.PENDING, BookingStatus.DECLINED})


class LinkIndex:
    """The links (and their bookings) of one room that a page's items may match.

    Scoped to the room: a meeting booking two rooms has the same iCalUId in both rooms'
    calendars, and each room's copy is a booking of its own."""

    def __init__(self, session: Session, integration_id: uuid.UUID, room_email: str) -> None:
        self.session = session
        self.integration_id = integration_id
        self.room_email = room_email
        self.by_room_event_id: dict[str, EventLink] = {}
        self.by_ical_uid: dict[str, EventLink] = {}
        self.bookings: dict[uuid.UUID, Booking] = {}

    def load(self, room_event_ids: Iterable[str], ical_uids: Iterable[str]) -> None:
        # Two queries, each on its own index; one with OR would scan the integration's links.
        ids, uids = set(room_event_ids), set(ical_uids)
        links = list(self._links(EventLink.room_event_id.in_(ids))) if ids else []
        if uids:
            links += self._links(
                EventLink.ical_uid.in_(uids), EventLink.room_email == self.room_email
            )
        self.add_bookings(link.booking_id for link in links)
        for link in links:
            self.remember(link)

    def _links(self, *conditions: ColumnElement[bool]) -> Sequence[EventLink]:
        query = select(EventLink).where(
            EventLink.integration_id == self.integration_id, *conditions
        )
        return self.session.scalars(query).all()

    def add_bookings(self, booking_ids: Iterable[uuid.UUID]) -> None:
        wanted = set(booking_ids) - self.bookings.keys()
        if wanted:
            found = self.session.scalars(select(Booking).where(Booking.id.in_(wanted)))
            self.bookings.update((booking.id, booking) for booking in found)

    def remember(self, link: EventLink) -> None:
        if link.room_event_id:
            self.by_room_event_id[link.room_event_id] = link
        if link.ical_uid:
            self.by_ical_uid[link.ical_uid] = link

    def match(self, room_event_id: str, ical_uid: str | None = None) -> EventLink | None:
        """Identity rule 1: the room event id first, then the iCalUId."""
        link = self.by_room_event_id.get(room_event_id)
        if link is None and ical_uid is not None:
            link = self.by_ical_uid.get(ical_uid)
        return link

    def booking_of(self, link: EventLink) -> Booking:
        return self.bookings[link.booking_id]


def synced_state(*, start: datetime, end: datetime, title: str, private: bool) -> dict[str, Any]:
    """The agreed state as stored on the link (JSON)."""
    return {"start": start.isoformat(), "end": end.isoformat(), "title": title, "private": private}


def agreed_times(link: EventLink) -> tuple[datetime | None, datetime | None]:
    state = link.synced_state or {}
    start, end = state.get("start"), state.get("end")
    return (
        datetime.fromisoformat(start) if start else None,
        datetime.fromisoformat(end) if end else None,
    )


def linked_facts(link: EventLink, booking: Booking) -> LinkedBooking:
    agreed_start, agreed_end = agreed_times(link)
    return LinkedBooking(
        booking_id=booking.id,
        start=booking.start_at,
        end=booking.end_at,
        updated_at=booking.updated_at,
        outlook_born=booking.origin is Origin.MICROSOFT365,
        cancelled=booking.status is BookingStatus.CANCELLED,
        awaiting_room=booking.status in AWAITING_ROOM,
        has_unpushed_changes=booking.version > (link.synced_version or 0),
        agreed_start=agreed_start,
        agreed_end=agreed_end,
        pulled_details_hash=link.pulled_hash,
        last_change_key=link.change_key,
        last_modified=link.last_modified_at,
    )


def note_room_copy(link: EventLink, copy: RoomCopy, *, seen_at: datetime) -> None:
    """What the link records every time the room copy is seen."""
    link.room_event_id = copy.room_event_id
    link.ical_uid = link.ical_uid or copy.ical_uid
    link.change_key = copy.change_key
    if copy.last_modified is not None:
        link.last_modified_at = copy.last_modified
    link.last_seen_at = seen_at


def agree_on(link: EventLink, booking: Booking, *, pulled_hash: str | None = None) -> None:
    """Both sides now hold the booking as it is: record it as the agreed state."""
    link.synced_state = synced_state(
        start=booking.start_at, end=booking.end_at, title=booking.title, private=booking.private
    )
    link.synced_version = booking.version
    if pulled_hash is not None:
        link.pulled_hash = pulled_hash
