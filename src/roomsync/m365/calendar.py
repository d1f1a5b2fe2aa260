"""Room and organizer calendars: ``calendarView/delta`` rounds and the events roomsync writes.

Delta (event-delta.md, delta-query-events.md): the first request of a round names the
window (``startDateTime``/``endDateTime``, UTC when no offset); Graph encodes it in the
``$skiptoken``/``$deltatoken`` of the links it returns, which are followed as given and
never parsed. ``Prefer: odata.maxpagesize`` sets the page size; each page carries exactly
one of ``@odata.nextLink`` (more to come) and ``@odata.deltaLink`` (round done, start of
the next). Deleted items come as ``{"id", "@removed": {"reason": "deleted"}}``, also for
events outside the window. An expired token is a 410 or ``syncStateNotFound``, which the
error mapping turns into :class:`~roomsync.m365.exceptions.SyncStateExpired`.

Events (user-post-events.md, event-update.md, event-cancel.md, event-delete.md): a
booking is created in the organizer's mailbox with the room as ``resource`` attendee and
as location, a ``transactionId`` so a retried POST creates nothing twice, and a
single-value extended property carrying the booking id (the only kind of tag Graph can
filter by value, extended-properties-overview.md). Create answers 201, update 200,
cancel 202 (organizer only), delete 204. Every call sends ``Prefer: IdType="ImmutableId"``
so event ids survive moves between folders (outlook-immutable-id.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from roomsync.m365.graph import (
    GraphClient,
    Preferences,
    encode_query,
    odata_string,
    path_segment,
)
from roomsync.m365.models import DateTimeTimeZone, DeltaPage, EmailAddress, Event
from roomsync.m365.wire import parse_wire

DELTA_PAGE_SIZE = 16
# roomsync's own property set: one GUID, named property "RoomsyncBookingId".
BOOKING_ID_PROPERTY = "String {497b702f-9ac5-4e65-947b-e5c59c4ae766} Name RoomsyncBookingId"
CALENDAR_PREFERENCES = Preferences(immutable_ids=True, time_zone="UTC")


@dataclass(frozen=True)
class DeltaWindow:
    """The span of time one delta round covers (fixed for the whole round)."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ValueError("a delta window needs aware datetimes")
        if self.start >= self.end:
            raise ValueError("a delta window must end after it starts")

    def contains(self, start: datetime, end: datetime) -> bool:
        """True when an event [start, end) overlaps the window (what calendarView returns)."""
        return start < self.end and end > self.start


def delta_request_url(mailbox: str, window: DeltaWindow) -> str:
    """The first request of a round, relative to the version root (fit for ``$batch``)."""
    query = encode_query(
        {"startDateTime": _utc_text(window.start), "endDateTime": _utc_text(window.end)}
    )
    return f"/users/{path_segment(mailbox)}/calendarView/delta?{query}"


def delta_headers(*, page_size: int = DELTA_PAGE_SIZE) -> dict[str, str]:
    return Preferences(max_page_size=page_size, immutable_ids=True, time_zone="UTC").headers()


def parse_delta_page(body: object, *, mailbox: str) -> DeltaPage:
    return parse_wire(DeltaPage, body, source=f"calendarView/delta of {mailbox}")


def quiet_delta_link(body: object) -> str | None:
    """The deltaLink of a page that ends its round with no items, else None.

    Most rooms answer a steady round with exactly that (``{"value": [], "@odata.deltaLink":
    ...}``); reading it needs no models. Any other page, a malformed one included, is for
    :func:`parse_delta_page`."""
    if not isinstance(body, dict) or body.get("value") != [] or "@odata.nextLink" in body:
        return None
    link = body.get("@odata.deltaLink")
    return link if isinstance(link, str) else None


def fetch_delta_page(
    graph: GraphClient, url: str, *, mailbox: str, page_size: int = DELTA_PAGE_SIZE
) -> DeltaPage:
    """One page: the round's first URL, or a nextLink/deltaLink Graph gave earlier."""
    response = graph.request("GET", url, headers=delta_headers(page_size=page_size))
    return parse_delta_page(response.body, mailbox=mailbox)


