"""Dependencies of the REST routers, as ``Annotated`` aliases (``SessionDep``, ...).

The session is function-scoped: it commits when the route function returns, before the
response is sent, so a 2xx always means the change is stored.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Annotated

from fastapi import Cookie, Depends, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from roomsync.platform.api.auth import Principal, authenticate, signed_in_principal
from roomsync.platform.api.fields import CursorText
from roomsync.platform.db import Database
from roomsync.platform.services.lookup import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
from roomsync.platform.services.sessions import COOKIE_NAME, find_session
from roomsync.settings import Settings


def get_database(request: Request) -> Database:
    database: Database = request.app.state.database
    return database


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


DatabaseDep = Annotated[Database, Depends(get_database)]
SettingsDep = Annotated[Settings, Depends(get_settings)]


def get_session(database: DatabaseDep) -> Iterator[Session]:
    with database.session() as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session, scope="function")]

_bearer = HTTPBearer(
    auto_error=False,
    description="ROOMSYNC_ADMIN_TOKEN or an organization's token from `roomsync token create`; "
    "none when signed in with the roomsync_session cookie.",
)


def get_principal(
    request: Request,
    session: SessionDep,
    *,
    database: DatabaseDep,
    settings: SettingsDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    # Not in the OpenAPI description: the cookie is the browser's, set by /auth/callback.
    session_cookie: Annotated[
        str | None, Cookie(alias=COOKIE_NAME, include_in_schema=False)
    ] = None,
) -> Principal:
    """A bearer token, when sent, decides; otherwise the session cookie does (writes made
    with it have passed the cross-site check of ``web.auth.cross_site`` already)."""
    if credentials is None and session_cookie:
        found = find_session(session, session_cookie, settings=settings, now=database.clock())
        return signed_in_principal(found)
    secret = credentials.credentials if credentials else None
    principal = authenticate(session, secret=secret, admin_token=settings.admin_token)
    principal.check_display_request(
        request.method, request.url.path, dict(request.query_params.items())
    )
    return principal


PrincipalDep = Annotated[Principal, Depends(get_principal)]

LimitQuery = Annotated[
    int, Query(ge=1, le=MAX_PAGE_SIZE, description="Items per page (at most 200).")
]
CursorQuery = Annotated[
    CursorText | None, Query(description="`next_cursor` of the previous page; omit for the first.")
]
OrganizationQuery = Annotated[
    uuid.UUID | None,
    Query(description="Only this organization's objects (tokens see only their own anyway)."),
]
DEFAULT_LIMIT = DEFAULT_PAGE_SIZE
