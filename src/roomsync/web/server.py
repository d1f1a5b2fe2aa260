"""Serving the app with uvicorn: in the foreground (``roomsync run``) or on a background
thread for as long as a ``with`` block lasts (``roomsync demo --once`` and the tests).

uvicorn is given no logging config of its own (``log_config=None``): its ``uvicorn.error``
and ``uvicorn.access`` lines propagate to the root handler that
:func:`roomsync.logs.configure_logging` installs, so they come out in the configured
format (one JSON object per line with ``ROOMSYNC_LOG_FORMAT=json``) and redacted."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator

import uvicorn
from fastapi import FastAPI

from roomsync.web.exceptions import ServerStartError

_START_TIMEOUT_SECONDS = 30


def serve(app: FastAPI, *, host: str, port: int, log_level: str = "info") -> None:
    """Serve until interrupted (Ctrl-C or SIGTERM)."""
    _check_free(host, port)
    uvicorn.run(app, host=host, port=port, log_level=log_level.lower(), log_config=None)


@contextlib.contextmanager
def serving_in_background(app: FastAPI, *, host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
    """Serve ``app`` on a thread and yield its base URL; ``port=0`` picks a free port."""
    _check_free(host, port)
    config = uvicorn.Config(
        app, host=host, port=port, log_level="warning", lifespan="off", log_config=None
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="roomsync-http", daemon=True)
    thread.start()
    try:
        _wait_started(server, thread, host, port)
        bound_port = server.servers[0].sockets[0].getsockname()[1]
        yield f"http://{host}:{bound_port}"
    finally:
        server.should_exit = True
        thread.join(timeout=_START_TIMEOUT_SECONDS)


def _wait_started(server: uvicorn.Server, thread: threading.Thread, host: str, port: int) -> None:
    deadline = time.monotonic() + _START_TIMEOUT_SECONDS
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise ServerStartError(
                f"The HTTP server could not start on {host}:{port}: is the port already in use? "
                "Pick another with --port."
            )
        time.sleep(0.02)


def _check_free(host: str, port: int) -> None:
    """Say in one line that the port is taken, before uvicorn logs its own error."""
    if port == 0:
        return
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise ServerStartError(
                f"The HTTP server could not start on {host}:{port} ({exc.strerror}): is the port "
                "already in use? Pick another with --port."
            ) from exc