def _utc_text(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# --- events --------------------------------------------------------------------------


@dataclass(frozen=True)
class EventDraft:
    """What roomsync puts in an event for a booking of ``room``."""

    subject: str
    start: DateTimeTimeZone
    end: DateTimeTimeZone
    room: EmailAddress
    body_text: str | None = None
    is_all_day: bool = False
    private: bool = False
    attendees: tuple[EmailAddress, ...] = ()
    recurrence: dict[str, Any] | None = None
    """Graph's ``patternedRecurrence``: the event becomes a series master."""

    def to_wire(self) -> dict[str, Any]:
        wire: dict[str, Any] = {
            "subject": self.subject,
            "start": self.start.to_wire(),
            "end": self.end.to_wire(),
            "isAllDay": self.is_all_day,
            "sensitivity": "private" if self.private else "normal",
            "location": {
                "displayName": self.room.name or self.room.address,
                "locationEmailAddress": self.room.address,
                "locationType": "conferenceRoom",
            },
            "attendees": [{"emailAddress": self.room.to_wire(), "type": "resource"}]
            + [{"emailAddress": a.to_wire(), "type": "required"} for a in self.attendees],
        }
        if self.body_text is not None:
            wire["body"] = {"contentType": "text", "content": self.body_text}
        if self.recurrence is not None:
            wire["recurrence"] = self.recurrence
        return wire


def create_event(
    graph: GraphClient, mailbox: str, draft: EventDraft, *, booking_id: str, transaction_id: str
) -> Event:
    """POSTs the event into ``mailbox`` (the organizer's), tagged with the booking id."""
    path = f"/users/{path_segment(mailbox)}/events"
    body = draft.to_wire() | {
        "transactionId": transaction_id,
        "singleValueExtendedProperties": [{"id": BOOKING_ID_PROPERTY, "value": booking_id}],
    }
    response = graph.request("POST", path, json=body, headers=CALENDAR_PREFERENCES.headers())
    return parse_wire(Event, response.body, source=f"POST {path}")


def update_event(
    graph: GraphClient, mailbox: str, event_id: str, changes: EventDraft | Mapping[str, Any]
) -> Event:
    """PATCHes the event; a draft replaces every property roomsync manages."""
    path = _event_path(mailbox, event_id)
    body = changes.to_wire() if isinstance(changes, EventDraft) else dict(changes)
    response = graph.request("PATCH", path, json=body, headers=CALENDAR_PREFERENCES.headers())
    return parse_wire(Event, response.body, source=f"PATCH {path}")


def cancel_event(
    graph: GraphClient, mailbox: str, event_id: str, *, comment: str | None = None
) -> None:
    """Cancels a meeting the mailbox organizes, telling attendees (the room included)."""
    body = {"Comment": comment} if comment else {}
    graph.request(
        "POST",
        f"{_event_path(mailbox, event_id)}/cancel",
        json=body,
        headers=CALENDAR_PREFERENCES.headers(),
    )


def delete_event(graph: GraphClient, mailbox: str, event_id: str) -> None:
    graph.request("DELETE", _event_path(mailbox, event_id), headers=CALENDAR_PREFERENCES.headers())


def get_event(graph: GraphClient, mailbox: str, event_id: str) -> Event:
    """The event, with roomsync's booking-id property expanded when it has one."""
    path = _event_path(mailbox, event_id)
    params = {"$expand": _expand_booking_id()}
    response = graph.request("GET", path, params=params, headers=CALENDAR_PREFERENCES.headers())
    return parse_wire(Event, response.body, source=f"GET {path}")


def find_events_by_ical_uid(graph: GraphClient, mailbox: str, ical_uid: str) -> list[Event]:
    """Events of ``mailbox`` with this ``iCalUId`` (the same meeting across calendars)."""
    return _find_events(graph, mailbox, f"iCalUId eq {odata_string(ical_uid)}")


def find_events_by_booking_id(graph: GraphClient, mailbox: str, booking_id: str) -> list[Event]:
    """Events of ``mailbox`` tagged with this booking id by :func:`create_event`."""
    condition = (
        f"singleValueExtendedProperties/Any(ep: ep/id eq {odata_string(BOOKING_ID_PROPERTY)} "
        f"and ep/value eq {odata_string(booking_id)})"
    )
    return _find_events(graph, mailbox, condition)


def events_in_view(graph: GraphClient, mailbox: str, start: datetime, end: datetime) -> list[Event]:
    """The mailbox's instances overlapping [start, end): single meetings, and occurrences
    and exceptions of series, each with its own iCalUId (user-list-calendarview.md); the
    ``/events`` list holds series masters instead of their occurrences."""
    path = f"/users/{path_segment(mailbox)}/calendarView"
    params = {"startDateTime": _utc_text(start), "endDateTime": _utc_text(end)}
    items = graph.iter_values(path, params=params, headers=CALENDAR_PREFERENCES.headers())
    return [parse_wire(Event, item, source=f"GET {path}") for item in items]


def series_instances(
    graph: GraphClient, mailbox: str, master_id: str, start: datetime, end: datetime
) -> list[Event]:
    """The occurrences and exceptions of a series master overlapping [start, end), each
    with its own id, iCalUId and ``originalStart`` (event-list-instances.md); cancelled
    occurrences are not listed."""
    path = f"{_event_path(mailbox, master_id)}/instances"
    params = {"startDateTime": _utc_text(start), "endDateTime": _utc_text(end)}
    items = graph.iter_values(path, params=params, headers=CALENDAR_PREFERENCES.headers())
    return [parse_wire(Event, item, source=f"GET {path}") for item in items]


def booking_id_of(event: Event) -> str | None:
    """The booking id roomsync tagged the event with, when the property was expanded."""
    return event.extended_property(BOOKING_ID_PROPERTY)


def _find_events(graph: GraphClient, mailbox: str, condition: str) -> list[Event]:
    path = f"/users/{path_segment(mailbox)}/events"
    params = {"$filter": condition, "$expand": _expand_booking_id()}
    items = graph.iter_values(path, params=params, headers=CALENDAR_PREFERENCES.headers())
    return [parse_wire(Event, item, source=f"GET {path}?$filter=…") for item in items]


def _expand_booking_id() -> str:
    return f"singleValueExtendedProperties($filter=id eq {odata_string(BOOKING_ID_PROPERTY)})"


def _event_path(mailbox: str, event_id: str) -> str:
    return f"/users/{path_segment(mailbox)}/events/{path_segment(event_id)}"
