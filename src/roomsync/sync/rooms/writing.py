"""Writing imported rooms: buildings for room lists, then one resource per room mailbox.

Rooms are keyed by their mailbox address (``upsert_resource_by_email``); a room already
as Microsoft 365 describes it is not written at all, so a second run changes nothing and
says so. Each room is counted once: ``created``, ``moved`` (its room list, hence its
building, changed), ``updated`` or ``unchanged``; ``reactivated`` also counts retired
rooms that came back; ``excluded`` counts rooms an admin excluded from the import, which
are left as they are (retired). Rooms are written 200 per transaction, so other workers are not
held up behind a long import on SQLite.

Room lists map to buildings: the building named in the selection, else the one linked to
the list's address, else one with the list's name, else a new one in the integration's
time zone. Rooms in no list (``"mode": "all"``) go to the building "Microsoft 365 rooms".
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from roomsync.platform.db import Database
from roomsync.platform.models import Building, Integration, Resource
from roomsync.platform.services.buildings import create_building, upsert_building_for_room_list
from roomsync.platform.services.resources import upsert_resource_by_email
from roomsync.sync.integration.settings import RoomListChoice
from roomsync.sync.rooms.field_mapping import MappedRoom
from roomsync.sync.runs import RunReport

ROOMS_PER_TRANSACTION = 200
UNLISTED_BUILDING = "Microsoft 365 rooms"


class RoomChange(StrEnum):
    """How one room's import went, as counted in the run report."""

    CREATED = "created"
    UPDATED = "updated"
    MOVED = "moved"
    UNCHANGED = "unchanged"


@dataclass(frozen=True)
class PlannedRoom:
    mapped: MappedRoom
    room_list: RoomListChoice | None


def save_rooms(
    database: Database,
    integration: Integration,
    planned: Sequence[PlannedRoom],
    report: RunReport,
    *,
    on_saved: Callable[[int], None] | None = None,
) -> None:
    buildings = resolve_buildings(database, integration, (p.room_list for p in planned))
    for start in range(0, len(planned), ROOMS_PER_TRANSACTION):
        chunk = planned[start : start + ROOMS_PER_TRANSACTION]
        with database.session() as session:
            existing = _existing(session, integration.organization_id, chunk)
            for room in chunk:
                building_id = buildings[_list_key(room.room_list)]
                current = existing.get(room.mapped.email)
                if current is not None and current.excluded_from_import:
                    report.count("excluded")
                    continue
                reactivated = current is not None and not current.active
                change = _save(
                    session, integration.organization_id, building_id, room.mapped, current
                )
                report.count(change)
                report.count("reactivated", int(reactivated))
        if on_saved is not None:
            on_saved(len(chunk))


def resolve_buildings(
    database: Database, integration: Integration, room_lists: Iterable[RoomListChoice | None]
) -> dict[str | None, uuid.UUID]:
    """Room list email (None: in no list) → the building its rooms go to."""
    wanted = {_list_key(choice): choice for choice in room_lists}
    with database.session() as session:
        return {key: _building_for(session, integration, choice) for key, choice in wanted.items()}


def _building_for(
    session: Session, integration: Integration, choice: RoomListChoice | None
) -> uuid.UUID:
    if choice is None:
        return _unlisted_building(session, integration)
    if choice.building_id is not None:
        return choice.building_id
    return upsert_building_for_room_list(
        session,
        organization_id=integration.organization_id,
        room_list_email=choice.email,
        name=choice.name,
        time_zone=integration.time_zone,
    ).id


def _unlisted_building(session: Session, integration: Integration) -> uuid.UUID:
    found = session.scalars(
        select(Building.id).where(
            Building.organization_id == integration.organization_id,
            Building.name == UNLISTED_BUILDING,
        )
    ).first()
    if found is not None:
        return found
    return create_building(
        session,
        organization_id=integration.organization_id,
        name=UNLISTED_BUILDING,
        time_zone=integration.time_zone,
    ).id


def _list_key(choice: RoomListChoice | None) -> str | None:
    return None if choice is None else choice.email


def _existing(
    session: Session, organization_id: uuid.UUID, chunk: Sequence[PlannedRoom]
) -> dict[str, Resource]:
    emails = [room.mapped.email for room in chunk]
    rows = session.scalars(
        select(Resource).where(
            Resource.organization_id == organization_id, Resource.email.in_(emails)
        )
    )
    return {row.email: row for row in rows if row.email}


def _save(
    session: Session,
    organization_id: uuid.UUID,
    building_id: uuid.UUID,
    mapped: MappedRoom,
    current: Resource | None,
) -> RoomChange:
    if current is not None and _up_to_date(current, building_id, mapped):
        return RoomChange.UNCHANGED
    previous_building = current.building_id if current is not None else None
    upsert_resource_by_email(
        session,
        organization_id=organization_id,
        building_id=building_id,
        email=mapped.email,
        name=mapped.name,
        capacity=mapped.capacity,
        floor=mapped.floor,
        attributes=mapped.attributes,
        hidden_fields=mapped.hidden_fields,
        m365_place_id=mapped.place_id,
    )
    if current is None:
        return RoomChange.CREATED
    return RoomChange.MOVED if previous_building != building_id else RoomChange.UPDATED


def _up_to_date(current: Resource, building_id: uuid.UUID, mapped: MappedRoom) -> bool:
    return (
        current.active
        and current.building_id == building_id
        and (current.name, current.capacity, current.floor)
        == (mapped.name, mapped.capacity, mapped.floor)
        and current.attributes == mapped.attributes
        and sorted(current.hidden_fields) == list(mapped.hidden_fields)
        and (mapped.place_id is None or current.m365_place_id == mapped.place_id)
    )
