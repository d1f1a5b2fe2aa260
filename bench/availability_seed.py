"""The data the availability benchmark searches: one organization with ``rooms`` rooms in
``buildings`` buildings and ``bookings`` bookings, written with Core ``insert`` in chunks
(seeding is not what is measured).

Rows go through the tables' Core ``insert`` (the ORM's bulk insert splits a chunk wherever
the columns left NULL change, here at every other row). Each room gets the same number of
bookings on distinct (day, hour) slots between 60 days before and 30 days after today, at
working hours in UTC, 30 or 60 minutes long, so no two of a room's bookings overlap.
Statuses are mixed as a live calendar holds them (mostly confirmed, some pending, declined
and cancelled), a tenth are private and a fifth are occurrences of a series. Rooms vary in
capacity, floor and equipment. Everything is drawn
from a seeded ``random.Random``: every run seeds the same data.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert

from roomsync.platform.db import Database, new_id, utcnow
from roomsync.platform.enums import BookingStatus, Origin
from roomsync.platform.models import Booking, Building, Organization, Resource

DAYS_BEFORE, DAYS_AFTER = 60, 30
FIRST_HOUR, HOURS_PER_DAY = 7, 10
CAPACITIES = (2, 4, 4, 6, 6, 8, 8, 10, 12, 16, 20, 30)
EQUIPMENT = ("display", "whiteboard", "video", "phone")
ZONES = ("Europe/Paris", "Europe/London", "America/New_York", "Asia/Tokyo")
STATUSES = (
    (BookingStatus.CONFIRMED, 80),
    (BookingStatus.PENDING, 8),
    (BookingStatus.CANCELLED, 7),
    (BookingStatus.DECLINED, 5),
)
_CHUNK = 10_000


@dataclass(frozen=True)
class SeededOrganization:
    organization_id: uuid.UUID
    building_ids: list[uuid.UUID]
    room_ids: list[uuid.UUID]
    today: datetime  # midnight UTC of the day the bookings are placed around


def seed(database: Database, *, rooms: int, buildings: int, bookings: int) -> SeededOrganization:
    now = utcnow()
    drawing = _Drawing(random.Random(16), new_id(), {"created_at": now, "updated_at": now})
    today = now.replace(hour=0, minute=0, second=0, microsecond=0)
    building_ids = [new_id() for _ in range(buildings)]
    room_ids = [new_id() for _ in range(rooms)]
    org = drawing.organization_id
    with database.session() as session:
        session.execute(insert(Organization).values(id=org, name="Bench", **drawing.stamps))
        session.execute(
            insert(Building),
            [
                {"id": bid, "organization_id": org, "name": f"Building {n:02d}",
                 "time_zone": ZONES[n % len(ZONES)], **drawing.stamps}
                for n, bid in enumerate(building_ids)
            ],
        )  # fmt: skip
        rows = [drawing.room(building_ids[n % buildings], rid, n) for n, rid in enumerate(room_ids)]
        for chunk in _chunks(rows):
            session.execute(insert(Resource.__table__), chunk)
    for chunk in _chunks(drawing.bookings(room_ids, bookings // rooms, today)):
        with database.session() as session:
            session.execute(insert(Booking.__table__), chunk)
    return SeededOrganization(org, building_ids, room_ids, today)


@dataclass(frozen=True)
class _Drawing:
    draw: random.Random
    organization_id: uuid.UUID
    stamps: dict[str, datetime]

    def room(self, building_id: uuid.UUID, room_id: uuid.UUID, n: int) -> dict[str, Any]:
        draw = self.draw
        return {
            "id": room_id,
            "organization_id": self.organization_id,
            "building_id": building_id,
            "name": f"Room {n:05d}",
            "capacity": draw.choice(CAPACITIES),
            "floor": str(draw.randint(0, 9)),
            "attributes": {
                "equipment": draw.sample(EQUIPMENT, draw.randint(0, len(EQUIPMENT))),
                "accessibility": draw.random() < 0.3,
            },
            "hidden_fields": [],
            "active": True,
            "origin": Origin.PLATFORM,
            **self.stamps,
        }

    def bookings(
        self, room_ids: list[uuid.UUID], per_room: int, today: datetime
    ) -> Iterator[dict[str, Any]]:
        slots = range((DAYS_BEFORE + DAYS_AFTER) * HOURS_PER_DAY)
        for room_id in room_ids:
            for slot in self.draw.sample(slots, per_room):
                day, hour = divmod(slot, HOURS_PER_DAY)
                start = today + timedelta(days=day - DAYS_BEFORE, hours=FIRST_HOUR + hour)
                yield self._booking(room_id, start, slot)

    def _booking(self, room_id: uuid.UUID, start: datetime, slot: int) -> dict[str, Any]:
        draw = self.draw
        statuses, weights = zip(*STATUSES, strict=True)
        return {
            "id": new_id(),
            "organization_id": self.organization_id,
            "resource_id": room_id,
            "organizer_email": f"person{draw.randint(1, 500)}@bench.test",
            "title": "Meeting",
            "start_at": start,
            "end_at": start + timedelta(minutes=draw.choice((30, 60))),
            "all_day": False,
            "private": draw.random() < 0.1,
            "status": draw.choices(statuses, weights)[0],
            "origin": Origin.PLATFORM,
            "series_id": f"series-{slot % 50}" if draw.random() < 0.2 else None,
            "version": 1,
            **self.stamps,
        }


def _chunks(rows: Iterable[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    chunk: list[dict[str, Any]] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == _CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
