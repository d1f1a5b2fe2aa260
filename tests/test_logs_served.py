"""With ``ROOMSYNC_LOG_FORMAT=json`` every line a served process writes is one JSON object:
uvicorn's access and error lines too, and a 500's traceback sits inside the line,
redacted. Once in a real ``roomsync api`` process, once in-process to make a route fail."""

from __future__ import annotations

import io
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from roomsync.logs import build_handler, register_secret, route_uvicorn_through_root
from roomsync.platform.db import Database
from roomsync.platform.migrations import upgrade
from roomsync.settings import LogFormat, Settings
from roomsync.web.app import create_app
from roomsync.web.server import serving_in_background

SECRET_KEY = "served-logs-secret-key-0123456789abcdefghijkl"
ADMIN_TOKEN = "served-logs-admin-token-0123456789abcdef"
CLIENT_STATE_GUESS = "a-guessed-client-state-0123456789"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
def api_process(tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    port = free_port()
    env = {
        **os.environ,
        "ROOMSYNC_DATABASE_URL": f"sqlite:///{tmp_path / 'roomsync.db'}",
        "ROOMSYNC_QUEUE_URL": f"sqlite:///{tmp_path / 'queue.db'}",
        "ROOMSYNC_SECRET_KEY": SECRET_KEY,
        "ROOMSYNC_ADMIN_TOKEN": ADMIN_TOKEN,
        "ROOMSYNC_LOG_FORMAT": "json",
        "ROOMSYNC_LOG_LEVEL": "INFO",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "roomsync", "api", "--port", str(port)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(base, process)
        yield base, process
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)


def wait_until_up(base: str, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.2)
    pytest.fail(f"roomsync api did not start: {process.communicate(timeout=10)[0]}")


def exercise(base: str) -> list[int]:
    """Requests an operator's log would show: fine ones, refused ones, a forged webhook."""
    admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    forged = '{"value": [{"subscriptionId": "%s", "clientState": "%s"}]}'
    with httpx.Client(base_url=base, timeout=30) as http:
        answers = [
            http.get("/api/v1/organizations", headers=admin),
            http.get("/api/v1/organizations", headers={"Authorization": "Bearer wrong"}),
            http.get("/no/such/page"),
            http.post("/webhooks/microsoft365", params={"validationToken": "hello"}),
            http.post(
                "/webhooks/microsoft365",
                content=forged % ("0d8c4a3e-8a51-4d43-b2a4-6b8f3e6b9b1a", "\\ud800"),
            ),
            http.post(
                "/webhooks/microsoft365/lifecycle",
                content=forged % ("0d8c4a3e-8a51-4d43-b2a4-6b8f3e6b9b1a", CLIENT_STATE_GUESS),
            ),
            http.post("/webhooks/microsoft365", json={"value": [{}] * 1_001}),
        ]
    with socket.create_connection(("127.0.0.1", int(base.rsplit(":", 1)[1]))) as raw:
        raw.sendall(b"NOT HTTP AT ALL\r\n\r\n")  # uvicorn's own warning
        raw.recv(1024)
    return [answer.status_code for answer in answers]


def test_every_line_of_a_roomsync_api_process_is_json_and_carries_no_secret(
    api_process: tuple[str, subprocess.Popen[str]],
) -> None:
    base, process = api_process

    statuses = exercise(base)
    process.send_signal(signal.SIGTERM)
    output, _ = process.communicate(timeout=30)
    lines = [line for line in output.splitlines() if line.strip()]
    parsed = [json.loads(line) for line in lines]  # raises on the first line not JSON

    assert statuses == [200, 401, 404, 200, 202, 202, 413]
    loggers = {entry["logger"] for entry in parsed}
    assert {"uvicorn.error", "uvicorn.access"} <= loggers
    access = [entry["message"] for entry in parsed if entry["logger"] == "uvicorn.access"]
    assert any('"GET /api/v1/organizations HTTP/1.1" 401' in message for message in access)
    assert any("Invalid HTTP request" in str(entry["message"]) for entry in parsed)
    for secret in (ADMIN_TOKEN, SECRET_KEY, CLIENT_STATE_GUESS):
        assert secret not in output


@pytest.fixture
def json_root_log() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    handler = build_handler(LogFormat.JSON, stream)
    root = logging.getLogger()
    route_uvicorn_through_root()  # as configure_logging does: graphsim's servers change them
    root.addHandler(handler)
    try:
        yield stream
    finally:
        root.removeHandler(handler)


def test_a_500_in_a_served_app_is_json_with_its_traceback_inside_and_redacted(
    tmp_path: Path, json_root_log: io.StringIO
) -> None:
    database_url = f"sqlite:///{tmp_path / 'app.db'}"
    upgrade(database_url)
    database = Database(database_url)
    settings = Settings(
        _env_file=None,
        database_url=database_url,
        queue_url=f"sqlite:///{tmp_path / 'queue.db'}",
        secret_key=SecretStr(SECRET_KEY),
    )
    app = create_app(settings, database)
    register_secret("Served-Private-Client-Secret")

    @app.get("/fails")
    def fails() -> dict[str, Any]:
        raise RuntimeError("Graph refused Served-Private-Client-Secret")

    try:
        with serving_in_background(app) as url:
            status = httpx.get(f"{url}/fails", timeout=30).status_code
    finally:
        database.dispose()
    text = json_root_log.getvalue()
    parsed = [json.loads(line) for line in text.splitlines()]

    assert status == 500
    failures = [entry for entry in parsed if "exception" in entry]
    assert failures
    assert all("RuntimeError: Graph refused ***" in entry["exception"] for entry in failures)
    assert "uvicorn.error" in {entry["logger"] for entry in failures}
    assert "Served-Private-Client-Secret" not in text
