"""``create_app``: the FastAPI application, assembled from routers and the error handlers."""

from __future__ import annotations

from fastapi import FastAPI

from roomsync import __version__
from roomsync.platform.api import build_router
from roomsync.platform.db import Database
from roomsync.settings import Settings
from roomsync.web import booking_sync, health
from roomsync.web.errors import install_error_handlers

DESCRIPTION = (
    "Workspace bookings kept in sync with Microsoft 365 room mailboxes. Every `/api/v1` call "
    "carries `Authorization: Bearer <token>`; times are ISO 8601 with an offset, answered in "
    'UTC; errors are `{"error": {"code", "message", "details"}}`.'
)


def create_app(settings: Settings, database: Database | None = None) -> FastAPI:
    """The app serving ``database`` (by default one built from ``settings.database_url``)."""
    app = FastAPI(title="roomsync", version=__version__, description=DESCRIPTION)
    app.state.settings = settings
    app.state.database = database or Database(settings.database_url)
    install_error_handlers(app)
    app.include_router(health.router)
    app.include_router(build_router())
    app.include_router(booking_sync.router)
    return app
