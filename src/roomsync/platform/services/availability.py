"""Which rooms are free for a whole interval, and a room's busy blocks.

A room is free when no pending or confirmed booking overlaps [start, end) (declined and
cancelled ones do not hold it, as for the booking rule itself). One indexed statement
(``availability_query``) finds the free rooms in rank order with their next busy start; the
filters on JSON attributes (equipment, accessible) and the hiding of fields from occupants
are applied to its rows, asking for more rows when they left the page short.

Ranking: the smallest room that fits first (capacity ascending, rooms of unknown capacity
last), then by name.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from roomsync.platform.exceptions import InvalidInputError
from roomsync.platform.models import Booking, Resource
from roomsync.platform.services.availability_query import (
    RoomFilters,
    free_rooms_statement,
    overlapping,
)
from roomsync.platform.services.search_interval import building_in_reach

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
    """The rooms free for the whole of [start, end), best fit first, at most ``limit``.

    An unknown building, or equipment no room of the organization has (as the caller sees
    the rooms), is an :class:`InvalidInputError` naming ``building_id`` or ``equipment``.
    """
    filters = RoomFilters(
        search.start, search.end, search.organization_id, search.building_id,
        search.capacity_min, search.floor,
    )  # fmt: skip
    found: list[FreeRoom] = []
    for fetch in _fetch_sizes(search, limit):
        rows = session.execute(free_rooms_statement(filters, fetch), filters.parameters()).all()
        found = [FreeRoom(room, busy) for room, busy in rows if _matches_hidden_aware(room, search)]
        if len(found) >= limit or fetch is None or len(rows) < fetch:
            break
    if not found and search.building_id is not None:
        # Only an empty answer can hide an unknown building: a room found is in it.
        building_in_reach(session, search.organization_id, search.building_id)
    _check_equipment_known(session, search, found)
    return found[:limit]


def busy_blocks(
    session: Session, resource_id: uuid.UUID, start: datetime, end: datetime
) -> Sequence[Booking]:
    """The bookings that hold the room during [start, end), by start."""
    return session.scalars(
        select(Booking)
        .where(Booking.resource_id == resource_id, *overlapping(start, end))
        .order_by(Booking.start_at, Booking.id)
    ).all()


def _fetch_sizes(search: RoomSearch, limit: int) -> tuple[int | None, ...]:
    """How many rooms each round asks the database for. The filters on JSON fields are
    applied to the rows, so a search using them may need more rows than it answers: it asks
    again for ten times as many, then for all."""
    hidden_aware = search.occupant and (search.capacity_min, search.floor) != (None, None)
    if not search.equipment and search.accessible is None and not hidden_aware:
        return (limit,)
    return (limit, limit * 10, None)


def _check_equipment_known(session: Session, search: RoomSearch, found: list[FreeRoom]) -> None:
    """Refuse equipment no room has: a typo would otherwise read as "all rooms are busy".
    Only terms no free room matched need the organization's rooms looked at."""
    unmatched = [
        w for w in search.equipment if not any(_visible_has(f.resource, w, search) for f in found)
    ]
    if not unmatched:
        return
    where = (
        []
        if search.organization_id is None
        else [Resource.organization_id == search.organization_id]
    )
    rooms = session.scalars(select(Resource).where(Resource.active.is_(True), *where)).all()
    for wanted in unmatched:
        if not any(_visible_has(room, wanted, search) for room in rooms):
            raise InvalidInputError(
                f"No room has the equipment {wanted!r}; equipment names an attribute or "
                "one of its values, such as 'display'.",
                field="equipment",
            )


def _visible_has(resource: Resource, wanted: str, search: RoomSearch) -> bool:
    return _has(_visible_attributes(resource, search), wanted)


def _visible_attributes(resource: Resource, search: RoomSearch) -> dict[str, Any]:
    hidden = set(resource.hidden_fields) if search.occupant else set()
    return {k: v for k, v in resource.attributes.items() if k not in hidden}


def _matches_hidden_aware(resource: Resource, search: RoomSearch) -> bool:
    hidden = set(resource.hidden_fields) if search.occupant else set()
    if search.capacity_min is not None and "capacity" in hidden:
        return False
    if search.floor is not None and "floor" in hidden:
        return False
    attributes = _visible_attributes(resource, search)
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
