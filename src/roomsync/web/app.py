"""``create_app``: the FastAPI application, assembled from routers and the error handlers."""

from __future__ import annotations

from fastapi import FastAPI

from roomsync import __version__
from roomsync.platform.api import build_router
from roomsync.platform.db import Database
from roomsync.runtime.runtime import Runtime
from roomsync.settings import Settings
from roomsync.sync.context import SyncContext
from roomsync.web import booking_sync, health, integrations, metrics, webhooks
from roomsync.web.auth import me, routes
from roomsync.web.auth.cross_site import CrossSiteGuard
from roomsync.web.deps import install_state
from roomsync.web.errors import declare_body_errors, install_error_handlers
from roomsync.web.pages import install_pages

DESCRIPTION = (
    "Workspace bookings kept in sync with Microsoft 365 room mailboxes. Every `/api/v1` call "
    "carries `Authorization: Bearer <token>`; times are ISO 8601 with an offset, answered in "
    'UTC; errors are `{"error": {"code", "message", "details"}}`.'
)


def create_app(
    settings: Settings,
    database: Database | None = None,
    *,
    runtime: Runtime | None = None,
    sync_context: SyncContext | None = None,
) -> FastAPI:
    """The app serving ``database`` (by default built from ``settings.database_url``);
    ``runtime`` queues its work and lends the workflows its sync context."""
    app = FastAPI(title="roomsync", version=__version__, description=DESCRIPTION, docs_url=None)
    install_state(app, settings, database=database, runtime=runtime, sync_context=sync_context)
    install_error_handlers(app)
    for router in (health.router, metrics.router, build_router(), integrations.router):
        app.include_router(router)
    for router in (booking_sync.router, webhooks.router, me.router, routes.router):
        app.include_router(router)
    install_pages(app)
    app.add_middleware(CrossSiteGuard, public_url=settings.public_url)
    declare_body_errors(app)
    return app
