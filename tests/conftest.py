"""Fixtures shared by the whole suite: the real PostgreSQL and Redis services.

PostgreSQL and Redis tests run whenever a server answers; CI sets
``ROOMSYNC_TEST_POSTGRES_URL`` / ``ROOMSYNC_TEST_REDIS_URL``, and then an unreachable
server fails the run instead of skipping. Each test session works in a database of its
own (created here, dropped at the end), so concurrent runs never see each other's rows.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator

import psycopg
import pytest
import redis
from sqlalchemy.engine import make_url

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
