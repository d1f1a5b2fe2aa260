"""The database: engine, sessions, the clock, the UTC column type and time-ordered ids.

The clock: a :class:`Database` keeps the one clock of its process (``clock``, the wall
clock unless a test or the sync context gives it another). Every timestamp a row gets
without being given one — ``created_at``, ``updated_at``, an outbox row's
``next_attempt_at`` — comes from it, through ORM flushes and Core ``insert``/``update``
statements alike (:func:`stamp`, the columns' default, reads the clock of the engine that
runs the statement); services read it with :func:`now` for the instants they set
themselves (``cancelled_at``, ``retired_at``, a token's ``last_used_at``). The sync context
is built on the same clock (``SyncContext.build``), so a test that moves it moves every
timestamp the platform writes and every decision the sync takes from them.

SQLite is the embedded default. It runs in WAL mode with foreign keys on and a busy
timeout, and every transaction starts with ``BEGIN IMMEDIATE`` (SQLAlchemy's pysqlite
recipe: the driver's own BEGIN is switched off on connect and ours is emitted in the
``begin`` event). A transaction that reads and then writes therefore already holds the
write lock, so it can never fail with SQLITE_BUSY_SNAPSHOT under concurrency; writers
queue on the busy timeout instead. Within one process they queue on a lock per database
file first (:class:`_WriterTurn`): SQLite's busy handler makes each waiter sleep and
retry (1, 2, 5, … 100 ms), leaving the write lock idle while they sleep, where a lock
hands the turn over at once. PostgreSQL runs through psycopg 3; booking writers
serialize on the resource row with ``SELECT ... FOR UPDATE`` (see ``services.bookings``).
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import DateTime, Engine, create_engine, event, text
from sqlalchemy.engine import URL, Dialect, ExecutionContext, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.types import TypeDecorator

from roomsync.platform.exceptions import DatabaseUnavailableError, DatabaseUrlError

SQLITE_BUSY_TIMEOUT_SECONDS = 30
_POSTGRES_CONNECT_TIMEOUT_SECONDS = 5
_POSTGRES_ALIASES = frozenset({"postgres", "postgresql", "postgresql+psycopg"})


class UTCDateTime(TypeDecorator[datetime]):
    """An instant: naive UTC on SQLite, ``timestamptz`` on PostgreSQL, aware UTC in Python.

    Naive datetimes are refused on the way in: an instant without an offset is a bug.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"refusing to store the naive datetime {value.isoformat()}")
        utc = value.astimezone(UTC)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class _UUIDv7Generator:
    """UUID version 7 (RFC 9562): 48-bit Unix milliseconds, then a 12-bit counter that keeps
    ids made in the same millisecond by this process in creation order, then 62 random bits.

    The random bits come from the operating system's CSPRNG, as the RFC recommends, read
    4 KiB at a time: one ``urandom`` call per id cost a first sync a system call per row. A
    forked child drops what its parent read, so the two never share random bits.
    """

    _RANDOM_BYTES = 4096

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last_ms = 0
        self._counter = 0
        self._random = b""
        self._offset = 0
        os.register_at_fork(after_in_child=self._forget_random)

    def __call__(self) -> uuid.UUID:
        with self._lock:
            ms = max(time.time_ns() // 1_000_000, self._last_ms)
            if ms == self._last_ms:
                self._counter += 1
                if self._counter > 0xFFF:
                    ms, self._counter = ms + 1, self._random_bits(11)
            else:
                self._counter = self._random_bits(11)
            self._last_ms = ms
            counter = self._counter
            random = self._random_bits(62)
        value = (ms << 80) | (0x7 << 76) | (counter << 64) | (0b10 << 62) | random
        return uuid.UUID(int=value)

    def _random_bits(self, bits: int) -> int:
        """``bits`` (at most 64) fresh random bits; the lock is held."""
        if self._offset + 8 > len(self._random):
            self._random, self._offset = os.urandom(self._RANDOM_BYTES), 0
        start, self._offset = self._offset, self._offset + 8
        return int.from_bytes(self._random[start : self._offset], "big") >> (64 - bits)

    def _forget_random(self) -> None:
        self._random, self._offset = b"", 0


new_id = _UUIDv7Generator()
"""A new time-ordered UUID: ``ORDER BY id`` is creation order (docs/decisions.md §2)."""


Clock = Callable[[], datetime]
"""A source of the current instant, timezone-aware UTC."""
_CLOCK_OPTION = "roomsync_clock"


def utcnow() -> datetime:
    """The wall clock: the default clock, and the fallback of a session not made here."""
    return datetime.now(UTC)


def now(session: Session) -> datetime:
    """The current instant on the clock of the database ``session`` belongs to."""
    clock: Clock = session.info.get(_CLOCK_OPTION, utcnow)
    return clock()


def stamp(context: ExecutionContext) -> datetime:
    """The default of a timestamp column: the clock of the engine running the statement."""
    clock: Clock = context.execution_options.get(_CLOCK_OPTION, utcnow)
    return clock()


def as_utc(value: datetime) -> datetime:
    """An instant from a SQL aggregate (``min``, ``max``), which bypasses the column type:
    SQLite hands those back naive, in UTC."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def isoformat_utc(value: datetime) -> str:
    """An instant as the API writes it: ISO 8601 in UTC with ``Z``."""
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def parse_database_url(raw: str) -> URL:
    """The SQLAlchemy URL for ``raw``, refusing backends roomsync does not run on.

    ``postgres://`` and ``postgresql://`` mean psycopg 3, the only PostgreSQL driver we ship.
    """
    try:
        url = make_url(raw)
    except ArgumentError as exc:
        raise DatabaseUrlError(
            f"The database URL {raw!r} cannot be parsed: use sqlite:///path/to/roomsync.db "
            "or postgresql+psycopg://user:password@host:5432/dbname in ROOMSYNC_DATABASE_URL."
        ) from exc
    if url.drivername in _POSTGRES_ALIASES:
        return url.set(drivername="postgresql+psycopg")
    if url.drivername in {"sqlite", "sqlite+pysqlite"}:
        return url
    raise DatabaseUrlError(
        f"The database URL scheme {url.drivername!r} is not supported: roomsync runs on "
        "sqlite:///path/to/roomsync.db or postgresql+psycopg://user@host:5432/dbname."
    )


def describe_url(url: URL) -> str:
    """The URL as it may appear in messages and logs: never with its password."""
    return url.render_as_string(hide_password=True)


class Database:
    """One engine and its session factory, built from a database URL, and the clock that
    stamps its rows (``clock`` may be replaced later: what is stamped next follows it)."""

    def __init__(self, url: str, *, clock: Clock = utcnow) -> None:
        self.url = parse_database_url(url)
        self.clock = clock
        self.engine = _create_engine(self.url, clock=self.now)
        self._sessions = sessionmaker(
            self.engine, expire_on_commit=False, info={_CLOCK_OPTION: self.now}
        )

    def now(self) -> datetime:
        """The current instant on this database's clock."""
        return self.clock()

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @contextlib.contextmanager
    def session(self) -> Iterator[Session]:
        """A session in one transaction: committed when the block ends, rolled back on error."""
        with self._sessions() as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    def after_commit(self, listener: Callable[[Session], None]) -> None:
        """Call ``listener`` with the session after each commit of this database's sessions
        (how the runtime learns that outbox rows were written; see services.outbox)."""
        event.listen(self._sessions, "after_commit", listener)

    def after_rollback(self, listener: Callable[[Session], None]) -> None:
        event.listen(self._sessions, "after_rollback", listener)

    def check(self) -> None:
        """Raise :class:`DatabaseUnavailableError` unless the database answers a query."""
        with self.unavailable_as_error(), self.engine.connect() as connection:
            connection.execute(text("SELECT 1"))

    @contextlib.contextmanager
    def unavailable_as_error(self) -> Iterator[None]:
        """Translate a failure to reach the database into an actionable error."""
        try:
            yield
        except OperationalError as exc:
            reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
            remedy = (
                "that its directory exists and is writable"
                if self.is_sqlite
                else "that the server is running and accepts connections"
            )
            raise DatabaseUnavailableError(
                f"Cannot reach the database {describe_url(self.url)}: {reason}. "
                f"Check ROOMSYNC_DATABASE_URL and {remedy}."
            ) from exc

    def dispose(self) -> None:
        self.engine.dispose()


def _create_engine(url: URL, *, clock: Clock) -> Engine:
    options = {_CLOCK_OPTION: clock}  # read by stamp(), the timestamp columns' default
    if url.get_backend_name() == "sqlite":
        engine = create_engine(
            url,
            connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS, "check_same_thread": False},
            execution_options=options,
        )
        event.listen(engine, "connect", _configure_sqlite_connection)
        _WriterTurn.of(url).follow(engine)
        return engine
    try:
        return create_engine(
            url,
            pool_pre_ping=True,
            connect_args={"connect_timeout": _POSTGRES_CONNECT_TIMEOUT_SECONDS},
            execution_options=options,
        )
    except NoSuchModuleError as exc:
        raise DatabaseUrlError(f"No driver for {describe_url(url)}: {exc}.") from exc


