"""``roomsync run``, ``roomsync api`` and ``roomsync worker`` (docs/architecture.md#processes).

``run`` and ``api`` apply migrations first; every process refuses to start without
``ROOMSYNC_SECRET_KEY`` (it encrypts credentials at rest).
"""

from __future__ import annotations

from typing import Annotated

import typer

from roomsync.cli.environment import load_settings
from roomsync.runtime.processes import run_all_in_one, run_api, run_worker

HostOption = Annotated[str, typer.Option(help="Address to listen on.")]
PortOption = Annotated[int, typer.Option(help="Port to listen on.", min=1, max=65535)]
WorkersOption = Annotated[int, typer.Option(help="Worker threads running queued work.", min=1)]


def run(
    host: HostOption = "127.0.0.1", port: PortOption = 8000, workers: WorkersOption = 4
) -> None:
    """Run everything in one process: API, webhooks, workers and the scheduler."""
    run_all_in_one(load_settings(), host=host, port=port, workers=workers)


def api(host: HostOption = "127.0.0.1", port: PortOption = 8000) -> None:
    """Run the API and webhooks of a distributed deployment (applies migrations first)."""
    run_api(load_settings(), host=host, port=port)


def worker(
    workers: WorkersOption = 4,
    scheduler: Annotated[
        bool, typer.Option("--scheduler", help="Also queue the periodic work (one worker only).")
    ] = False,
    metrics_port: Annotated[
        int | None,
        typer.Option(help="Serve this worker's own Prometheus counters on 127.0.0.1:PORT."),
    ] = None,
) -> None:
    """Run queued work (pulls, pushes, imports) until SIGTERM, which finishes the task in hand."""
    run_worker(load_settings(), workers=workers, scheduler=scheduler, metrics_port=metrics_port)
