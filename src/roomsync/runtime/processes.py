"""The processes (docs/architecture.md#processes), configured only by ``ROOMSYNC_DATABASE_URL`` and
``ROOMSYNC_QUEUE_URL``:

- ``roomsync run``: API, webhooks, a Huey consumer on threads and the scheduler in one
  process — the embedded default (SQLite for data and queue, nothing else to run);
- ``roomsync api``: the API and webhooks only; it queues work for the workers;
- ``roomsync worker [--scheduler] [--workers N]``: runs queued work; exactly the worker
  given ``--scheduler`` also queues the periodic work.

Shutdown is graceful: SIGTERM (or Ctrl-C) sets the sync context's ``stopping`` event, so a
pull round finishes the page in hand, commits it with its link and returns; workers finish
their task and exit. A restart resumes from the saved delta links and outbox rows.
"""

from __future__ import annotations

import logging

from huey.consumer import Consumer
from prometheus_client import start_http_server

from roomsync.errors import ConfigurationError
from roomsync.logs import configure_logging
from roomsync.platform.db import Database
from roomsync.platform.migrations import is_at_head, upgrade_database
from roomsync.runtime.heap import settle_heap
from roomsync.runtime.runtime import QUEUE_POLL_SECONDS, EmbeddedConsumer, Runtime
from roomsync.settings import Settings
from roomsync.web.app import create_app
from roomsync.web.server import serve

logger = logging.getLogger(__name__)


def run_all_in_one(settings: Settings, *, host: str, port: int, workers: int) -> None:
    runtime = _runtime(settings, migrate=True)
    consumer = runtime.start_workers(workers=workers, periodic=True)
    try:
        _serve(runtime, host=host, port=port)
    finally:
        _stop(runtime, consumer)


def run_api(settings: Settings, *, host: str, port: int) -> None:
    runtime = _runtime(settings, migrate=True)
    try:
        _serve(runtime, host=host, port=port)
    finally:
        runtime.close()


def run_worker(
    settings: Settings, *, workers: int, scheduler: bool, metrics_port: int | None = None
) -> None:
    runtime = _runtime(settings, migrate=False)
    if metrics_port is not None:  # this process's own counters (telemetry's docstring)
        start_http_server(metrics_port, addr="127.0.0.1")
    consumer = WorkerConsumer(runtime, workers=workers, periodic=scheduler)
    logger.info("Worker started: %d threads, scheduler %s", workers, "on" if scheduler else "off")
    try:
        consumer.run()  # until SIGTERM (graceful) or SIGINT
    finally:
        runtime.close()


class WorkerConsumer(Consumer):  # type: ignore[misc]  # huey ships no type hints
    """Huey's consumer for ``roomsync worker``: SIGTERM is the graceful signal, and stopping
    also tells long workflows to finish the page in hand."""

    def __init__(self, runtime: Runtime, *, workers: int, periodic: bool) -> None:
        super().__init__(
            runtime.huey, workers=workers, worker_type="thread", periodic=periodic,
            initial_delay=QUEUE_POLL_SECONDS[0], max_delay=QUEUE_POLL_SECONDS[1],
            check_worker_health=True,
            graceful_signal="TERM",
        )  # fmt: skip
        self.runtime = runtime

    def stop(self, graceful: bool = False) -> None:
        self.runtime.ctx.stopping.set()
        super().stop(graceful=graceful)


def _runtime(settings: Settings, *, migrate: bool) -> Runtime:
    settings.require_secret_key()
    configure_logging(settings)
    database = Database(settings.database_url)
    if migrate:
        upgrade_database(database)
    elif not is_at_head(database):
        raise ConfigurationError(
            "The database schema is not at the version this worker expects: run "
            "`roomsync db upgrade` (or start `roomsync api`, which applies migrations) first."
        )
    runtime = Runtime(settings, database)
    settle_heap()
    return runtime


def _serve(runtime: Runtime, *, host: str, port: int) -> None:
    app = create_app(runtime.settings, runtime.database, runtime=runtime)
    serve(app, host=host, port=port, log_level=runtime.settings.log_level)


def _stop(runtime: Runtime, consumer: EmbeddedConsumer) -> None:
    runtime.ctx.stopping.set()
    consumer.stop(graceful=True)
    runtime.close()
