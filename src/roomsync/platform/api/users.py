"""``/users``: the people who book; admin tokens only (addresses are personal data)."""

from __future__ import annotations

import uuid
from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from roomsync.platform.api.deps import (
    DEFAULT_LIMIT,
    CursorQuery,
    LimitQuery,
    OrganizationQuery,
    PrincipalDep,
    SessionDep,
)
from roomsync.platform.api.fields import EmailText, Name
from roomsync.platform.api.schemas import (
    InputModel,
    PageOut,
    PatchModel,
    error_responses,
    page_out,
)
from roomsync.platform.models import User
from roomsync.platform.services import users as service

router = APIRouter(prefix="/users", tags=["users"], responses=error_responses(409))


class UserIn(InputModel):
    organization_id: uuid.UUID | None = Field(
        default=None, description="Defaults to the token's organization."
    )
    email: EmailText
    name: Name
    external: bool = False


class UserPatch(PatchModel):
    email: EmailText | None = None
    name: Name | None = None
    external: bool | None = None


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    organization_id: uuid.UUID
    email: str
    name: str
    external: bool
    created_at: datetime
    updated_at: datetime


def _out(user: User) -> UserOut:
    return UserOut.model_validate(user)


@router.post("", status_code=201, summary="Create a user (admin)")
def create_user(body: UserIn, session: SessionDep, principal: PrincipalDep) -> UserOut:
    organization_id = principal.target_organization(body.organization_id)
    principal.check_admin(organization_id)
    user = service.create_user(
        session,
        organization_id=organization_id,
        email=body.email,
        name=body.name,
        external=body.external,
    )
    return _out(user)


@router.get("", summary="List users (admin)")
def list_users(
    session: SessionDep,
    principal: PrincipalDep,
    organization_id: OrganizationQuery = None,
    limit: LimitQuery = DEFAULT_LIMIT,
    cursor: CursorQuery = None,
) -> PageOut[UserOut]:
    principal.check_admin()
    page = service.list_users(
        session, organization_id=principal.list_scope(organization_id), limit=limit, cursor=cursor
    )
    return page_out(page, _out)


@router.get("/{user_id}", summary="Get a user (admin)")
def get_user(user_id: uuid.UUID, session: SessionDep, principal: PrincipalDep) -> UserOut:
    user = service.get_user(session, user_id=user_id)
    principal.check_admin(user.organization_id)
    return _out(user)


@router.patch("/{user_id}", summary="Change a user (admin)")
def update_user(
    user_id: uuid.UUID, body: UserPatch, session: SessionDep, principal: PrincipalDep
) -> UserOut:
    principal.check_admin(service.get_user(session, user_id=user_id).organization_id)
    return _out(service.update_user(session, user_id=user_id, **body.changes()))
