"""``GET /availability`` (the rooms free for a whole interval) and
``GET /resources/{id}/schedule`` (a room's busy blocks of one day, in its building's zone).

A query parameter this API does not know is a 422 naming it: a filter that was ignored
would answer a question the caller did not ask.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, TypeVar
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel
from sqlalchemy.orm import Session

from roomsync.platform.api.auth import Principal
from roomsync.platform.api.booking_privacy import shown_title
from roomsync.platform.api.deps import PrincipalDep, SessionDep, SettingsDep
from roomsync.platform.api.fields import Instant
from roomsync.platform.api.resources import ResourceOut, resource_out
from roomsync.platform.enums import BookingStatus
from roomsync.platform.exceptions import InvalidInputError
from roomsync.platform.models import Booking
from roomsync.platform.services import availability as service
from roomsync.platform.services.buildings import get_building
from roomsync.platform.services.resources import get_resource
from roomsync.platform.services.search_interval import WallClockSlot, parse_duration, search_zone

router = APIRouter(tags=["availability"])

# How far ahead a search may look, and the most rooms one answer lists.
SEARCH_HORIZON = timedelta(days=5 * 366)
MAX_RESULTS = 200
AVAILABILITY_PARAMETERS = frozenset(
    {"start", "end", "date", "time", "duration", "building_id", "capacity_min", "floor",
     "equipment", "accessible", "limit"}
)  # fmt: skip
SCHEDULE_PARAMETERS = frozenset({"date"})


class FreeRoomOut(BaseModel):
    resource: ResourceOut
    next_busy_start: datetime | None


class AvailabilityOut(BaseModel):
    start: datetime
    end: datetime
    # The zone ``date`` and ``time`` were read in; null when the interval came as instants.
    time_zone: str | None = None
    items: list[FreeRoomOut]


class BusyBlockOut(BaseModel):
    start: datetime
    end: datetime
    title: str
    organizer_name: str | None
    private: bool
    status: BookingStatus


class ScheduleOut(BaseModel):
    resource_id: uuid.UUID
    date: date
    time_zone: str
    items: list[BusyBlockOut]


AVAILABILITY_DESCRIPTION = """\
The rooms free for the whole interval, smallest room that fits first (rooms of unknown
capacity last, then by name), each with `next_busy_start`: the start of its next pending or
confirmed booking after the interval (null when none). Pending and confirmed bookings hold a
room; declined and cancelled ones do not.

Give the interval in one of two forms:

- `start` and `end`: ISO 8601 instants with an offset;
- `date` (YYYY-MM-DD), `time` (HH:MM, wall clock) and `duration` (ISO 8601 such as `PT1H`
  or `PT1H30M`, or whole minutes such as `90`), read in the time zone of `building_id`'s
  building; without `building_id`, in the zone the organization's buildings share (a 422
  naming `building_id` when they lie in several zones). The start keeps its wall-clock time
  across a daylight-saving change; the end is `duration` later in elapsed time. A time the
  clocks skip that day is a 422 naming `time`. `time_zone` in the answer says which zone
  was used.

