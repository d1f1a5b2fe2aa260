"""``/resources``: rooms. Occupants see them without the fields listed in ``hidden_fields``
(and without ``hidden_fields`` itself); admins see everything and make the changes."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from roomsync.platform.api.auth import Principal
from roomsync.platform.api.deps import (
    DEFAULT_LIMIT,
    CursorQuery,
    LimitQuery,
    OrganizationQuery,
    PrincipalDep,
    SessionDep,
)
from roomsync.platform.api.fields import EmailText, Floor, JsonObject, Name, NameList
from roomsync.platform.api.schemas import InputModel, PageOut, PatchModel, page_out
from roomsync.platform.enums import Origin
from roomsync.platform.models import Resource
from roomsync.platform.services import resources as service
from roomsync.platform.services.buildings import get_building

router = APIRouter(prefix="/resources", tags=["resources"])

_HIDDEN = "Names among capacity, floor, email and attributes keys hidden from occupants."
_EXCLUDED = (
    "true: the room mailbox stays out of service whatever the Microsoft 365 room import "
    "reads (it is retired now and not reactivated, updated, subscribed or pulled); false: "
    "the next import brings it back."
)


class ResourceIn(InputModel):
    building_id: uuid.UUID
    name: Name
    email: EmailText | None = Field(default=None, description="The Microsoft 365 room mailbox.")
    capacity: int | None = Field(default=None, ge=0, le=service.MAX_CAPACITY)
    floor: Floor | None = None
    attributes: JsonObject = Field(default_factory=dict)
    hidden_fields: NameList = Field(default_factory=list, description=_HIDDEN)
    active: bool = True


class ResourcePatch(PatchModel):
    NULLABLE = frozenset({"email", "capacity", "floor"})

    building_id: uuid.UUID | None = None
    name: Name | None = None
    email: EmailText | None = None
    capacity: int | None = Field(default=None, ge=0, le=service.MAX_CAPACITY)
    floor: Floor | None = None
    attributes: JsonObject | None = None
    hidden_fields: NameList | None = Field(default=None, description=_HIDDEN)
    active: bool | None = None
    excluded_from_import: bool | None = Field(default=None, description=_EXCLUDED)


class ResourceOut(BaseModel):
    """Fields hidden from the caller are left out of the JSON, not set to null."""

    id: uuid.UUID
    building_id: uuid.UUID
    name: str
    email: str | None = None
    capacity: int | None = None
    floor: str | None = None
    attributes: dict[str, Any] = Field(default_factory=dict)
    hidden_fields: list[str] | None = Field(default=None, description="Admin tokens only.")
    active: bool
    excluded_from_import: bool | None = Field(default=None, description="Admin tokens only.")
    origin: Origin
    created_at: datetime
    updated_at: datetime


def resource_out(resource: Resource, principal: Principal) -> ResourceOut:
    """The resource as ``principal`` may see it."""
    visible: dict[str, Any] = {
        "id": resource.id,
        "building_id": resource.building_id,
        "name": resource.name,
        "email": resource.email,
        "capacity": resource.capacity,
        "floor": resource.floor,
        "attributes": resource.attributes,
        "hidden_fields": resource.hidden_fields,
        "active": resource.active,
        "excluded_from_import": resource.excluded_from_import,
        "origin": resource.origin,
        "created_at": resource.created_at,
        "updated_at": resource.updated_at,
    }
    if not principal.is_admin:
        hidden = set(resource.hidden_fields)
        for name in {"hidden_fields", "excluded_from_import", *(service.HIDEABLE_FIELDS & hidden)}:
            del visible[name]
        visible["attributes"] = {k: v for k, v in resource.attributes.items() if k not in hidden}
    return ResourceOut(**visible)


@router.post(
    "", status_code=201, summary="Create a resource (admin)", response_model_exclude_unset=True
)
def create_resource(body: ResourceIn, session: SessionDep, principal: PrincipalDep) -> ResourceOut:
    principal.check_admin(get_building(session, building_id=body.building_id).organization_id)
    return resource_out(service.create_resource(session, **body.model_dump()), principal)


@router.get("", summary="List resources", response_model_exclude_unset=True)
def list_resources(
    *,
    session: SessionDep,
    principal: PrincipalDep,
    organization_id: OrganizationQuery = None,
    building_id: Annotated[uuid.UUID | None, Query()] = None,
    active: Annotated[bool | None, Query()] = None,
    search: Annotated[
        str | None,
        Query(max_length=200, description="Only rooms whose name or email contains this."),
    ] = None,
    limit: LimitQuery = DEFAULT_LIMIT,
    cursor: CursorQuery = None,
) -> PageOut[ResourceOut]:
    scope = principal.list_scope(organization_id)
    if building_id is not None:
        principal.check_access(get_building(session, building_id=building_id).organization_id)
    page = service.list_resources(
        session,
        organization_id=scope,
        building_id=building_id,
        active=active,
        search=search,
        limit=limit,
        cursor=cursor,
    )
    return page_out(page, lambda row: resource_out(row, principal))


@router.get("/{resource_id}", summary="Get a resource", response_model_exclude_unset=True)
def get_resource(
    resource_id: uuid.UUID, session: SessionDep, principal: PrincipalDep
) -> ResourceOut:
    resource = service.get_resource(session, resource_id=resource_id)
    principal.check_access(resource.organization_id)
    return resource_out(resource, principal)


@router.patch(
    "/{resource_id}", summary="Change a resource (admin)", response_model_exclude_unset=True
)
def update_resource(
    resource_id: uuid.UUID, body: ResourcePatch, session: SessionDep, principal: PrincipalDep
) -> ResourceOut:
    principal.check_admin(service.get_resource(session, resource_id=resource_id).organization_id)
    if body.building_id is not None:
        principal.check_access(get_building(session, building_id=body.building_id).organization_id)
    resource = service.update_resource(session, resource_id=resource_id, **body.changes())
    return resource_out(resource, principal)
