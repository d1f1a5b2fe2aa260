"""What every command starts from: the settings, and the database they point at."""

from __future__ import annotations

from pydantic import ValidationError

from roomsync.errors import ConfigurationError
from roomsync.platform.db import Database
from roomsync.platform.migrations import upgrade_database
from roomsync.settings import Settings


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


def migrated_database(database_url: str) -> Database:
    """The database at ``database_url`` with every migration applied."""
    database = Database(database_url)
    upgrade_database(database)
    return database
