"""Alembic, configured in code: no alembic.ini, the scripts ship inside the package.

``upgrade(database_url)`` is what ``roomsync db upgrade`` and the start of ``run``/``api``
call; ``is_at_head`` is what ``/readyz`` asks.
"""

from __future__ import annotations

import functools
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from roomsync.platform.db import Database

MIGRATIONS_DIR = Path(__file__).parent


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def upgrade(database_url: str) -> None:
    """Apply every migration to the database at ``database_url``."""
    database = Database(database_url)
    try:
        upgrade_database(database)
    finally:
        database.dispose()


def upgrade_database(database: Database) -> None:
    """Apply every migration through ``database``'s engine (its SQLite pragmas included)."""
    config = alembic_config()
    with database.unavailable_as_error(), database.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


@functools.cache
def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(database: Database) -> str | None:
    with database.unavailable_as_error(), database.engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def is_at_head(database: Database) -> bool:
    """True when the database answers and carries the newest migration."""
    return current_revision(database) == head_revision()
