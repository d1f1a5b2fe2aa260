"""Where to look, before a removal reported by a room's delta is believed.

``calendarView/delta`` reports ``@removed`` for a meeting that left the room's calendar,
and also for one that merely left the window or whose room copy was written anew
(delta-query-events.md). A room that declines an update of a meeting it had accepted
drops its copy; when it accepts a later update, or is given the meeting back after a room
change, it writes a new copy under a new id with the same iCalUId. So a room copy missing
under its old id is looked for again before the booking is cancelled: by iCalUId on
``/events`` (single meetings), then in the room's ``calendarView`` over the booking's own
times, which lists a series' occurrences under their own iCalUIds where ``/events`` holds
only the master. For a booking born on the platform the organizer's copy is read instead:
its room attendee carries the room's answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from roomsync.m365.calendar import events_in_view, find_events_by_ical_uid, get_event
from roomsync.m365.exceptions import NotFound
from roomsync.m365.graph import GraphClient
from roomsync.m365.models import Event
from roomsync.platform.models import Booking, EventLink
from roomsync.sync.planner import RemovalCheck


@dataclass(frozen=True)
class RemovalLookup:
    """Where to look for a meeting the room's delta reported removed."""

    check: RemovalCheck
    mailbox: str
    event_id: str | None
    ical_uid: str | None = None
    span: tuple[datetime, datetime] | None = None
    """The booking's times: where a series occurrence's new copy would be."""


def where_to_look(check: RemovalCheck, link: EventLink, booking: Booking) -> RemovalLookup:
    if check is RemovalCheck.ROOM_COPY:
        span = (booking.start_at, booking.end_at)
        return RemovalLookup(check, link.room_email, link.room_event_id, link.ical_uid, span)
    return RemovalLookup(check, link.organizer_email or link.room_email, link.organizer_event_id)


def fetch_copy(graph: GraphClient, lookup: RemovalLookup) -> Event | None:
    """The meeting's copy, or None when it is gone (module docstring)."""
    found = _get(graph, lookup.mailbox, lookup.event_id)
    if found is not None or lookup.check is not RemovalCheck.ROOM_COPY or not lookup.ical_uid:
        return found
    return _live(find_events_by_ical_uid(graph, lookup.mailbox, lookup.ical_uid)) or (
        _live(_same_meeting(events_in_view(graph, lookup.mailbox, *lookup.span), lookup.ical_uid))
        if lookup.span
        else None
    )


def _same_meeting(events: list[Event], ical_uid: str) -> list[Event]:
    return [event for event in events if event.i_cal_u_id == ical_uid]


def _live(events: list[Event]) -> Event | None:
    return next((event for event in events if not event.is_cancelled), None)


def _get(graph: GraphClient, mailbox: str, event_id: str | None) -> Event | None:
    if event_id is None:
        return None
    try:
        return get_event(graph, mailbox, event_id)
    except NotFound:
        return None
