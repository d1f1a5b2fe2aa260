"""The Huey instance, from ``ROOMSYNC_QUEUE_URL`` (README, "Configuration").

- ``sqlite:///path`` — SqliteHuey, the embedded default: one machine, no other service;
- ``redis://host:port/db`` — RedisHuey, for workers on many hosts;
- ``postgresql://…`` — PostgresHuey (psycopg 3), when PostgreSQL is already there.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Protocol, cast

import psycopg
from huey import Huey, PostgresHuey, RedisHuey, SqliteHuey, crontab
from huey.storage import SqliteStorage
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from roomsync.errors import ConfigurationError

QUEUE_NAME = "roomsync"


class QueueTask(Protocol):
    """A Huey task as roomsync uses it: called to enqueue, or scheduled for later."""

    def __call__(self, *args: str) -> object: ...

    def schedule(self, args: tuple[str, ...], *, delay: float) -> object: ...


def every_minute(huey: Huey, name: str) -> Callable[[Callable[[], None]], object]:
    """``huey.periodic_task`` run every minute by a process started with ``--scheduler``."""
    return cast(Callable[[Callable[[], None]], object], huey.periodic_task(crontab(), name=name))


def task(huey: Huey, name: str) -> Callable[[Callable[..., None]], QueueTask]:
    """``huey.task`` with a stable name (producers and workers must agree on it), typed."""
    return cast(Callable[[Callable[..., None]], QueueTask], huey.task(name=name))


_POSTGRES_SCHEMES = frozenset({"postgres", "postgresql", "postgresql+psycopg"})


def build_huey(queue_url: str, *, name: str = QUEUE_NAME) -> Huey:
    scheme = queue_url.split("://", 1)[0].lower() if "://" in queue_url else ""
    if scheme in {"redis", "rediss"}:
        return RedisHuey(name, url=queue_url, utc=True)
    if scheme in _POSTGRES_SCHEMES:
        return ClosablePostgresHuey(name, _libpq_dsn(queue_url))
    if scheme == "sqlite":
        path = _sqlite_path(queue_url)
        path.parent.mkdir(parents=True, exist_ok=True)
        return SqliteHuey(
            name, filename=str(path), utc=True, storage_class=DurableEnoughSqliteStorage
        )
    raise ConfigurationError(
        f"ROOMSYNC_QUEUE_URL {queue_url!r} is not a queue roomsync runs on: use "
        "sqlite:///path/to/roomsync-queue.db, redis://host:6379/0 or "
        "postgresql://user@host:5432/dbname."
    )


def queue_problem(huey: Huey) -> str | None:
    """Why the queue cannot take work now, or None when it answers."""
    try:
        huey.pending_count()
    except Exception as exc:  # any driver's error: Redis, psycopg, sqlite3
        return f"The queue at ROOMSYNC_QUEUE_URL does not answer: {type(exc).__name__}: {exc}"
    return None


def close_queue(huey: Huey) -> None:
    """Close the queue's connections (PostgresHuey's per-thread ones included)."""
    huey.storage.close()
    if isinstance(huey, ClosablePostgresHuey):
        huey.connections.close_all()


class _Connections:
    """psycopg connections for PostgresHuey, remembered so shutdown can close them
    (Huey leaves its per-thread LISTEN connections to the garbage collector)."""

    def __init__(self, dsn: str) -> None:
        self.dsn = dsn
        self.lock = threading.Lock()
        self.opened: list[psycopg.Connection[tuple[object, ...]]] = []

    def __call__(self) -> psycopg.Connection[tuple[object, ...]]:
        connection = psycopg.connect(self.dsn)
        with self.lock:
            self.opened.append(connection)
        return connection

    def close_all(self) -> None:
        with self.lock:
            opened, self.opened = self.opened, []
        for connection in opened:
            connection.close()


class ClosablePostgresHuey(PostgresHuey):  # type: ignore[misc]  # huey ships no type hints
    def __init__(self, name: str, dsn: str) -> None:
        self.connections = _Connections(dsn)
        super().__init__(name, connection=self.connections, utc=True)


class DurableEnoughSqliteStorage(SqliteStorage):  # type: ignore[misc]  # huey ships no hints
    """Huey's SQLite storage with ``synchronous=NORMAL``, as the platform database has it.

    Huey leaves SQLite's default (FULL): an fsync of the WAL on every queue operation,
    each made under the storage's one in-process lock, so a stream of notifications (flag,
    enqueue, dequeue, pop) queued up behind the disk. In WAL mode NORMAL survives any
    application crash; only a power cut can lose the last queue writes, which the
    polling safety net and the outbox sweep recover.
    """

    def _create_connection(self) -> sqlite3.Connection:
        connection: sqlite3.Connection = super()._create_connection()
        connection.execute("PRAGMA synchronous = NORMAL")
        return connection


def _sqlite_path(queue_url: str) -> Path:
    """``sqlite:///relative.db`` or ``sqlite:////absolute/path.db``, as SQLAlchemy reads them."""
    path = queue_url.split("://", 1)[1]
    if not path.startswith("/") or path == "/":
        raise ConfigurationError(
            f"ROOMSYNC_QUEUE_URL {queue_url!r} names no file: write sqlite:///relative.db "
            "or sqlite:////absolute/path.db."
        )
    return Path(path[1:])


def _libpq_dsn(queue_url: str) -> str:
    try:
        url = make_url(queue_url)
    except ArgumentError as exc:
        raise ConfigurationError(f"ROOMSYNC_QUEUE_URL {queue_url!r} cannot be parsed.") from exc
    return url.set(drivername="postgresql").render_as_string(hide_password=False)
