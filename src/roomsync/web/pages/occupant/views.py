"""What the occupant pages show of rooms and bookings, in words a person reads.

A room is shown as the REST API shows it to the viewer (``resource_out``: fields hidden
from occupants are left out); a busy block's title as the schedule endpoint gives it
(``shown_title``: "Private booking" for someone else's private meeting).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from roomsync.platform.api.auth import Principal
from roomsync.platform.api.booking_privacy import (
    is_organizer,
    shown_description,
    shown_title,
)
from roomsync.platform.api.resources import ResourceOut, resource_out
from roomsync.platform.enums import BookingStatus, ChangeSource, Origin, SyncState
from roomsync.platform.exceptions import ManagedInOutlookError
from roomsync.platform.models import Booking, Building, Resource, User
from roomsync.platform.services.availability import ACCESSIBLE_ATTRIBUTE, busy_blocks
from roomsync.platform.services.booking_rules import OCCUPYING_STATUSES, check_changeable_in_outlook
from roomsync.platform.services.booking_sync import BookingSyncView
from roomsync.web.pages.occupant import timeline

EQUIPMENT_ATTRIBUTE = "equipment"


@dataclass(frozen=True)
class RoomCard:
    room: ResourceOut
    building: str
    zone: ZoneInfo
    equipment: list[str]
    accessible: bool
    free_until: str | None
    day: timeline.Day | None = None


def room_card(
    resource: Resource,
    principal: Principal,
    buildings: Mapping[uuid.UUID, tuple[str, str]],
    *,
    next_busy: datetime | None = None,
    day: timeline.Day | None = None,
    on: date | None = None,
) -> RoomCard:
    shown = resource_out(resource, principal)
    name, zone_name = buildings.get(resource.building_id, ("", "UTC"))
    zone = ZoneInfo(zone_name)
    free_until = None
    if next_busy is not None:
        local = next_busy.astimezone(zone)
        free_until = f"{local:%H:%M}" if local.date() == on else f"{local:%a %-d %b, %H:%M}"
    return RoomCard(
        shown,
        name,
        zone,
        equipment_of(shown.attributes),
        bool(shown.attributes.get(ACCESSIBLE_ATTRIBUTE)),
        free_until,
        day,
    )


def equipment_of(attributes: Mapping[str, Any]) -> list[str]:
    value = attributes.get(EQUIPMENT_ATTRIBUTE)
    items = value if isinstance(value, list) else [value] if value else []
    return [str(item) for item in items if item not in (None, "", False)]


# The equipment list changes only when rooms are imported or edited: kept this long, so
# a search does not read every room's attributes.
EQUIPMENT_FOR = 60.0
_equipment_seen: dict[tuple[uuid.UUID, bool], tuple[float, tuple[str, ...]]] = {}


def known_equipment(
    session: Session, organization_id: uuid.UUID, *, occupant: bool
) -> tuple[str, ...]:
    """The equipment the organization's active rooms offer, as the viewer may see it."""
    key = (organization_id, occupant)
    seen = _equipment_seen.get(key)
    if seen is not None and seen[0] > time.monotonic():
        return seen[1]
    found = _read_equipment(session, organization_id, occupant=occupant)
    _equipment_seen[key] = (time.monotonic() + EQUIPMENT_FOR, found)
    return found


def _read_equipment(
    session: Session, organization_id: uuid.UUID, *, occupant: bool
) -> tuple[str, ...]:
    rows = session.execute(
        select(Resource.attributes, Resource.hidden_fields).where(
            Resource.organization_id == organization_id, Resource.active.is_(True)
        )
    )
    found: dict[str, str] = {}
    for attributes, hidden in rows:
        if occupant and EQUIPMENT_ATTRIBUTE in (hidden or []):
            continue
        for item in equipment_of(attributes or {}):
            found.setdefault(item.casefold(), item)
    return tuple(sorted(found.values(), key=str.casefold))


def person_id(session: Session, organization_id: uuid.UUID, email: str) -> uuid.UUID:
    """The signed-in person's user row (a session always has one)."""
    return session.scalars(
        select(User.id).where(User.organization_id == organization_id, User.email == email)
    ).one()


def buildings_of(session: Session, organization_id: uuid.UUID) -> dict[uuid.UUID, tuple[str, str]]:
    rows = session.execute(
        select(Building.id, Building.name, Building.time_zone)
        .where(Building.organization_id == organization_id)
        .order_by(Building.name)
    )
    return {row.id: (row.name, row.time_zone) for row in rows}


def blocks_of(
    session: Session, resource_id: uuid.UUID, start: datetime, end: datetime, principal: Principal
) -> list[timeline.Busy]:
    """The room's busy blocks over [start, end), as the schedule endpoint shows them."""
    found = []
    for booking in busy_blocks(session, resource_id, start, end):
        title = shown_title(principal, booking)
        who = booking.organizer.name if booking.organizer else booking.organizer_email
        # A room mailbox often replaces the subject with the organizer's name: say it once.
        shown_who = None if who == title else who
        found.append(
            timeline.Busy(booking.start_at, booking.end_at, title, shown_who, booking.status.value)
        )
    return found


