"""Dependencies of the routes that run Microsoft 365 workflows.

``SyncContextDep`` is the process's :class:`SyncContext` (built by ``create_app`` when the
settings carry ``ROOMSYNC_SECRET_KEY``). ``PrincipalNowDep`` authenticates in a
transaction of its own that is committed before the route runs: a workflow opens its own
transactions, and on SQLite a request transaction left open would hold the write lock
they wait for.
"""

from __future__ import annotations

import threading
from typing import Annotated

from fastapi import Depends, FastAPI, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from roomsync.platform.api.auth import Principal, authenticate
from roomsync.platform.api.deps import DatabaseDep, SettingsDep
from roomsync.platform.db import Database
from roomsync.runtime.runtime import Runtime
from roomsync.settings import Settings
from roomsync.sync.context import SyncContext

_bearer = HTTPBearer(
    auto_error=False,
    description="ROOMSYNC_ADMIN_TOKEN or an organization's token from `roomsync token create`.",
)


def install_state(
    app: FastAPI,
    settings: Settings,
    *,
    database: Database | None,
    runtime: Runtime | None,
    sync_context: SyncContext | None,
) -> None:
    """What the app's routes depend on. A runtime, when given, supplies the database and
    the sync context, so one process has one HTTP client and one token cache; without one,
    it is built on first use (:func:`runtime_of`)."""
    app.state.settings = settings
    app.state.runtime = runtime
    app.state.database = database or (
        runtime.database if runtime else Database(settings.database_url)
    )
    app.state.sync_context = (
        sync_context
        or (runtime.ctx if runtime else None)
        or default_sync_context(settings, app.state.database)
    )


def default_sync_context(settings: Settings, database: Database) -> SyncContext | None:
    """The app's sync context, or None until ``ROOMSYNC_SECRET_KEY`` is set."""
    if settings.secret_key is None:
        return None
    return SyncContext.build(settings, database)


def get_sync_context(request: Request, settings: SettingsDep) -> SyncContext:
    ctx: SyncContext | None = request.app.state.sync_context
    if ctx is None:
        settings.require_secret_key()  # raises, saying how to set it
        raise RuntimeError("create_app built no sync context although a secret key is set")
    return ctx


SyncContextDep = Annotated[SyncContext, Depends(get_sync_context)]


def get_principal_now(
    database: DatabaseDep,
    settings: SettingsDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    with database.session() as session:
        secret = credentials.credentials if credentials else None
        return authenticate(session, secret=secret, admin_token=settings.admin_token)


PrincipalNowDep = Annotated[Principal, Depends(get_principal_now)]


_RUNTIME_LOCK = threading.RLock()


def runtime_of(app: FastAPI) -> Runtime:
    """The runtime given to ``create_app``, else one built from the app's settings (once):
    webhooks and queued runs need it, the rest of the API does not."""
    with _RUNTIME_LOCK:
        if app.state.runtime is None:
            app.state.runtime = Runtime(app.state.settings, app.state.database)
        runtime: Runtime = app.state.runtime
        return runtime


def get_runtime(request: Request) -> Runtime:
    return runtime_of(request.app)


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
