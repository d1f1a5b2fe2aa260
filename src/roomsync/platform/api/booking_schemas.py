"""The booking JSON, and what an occupant token may see of it.

Times go in with an offset (naive times are refused, naming the field) and come out in
UTC with ``Z``. A private booking's title is shown only to its organizer and to admins
(see ``booking_privacy``); others read "Private booking".
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from roomsync.platform.api.auth import Principal
from roomsync.platform.api.booking_privacy import is_organizer, shown_description, shown_title
from roomsync.platform.api.fields import Description, EmailText, Instant, Title
from roomsync.platform.api.schemas import InputModel, PatchModel
from roomsync.platform.enums import BookingStatus, Origin, SyncState
from roomsync.platform.models import Booking
from roomsync.platform.services.booking_sync import BookingSyncView


class BookingIn(InputModel):
    resource_id: uuid.UUID
    organizer_email: EmailText | None = Field(
        default=None,
        description="Whom the meeting is for; the caller's own address when omitted. Only "
        "admins may book for someone else.",
    )
    title: Title
    description: Description | None = Field(
        default=None,
        description="Plain text for the meeting's body in Outlook; empty means none. "
        "Private bookings show it only to the organizer and admins.",
    )
    start: Instant
    end: Instant
    private: bool = False
    all_day: bool = False
    recurrence: dict[str, Any] | None = Field(
        default=None,
        description="Graph's patternedRecurrence (pattern + range): start and end are then "
        "the first occurrence's, and every occurrence becomes a booking of its own with the "
        "same series_id. Limits in the README.",
    )


class BookingPatch(PatchModel):
    resource_id: uuid.UUID | None = None
    title: Title | None = None
    description: Description | None = Field(
        default=None,
        description="Replaces the description; an empty text removes it. Refused (422) for "
        "a meeting booked in Outlook, whose body stays Outlook's.",
    )
    start: Instant | None = None
    end: Instant | None = None
    private: bool | None = None


class SyncOut(BaseModel):
    state: SyncState = Field(
        description="synced, pending (a push is queued), failed (the last push failed) or "
        "not_synced (no Microsoft 365 room or no enabled integration)."
    )
    error: str | None
    ical_uid: str | None
    web_link: str | None = Field(
        default=None,
        description="Opens the meeting in Outlook on the web, in the organizer's mailbox; "
        "given to the organizer only, once a push created or found their copy.",
    )


class OccurrenceOut(BaseModel):
    id: uuid.UUID
    start: datetime
    end: datetime
    status: BookingStatus


class SkippedOut(BaseModel):
    start: datetime
    end: datetime
    conflicting_booking_id: uuid.UUID


class BookingOut(BaseModel):
    id: uuid.UUID
    resource_id: uuid.UUID
    organizer_email: str
    organizer_name: str | None = Field(
        description="The organizer's name as the directory gives it (kept current by the "
        "user sync); null when the organizer is not a known user."
    )
    title: str
    description: str | None = Field(
        description="null when there is none, and for a private booking to anyone but its "
        "organizer and admins."
    )
    start: datetime
    end: datetime
    all_day: bool
    private: bool
    status: BookingStatus
    status_reason: str | None
    checked_in_at: datetime | None = Field(
        default=None, description="When someone checked in to the meeting; null until then."
    )
    origin: Origin
    series_id: str | None
    version: int
    created_at: datetime
    updated_at: datetime
    sync: SyncOut
    occurrences: list[OccurrenceOut] | None = Field(
        default=None,
        description="For a new series: every occurrence booked, in order; for a change "
        "with scope following or series: every occurrence it changed.",
    )
    skipped: list[SkippedOut] | None = Field(
        default=None,
        description="For a new series made with conflicts=skip: the occurrences left out "
        "because the room was taken.",
    )


def booking_out(booking: Booking, sync: BookingSyncView, principal: Principal) -> BookingOut:
    """The booking as ``principal`` may see it."""
    return BookingOut(
        id=booking.id,
        resource_id=booking.resource_id,
        organizer_email=booking.organizer_email,
        organizer_name=booking.organizer.name if booking.organizer else None,
        title=shown_title(principal, booking),
        description=shown_description(principal, booking),
        start=booking.start_at,
        end=booking.end_at,
        all_day=booking.all_day,
        private=booking.private,
        status=booking.status,
        status_reason=booking.status_reason,
        checked_in_at=booking.checked_in_at,
        origin=booking.origin,
        series_id=booking.series_id,
        version=booking.version,
        created_at=booking.created_at,
        updated_at=booking.updated_at,
        sync=SyncOut(
            state=sync.state,
            error=sync.error,
            ical_uid=sync.ical_uid,
            web_link=sync.web_link if is_organizer(principal, booking) else None,
        ),
    )