# --- Bookings ------------------------------------------------------------------------------

STATUS_TEXT = {
    BookingStatus.PENDING: ("Waiting for the room's answer", "warn"),
    BookingStatus.CONFIRMED: ("Confirmed by the room", "ok"),
    BookingStatus.DECLINED: ("Declined", "bad"),
    BookingStatus.CANCELLED: ("Cancelled", "muted"),
}
SYNC_TEXT = {
    SyncState.PENDING: "Waiting to reach Outlook",
    SyncState.SYNCED: "In Outlook",
    SyncState.FAILED: "Could not reach Outlook",
    SyncState.NOT_SYNCED: "Only in roomsync (this room has no Outlook calendar)",
}


@dataclass(frozen=True)
class BookingView:
    id: uuid.UUID
    title: str
    room: str
    room_id: uuid.UUID
    building: str
    building_id: uuid.UUID
    zone: ZoneInfo
    start: datetime
    end: datetime
    status: BookingStatus
    status_text: str
    tone: str
    reason: str | None
    sync_text: str
    sync_error: str | None
    from_outlook: bool
    private: bool
    version: int
    locked: str | None
    """Why roomsync cannot change it (said before any click), or None."""
    description: str | None = None
    web_link: str | None = None
    """Opens the meeting in Outlook on the web; for its organizer only (their mailbox)."""

    @property
    def final(self) -> bool:
        return self.status is not BookingStatus.PENDING

    @property
    def when(self) -> str:
        start, end = self.start.astimezone(self.zone), self.end.astimezone(self.zone)
        return f"{start:%a %-d %b %Y, %H:%M}{timeline.DASH}{end:%H:%M}"

    @property
    def changeable(self) -> bool:
        return self.locked is None

    @property
    def again(self) -> str:
        """The finder's query for the same time in the same building."""
        start = self.start.astimezone(self.zone)
        minutes = int((self.end - self.start).total_seconds() // 60)
        return urlencode({
            "date": start.date().isoformat(), "start": f"{start:%H:%M}",
            "duration": str(minutes), "building": str(self.building_id),
        })  # fmt: skip


def booking_view(
    session: Session,
    booking: Booking,
    *,
    sync: BookingSyncView,
    principal: Principal,
    buildings: Mapping[uuid.UUID, tuple[str, str]],
    rooms: Mapping[uuid.UUID, Resource],
) -> BookingView:
    room = rooms[booking.resource_id]
    building, zone_name = buildings.get(room.building_id, ("", "UTC"))
    text, tone = STATUS_TEXT.get(booking.status, (booking.status.value.title(), "muted"))
    if booking.status is BookingStatus.CONFIRMED and sync.state is SyncState.NOT_SYNCED:
        text = "Confirmed"
    return BookingView(
        id=booking.id,
        title=shown_title(principal, booking),
        room=room.name,
        room_id=room.id,
        building=building,
        building_id=room.building_id,
        zone=ZoneInfo(zone_name),
        start=booking.start_at,
        end=booking.end_at,
        status=booking.status,
        status_text=text,
        tone=tone,
        reason=booking.status_reason,
        sync_text=SYNC_TEXT[sync.state],
        sync_error=plain_sync_error(sync.error) if sync.state is SyncState.FAILED else None,
        from_outlook=booking.origin is Origin.MICROSOFT365,
        private=booking.private,
        version=booking.version,
        locked=why_locked(session, booking, room),
        description=shown_description(principal, booking),
        web_link=sync.web_link if is_organizer(principal, booking) else None,
    )


def why_locked(session: Session, booking: Booking, room: Resource) -> str | None:
    """What the booking service would refuse, said in advance: a closed booking, or an
    Outlook meeting roomsync cannot push a change of."""
    if booking.status not in OCCUPYING_STATUSES:
        return f"It is {booking.status.value}; book again instead."
    try:
        check_changeable_in_outlook(session, booking, room, ChangeSource.PLATFORM)
    except ManagedInOutlookError:
        return (
            "It was made in Outlook by someone outside this organization's Microsoft 365: "
            "ask them to change it."
        )
    return None


def plain_sync_error(error: str | None) -> str:
    if not error:
        return "Outlook did not take the change; roomsync will try again."
    return error.split(" (request-id")[0]


def load_rooms(session: Session, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Resource]:
    rows = session.scalars(select(Resource).where(Resource.id.in_(set(ids))))
    return {row.id: row for row in rows}


def day_bounds(moment: datetime, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """Midnight to midnight of the local day of ``moment`` (23 or 25 hours on a change)."""
    local = moment.astimezone(zone)
    start = datetime.combine(local.date(), datetime.min.time(), zone)
    end = datetime.combine(local.date() + timedelta(days=1), datetime.min.time(), zone)
    return start, end
