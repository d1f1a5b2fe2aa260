"""Fixtures shared by the whole suite: the real PostgreSQL and Redis services.

PostgreSQL and Redis tests run whenever a server answers; CI sets
``ROOMSYNC_TEST_POSTGRES_URL`` / ``ROOMSYNC_TEST_REDIS_URL``, and then an unreachable
server fails the run instead of skipping. Each test session works in a database of its
own (created here, dropped at the end), so concurrent runs never see each other's rows.

Storage tests take ``database`` (a migrated :class:`Database`, parametrized over SQLite and
PostgreSQL, one schema per test module, emptied after each test) and ``factory`` (a
:class:`PlatformFactory` making organizations, rooms, tokens and integrations).
"""

from __future__ import annotations

import os
import secrets
import uuid
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
import redis
from sqlalchemy.engine import make_url

from roomsync.platform.db import Database
from roomsync.platform.enums import Role
from roomsync.platform.migrations import upgrade
from roomsync.platform.models import Base, Integration
from roomsync.platform.services.buildings import create_building
from roomsync.platform.services.organizations import create_organization
from roomsync.platform.services.resources import create_resource
from roomsync.platform.services.tokens import create_api_token

_DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
_DEFAULT_REDIS = "redis://127.0.0.1:6379/0"


def _service_unavailable(name: str, env_var: str, url: str, exc: Exception) -> None:
    if os.environ.get(env_var):
        pytest.fail(f"{name} at {url} (from {env_var}) is required but unreachable: {exc}")
    pytest.skip(f"{name} tests skipped: no server at {url} ({exc}); set {env_var} to require it")


@pytest.fixture(scope="session")
def postgres_server_url() -> str:
    """SQLAlchemy URL of the PostgreSQL server's maintenance database."""
    url = os.environ.get("ROOMSYNC_TEST_POSTGRES_URL", _DEFAULT_POSTGRES)
    try:
        with psycopg.connect(_libpq_dsn(url), connect_timeout=3):
            pass
    except psycopg.Error as exc:
        _service_unavailable("PostgreSQL", "ROOMSYNC_TEST_POSTGRES_URL", url, exc)
    return url


@pytest.fixture(scope="session")
def postgres_url(postgres_server_url: str) -> Iterator[str]:
    """A fresh, empty PostgreSQL database for this test session; dropped afterwards."""
    name = f"roomsync_test_{secrets.token_hex(6)}"
    admin_dsn = _libpq_dsn(postgres_server_url)
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(postgres_server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin_dsn, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def redis_url() -> str:
    """URL of a Redis server; tests namespace their keys and clean up after themselves."""
    url = os.environ.get("ROOMSYNC_TEST_REDIS_URL", _DEFAULT_REDIS)
    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=3)
        client.ping()
        client.close()
    except redis.RedisError as exc:
        _service_unavailable("Redis", "ROOMSYNC_TEST_REDIS_URL", url, exc)
    return url


def _libpq_dsn(sqlalchemy_url: str) -> str:
    """The libpq form of a ``postgresql+psycopg://`` SQLAlchemy URL."""
    return (
        make_url(sqlalchemy_url).set(drivername="postgresql").render_as_string(hide_password=False)
    )


# --- Databases: every storage test runs on SQLite and on PostgreSQL -----------------------

DATABASE_KINDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture(scope="module", params=DATABASE_KINDS)
def empty_database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """An empty database for this test module: a SQLite file, or a PostgreSQL schema of its
    own (selected through ``search_path``) inside the session's database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'roomsync.db'}"
        return
    server_url: str = request.getfixturevalue("postgres_url")
    schema = f"module_{secrets.token_hex(6)}"
    with psycopg.connect(_libpq_dsn(server_url), autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    url = make_url(server_url).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with psycopg.connect(_libpq_dsn(server_url), autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.fixture(scope="module")
def database_url(empty_database_url: str) -> str:
    """The module's database with every migration applied."""
    upgrade(empty_database_url)
    return empty_database_url


@pytest.fixture
def database(database_url: str) -> Iterator[Database]:
    """The migrated database; every row is deleted after the test."""
    db = Database(database_url)
    try:
        yield db
    finally:
        with db.session() as session:
            for table in reversed(Base.metadata.sorted_tables):
                session.execute(table.delete())
        db.dispose()


# --- Platform objects, made through the services ------------------------------------------


OCCUPANT_EMAIL = "occupant@example.com"


class PlatformFactory:
    """Makes organizations, buildings, rooms, tokens and integrations for a test, each in a
    committed transaction of its own, and returns their ids (or token secrets)."""

    def __init__(self, database: Database) -> None:
        self.database = database

    def organization(self, name: str = "Acme") -> uuid.UUID:
        with self.database.session() as session:
            return create_organization(session, name=name).id

    def building(
        self, organization_id: uuid.UUID, *, name: str = "HQ", time_zone: str = "Europe/Amsterdam"
    ) -> uuid.UUID:
        with self.database.session() as session:
            return create_building(
                session, organization_id=organization_id, name=name, time_zone=time_zone
            ).id

    def room(
        self,
        building_id: uuid.UUID,
        *,
        name: str = "Room",
        email: str | None = None,
        hidden_fields: tuple[str, ...] = (),
        attributes: dict[str, Any] | None = None,
    ) -> uuid.UUID:
        with self.database.session() as session:
            return create_resource(
                session,
                building_id=building_id,
                name=name,
                email=email,
                capacity=8,
                floor="2",
                attributes=attributes or {},
                hidden_fields=hidden_fields,
            ).id

    def token(
        self, organization_id: uuid.UUID, role: Role = Role.ADMIN, *, user: str | None = None
    ) -> str:
        """A token's secret; an occupant token acts for ``user`` (an occupant address by
        default)."""
        if role is Role.OCCUPANT and user is None:
            user = OCCUPANT_EMAIL
        with self.database.session() as session:
            return create_api_token(
                session, organization_id=organization_id, role=role, name=f"test {role}", user=user
            ).secret

    def integration(self, organization_id: uuid.UUID, *, enabled: bool = True) -> uuid.UUID:
        """A Microsoft 365 integration row (no credentials: behaviour comes from sync)."""
        with self.database.session() as session:
            integration = Integration(
                organization_id=organization_id,
                tenant_id="00000000-0000-0000-0000-000000000001",
                client_id="00000000-0000-0000-0000-000000000002",
                time_zone="Europe/Amsterdam",
                enabled=enabled,
            )
            session.add(integration)
            session.flush()
            return integration.id


@pytest.fixture
def factory(database: Database) -> PlatformFactory:
    return PlatformFactory(database)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """Captured output reaches the report as text UTF-8 can carry: tests that log a lone
    surrogate (a forged clientState, say) would otherwise break pytest-xdist, whose workers
    send reports to the controller as UTF-8."""
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    report.sections = [(name, _encodable(text)) for name, text in report.sections]


def _encodable(text: str) -> str:
    return text.encode("utf-8", "backslashreplace").decode("utf-8")
