"""Event links: how a booking is known in Microsoft 365 (docs/sync.md "The link row").

:class:`LinkIndex` loads, in three queries, the links and bookings a page of room items may
match (identity rule 1: by room event id, then by iCalUId) and keeps itself current as the
page is applied, so a duplicate item later in the same page matches what an earlier one
created. :func:`linked_facts` reduces a link and its booking to the planner's facts.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import InstrumentedAttribute, Session

from roomsync.platform.enums import BookingStatus, Origin
from roomsync.platform.models import Booking, EventLink
from roomsync.platform.services.booking_rules import CLOSED_STATUSES
from roomsync.sync.planner import LinkedBooking, RoomCopy

AWAITING_ROOM = frozenset({BookingStatus.PENDING, BookingStatus.DECLINED})
# Values per IN (…): SQLite allows 32,766 bound values per statement.
_IN_CHUNK = 1000


class LinkIndex:
    """The links (and their bookings) of one room that a page's items may match.

    Scoped to the room: a meeting booking two rooms has the same iCalUId in both rooms'
    calendars, and each room's copy is a booking of its own. What was looked up once is
    not looked up again: :func:`load_room_indexes` loads the indexes of all the rooms of a
    transaction at once, and each page's own :meth:`load` then finds nothing left to ask."""

    def __init__(
        self,
        session: Session,
        integration_id: uuid.UUID,
        room_email: str,
        bookings: dict[uuid.UUID, Booking] | None = None,
    ) -> None:
        self.session = session
        self.integration_id = integration_id
        self.room_email = room_email
        self.by_room_event_id: dict[str, EventLink] = {}
        self.by_ical_uid: dict[str, EventLink] = {}
        self.bookings: dict[uuid.UUID, Booking] = {} if bookings is None else bookings
        self.looked_up: set[str] = set()
        self.looked_up_uids: set[str] = set()

    def load(self, room_event_ids: Iterable[str], ical_uids: Iterable[str]) -> None:
        ids, uids = set(room_event_ids) - self.looked_up, set(ical_uids) - self.looked_up_uids
        if not (ids or uids):
            return
        wanted = {self.room_email: (ids, uids)}
        _load_links(self.session, self.integration_id, {self.room_email: self}, wanted)

    def reload(self, room_event_id: str, ical_uid: str | None) -> None:
        """Look these up again: rows were written since."""
        self.looked_up.discard(room_event_id)
        self.looked_up_uids.discard(ical_uid or "")
        self.load([room_event_id], [ical_uid] if ical_uid else [])

    def add_bookings(self, booking_ids: Iterable[uuid.UUID]) -> None:
        _load_bookings(self.session, self.bookings, booking_ids)

    def remember(self, link: EventLink) -> None:
        if link.room_event_id:
            self.by_room_event_id[link.room_event_id] = link
        if link.ical_uid and not self._outranked(link, self.by_ical_uid.get(link.ical_uid)):
            self.by_ical_uid[link.ical_uid] = link

    def _outranked(self, link: EventLink, held: EventLink | None) -> bool:
        """A cancelled booking's link never takes an iCalUId from a live one: the room may
        hold a meeting again after its first booking was cancelled (a booking of its own)."""
        if held is None or held is link:
            return False
        return self._cancelled(link) and not self._cancelled(held)

    def _cancelled(self, link: EventLink) -> bool:
        booking = self.bookings.get(link.booking_id)
        return booking is not None and booking.status in CLOSED_STATUSES

    def match(self, room_event_id: str, ical_uid: str | None = None) -> EventLink | None:
        """Identity rule 1: the room event id first, then the iCalUId."""
        link = self.by_room_event_id.get(room_event_id)
        if link is None and ical_uid is not None:
            link = self.by_ical_uid.get(ical_uid)
        return link

    def booking_of(self, link: EventLink) -> Booking:
        return self.bookings[link.booking_id]


_Key = tuple[str, ...]
Wanted = Mapping[str, tuple[set[str], set[str]]]
"""Room email → (room event ids, iCalUIds) its items carry."""


def load_room_indexes(
    session: Session, integration_id: uuid.UUID, wanted: Wanted
) -> dict[str, LinkIndex]:
    """The indexes of several rooms, loaded together: a few queries in all, not per page."""
    bookings: dict[uuid.UUID, Booking] = {}
    indexes = {room: LinkIndex(session, integration_id, room, bookings) for room in wanted}
    _load_links(session, integration_id, indexes, wanted)
    return indexes


