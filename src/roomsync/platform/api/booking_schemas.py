"""The booking JSON, and what an occupant token may see of it.

Times go in with an offset (naive times are refused, naming the field) and come out in
UTC with ``Z``. Occupants see a private booking's title as "Private booking".
"""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import AwareDatetime, BaseModel, Field

from roomsync.platform.api.auth import Principal
from roomsync.platform.api.schemas import InputModel, PatchModel
from roomsync.platform.enums import BookingStatus, Origin, SyncState
from roomsync.platform.models import Booking
from roomsync.platform.services.booking_sync import BookingSyncView

PRIVATE_TITLE = "Private booking"
_TIME = "ISO 8601 with an offset, such as 2030-01-07T09:00:00+01:00 or 2030-01-07T08:00:00Z."


class BookingIn(InputModel):
    resource_id: uuid.UUID
    organizer_email: str
    title: str = Field(min_length=1, max_length=500)
    start: AwareDatetime = Field(description=_TIME)
    end: AwareDatetime = Field(description=_TIME)
    private: bool = False
    all_day: bool = False


class BookingPatch(PatchModel):
    resource_id: uuid.UUID | None = None
    title: str | None = Field(default=None, min_length=1, max_length=500)
    start: AwareDatetime | None = Field(default=None, description=_TIME)
    end: AwareDatetime | None = Field(default=None, description=_TIME)
    private: bool | None = None


class SyncOut(BaseModel):
    state: SyncState = Field(
        description="synced, pending (a push is queued), failed (the last push failed) or "
        "not_synced (no Microsoft 365 room or no enabled integration)."
    )
    error: str | None
    ical_uid: str | None


class BookingOut(BaseModel):
    id: uuid.UUID
    resource_id: uuid.UUID
    organizer_email: str
    organizer_name: str | None = Field(
        description="The organizer's name as the directory gives it (kept current by the "
        "user sync); null when the organizer is not a known user."
    )
    title: str
    start: datetime
    end: datetime
    all_day: bool
    private: bool
    status: BookingStatus
    status_reason: str | None
    origin: Origin
    series_id: str | None
    version: int
    created_at: datetime
    updated_at: datetime
    sync: SyncOut


def booking_out(booking: Booking, sync: BookingSyncView, principal: Principal) -> BookingOut:
    """The booking as ``principal`` may see it."""
    title = PRIVATE_TITLE if booking.private and not principal.is_admin else booking.title
    return BookingOut(
        id=booking.id,
        resource_id=booking.resource_id,
        organizer_email=booking.organizer_email,
        organizer_name=booking.organizer.name if booking.organizer else None,
        title=title,
        start=booking.start_at,
        end=booking.end_at,
        all_day=booking.all_day,
        private=booking.private,
        status=booking.status,
        status_reason=booking.status_reason,
        origin=booking.origin,
        series_id=booking.series_id,
        version=booking.version,
        created_at=booking.created_at,
        updated_at=booking.updated_at,
        sync=SyncOut(state=sync.state, error=sync.error, ical_uid=sync.ical_uid),
    )
