"""Graph lookups a page needs before it is applied, made outside any database transaction.

Three questions can only be answered by asking Graph again (docs/sync.md):

- a removal: is the meeting really gone? (``calendarView/delta`` also reports meetings
  that merely left the window as ``@removed``, delta-query-events.md) — by fetching the
  room's copy, or for bookings born on the platform the organizer's copy, whose room
  attendee carries the room's answer;
- an unmatched room copy while one of our creates is in flight for that room: is it ours?
  (identity rule 1, step 3) — by reading our extended property on the organizer's copy;
- an unknown organizer: who is it? (``/users/{email}``; none → an external organizer);
- a new or changed Outlook meeting: is it private? The room's copy no longer says; its
  organizer's calendar does (:mod:`roomsync.sync.pull.organizer_privacy`, once per organizer).

The answers are gathered first, then the page is applied in one short transaction.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace

from sqlalchemy import select
from sqlalchemy.orm import Session

from roomsync.m365.calendar import DeltaWindow, booking_id_of, find_events_by_ical_uid
from roomsync.m365.directory import find_user_by_email
from roomsync.m365.exceptions import GraphError
from roomsync.m365.graph import GraphClient
from roomsync.m365.models import AttendeeType, Event
from roomsync.platform.enums import Origin, OutboxAction, OutboxState
from roomsync.platform.models import Booking, EventLink, OutboxEntry, User
from roomsync.platform.services.booking_rules import CLOSED_STATUSES
from roomsync.sync.links import LinkIndex, linked_facts, load_room_indexes
from roomsync.sync.planner import (
    RemovalCheck,
    RoomCopyRemoved,
    VerifyRemoval,
    plan,
)
from roomsync.sync.pull.organizer_privacy import (
    OrganizerPrivacy,
    Privacy,
    organizers_to_ask,
    privacy_for,
)
from roomsync.sync.pull.removals import RemovalLookup, fetch_copy, where_to_look
from roomsync.sync.pull.rounds import RoomRound

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RemovalEvidence:
    """What Graph said when a removal was checked: the copy fetched, or None if gone."""

    check: RemovalCheck
    event: Event | None


@dataclass(frozen=True)
class Organizer:
    email: str
    name: str
    external: bool


@dataclass
class Prefetched:
    removals: dict[str, RemovalEvidence] = field(default_factory=dict)
    ours: dict[str, uuid.UUID] = field(default_factory=dict)
    """Room event id → the booking whose in-flight create it is the room's copy of."""
    privacy: Privacy = field(default_factory=dict)
    creates_in_flight: bool = False
    """One of our creates is still waiting in this room (``series_adoption`` looks)."""


class OrganizerDirectory:
    """Organizers looked up once per run (``/users/{email}``), external when not found."""

    def __init__(self, graph: GraphClient) -> None:
        self.graph = graph
        self.found: dict[str, Organizer] = {}
        self.warnings: list[str] = []
        self.recorded: set[str] = set()
        self.privacy = OrganizerPrivacy(graph, self.warnings)

    def first_sight(self, email: str) -> bool:
        """True the first time a page records this organizer as a platform user in this run
        (a page that rolls back gets it recorded again: that is only one more upsert)."""
        if email in self.recorded:
            return False
        self.recorded.add(email)
        return True

    def lookup(self, email: str, fallback_name: str) -> Organizer:
        if email not in self.found:
            self.found[email] = self._ask(email, fallback_name)
        return self.found[email]

    def _ask(self, email: str, fallback_name: str) -> Organizer:
        try:
            user = find_user_by_email(self.graph, email)
        except GraphError as exc:
            self.warnings.append(f"The organizer {email} could not be looked up: {exc.message}")
            return Organizer(email, fallback_name, external=False)
        if user is None:
            return Organizer(email, fallback_name, external=True)
        return Organizer(email, user.display_name or fallback_name, external=False)


@dataclass(frozen=True)
class Lookups:
    """What to ask Graph about one page, read from the database."""

    removals: dict[str, RemovalLookup] = field(default_factory=dict)
    unmatched: tuple[Event, ...] = ()
    creates_in_flight: bool = False
    moved_in: dict[str, str] = field(default_factory=dict)
    """Unmatched room copies whose meeting roomsync pushed for another room: room event
    id → that other room (the organizer may have changed the meeting's room in Outlook)."""
    organizers: dict[str, str] = field(default_factory=dict)
    """Unknown organizers: email → the name the meeting gives."""
    window: DeltaWindow | None = None
    privacy_of: frozenset[str] = frozenset()
    """Organizers whose private meetings in ``window`` tell which items are private."""


