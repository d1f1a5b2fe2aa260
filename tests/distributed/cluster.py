"""A distributed roomsync on this machine, split as docs/architecture.md#processes
describes: ``roomsync api`` and
``roomsync worker`` processes sharing PostgreSQL (data) and Redis (queue), talking to
graphsim served over HTTPS with its own CA."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import httpx

from tests.polling import eventually

ADMIN_TOKEN = "distributed-test-admin-token-0123456789"
SECRET_KEY = "distributed-test-secret-key-0123456789-abcdef"
PUSH_CLAIM_SECONDS = 10
"""The shortest claim the settings allow: the pushes of a killed worker are free again
after it (a push against the local graphsim takes well under a second)."""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class Cluster:
    env: dict[str, str]
    workdir: Path
    api_port: int = field(default_factory=free_port)
    processes: dict[str, subprocess.Popen[str]] = field(default_factory=dict)
    logs: dict[str, TextIO] = field(default_factory=dict)

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    def start_api(self) -> None:
        self._start("api", "api", "--port", str(self.api_port))
        assert eventually(lambda: _ready(self.api_url), timeout=60, every=0.25), (
            "Timed out waiting for the API to be ready."
        )

    def start_worker(self, name: str, *, scheduler: bool = False, workers: int = 4) -> None:
        arguments = ["worker", "--workers", str(workers)] + (["--scheduler"] if scheduler else [])
        self._start(name, *arguments)

    def kill(self, name: str) -> None:
        """kill -9: the process gets no chance to finish anything."""
        process = self.processes.pop(name)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
        self.logs.pop(name).close()

    def stop_all(self) -> None:
        for process in self.processes.values():
            process.send_signal(signal.SIGTERM)
        for name, process in list(self.processes.items()):
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
            self.processes.pop(name)
            self.logs.pop(name).close()

    def api(self) -> httpx.Client:
        return httpx.Client(
            base_url=f"{self.api_url}/api/v1",
            headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
            timeout=120,
        )

    def log(self, name: str) -> str:
        path = self.workdir / f"{name}.log"
        return path.read_text() if path.exists() else ""

    def _start(self, name: str, *arguments: str) -> None:
        log = self.logs[name] = (self.workdir / f"{name}.log").open("w")
        self.processes[name] = subprocess.Popen(
            [sys.executable, "-m", "roomsync", *arguments],
            cwd=self.workdir,
            env={**os.environ, **self.env},
            stdout=log,
            stderr=subprocess.STDOUT,
            text=True,
        )


def cluster_env(
    *,
    database_url: str,
    redis_url: str,
    queue_name: str,
    graph: Any,
    lease_seconds: int = 5,
    push_claim_seconds: int = PUSH_CLAIM_SECONDS,
) -> dict[str, str]:
    return {
        "ROOMSYNC_DATABASE_URL": database_url,
        "ROOMSYNC_QUEUE_URL": redis_url,
        "ROOMSYNC_QUEUE_NAME": queue_name,
        "ROOMSYNC_SECRET_KEY": SECRET_KEY,
        "ROOMSYNC_ADMIN_TOKEN": ADMIN_TOKEN,
        "ROOMSYNC_LOGIN_URL": graph.base_url,
        "ROOMSYNC_GRAPH_URL": graph.base_url,
        "ROOMSYNC_CA_BUNDLE": str(graph.ca_path),
        "ROOMSYNC_LEASE_SECONDS": str(lease_seconds),
        "ROOMSYNC_PUSH_CLAIM_SECONDS": str(push_claim_seconds),
        "ROOMSYNC_LOG_FORMAT": "json",
        "ROOMSYNC_LOG_LEVEL": "INFO",
    }


def _ready(url: str) -> bool:
    try:
        return httpx.get(f"{url}/readyz", timeout=5).status_code == 200
    except httpx.HTTPError:
        return False
