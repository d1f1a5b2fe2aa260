"""What every command starts from: the settings, and the database they point at.

Commands that read or change data (``integration``, ``token``, ``secrets``) open only a
database that exists and holds roomsync's tables: run in the wrong folder, the default
``sqlite:///./roomsync.db`` would otherwise create an empty database and report nothing
found. Only ``db upgrade``, ``run``, ``api`` and ``demo`` create one.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError
from sqlalchemy.engine import URL

from roomsync.cli.exceptions import CommandError, DatabaseMissingError
from roomsync.errors import ConfigurationError
from roomsync.platform.db import Database, describe_url, parse_database_url
from roomsync.platform.migrations import current_revision, upgrade_database
from roomsync.settings import DEMO_KEY_FILE, Settings

DatabaseUrlOption = Annotated[
    str | None,
    typer.Option("--database-url", help="Overrides ROOMSYNC_DATABASE_URL.", show_default=False),
]
DataDirOption = Annotated[
    Path | None,
    typer.Option(
        "--data-dir",
        help="Use the database of `roomsync demo --data-dir DIR` (and the demo's key).",
        show_default=False,
    ),
]
_CREATE_ONE = "or create one with `roomsync db upgrade`"


def load_settings() -> Settings:
    """Settings from the environment and .env, or one line saying which value is wrong."""
    try:
        return Settings()
    except ValidationError as exc:
        problems = "; ".join(
            f"ROOMSYNC_{'_'.join(str(p) for p in error['loc']).upper()}: {error['msg']}"
            for error in exc.errors()
        )
        raise ConfigurationError(f"The settings are invalid: {problems}.") from exc


def command_settings(database_url: str | None, data_dir: Path | None) -> Settings:
    """The settings, pointed at ``--database-url`` or at the demo's ``--data-dir``."""
    settings = load_settings()
    if database_url is not None and data_dir is not None:
        raise CommandError("Give either --database-url or --data-dir, not both.")
    if data_dir is not None:
        folder = data_dir.resolve()
        url = f"sqlite:///{folder / 'roomsync.db'}"
        keyed = settings.with_demo_key(folder / DEMO_KEY_FILE)
        return keyed.model_copy(update={"database_url": url})
    if database_url is not None:
        return settings.model_copy(update={"database_url": database_url})
    return settings


def migrated_database(database_url: str) -> Database:
    """The database at ``database_url`` with every migration applied (created if need be)."""
    database = Database(database_url)
    upgrade_database(database)
    return database


def existing_database(database_url: str) -> Database:
    """The roomsync database at ``database_url``, migrated; refused when there is none."""
    _refuse_a_missing_file(parse_database_url(database_url))
    database = Database(database_url)
    try:
        if current_revision(database) is None:
            raise DatabaseMissingError(
                f"The database {describe_url(database.url)} holds no roomsync tables: check "
                f"ROOMSYNC_DATABASE_URL (or --database-url), {_CREATE_ONE}."
            )
        upgrade_database(database)
    except BaseException:
        database.dispose()
        raise
    return database


def _refuse_a_missing_file(url: URL) -> None:
    name = url.database or ""
    if url.get_backend_name() != "sqlite" or name in ("", ":memory:") or name.startswith("file:"):
        return
    path = Path(name).resolve()
    if not path.is_file():
        raise DatabaseMissingError(
            f"There is no roomsync database at {path}: the default ROOMSYNC_DATABASE_URL "
            "sqlite:///./roomsync.db is relative to the current folder. Run the command where "
            "roomsync runs, set ROOMSYNC_DATABASE_URL or --database-url, give --data-dir DIR "
            f"for the database of `roomsync demo --data-dir DIR`, {_CREATE_ONE}."
        )
