"""Which rooms are free for a whole interval, and a room's busy blocks.

A room is free when no pending or confirmed booking overlaps [start, end) (declined and
cancelled ones do not hold it, as for the booking rule itself). One statement finds the free
rooms with their next busy start; the filters on JSON attributes (equipment, accessible)
and the hiding of fields from occupants are applied to that statement's rows.

Ranking: the smallest room that fits first (capacity ascending, rooms of unknown capacity
last), then by name.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from roomsync.platform.models import Booking, Resource
from roomsync.platform.services.booking_rules import OCCUPYING_STATUSES

# The attribute the default field mapping fills from Graph's isWheelChairAccessible.
ACCESSIBLE_ATTRIBUTE = "accessibility"


@dataclass(frozen=True)
class RoomSearch:
    """What a person asks for. ``occupant``: fields a room hides from occupants never
    match a filter (an occupant cannot learn a hidden value by filtering on it)."""

    organization_id: uuid.UUID | None
    start: datetime
    end: datetime
    building_id: uuid.UUID | None = None
    capacity_min: int | None = None
    floor: str | None = None
    equipment: tuple[str, ...] = ()
    accessible: bool | None = None
    occupant: bool = False


@dataclass(frozen=True)
class FreeRoom:
    resource: Resource
    next_busy_start: datetime | None


def free_rooms(session: Session, search: RoomSearch, *, limit: int) -> list[FreeRoom]:
    """The rooms free for the whole of [start, end), best fit first, at most ``limit``."""
    rows = session.execute(_statement(search)).all()
    found = [
        FreeRoom(resource, next_busy)
        for resource, next_busy in rows
        if _matches_hidden_aware(resource, search)
    ]
    return found[:limit]


def busy_blocks(
    session: Session, resource_id: uuid.UUID, start: datetime, end: datetime
) -> Sequence[Booking]:
    """The bookings that hold the room during [start, end), by start."""
    return session.scalars(
        select(Booking)
        .where(
            Booking.resource_id == resource_id,
            Booking.status.in_(OCCUPYING_STATUSES),
            Booking.start_at < end,
            Booking.end_at > start,
        )
        .order_by(Booking.start_at, Booking.id)
    ).all()


def _statement(search: RoomSearch) -> Any:
    holding = Booking.status.in_(OCCUPYING_STATUSES)
    taken = (
        select(Booking.id)
        .where(
            Booking.resource_id == Resource.id,
            holding,
            Booking.start_at < search.end,
            Booking.end_at > search.start,
        )
        .exists()
    )
    next_busy = (
        select(func.min(Booking.start_at))
        .where(Booking.resource_id == Resource.id, holding, Booking.start_at >= search.end)
        .correlate(Resource)
        .scalar_subquery()
    )
    statement = select(Resource, next_busy).where(Resource.active.is_(True), ~taken)
    if search.organization_id is not None:
        statement = statement.where(Resource.organization_id == search.organization_id)
    if search.building_id is not None:
        statement = statement.where(Resource.building_id == search.building_id)
    if search.capacity_min is not None:
        statement = statement.where(Resource.capacity >= search.capacity_min)
    if search.floor is not None:
        statement = statement.where(func.lower(Resource.floor) == search.floor.casefold())
    return statement.order_by(
        Resource.capacity.is_(None), Resource.capacity, Resource.name, Resource.id
    )


def _matches_hidden_aware(resource: Resource, search: RoomSearch) -> bool:
    hidden = set(resource.hidden_fields) if search.occupant else set()
    if search.capacity_min is not None and "capacity" in hidden:
        return False
    if search.floor is not None and "floor" in hidden:
        return False
    attributes = {k: v for k, v in resource.attributes.items() if k not in hidden}
    if search.accessible is not None and bool(attributes.get(ACCESSIBLE_ATTRIBUTE)) is not (
        search.accessible
    ):
        return False
    return all(_has(attributes, wanted) for wanted in search.equipment)


def _has(attributes: dict[str, Any], wanted: str) -> bool:
    """True when an attribute is named ``wanted`` and set, or holds it as (or among) its
    values — ``equipment=display`` matches ``{"equipment": ["Display", ...]}``."""
    key = wanted.casefold()
    for name, value in attributes.items():
        if name.casefold() == key and value not in (None, False, "", [], 0):
            return True
        values = value if isinstance(value, list) else [value]
        if any(isinstance(item, str) and item.casefold() == key for item in values):
            return True
    return False
