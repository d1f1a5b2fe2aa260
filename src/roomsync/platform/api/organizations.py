"""``/organizations``: only the super-admin creates them and sets ``admin_emails`` (people
who are admins whatever their app roles say); a token sees its own."""

from __future__ import annotations

import uuid
from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from roomsync.platform.api.deps import (
    DEFAULT_LIMIT,
    CursorQuery,
    LimitQuery,
    PrincipalDep,
    SessionDep,
)
from roomsync.platform.api.fields import EmailText, Name
from roomsync.platform.api.schemas import InputModel, PageOut, PatchModel, page_out
from roomsync.platform.exceptions import PermissionDeniedError
from roomsync.platform.models import Organization
from roomsync.platform.services import organizations as service

router = APIRouter(prefix="/organizations", tags=["organizations"])


class OrganizationIn(InputModel):
    name: Name


class OrganizationPatch(PatchModel):
    name: Name | None = None
    admin_emails: list[EmailText] | None = Field(
        default=None,
        description="People who are admins when they sign in (super-admin only).",
        max_length=200,
    )


class OrganizationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    admin_emails: list[str]
    created_at: datetime
    updated_at: datetime


def _out(organization: Organization) -> OrganizationOut:
    return OrganizationOut.model_validate(organization)


@router.post("", status_code=201, summary="Create an organization (super-admin only)")
def create_organization(
    body: OrganizationIn, session: SessionDep, principal: PrincipalDep
) -> OrganizationOut:
    principal.check_super_admin()
    return _out(service.create_organization(session, name=body.name))


@router.get("", summary="List organizations (a token sees only its own)")
def list_organizations(
    session: SessionDep,
    principal: PrincipalDep,
    limit: LimitQuery = DEFAULT_LIMIT,
    cursor: CursorQuery = None,
) -> PageOut[OrganizationOut]:
    page = service.list_organizations(
        session, only_id=principal.organization_id, limit=limit, cursor=cursor
    )
    return page_out(page, _out)


@router.get("/{organization_id}", summary="Get an organization")
def get_organization(
    organization_id: uuid.UUID, session: SessionDep, principal: PrincipalDep
) -> OrganizationOut:
    principal.check_access(organization_id)
    return _out(service.get_organization(session, organization_id=organization_id))


@router.patch(
    "/{organization_id}",
    summary="Rename an organization (admin), set its admin_emails (super-admin)",
)
def update_organization(
    organization_id: uuid.UUID,
    body: OrganizationPatch,
    session: SessionDep,
    principal: PrincipalDep,
) -> OrganizationOut:
    principal.check_admin(organization_id)
    changes = body.changes()
    if "admin_emails" in changes and not principal.is_super_admin:
        message = "Only ROOMSYNC_ADMIN_TOKEN may set admin_emails."
        raise PermissionDeniedError(
            message, details=[{"field": "admin_emails", "message": message}]
        )
    return _out(service.update_organization(session, organization_id=organization_id, **changes))
