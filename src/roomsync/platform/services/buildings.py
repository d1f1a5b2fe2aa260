"""Buildings: a site with its IANA time zone, possibly mirroring a Microsoft 365 room list."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from roomsync.platform.models import Building
from roomsync.platform.services.changes import UNCHANGED, Maybe, given
from roomsync.platform.services.lookup import (
    DEFAULT_PAGE_SIZE,
    Page,
    flush_unique,
    get_or_raise,
    paginate,
)
from roomsync.platform.services.organizations import get_organization
from roomsync.platform.services.validation import check_time_zone, clean_name, optional_email


def create_building(
    session: Session,
    *,
    organization_id: uuid.UUID,
    name: str,
    time_zone: str,
    address: str | None = None,
    m365_room_list_email: str | None = None,
) -> Building:
    get_organization(session, organization_id=organization_id)
    building = Building(
        organization_id=organization_id,
        name=clean_name(name),
        time_zone=check_time_zone(time_zone),
        address=address,
        m365_room_list_email=optional_email(m365_room_list_email, field="m365_room_list_email"),
    )
    session.add(building)
    _flush(session, building)
    return building


def get_building(session: Session, *, building_id: uuid.UUID) -> Building:
    return get_or_raise(session, Building, building_id, noun="building")


def list_buildings(
    session: Session,
    *,
    organization_id: uuid.UUID | None = None,
    search: str | None = None,
    limit: int = DEFAULT_PAGE_SIZE,
    cursor: str | None = None,
) -> Page[Building]:
    """Buildings in creation order; ``search`` keeps those whose name contains it (any case)."""
    where = [] if organization_id is None else [Building.organization_id == organization_id]
    if search and search.strip():
        where.append(func.lower(Building.name).contains(search.strip().lower(), autoescape=True))
    return paginate(session, Building, where=where, limit=limit, cursor=cursor)


def update_building(
    session: Session,
    *,
    building_id: uuid.UUID,
    name: Maybe[str] = UNCHANGED,
    time_zone: Maybe[str] = UNCHANGED,
    address: Maybe[str | None] = UNCHANGED,
    m365_room_list_email: Maybe[str | None] = UNCHANGED,
) -> Building:
    building = get_building(session, building_id=building_id)
    building.name = clean_name(given(name, building.name))
    building.time_zone = check_time_zone(given(time_zone, building.time_zone))
    building.address = given(address, building.address)
    building.m365_room_list_email = optional_email(
        given(m365_room_list_email, building.m365_room_list_email), field="m365_room_list_email"
    )
    _flush(session, building)
    return building


def upsert_building_for_room_list(
    session: Session, *, organization_id: uuid.UUID, room_list_email: str, name: str, time_zone: str
) -> Building:
    """The building mirroring a room list: found by its email, else adopted by name, else new.

    An existing building keeps its name and time zone; the room import only links it.
    """
    email = optional_email(room_list_email, field="room_list_email")
    building = (
        session.scalars(
            select(Building).where(
                Building.organization_id == organization_id, Building.m365_room_list_email == email
            )
        ).first()
        or session.scalars(
            select(Building).where(
                Building.organization_id == organization_id, Building.name == clean_name(name)
            )
        ).first()
    )
    if building is None:
        return create_building(
            session,
            organization_id=organization_id,
            name=name,
            time_zone=time_zone,
            m365_room_list_email=email,
        )
    building.m365_room_list_email = email
    session.flush()
    return building


def _flush(session: Session, building: Building) -> None:
    flush_unique(
        session,
        message=f"The organization already has a building named {building.name!r}.",
        field="name",
    )
