"""Alembic environment: runs on the connection ``platform.migrations`` hands over."""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from roomsync.platform.models import Base


def run_migrations(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        # SQLite alters tables by copying them; batch mode lets later migrations do so.
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("roomsync migrations run online only: use `roomsync db upgrade`.")
run_migrations(context.config.attributes["connection"])
