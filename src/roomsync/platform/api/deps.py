"""Dependencies of the REST routers, as ``Annotated`` aliases (``SessionDep``, ...).

The session is function-scoped: it commits when the route function returns, before the
response is sent, so a 2xx always means the change is stored.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from roomsync.platform.api.auth import Principal, authenticate
from roomsync.platform.api.fields import CursorText
from roomsync.platform.db import Database
from roomsync.platform.services.lookup import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
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
    description="ROOMSYNC_ADMIN_TOKEN or an organization's token from `roomsync token create`.",
)


def get_principal(
    session: SessionDep,
    settings: SettingsDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    secret = credentials.credentials if credentials else None
    return authenticate(session, secret=secret, admin_token=settings.admin_token)


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
