"""The Database class: SQLite pragmas and locking, instants in UTC, ids, URL errors."""

from __future__ import annotations

import os
import sqlite3
import uuid
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import StatementError

from roomsync.platform.db import Database, new_id
from roomsync.platform.exceptions import DatabaseUnavailableError, DatabaseUrlError
from roomsync.platform.models import Lease


def test_sqlite_runs_in_wal_mode_with_foreign_keys_on(tmp_path: Path) -> None:
    database = Database(f"sqlite:///{tmp_path / 'x.db'}")
    try:
        with database.engine.connect() as connection:
            assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
            assert connection.execute(text("PRAGMA busy_timeout")).scalar() > 0
    finally:
        database.dispose()


def test_sqlite_transactions_take_the_write_lock_when_they_begin(tmp_path: Path) -> None:
    """BEGIN IMMEDIATE: a second writer cannot even start while the first is open."""
    first = Database(f"sqlite:///{tmp_path / 'x.db'}")
    second_raw = sqlite3.connect(tmp_path / "x.db", timeout=0, isolation_level=None)
    try:
        with first.session() as session:
            session.execute(text("SELECT 1"))
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                second_raw.execute("BEGIN IMMEDIATE")
        second_raw.execute("BEGIN IMMEDIATE")
        second_raw.execute("ROLLBACK")
    finally:
        second_raw.close()
        first.dispose()


def test_instants_come_back_as_aware_utc(database: Database) -> None:
    amsterdam_winter = timezone(timedelta(hours=1))
    with database.session() as session:
        session.add(
            Lease(
                name="room:1",
                owner="w1",
                expires_at=datetime(2030, 1, 7, 9, tzinfo=amsterdam_winter),
            )
        )
    with database.session() as session:
        lease = session.get(Lease, "room:1")
        assert lease is not None
        assert lease.expires_at == datetime(2030, 1, 7, 8, tzinfo=UTC)
        assert lease.expires_at.utcoffset() == timedelta(0)


def test_naive_instants_are_refused_before_reaching_the_database(database: Database) -> None:
    with database.session() as session:
        session.add(Lease(name="room:2", owner="w1", expires_at=datetime(2030, 1, 7, 9)))
        with pytest.raises(StatementError, match="naive datetime"):
            session.flush()
        session.rollback()


def test_new_ids_are_uuid7_in_creation_order() -> None:
    ids = [new_id() for _ in range(5000)]
    assert all(value.version == 7 for value in ids)
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)
    assert str(ids[0]) == str(uuid.UUID(str(ids[0])))


def test_a_forked_child_does_not_reuse_the_random_bits_its_parent_read() -> None:
    new_id()  # the parent holds unread random bytes now
    reading, writing = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - runs in the child
        os.write(writing, new_id().bytes)
        os._exit(0)
    os.close(writing)
    os.waitpid(child, 0)
    childs = uuid.UUID(bytes=os.read(reading, 16))
    os.close(reading)
    random_bits = (1 << 62) - 1
    assert childs.int & random_bits != new_id().int & random_bits


@pytest.mark.parametrize(
    "url", ["mysql://user@host/db", "not a url at all", "oracle://scott@host/db"]
)
def test_unsupported_database_urls_are_refused_with_the_supported_forms(url: str) -> None:
    with pytest.raises(DatabaseUrlError, match=r"sqlite:///.*postgresql\+psycopg://"):
        Database(url)


def test_plain_postgresql_urls_mean_psycopg_3() -> None:
    database = Database("postgresql://user@127.0.0.1:5432/db")
    assert database.url.drivername == "postgresql+psycopg"
    database.dispose()


def test_an_unreachable_database_is_reported_without_its_password() -> None:
    database = Database("postgresql://user:hunter2@127.0.0.1:1/db")
    try:
        with pytest.raises(DatabaseUnavailableError) as caught:
            database.check()
    finally:
        database.dispose()
    assert "hunter2" not in caught.value.message
    assert "ROOMSYNC_DATABASE_URL" in caught.value.message
