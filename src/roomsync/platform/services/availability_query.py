"""The one statement of the availability search: free rooms in rank order, each with the
start of its next busy booking.

A room is free when no pending or confirmed booking overlaps [start, end). The statement
walks rooms along an index in rank order (smallest capacity first, then by name) and stops
once ``fetch`` free rooms are found, testing each room with one probe of the
``bookings (resource_id, end_at, start_at, status)`` index that reads only the bookings
still running after ``start``. Rooms of unknown capacity rank last; they are walked
separately (an index orders NULL first on SQLite) and the two short lists ranked together.

Building a statement costs more than running it, so one is built per shape (which filters
are set, how many rows) and cached; the values travel as bound parameters.
"""

from __future__ import annotations

import functools
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, bindparam, func, literal_column, select, union_all
from sqlalchemy.orm import aliased

from roomsync.platform.models import Booking, Resource
from roomsync.platform.services.booking_rules import OCCUPYING_STATUSES

_RANK = (Resource.capacity, Resource.name, Resource.id)


@dataclass(frozen=True)
class RoomFilters:
    """The filters the database applies (the JSON ones are applied to its rows)."""

    start: datetime
    end: datetime
    organization_id: uuid.UUID | None
    building_id: uuid.UUID | None
    capacity_min: int | None
    floor: str | None

    def parameters(self) -> dict[str, Any]:
        values = {
            "start": self.start,
            "end": self.end,
            "organization_id": self.organization_id,
            "building_id": self.building_id,
            "capacity_min": self.capacity_min,
            "floor": None if self.floor is None else self.floor.casefold(),
        }
        return {name: value for name, value in values.items() if value is not None}


def free_rooms_statement(filters: RoomFilters, fetch: int | None) -> Select[Resource, datetime]:
    """Rows of (Resource, next busy start), best fit first, at most ``fetch`` (None: all);
    execute with ``filters.parameters()``."""
    return _shaped(frozenset(filters.parameters()), fetch)


def overlapping(start: Any, end: Any) -> tuple[ColumnElement[bool], ...]:
    """The live bookings overlapping [start, end). ``end_at`` first: with the
    (resource_id, end_at, start_at, status) index the probe reads only the bookings still
    running after ``start``, never the room's past."""
    return (Booking.end_at > start, Booking.start_at < end, Booking.status.in_(OCCUPYING_STATUSES))


@functools.lru_cache(maxsize=256)
def _shaped(given: frozenset[str], fetch: int | None) -> Select[Resource, datetime]:
    ranked = union_all(
        _free_in_rank_order(given, fetch, known_capacity=True),
        _free_in_rank_order(given, fetch, known_capacity=False),
    ).subquery()
    room = aliased(Resource, ranked)
    next_busy = (
        select(Booking.start_at)
        .where(
            Booking.resource_id == room.id,
            Booking.start_at >= bindparam("end"),
            Booking.status.in_(OCCUPYING_STATUSES),
        )
        .order_by(Booking.start_at)
        .limit(1)
        .scalar_subquery()
    )
    return (
        select(room, next_busy)
        .order_by(room.capacity.is_(None), room.capacity, room.name, room.id)
        .limit(fetch)
    )


def _free_in_rank_order(given: frozenset[str], fetch: int | None, *, known_capacity: bool) -> Any:
    # OFFSET 0 keeps PostgreSQL from turning the test into an anti-join: it cannot tell
    # that a room's bookings overlap one hour rarely (start and end are correlated), so it
    # would expect few free rooms and test them all before sorting. As a filter on each
    # room it walks the rank index and stops at the page's end, as SQLite does anyway.
    taken = (
        select(literal_column("1"))  # no column of the row: the index alone answers
        .where(
            Booking.resource_id == Resource.id, *overlapping(bindparam("start"), bindparam("end"))
        )
        .offset(0)
        .exists()
    )
    statement = select(Resource).where(Resource.active.is_(True), ~taken, *_filters(given))
    if known_capacity:
        statement = statement.where(Resource.capacity.is_not(None)).order_by(*_RANK)
    else:
        statement = statement.where(Resource.capacity.is_(None)).order_by(*_RANK[1:])
    return select(statement.limit(fetch).subquery())


def _filters(given: frozenset[str]) -> list[ColumnElement[bool]]:
    found: list[ColumnElement[bool]] = []
    if "organization_id" in given:
        found.append(Resource.organization_id == bindparam("organization_id"))
    if "building_id" in given:
        found.append(Resource.building_id == bindparam("building_id"))
    if "capacity_min" in given:
        found.append(Resource.capacity >= bindparam("capacity_min"))
    if "floor" in given:
        found.append(func.lower(Resource.floor) == bindparam("floor"))
    return found