def _load_links(
    session: Session, integration_id: uuid.UUID, indexes: dict[str, LinkIndex], wanted: Wanted
) -> None:
    # Two queries, each on its own index; one with OR would scan the integration's links.
    all_ids: set[_Key] = {(i,) for ids, _ in wanted.values() for i in ids}
    all_uids: set[_Key] = {(room, uid) for room, (_, uids) in wanted.items() for uid in uids}
    by_id: dict[str, list[EventLink]] = {}
    for link in _links(session, integration_id, (EventLink.room_event_id,), all_ids):
        by_id.setdefault(link.room_event_id or "", []).append(link)
    by_uid: dict[tuple[str, str], list[EventLink]] = {}
    for link in _links(
        session, integration_id, (EventLink.room_email, EventLink.ical_uid), all_uids
    ):
        by_uid.setdefault((link.room_email, link.ical_uid or ""), []).append(link)
    found = [link for links in (*by_id.values(), *by_uid.values()) for link in links]
    for room, (ids, uids) in wanted.items():
        index = indexes[room]
        _load_bookings(session, index.bookings, (x.booking_id for x in found))
        for link in [x for i in ids for x in by_id.get(i, ())] + [
            x for u in uids for x in by_uid.get((room, u), ())
        ]:
            index.remember(link)
        index.looked_up |= ids
        index.looked_up_uids |= uids


def _links(
    session: Session,
    integration_id: uuid.UUID,
    columns: tuple[InstrumentedAttribute[str | None], ...],
    keys: set[_Key],
) -> list[EventLink]:
    """The links whose ``columns`` hold one of ``keys`` (a room event id, or a room and an
    iCalUId).

    Most keys match nothing (a first sync matches none), so which ones match is asked
    first in plain SQL, and only those are loaded through the ORM: building an ORM query
    with a thousand values in its ``IN`` cost more than running it. The few that match are
    loaded by ``IN`` on each column, then kept only if the whole key matched.
    """
    found: list[EventLink] = []
    ordered = sorted(_matching(session, integration_id, [c.key for c in columns], keys))
    for start in range(0, len(ordered), _IN_CHUNK):
        chunk = ordered[start : start + _IN_CHUNK]
        query = select(EventLink).where(
            EventLink.integration_id == integration_id,
            *(column.in_({key[n] for key in chunk}) for n, column in enumerate(columns)),
        )
        wanted = set(chunk)
        found += [
            link
            for link in session.scalars(query)
            if tuple(getattr(link, column.key) for column in columns) in wanted
        ]
    return found


def _matching(
    session: Session, integration_id: uuid.UUID, columns: Sequence[str], keys: set[_Key]
) -> set[_Key]:
    """Which of ``keys`` some link of the integration holds in ``columns``: the keys are
    joined to the links as a ``VALUES`` list, one index probe each (``IN`` lists per column
    would probe every combination of them)."""
    session.flush()  # what the ORM query's autoflush would have written first
    connection = session.connection()
    sqlite = connection.dialect.name == "sqlite"
    marker = "?" if connection.dialect.paramstyle == "qmark" else "%s"
    integration = integration_id.hex if sqlite else integration_id  # as the Uuid type binds
    names = [f"k{n}" for n in range(len(columns))]
    row = f"({', '.join([marker] * len(columns))})"
    selected = ", ".join(f"l.{column}" for column in columns)
    on = " AND ".join(f"l.{c} = w.{n}" for c, n in zip(columns, names, strict=True))
    # CROSS JOIN keeps SQLite from scanning the integration's links instead (PostgreSQL
    # plans it as any inner join).
    source = f"FROM w CROSS JOIN event_links AS l WHERE l.integration_id = {marker} AND {on}"
    ordered, matching = sorted(keys), set[_Key]()
    for start in range(0, len(ordered), _IN_CHUNK):
        chunk = ordered[start : start + _IN_CHUNK]
        values = ", ".join([row] * len(chunk))
        sql = f"WITH w({', '.join(names)}) AS (VALUES {values}) SELECT DISTINCT {selected} {source}"
        rows = connection.exec_driver_sql(sql, (*(v for key in chunk for v in key), integration))
        matching.update(tuple(found) for found in rows)
    return matching


def _load_bookings(
    session: Session, bookings: dict[uuid.UUID, Booking], booking_ids: Iterable[uuid.UUID]
) -> None:
    wanted = sorted(set(booking_ids) - bookings.keys())
    for start in range(0, len(wanted), _IN_CHUNK):
        chunk = wanted[start : start + _IN_CHUNK]
        found = session.scalars(select(Booking).where(Booking.id.in_(chunk)))
        bookings.update((booking.id, booking) for booking in found)


def synced_state(
    *, start: datetime, end: datetime, title: str, private: bool, description: str | None = None
) -> dict[str, Any]:
    """The agreed state as stored on the link (JSON)."""
    return {
        "start": start.isoformat(),
        "end": end.isoformat(),
        "title": title,
        "private": private,
        "description": description,
    }


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
        cancelled=booking.status in CLOSED_STATUSES,
        awaiting_room=booking.status in AWAITING_ROOM,
        has_unpushed_changes=booking.version > (link.synced_version or 0),
        agreed_start=agreed_start,
        agreed_end=agreed_end,
        pulled_details_hash=link.pulled_hash,
        last_change_key=link.change_key,
        last_modified=link.last_modified_at,
        room_event_id=link.room_event_id,
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
        start=booking.start_at,
        end=booking.end_at,
        title=booking.title,
        private=booking.private,
        description=booking.description,
    )
    link.synced_version = booking.version
    if pulled_hash is not None:
        link.pulled_hash = pulled_hash
