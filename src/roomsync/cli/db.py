"""``roomsync db ...``: the database schema."""

from __future__ import annotations

import typer

from roomsync.cli.environment import DatabaseUrlOption, load_settings, migrated_database
from roomsync.platform.db import describe_url
from roomsync.platform.migrations import current_revision

app = typer.Typer(help="Manage the database schema.", no_args_is_help=True)


@app.command()
def upgrade(database_url: DatabaseUrlOption = None) -> None:
    """Apply every migration (safe to repeat)."""
    url = database_url or load_settings().database_url
    database = migrated_database(url)
    try:
        revision = current_revision(database)
    finally:
        database.dispose()
    typer.echo(f"The database {describe_url(database.url)} is at migration {revision}.")
