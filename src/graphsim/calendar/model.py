"""Stored Outlook items: single instances and series masters, with their exceptions.

Items are immutable: every change stores a new version, so the change log can keep the
version a delta token last saw and compute what left the window (``@removed``).
Instants are UTC; the zone names the client gave are kept for ``originalStartTimeZone``
and for expanding recurrences in local time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class EventType(StrEnum):
    """CSDL ``eventType``."""

    SINGLE_INSTANCE = "singleInstance"
    OCCURRENCE = "occurrence"
    EXCEPTION = "exception"
    SERIES_MASTER = "seriesMaster"


class ResponseType(StrEnum):
    """CSDL ``responseType``."""

    NONE = "none"
    ORGANIZER = "organizer"
    TENTATIVELY_ACCEPTED = "tentativelyAccepted"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    NOT_RESPONDED = "notResponded"


class AttendeeType(StrEnum):
    """CSDL ``attendeeType``."""

    REQUIRED = "required"
    OPTIONAL = "optional"
    RESOURCE = "resource"


@dataclass(frozen=True)
class Attendee:
    """One attendee with its response (``status``)."""

    address: str
    name: str
    type: AttendeeType = AttendeeType.REQUIRED
    response: ResponseType = ResponseType.NONE
    response_time: datetime | None = None


@dataclass(frozen=True)
class Override:
    """A changed or cancelled occurrence of a series, keyed by its original start."""

    original_start: datetime
    start: datetime
    end: datetime
    cancelled: bool = False
    subject: str | None = None
    attendees: tuple[Attendee, ...] | None = None
    sensitivity: str | None = None
    change_key: str = ""
    modified: datetime | None = None


@dataclass(frozen=True)
class EventItem:
    """A single instance or series master in one mailbox (one version of it)."""

    id: str
    ical_uid: str
    seq_created: int
    created: datetime
    modified: datetime
    change_key: str
    subject: str
    start: datetime
    end: datetime
    start_zone: str = "UTC"
    end_zone: str = "UTC"
    body_type: str = "html"
    body: str = ""
    organizer_address: str = ""
    organizer_name: str = ""
    is_organizer: bool = True
    response: ResponseType = ResponseType.ORGANIZER
    response_time: datetime | None = None
    attendees: tuple[Attendee, ...] = ()
    location: dict[str, Any] | None = None
    locations: tuple[dict[str, Any], ...] = ()
    recurrence: dict[str, Any] | None = None
    overrides: tuple[Override, ...] = ()
    sensitivity: str = "normal"
    show_as: str = "busy"
    importance: str = "normal"
    is_all_day: bool = False
    is_cancelled: bool = False
    categories: tuple[str, ...] = ()
    transaction_id: str | None = None
    extended: tuple[tuple[str, str], ...] = ()
    reminder_minutes: int = 15
    is_reminder_on: bool = True
    is_online_meeting: bool = False
    allow_new_time_proposals: bool = True
    response_requested: bool = True
    hide_attendees: bool = False
    source_mailbox: str | None = None
    source_item_id: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def is_series(self) -> bool:
        return self.recurrence is not None

    def override_at(self, original_start: datetime) -> Override | None:
        return next((o for o in self.overrides if o.original_start == original_start), None)

    def extended_value(self, prop_id: str) -> str | None:
        return next((v for k, v in self.extended if k == prop_id), None)


@dataclass(frozen=True)
class Instance:
    """What a calendar view lists: a single instance, an occurrence or an exception."""

    item: EventItem
    id: str
    type: EventType
    start: datetime
    end: datetime
    original_start: datetime | None = None
    override: Override | None = None

    @property
    def sort_key(self) -> tuple[int, float]:
        anchor = self.original_start or self.start
        return (self.item.seq_created, anchor.timestamp())