def plan_lookups(session: Session, round_: RoomRound, items: Sequence[Event]) -> Lookups:
    """Read, in the caller's session, which Graph lookups these room items need."""
    return plan_page_lookups(session, [(round_, items)])[0]


def plan_page_lookups(
    session: Session, pages: Sequence[tuple[RoomRound, Sequence[Event]]]
) -> list[Lookups]:
    """:func:`plan_lookups` for several pages at once (one integration's): a few queries
    for all of them, not a few per page."""
    busy = [(round_, items) for round_, items in pages if items]
    if not busy:
        return [Lookups() for _ in pages]
    wanted: dict[str, tuple[set[str], set[str]]] = {}
    for round_, items in busy:
        ids, uids = wanted.setdefault(round_.room_email, (set(), set()))
        ids.update(item.id for item in items)
        uids.update(_uids(item for item in items if item.removed is None))
    indexes = load_room_indexes(session, busy[0][0].integration_id, wanted)
    unmatched = [
        tuple(
            e
            for e in items
            if e.removed is None and indexes[round_.room_email].match(e.id, e.i_cal_u_id) is None
        )
        for round_, items in pages
    ]
    with_new = zip(pages, unmatched, strict=True)
    creating = _rooms_with_creates_in_flight(
        session, {round_.resource_id for (round_, _), new in with_new if new}
    )
    unknown = _unknown_organizers(session, busy[0][0], [e for new in unmatched for e in new])
    pushed_elsewhere = _pushed_for_other_rooms(
        session,
        busy[0][0].integration_id,
        [(r, new) for (r, _), new in zip(pages, unmatched, strict=True)],
    )
    return [
        replace(
            _page_lookups(
                indexes, round_, items, unmatched=new, creating=creating, unknown=unknown
            ),
            moved_in={
                e.id: pushed_elsewhere[(round_.room_email, e.i_cal_u_id or "")]
                for e in new
                if (round_.room_email, e.i_cal_u_id or "") in pushed_elsewhere
            },
        )
        if items
        else Lookups()
        for (round_, items), new in zip(pages, unmatched, strict=True)
    ]


def _page_lookups(
    indexes: dict[str, LinkIndex],
    round_: RoomRound,
    items: Sequence[Event],
    *,
    unmatched: tuple[Event, ...],
    creating: set[uuid.UUID],
    unknown: dict[str, str],
) -> Lookups:
    removed, index = (
        [item.id for item in items if item.removed is not None],
        indexes[round_.room_email],
    )
    return Lookups(
        removals=_removals_to_verify(index, round_, removed),
        unmatched=unmatched,
        creates_in_flight=bool(unmatched) and round_.resource_id in creating,
        organizers={
            email: name for email, name in _organizer_names(unmatched).items() if email in unknown
        },
        window=round_.window,
        privacy_of=organizers_to_ask(index, items),
    )


def perform_lookups(
    graph: GraphClient, directory: OrganizerDirectory, lookups: Lookups
) -> Prefetched:
    """Ask Graph (outside any transaction) what :func:`plan_lookups` found it must."""
    result = Prefetched()
    for room_event_id, lookup in lookups.removals.items():
        result.removals[room_event_id] = RemovalEvidence(lookup.check, fetch_copy(graph, lookup))
    if lookups.window is not None:
        found = [e.event for e in result.removals.values() if e.check is RemovalCheck.ROOM_COPY]
        result.privacy = privacy_for(directory.privacy, lookups.window, lookups.privacy_of, found)
    if lookups.creates_in_flight:
        result.creates_in_flight = True
        result.ours = _ours(graph, lookups.unmatched)
    moved = [e for e in lookups.unmatched if e.id in lookups.moved_in]
    result.ours.update(_ours(graph, tuple(moved), left=lookups.moved_in))
    for email, name in lookups.organizers.items():
        directory.lookup(email, name)
    return result


def _uids(events: Iterable[Event]) -> list[str]:
    return [event.i_cal_u_id for event in events if event.i_cal_u_id]