Both forms at once, neither, or an incomplete one, an end not after the start, an interval
longer than the longest booking, a start more than five years ahead, `capacity_min` outside
1..1000, an unknown `building_id`, equipment no room has, and any parameter not listed here
are 422 naming the parameter. `equipment` (repeatable) matches an attribute of that name or
a value among an attribute's values (`equipment=display`); a field a room hides from
occupants never matches an occupant's filter.
"""


@router.get(
    "/availability",
    summary="Rooms free for a whole interval, smallest that fits first",
    description=AVAILABILITY_DESCRIPTION,
    response_model=AvailabilityOut,
)
def availability(
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
    settings: SettingsDep,
    *,
    start: Annotated[Instant | None, Query(description="Start (ISO 8601, offset).")] = None,
    end: Annotated[Instant | None, Query(description="End, after start.")] = None,
    day: Annotated[date | None, Query(alias="date", description="Day, YYYY-MM-DD.")] = None,
    at: Annotated[time | None, Query(alias="time", description="Wall-clock start, HH:MM.")] = None,
    duration: Annotated[
        str | None, Query(max_length=16, description="PT1H, PT1H30M or minutes (90).")
    ] = None,
    building_id: Annotated[uuid.UUID | None, Query()] = None,
    capacity_min: Annotated[int | None, Query(ge=1, le=1000)] = None,
    floor: Annotated[str | None, Query(max_length=64)] = None,
    equipment: Annotated[list[str] | None, Query(max_length=20)] = None,
    accessible: Annotated[bool | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_RESULTS)] = 50,
) -> AvailabilityOut:
    refuse_unknown_parameters(request, AVAILABILITY_PARAMETERS)
    asked = AskedInterval(start=start, end=end, day=day, at=at, duration=duration)
    interval = resolve_interval(session, principal, asked, building_id=building_id)
    check_interval(interval, max_hours=settings.max_booking_hours, now=datetime.now(UTC))
    search = service.RoomSearch(
        organization_id=principal.organization_id,
        start=interval.start,
        end=interval.end,
        building_id=building_id,
        capacity_min=capacity_min,
        floor=floor,
        equipment=tuple(equipment or ()),
        accessible=accessible,
        occupant=not principal.is_admin,
    )
    found = service.free_rooms(session, search, limit=limit)
    return AvailabilityOut(
        start=interval.start,
        end=interval.end,
        time_zone=interval.time_zone,
        items=[
            FreeRoomOut(
                resource=resource_out(free.resource, principal),
                next_busy_start=free.next_busy_start,
            )
            for free in found
        ],
    )


@router.get(
    "/resources/{resource_id}/schedule",
    summary="A room's busy blocks of one day (in its building's time zone)",
    response_model=ScheduleOut,
)
def schedule(
    request: Request,
    resource_id: uuid.UUID,
    session: SessionDep,
    principal: PrincipalDep,
    day: Annotated[date, Query(alias="date", description="The day, YYYY-MM-DD.")],
) -> ScheduleOut:
    refuse_unknown_parameters(request, SCHEDULE_PARAMETERS)
    resource = get_resource(session, resource_id=resource_id)
    principal.check_access(resource.organization_id)
    zone_name = get_building(session, building_id=resource.building_id).time_zone
    zone = ZoneInfo(zone_name)
    day_start = datetime.combine(day, time(), zone)
    day_end = datetime.combine(day + timedelta(days=1), time(), zone)
    blocks = service.busy_blocks(session, resource.id, day_start, day_end)
    return ScheduleOut(
        resource_id=resource.id,
        date=day,
        time_zone=zone_name,
        items=[_block(booking, principal) for booking in blocks],
    )


def _block(booking: Booking, principal: Principal) -> BusyBlockOut:
    return BusyBlockOut(
        start=booking.start_at,
        end=booking.end_at,
        title=shown_title(principal, booking),
        organizer_name=booking.organizer.name if booking.organizer else booking.organizer_email,
        private=booking.private,
        status=booking.status,
    )


@dataclass(frozen=True)
class AskedInterval:
    """The interval parameters as given: ``start``/``end``, or ``date``/``time``/``duration``."""

    start: datetime | None
    end: datetime | None
    day: date | None
    at: time | None
    duration: str | None


@dataclass(frozen=True)
class ResolvedInterval:
    start: datetime
    end: datetime
    time_zone: str | None
    fields: tuple[str, str]  # the parameters that set its start and its end


_T = TypeVar("_T")
_FORMS = "start and end (instants with an offset), or date, time and duration"


def resolve_interval(
    session: Session, principal: Principal, asked: AskedInterval, *, building_id: uuid.UUID | None
) -> ResolvedInterval:
    """The UTC interval the parameters mean, or a 422 naming the parameter at fault."""
    instants = asked.start is not None or asked.end is not None
    wall_clock = (asked.day, asked.at, asked.duration) != (None, None, None)
    if instants and wall_clock:
        raise InvalidInputError(f"Give either {_FORMS}, not both.", field="date")
    org = principal.organization_id
    if not wall_clock:
        start, end = _required(asked.start, "start"), _required(asked.end, "end")
        return ResolvedInterval(start, end, None, ("start", "end"))
    day = _required(asked.day, "date")
    if not 1900 <= day.year <= 2999:
        raise InvalidInputError("date must lie within the years 1900 to 2999.", field="date")
    at = _required(asked.at, "time")
    if at.tzinfo is not None:
        raise InvalidInputError(
            "time is a wall-clock time in the building's zone: give it without an offset.",
            field="time",
        )
    slot = WallClockSlot(day, at, parse_duration(_required(asked.duration, "duration")))
    zone = search_zone(session, organization_id=org, building_id=building_id)
    start, end = slot.interval(zone)
    return ResolvedInterval(start, end, zone, ("date", "duration"))


def _required(value: _T | None, field: str) -> _T:
    if value is None:
        raise InvalidInputError(f"{field} is missing: give {_FORMS}.", field=field)
    return value


def refuse_unknown_parameters(request: Request, known: frozenset[str]) -> None:
    for name in request.query_params:
        if name not in known:
            raise InvalidInputError(
                f"Unknown query parameter {name!r}; this endpoint takes "
                f"{', '.join(sorted(known))}.",
                field=name,
            )


def check_interval(interval: ResolvedInterval, *, max_hours: float, now: datetime) -> None:
    """Refuse an interval that ends before it starts, outlasts the longest booking or starts
    beyond the horizon, naming the parameter the caller gave."""
    start_field, end_field = interval.fields
    if interval.end <= interval.start:
        raise InvalidInputError("end must be after start.", field=end_field)
    if interval.end - interval.start > timedelta(hours=max_hours):
        raise InvalidInputError(
            f"The interval is longer than the longest booking ({max_hours:g} hours).",
            field=end_field,
        )
    if interval.start > now + SEARCH_HORIZON:
        raise InvalidInputError(f"{start_field} is more than five years ahead.", field=start_field)
