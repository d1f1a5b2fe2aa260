"""The ``roomsync`` command line (Typer). Errors print as one actionable line, never a traceback.

Each command or command group lives in its own module and is registered here, so later
groups (``integration``, ``worker``) are one import and one line each.
"""

from __future__ import annotations

import sys

import typer
from sqlalchemy.exc import SQLAlchemyError

from roomsync.cli import db, demo, integration, secrets, serve, tokens
from roomsync.errors import RoomsyncError

app = typer.Typer(
    help="roomsync: workspace bookings kept in sync with Microsoft 365.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.command()(serve.run)
app.command()(serve.api)
app.command()(serve.worker)
app.command()(demo.demo)
app.add_typer(db.app, name="db")
app.add_typer(tokens.app, name="token")
app.add_typer(integration.app, name="integration")
app.add_typer(secrets.app, name="secrets")


def main() -> None:
    try:
        app()
    except RoomsyncError as exc:
        _fail(exc.message)
    except SQLAlchemyError as exc:
        _fail(f"The database refused the operation: {str(exc).splitlines()[0]}")


def _fail(message: str) -> None:
    typer.echo(f"roomsync: {message}", err=True)
    sys.exit(1)
