"""``GET /availability`` (the rooms free for a whole interval) and
``GET /resources/{id}/schedule`` (a room's busy blocks of one day, in its building's zone).

A query parameter this API does not know is a 422 naming it: a filter that was ignored
would answer a question the caller did not ask.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, time, timedelta
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel

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

router = APIRouter(tags=["availability"])

# How far ahead a search may look, and the most rooms one answer lists.
SEARCH_HORIZON = timedelta(days=5 * 366)
MAX_RESULTS = 200
AVAILABILITY_PARAMETERS = frozenset(
    {"start", "end", "building_id", "capacity_min", "floor", "equipment", "accessible", "limit"}
)
SCHEDULE_PARAMETERS = frozenset({"date"})


class FreeRoomOut(BaseModel):
    resource: ResourceOut
    next_busy_start: datetime | None


class AvailabilityOut(BaseModel):
    start: datetime
    end: datetime
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


@router.get(
    "/availability",
    summary="Rooms free for a whole interval, smallest that fits first",
    response_model=AvailabilityOut,
)
def availability(
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
    settings: SettingsDep,
    *,
    start: Annotated[Instant, Query(description="Start of the interval (ISO 8601, offset).")],
    end: Annotated[Instant, Query(description="End of the interval, after start.")],
    building_id: Annotated[uuid.UUID | None, Query()] = None,
    capacity_min: Annotated[int | None, Query(ge=1, le=1000)] = None,
    floor: Annotated[str | None, Query(max_length=64)] = None,
    equipment: Annotated[list[str] | None, Query(max_length=20)] = None,
    accessible: Annotated[bool | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_RESULTS)] = 50,
) -> AvailabilityOut:
    refuse_unknown_parameters(request, AVAILABILITY_PARAMETERS)
    check_interval(start, end, max_hours=settings.max_booking_hours, now=datetime.now(start.tzinfo))
    if building_id is not None:
        principal.check_access(get_building(session, building_id=building_id).organization_id)
    search = service.RoomSearch(
        organization_id=principal.organization_id,
        start=start,
        end=end,
        building_id=building_id,
        capacity_min=capacity_min,
        floor=floor,
        equipment=tuple(equipment or ()),
        accessible=accessible,
        occupant=not principal.is_admin,
    )
    found = service.free_rooms(session, search, limit=limit)
    return AvailabilityOut(
        start=start,
        end=end,
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


def refuse_unknown_parameters(request: Request, known: frozenset[str]) -> None:
    for name in request.query_params:
        if name not in known:
            raise InvalidInputError(
                f"Unknown query parameter {name!r}; this endpoint takes "
                f"{', '.join(sorted(known))}.",
                field=name,
            )


def check_interval(start: datetime, end: datetime, *, max_hours: float, now: datetime) -> None:
    if end <= start:
        raise InvalidInputError("end must be after start.", field="end")
    if end - start > timedelta(hours=max_hours):
        raise InvalidInputError(
            f"The interval is longer than the longest booking ({max_hours:g} hours).",
            field="end",
        )
    if start > now + SEARCH_HORIZON:
        raise InvalidInputError("start is more than five years ahead.", field="start")
