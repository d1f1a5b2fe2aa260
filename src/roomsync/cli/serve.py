"""``roomsync run`` and ``roomsync api``: migrate, then serve the app with uvicorn.

Both refuse to start without ``ROOMSYNC_SECRET_KEY`` (it encrypts credentials at rest).
"""

from __future__ import annotations

from typing import Annotated

import typer

from roomsync.cli.environment import load_settings, migrated_database
from roomsync.web.app import create_app
from roomsync.web.server import serve

HostOption = Annotated[str, typer.Option(help="Address to listen on.")]
PortOption = Annotated[int, typer.Option(help="Port to listen on.", min=1, max=65535)]


def run(host: HostOption = "127.0.0.1", port: PortOption = 8000) -> None:
    """Run roomsync all in one process: apply migrations, then serve the API."""
    _migrate_and_serve(host, port)


def api(host: HostOption = "127.0.0.1", port: PortOption = 8000) -> None:
    """Run the API process of a distributed deployment: apply migrations, then serve."""
    _migrate_and_serve(host, port)


def _migrate_and_serve(host: str, port: int) -> None:
    settings = load_settings()
    settings.require_secret_key()
    database = migrated_database(settings.database_url)
    serve(create_app(settings, database), host=host, port=port, log_level=settings.log_level)