def _configure_sqlite_connection(dbapi_connection: Any, _record: Any) -> None:
    # Hand transaction control to SQLAlchemy so that _WriterTurn decides how BEGIN reads.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_SECONDS * 1000}")
    cursor.execute("PRAGMA journal_mode = WAL")
    # In WAL mode NORMAL survives any application crash; only a power cut can lose the
    # last commits, and it spares an fsync per commit (SQLite's own recommendation).
    cursor.execute("PRAGMA synchronous = NORMAL")
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.close()


class _WriterTurn:
    """This process's turn at one SQLite file's write lock: taken before ``BEGIN
    IMMEDIATE``, given back when its connection returns to the pool, just after the
    commit or rollback (given back at the commit event, the next waiter met the lock
    still held and slept in SQLite's busy handler). Past the busy timeout, SQLite's own
    waiting decides.
    Not owned by a thread: a transaction may end on another thread than it began (FastAPI
    closes a request's session on a thread of its pool)."""

    _by_file: ClassVar[dict[str, _WriterTurn]] = {}
    _by_file_guard: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._state = threading.Lock()
        self._holder: int | None = None  # id() of the DBAPI connection holding the turn

    @classmethod
    def of(cls, url: URL) -> _WriterTurn:
        key = os.path.abspath(url.database) if url.database else ":memory:"
        with cls._by_file_guard:
            return cls._by_file.setdefault(key, cls())

    def follow(self, engine: Engine) -> None:
        event.listen(engine, "begin", self.begin)
        for pool_event in ("checkin", "invalidate", "close"):
            event.listen(engine, pool_event, self.returned)

    def begin(self, connection: Any) -> None:
        dbapi_connection = connection.connection.dbapi_connection
        with self._state:
            holds = self._holder == id(dbapi_connection)
        if not holds and self._lock.acquire(timeout=SQLITE_BUSY_TIMEOUT_SECONDS):
            with self._state:
                self._holder = id(dbapi_connection)
        try:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            self.returned(dbapi_connection)
            raise

    def returned(self, dbapi_connection: Any, *_: Any) -> None:
        with self._state:
            if self._holder is None or self._holder != id(dbapi_connection):
                return
            self._holder = None
            self._lock.release()
