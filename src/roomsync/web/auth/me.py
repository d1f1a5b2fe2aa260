"""``GET /api/v1/me``: who the caller is, from a session cookie or a bearer token.

A bearer token, when sent, decides; otherwise the ``roomsync_session`` cookie does. A
cookie that no longer opens a session (signed out, idle, too old) is a 401 that says to
sign in again.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Cookie, Depends
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel

from roomsync.platform.api.auth import authenticate
from roomsync.platform.api.deps import DatabaseDep, SettingsDep
from roomsync.platform.api.schemas import error_responses
from roomsync.platform.enums import Role
from roomsync.platform.exceptions import AuthenticationError
from roomsync.web.auth.sessions import COOKIE_NAME, find_session

router = APIRouter(prefix="/api/v1", tags=["me"], responses=error_responses(401))
_bearer = HTTPBearer(
    auto_error=False,
    description="An API token, or none when signed in with the roomsync_session cookie.",
)


class Me(BaseModel):
    email: str | None
    name: str | None
    organization_id: uuid.UUID | None
    role: Role
    via: Literal["session", "token"]


@router.get("/me", response_model=Me)
def me(
    database: DatabaseDep,
    settings: SettingsDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    session_cookie: Annotated[str | None, Cookie(alias=COOKIE_NAME)] = None,
) -> Me:
    """The signed-in person (``via`` session) or the token's principal (``via`` token)."""
    with database.session() as session:
        if credentials is None and session_cookie:
            found = find_session(session, session_cookie, settings=settings, now=database.clock())
            if found is None:
                raise AuthenticationError(
                    "The roomsync_session cookie opens no session (signed out, idle too long, "
                    "or expired): sign in again at /auth/login."
                )
            return Me(
                email=found.email,
                name=found.name,
                organization_id=found.organization_id,
                role=found.role,
                via="session",
            )
        secret = credentials.credentials if credentials else None
        principal = authenticate(session, secret=secret, admin_token=settings.admin_token)
    return Me(
        email=principal.email,
        name=None,
        organization_id=principal.organization_id,
        role=principal.role,
        via="token",
    )
