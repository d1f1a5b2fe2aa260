"""``GET /api/v1/me``: who the caller is, from a session cookie or a bearer token
(``platform.api.deps.get_principal``: a bearer token, when sent, decides; otherwise the
``roomsync_session`` cookie does, and one that opens no session is a 401)."""

from __future__ import annotations

import uuid
from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel

from roomsync.platform.api.deps import PrincipalDep
from roomsync.platform.api.schemas import error_responses
from roomsync.platform.enums import Role

router = APIRouter(prefix="/api/v1", tags=["me"], responses=error_responses(401))


class Me(BaseModel):
    email: str | None
    name: str | None
    organization_id: uuid.UUID | None
    role: Role
    via: Literal["session", "token"]


@router.get("/me", response_model=Me)
def me(principal: PrincipalDep) -> Me:
    """The signed-in person (``via`` session) or the token's principal (``via`` token)."""
    return Me(
        email=principal.email,
        name=principal.name,
        organization_id=principal.organization_id,
        role=principal.role,
        via=principal.via,
    )
