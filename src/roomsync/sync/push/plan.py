"""What a push sends: the booking's current state against what Graph last got.

The outbox row is a trigger, not a command (docs/sync.md "Pushes"), so a push is planned
from two snapshots read in one transaction — the booking as it is now and its event
link — and never from the rows' actions. That is why a cancel cannot overtake its create
(a booking cancelled before its first push creates nothing) and why rapid edits
coalesce into one PATCH.

- no organizer event yet, booking active and born on the platform → create;
- organizer event known (or, for a meeting born in Outlook, findable by iCalUId) → PATCH
  of what differs: times against the organizer's copy as just read; title, privacy and
  (for bookings born on the platform) the description, sent as the event body, against
  the agreed state (the room rewrites subjects, so for Outlook-born bookings the agreed
  title is not the organizer's subject); the room against the link's room;
- cancelled platform booking → cancel the meeting; cancelled Outlook-born booking → take
  the room out of the organizer's meeting (the meeting itself is the organizer's);
- released (nobody checked in): as cancelled — a platform booking's meeting is cancelled,
  an Outlook-born meeting loses the room, so the room's calendar is free again;
- declined (the room said no) or nothing to change → nothing.

Pure: no I/O.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from roomsync.m365.calendar import EventDraft
from roomsync.m365.models import Attendee, AttendeeType, EmailAddress, Event
from roomsync.m365.timezones import to_graph, to_utc
from roomsync.platform.enums import BookingStatus, Origin
from roomsync.sync.links import synced_state


class PushKind(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    CANCEL = "cancel"
    RELEASE_ROOM = "release_room"
    NOTHING = "nothing"


@dataclass(frozen=True)
class BookingSnapshot:
    """The booking and its room as read when the push claimed its outbox rows."""

    booking_id: uuid.UUID
    version: int
    origin: Origin
    status: BookingStatus
    organizer_email: str
    title: str
    start: datetime
    end: datetime
    all_day: bool
    private: bool
    updated_at: datetime
    room_email: str
    room_name: str
    time_zone: str
    description: str | None = None

    def draft(self, *, body_text: str | None = None) -> EventDraft:
        """The whole event as roomsync creates it."""
        return EventDraft(
            subject=self.title,
            start=to_graph(self.start, self.time_zone),
            end=to_graph(self.end, self.time_zone),
            room=EmailAddress(name=self.room_name, address=self.room_email),
            body_text=body_text,
            is_all_day=self.all_day,
            private=self.private,
        )

    def body_text(self, mailbox: str) -> str | None:
        """The event body in ``mailbox``: the description, after a note saying for whom
        when the event lives in another mailbox than the organizer's (a service account)."""
        on_behalf = mailbox.lower() != self.organizer_email.lower()
        note = f"Booked for {self.organizer_email} by roomsync." if on_behalf else None
        parts = [text for text in (note, self.description) if text]
        return "\n\n".join(parts) if parts else None

    def synced_state(self) -> dict[str, Any]:
        """The agreed state once Graph holds this snapshot (docs/sync.md "The link row")."""
        return synced_state(
            start=self.start,
            end=self.end,
            title=self.title,
            private=self.private,
            description=self.description,
        )


@dataclass(frozen=True)
class LinkSnapshot:
    """The booking's event link as read with the booking."""

    room_email: str
    ical_uid: str | None
    organizer_email: str | None
    organizer_event_id: str | None
    organizer_change_key: str | None
    agreed: dict[str, Any]
    agreed_start: datetime | None
    agreed_end: datetime | None
    synced_version: int


def plan_push(booking: BookingSnapshot, link: LinkSnapshot | None, *, attempted: bool) -> PushKind:
    """What to send; ``attempted``: a create may already have reached Graph unanswered."""
    known = link is not None and (link.organizer_event_id is not None or link.ical_uid is not None)
    if booking.status in (BookingStatus.CANCELLED, BookingStatus.RELEASED):
        if booking.origin is Origin.MICROSOFT365:
            return PushKind.RELEASE_ROOM if known else PushKind.NOTHING
        return PushKind.CANCEL if known or attempted else PushKind.NOTHING
    if booking.status is BookingStatus.DECLINED:
        return PushKind.NOTHING
    if booking.origin is Origin.PLATFORM and (link is None or link.organizer_event_id is None):
        return PushKind.CREATE
    return PushKind.UPDATE if known else PushKind.NOTHING


def event_times(event: Event) -> tuple[datetime, datetime] | None:
    if event.start is None or event.end is None:
        return None
    return to_utc(event.start), to_utc(event.end)


def patch_for(booking: BookingSnapshot, link: LinkSnapshot | None, copy: Event) -> dict[str, Any]:
    """The properties to PATCH on ``copy`` (the organizer's) so it holds the booking."""
    changes: dict[str, Any] = {}
    if event_times(copy) != (booking.start, booking.end):
        changes["start"] = to_graph(booking.start, booking.time_zone).to_wire()
        changes["end"] = to_graph(booking.end, booking.time_zone).to_wire()
        if copy.series_master_id is None or bool(copy.is_all_day) != booking.all_day:
            changes["isAllDay"] = booking.all_day  # an occurrence keeps its series' kind
    agreed = link.agreed if link is not None else {}
    if agreed.get("title", booking.title) != booking.title:
        changes["subject"] = booking.title
    if agreed.get("private", booking.private) != booking.private:
        changes["sensitivity"] = "private" if booking.private else "normal"
    if link is not None and _description_changed(booking, link):
        mailbox = link.organizer_email or booking.organizer_email
        changes["body"] = {"contentType": "text", "content": booking.body_text(mailbox) or ""}
    old_room = link.room_email if link is not None else booking.room_email
    if old_room != booking.room_email:
        changes.update(_room_swap(copy, old_room, booking))
    return changes


def release_room_patch(copy: Event, room_email: str) -> dict[str, Any]:
    """Take ``room_email`` out of the organizer's meeting (its location too, if it is it)."""
    changes: dict[str, Any] = {"attendees": _attendees_without(copy, room_email)}
    if _location_is(copy, room_email):
        changes["location"] = {"displayName": ""}
    return changes


def _description_changed(booking: BookingSnapshot, link: LinkSnapshot) -> bool:
    """The body is roomsync's only for meetings it created; a create already sent it."""
    return booking.origin is Origin.PLATFORM and link.agreed.get("description") != (
        booking.description
    )


def _room_swap(copy: Event, old_room: str, booking: BookingSnapshot) -> dict[str, Any]:
    room = {"address": booking.room_email, "name": booking.room_name}
    attendees = [
        *_attendees_without(copy, old_room),
        {"emailAddress": room, "type": AttendeeType.RESOURCE.value},
    ]
    location = {
        "displayName": booking.room_name,
        "locationEmailAddress": booking.room_email,
        "locationType": "conferenceRoom",
    }
    return {"attendees": attendees, "location": location}


def _attendees_without(copy: Event, address: str) -> list[dict[str, Any]]:
    return [_attendee_wire(a) for a in copy.attendees if not _is(a, address)]


def _attendee_wire(attendee: Attendee) -> dict[str, Any]:
    return attendee.model_dump(mode="json", by_alias=True, exclude_none=True, exclude={"status"})


def _is(attendee: Attendee, address: str) -> bool:
    email = attendee.email_address.address if attendee.email_address else None
    return bool(email) and str(email).lower() == address.lower()


def _location_is(copy: Event, address: str) -> bool:
    located = copy.location.location_email_address if copy.location else None
    return bool(located) and str(located).lower() == address.lower()
