"""``/tokens``: an organization's admins (and the super-admin, for every organization)
create, list and revoke API tokens. A new token's secret is in the creation answer only;
lists never carry it. A revoked token is refused from the next request on."""

from __future__ import annotations

import uuid
from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel, Field

from roomsync.platform.api.deps import (
    DEFAULT_LIMIT,
    CursorQuery,
    LimitQuery,
    OrganizationQuery,
    PrincipalDep,
    SessionDep,
)
from roomsync.platform.api.fields import EmailText, Name
from roomsync.platform.api.schemas import InputModel, PageOut, page_out
from roomsync.platform.enums import Role
from roomsync.platform.models import ApiToken
from roomsync.platform.services import tokens as service

router = APIRouter(prefix="/tokens", tags=["tokens"])


class TokenIn(InputModel):
    organization_id: uuid.UUID | None = Field(
        default=None, description="Required with ROOMSYNC_ADMIN_TOKEN; else your own."
    )
    role: Role
    name: Name
    user: EmailText | None = Field(default=None, description="occupant: whom it acts for.")
    resource_id: uuid.UUID | None = Field(default=None, description="display: what it shows.")


class TokenOut(BaseModel):
    id: uuid.UUID
    organization_id: uuid.UUID
    role: Role
    name: str
    prefix: str = Field(description="The secret's first characters, to recognise it.")
    user: str | None
    resource_id: uuid.UUID | None
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class IssuedTokenOut(TokenOut):
    token: str = Field(description="The secret: shown only in this answer.")


@router.post("", status_code=201, summary="Create a token (admin); its secret is shown once")
def create_token(body: TokenIn, session: SessionDep, principal: PrincipalDep) -> IssuedTokenOut:
    organization_id = principal.target_organization(body.organization_id)
    principal.check_admin(organization_id)
    issued = service.create_api_token(
        session,
        organization_id=organization_id,
        role=body.role,
        name=body.name,
        user=body.user,
        resource_id=body.resource_id,
    )
    shown = _out(issued.token, service.token_user_emails(session, [issued.token])).model_dump()
    return IssuedTokenOut(**shown, token=issued.secret)


@router.get("", summary="List tokens (admin), revoked ones too, never their secrets")
def list_tokens(
    session: SessionDep,
    principal: PrincipalDep,
    organization_id: OrganizationQuery = None,
    limit: LimitQuery = DEFAULT_LIMIT,
    cursor: CursorQuery = None,
) -> PageOut[TokenOut]:
    principal.check_admin()
    page = service.list_api_tokens(
        session, organization_id=principal.list_scope(organization_id), limit=limit, cursor=cursor
    )
    emails = service.token_user_emails(session, page.items)
    return page_out(page, lambda token: _out(token, emails))


@router.delete("/{token_id}", summary="Revoke a token (admin); it stops working at once")
def revoke_token(token_id: uuid.UUID, session: SessionDep, principal: PrincipalDep) -> TokenOut:
    principal.check_admin(service.get_api_token(session, token_id=token_id).organization_id)
    token = service.revoke_api_token(session, token_id=token_id)
    return _out(token, service.token_user_emails(session, [token]))


def _out(token: ApiToken, user_emails: dict[uuid.UUID, str]) -> TokenOut:
    """The token as the API shows it; ``user_emails`` from ``token_user_emails``."""
    return TokenOut(
        id=token.id,
        organization_id=token.organization_id,
        role=token.role,
        name=token.name,
        prefix=token.token_prefix,
        user=user_emails.get(token.user_id) if token.user_id else None,
        resource_id=token.resource_id,
        created_at=token.created_at,
        last_used_at=token.last_used_at,
        revoked_at=token.revoked_at,
    )
