"""``/buildings``: sites with their IANA time zone; admins create and change them."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from roomsync.platform.api.deps import (
    DEFAULT_LIMIT,
    CursorQuery,
    LimitQuery,
    OrganizationQuery,
    PrincipalDep,
    SessionDep,
)
from roomsync.platform.api.fields import Address, EmailText, Name, TimeZoneName
from roomsync.platform.api.schemas import (
    InputModel,
    PageOut,
    PatchModel,
    error_responses,
    page_out,
)
from roomsync.platform.models import Building
from roomsync.platform.services import buildings as service

router = APIRouter(prefix="/buildings", tags=["buildings"], responses=error_responses(409))


class BuildingIn(InputModel):
    organization_id: uuid.UUID | None = Field(
        default=None, description="Defaults to the token's organization."
    )
    name: Name
    time_zone: TimeZoneName
    address: Address | None = None
    m365_room_list_email: EmailText | None = None


class BuildingPatch(PatchModel):
    NULLABLE = frozenset({"address", "m365_room_list_email"})

    name: Name | None = None
    time_zone: TimeZoneName | None = None
    address: Address | None = None
    m365_room_list_email: EmailText | None = None


class BuildingOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    organization_id: uuid.UUID
    name: str
    time_zone: str
    address: str | None
    m365_room_list_email: str | None
    created_at: datetime
    updated_at: datetime


def _out(building: Building) -> BuildingOut:
    return BuildingOut.model_validate(building)


@router.post("", status_code=201, summary="Create a building (admin)")
def create_building(body: BuildingIn, session: SessionDep, principal: PrincipalDep) -> BuildingOut:
    organization_id = principal.target_organization(body.organization_id)
    principal.check_admin(organization_id)
    building = service.create_building(
        session,
        organization_id=organization_id,
        name=body.name,
        time_zone=body.time_zone,
        address=body.address,
        m365_room_list_email=body.m365_room_list_email,
    )
    return _out(building)


@router.get("", summary="List buildings")
def list_buildings(
    *,
    session: SessionDep,
    principal: PrincipalDep,
    organization_id: OrganizationQuery = None,
    search: Annotated[
        str | None, Query(max_length=200, description="Only buildings whose name contains this.")
    ] = None,
    limit: LimitQuery = DEFAULT_LIMIT,
    cursor: CursorQuery = None,
) -> PageOut[BuildingOut]:
    page = service.list_buildings(
        session,
        organization_id=principal.list_scope(organization_id),
        search=search,
        limit=limit,
        cursor=cursor,
    )
    return page_out(page, _out)


@router.get("/{building_id}", summary="Get a building")
def get_building(
    building_id: uuid.UUID, session: SessionDep, principal: PrincipalDep
) -> BuildingOut:
    building = service.get_building(session, building_id=building_id)
    principal.check_access(building.organization_id)
    return _out(building)


@router.patch("/{building_id}", summary="Change a building (admin)")
def update_building(
    building_id: uuid.UUID, body: BuildingPatch, session: SessionDep, principal: PrincipalDep
) -> BuildingOut:
    principal.check_admin(service.get_building(session, building_id=building_id).organization_id)
    return _out(service.update_building(session, building_id=building_id, **body.changes()))