def _removals_to_verify(
    index: LinkIndex, round_: RoomRound, removed_ids: list[str]
) -> dict[str, RemovalLookup]:
    checks: dict[str, RemovalLookup] = {}
    for room_event_id in removed_ids:
        link = index.match(room_event_id)
        if link is None:
            continue
        decision = plan(
            RoomCopyRemoved(room_event_id),
            linked_facts(link, index.booking_of(link)),
            round_.window,
        )
        if isinstance(decision, VerifyRemoval):
            checks[room_event_id] = where_to_look(decision.check, link, index.booking_of(link))
    return checks


def _rooms_with_creates_in_flight(session: Session, resource_ids: set[uuid.UUID]) -> set[uuid.UUID]:
    """Those of the rooms for which one of our creates is still waiting in the outbox."""
    if not resource_ids:
        return set()
    pending_create = (
        select(Booking.resource_id)
        .join(OutboxEntry, Booking.id == OutboxEntry.booking_id)
        .where(
            Booking.resource_id.in_(sorted(resource_ids)),
            OutboxEntry.action == OutboxAction.CREATE,
            OutboxEntry.state == OutboxState.PENDING,
        )
        .distinct()
    )
    return set(session.scalars(pending_create))


def _ours(
    graph: GraphClient, unmatched: tuple[Event, ...], *, left: dict[str, str] | None = None
) -> dict[str, uuid.UUID]:
    """Room copies whose organizer copy carries our booking id (identity rule 1, step 3).

    ``left``: room event id → the room the booking was pushed for; such a copy is ours only
    when the organizer's copy no longer names that room (the meeting changed rooms, rather
    than gained one)."""
    ours: dict[str, uuid.UUID] = {}
    for event in unmatched:
        organizer = event.organizer.email_address if event.organizer else None
        if not (organizer and organizer.address and event.i_cal_u_id):
            continue
        try:
            copies = find_events_by_ical_uid(graph, organizer.address, event.i_cal_u_id)
        except GraphError as exc:
            logger.info("Could not read the organizer copy of %s: %s", event.id, exc.message)
            continue
        for copy in copies:
            old_room = (left or {}).get(event.id)
            if old_room is not None and old_room in rooms_named(copy):
                continue
            if (booking_id := booking_id_of(copy)) is not None:
                ours[event.id] = uuid.UUID(booking_id)
    return ours


def rooms_named(event: Event) -> set[str]:
    """The mailboxes a meeting books as resources (attendees of type resource and the
    locations' addresses), in lower case."""
    named = {
        a.email_address.address.lower()
        for a in event.attendees
        if a.email_address and a.email_address.address and a.type is AttendeeType.RESOURCE
    }
    if event.location and event.location.location_email_address:
        named.add(event.location.location_email_address.lower())
    return named


def _pushed_for_other_rooms(
    session: Session,
    integration_id: uuid.UUID,
    pages: Sequence[tuple[RoomRound, Sequence[Event]]],
) -> dict[tuple[str, str], str]:
    """(room, iCalUId) of unmatched room copies → the other room a platform booking with
    that iCalUId was pushed for."""
    wanted = {(r.room_email, e.i_cal_u_id) for r, new in pages for e in new if e.i_cal_u_id}
    if not wanted:
        return {}
    uids = sorted({uid for _, uid in wanted})
    rows = session.execute(
        select(EventLink.ical_uid, EventLink.room_email)
        .join(Booking, Booking.id == EventLink.booking_id)
        .where(
            EventLink.integration_id == integration_id,
            EventLink.ical_uid.in_(uids),
            EventLink.organizer_event_id.is_not(None),
            Booking.origin == Origin.PLATFORM,
            Booking.status.not_in(CLOSED_STATUSES),
        )
    ).all()
    return {
        (room, uid): old_room
        for room, uid in wanted
        for found_uid, old_room in rows
        if found_uid == uid and old_room != room
    }


def _organizer_names(events: Iterable[Event]) -> dict[str, str]:
    """Organizer email (lower case) → the name the meeting gives."""
    return {
        address.lower(): (e.organizer.email_address.name or address)
        for e in events
        if e.organizer
        and e.organizer.email_address
        and (address := e.organizer.email_address.address)
    }


def _unknown_organizers(
    session: Session, round_: RoomRound, events: Sequence[Event]
) -> dict[str, str]:
    """Organizers of new meetings whom the platform does not know yet."""
    named = _organizer_names(events)
    if not named:
        return {}
    known = set(
        session.scalars(
            select(User.email).where(
                User.organization_id == round_.organization_id, User.email.in_(sorted(named))
            )
        )
    )
    return {email: name for email, name in named.items() if email not in known}
