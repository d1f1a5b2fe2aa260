"""The queue: every ROOMSYNC_QUEUE_URL kind runs tasks, and bad URLs say what to write."""

from __future__ import annotations

import secrets
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from huey import Huey, PostgresHuey, RedisHuey, SqliteHuey
from pydantic import SecretStr

from roomsync.errors import ConfigurationError
from roomsync.platform.db import Database
from roomsync.runtime.queue import build_huey, close_queue, task
from roomsync.runtime.runtime import EmbeddedConsumer, Runtime
from roomsync.settings import Settings
from roomsync.web.app import create_app
from roomsync.web.server import serving_in_background


@pytest.fixture(params=["sqlite", "redis", "postgres"])
def queue_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/queue.db"
    if request.param == "redis":
        return str(request.getfixturevalue("redis_url"))
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture
def huey(queue_url: str) -> Iterator[Huey]:
    queue = build_huey(queue_url, name=f"test-{secrets.token_hex(4)}")
    yield queue
    queue.flush()
    close_queue(queue)


def test_each_queue_url_gives_its_huey_kind(
    tmp_path: Path, redis_url: str, postgres_url: str
) -> None:
    queues = [build_huey(f"sqlite:///{tmp_path}/q.db"), build_huey(redis_url)]
    queues.append(build_huey(postgres_url))
    kinds = [SqliteHuey, RedisHuey, PostgresHuey]
    assert all(isinstance(q, kind) for q, kind in zip(queues, kinds, strict=True))
    for queue in queues:
        close_queue(queue)


@pytest.mark.parametrize("bad", ["amqp://localhost", "sqlite://", "queue.db"])
def test_an_unusable_queue_url_says_what_to_write(bad: str) -> None:
    with pytest.raises(ConfigurationError, match="ROOMSYNC_QUEUE_URL"):
        build_huey(bad)


def test_a_task_enqueued_is_run_by_a_worker_thread(huey: Huey) -> None:
    ran = threading.Event()
    seen: list[str] = []

    @task(huey, "test.remember")
    def remember(value: str) -> None:
        seen.append(value)
        ran.set()

    remember("hello")
    consumer = EmbeddedConsumer(huey, workers=1, worker_type="thread", initial_delay=0.05)
    consumer.start()
    try:
        assert ran.wait(timeout=20)
    finally:
        consumer.stop(graceful=True)
    assert seen == ["hello"]


def test_readiness_fails_while_the_queue_does_not_answer(database: Database) -> None:
    settings = Settings(
        _env_file=None,
        secret_key=SecretStr("k" * 40),
        database_url="sqlite://",
        queue_url="redis://127.0.0.1:9/0",  # the discard port: nothing answers
    )
    runtime = Runtime(settings, database)
    try:
        with serving_in_background(create_app(settings, database, runtime=runtime)) as url:
            answer = httpx.get(f"{url}/readyz", timeout=30)
    finally:
        runtime.close()
    assert answer.status_code == 503
    assert "ROOMSYNC_QUEUE_URL" in answer.json()["reason"]
