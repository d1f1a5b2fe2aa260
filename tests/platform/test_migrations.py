"""Migrations build the whole schema from nothing, on SQLite and PostgreSQL alike."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from roomsync.platform.db import Database
from roomsync.platform.migrations import is_at_head, upgrade
from roomsync.platform.models import Base

DATA_MODEL_TABLES = {
    "organizations",
    "buildings",
    "resources",
    "users",
    "api_tokens",
    "bookings",
    "booking_history",
    "integrations",
    "outbox",
    "event_links",
    "room_sync_state",
    "sync_runs",
    "directory_sync_state",
    "leases",
}


def test_migrations_run_up_from_an_empty_database_and_match_the_models(
    empty_database_url: str,
) -> None:
    database = Database(empty_database_url)
    try:
        assert not is_at_head(database)
        upgrade(empty_database_url)
        upgrade(empty_database_url)  # a second run has nothing left to do
        assert is_at_head(database)
        with database.engine.connect() as connection:
            tables = set(inspect(connection).get_table_names())
            differences = compare_metadata(
                MigrationContext.configure(connection, opts={"compare_type": True}),
                Base.metadata,
            )
    finally:
        database.dispose()
    assert tables >= DATA_MODEL_TABLES
    assert differences == []
