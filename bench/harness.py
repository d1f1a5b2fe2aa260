"""What the benchmarks share: graphsim served in its own process (Graph is remote, so it
must not share roomsync's interpreter), a platform database pointed at it, timing, and
results written as JSON under ``bench/results/``.
"""

from __future__ import annotations

import contextlib
import gc
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from pydantic import SecretStr
from sqlalchemy import insert

from roomsync.platform.db import Database, new_id, utcnow
from roomsync.platform.enums import IntegrationMode, Origin
from roomsync.platform.migrations import upgrade
from roomsync.platform.models import Building, Integration, Organization, Resource
from roomsync.settings import Settings
from roomsync.sync.context import SyncContext

RESULTS = Path(__file__).parent / "results"
SECRET_KEY = SecretStr("benchmark-secret-key-0123456789-abcdefghijklmnop")
ZONE = "Europe/Paris"


@dataclass(frozen=True)
class ServedTenant:
    """A ``graphsim serve`` process and what its --config-out said."""

    config: dict[str, Any]
    process_id: int | None = None

    @property
    def base_url(self) -> str:
        return str(self.config["graph_url"])

    @property
    def ca_bundle(self) -> str:
        return str(self.config["ca_bundle"])

    def control(self) -> httpx.Client:
        return httpx.Client(base_url=self.base_url, verify=self.ca_bundle, timeout=120)

    def count_requests(self, **filters: str | int) -> int:
        with self.control() as client:
            found = client.get("/_sim/requests", params={k: str(v) for k, v in filters.items()})
            return int(found.raise_for_status().json()["count"])


@dataclass(frozen=True)
class SeedOptions:
    """How many meetings ``graphsim serve`` seeds in each room, and over which days."""

    events_per_room: int
    days_before: int
    days_after: int

    def arguments(self) -> list[str]:
        return [
            "--events-per-room", str(self.events_per_room),
            "--days-before", str(self.days_before), "--days-after", str(self.days_after),
        ]  # fmt: skip


@contextlib.contextmanager
def served_graphsim(
    *, rooms: int, latency_ms: float, seed: int = 1, seeding: SeedOptions | None = None
) -> Iterator[ServedTenant]:
    """``graphsim serve`` on a free port, over HTTPS with its own CA, until the block ends."""
    workdir = Path(tempfile.mkdtemp(prefix="roomsync-bench-"))
    config_path = workdir / "graphsim.json"
    command = [
        sys.executable, "-m", "graphsim", "serve", "--port", "0", "--seed", str(seed),
        "--rooms", str(rooms), "--latency-ms", str(latency_ms), "--config-out", str(config_path),
    ]  # fmt: skip
    command += seeding.arguments() if seeding else []
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        yield ServedTenant(_wait_for_config(config_path, process), process.pid)
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:  # a large tenant on a loaded machine: the result stands
            process.kill()
            process.wait(timeout=30)


def _wait_for_config(path: Path, process: subprocess.Popen[bytes]) -> dict[str, Any]:
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        if path.exists() and path.stat().st_size > 0:
            with contextlib.suppress(json.JSONDecodeError):
                return dict(json.loads(path.read_text()))
        if process.poll() is not None:
            stderr = process.stderr.read().decode() if process.stderr else ""
            raise RuntimeError(f"graphsim serve exited: {stderr[-2000:]}")
        time.sleep(0.1)
    raise RuntimeError("graphsim serve did not write its configuration in time")


@dataclass(frozen=True)
class Platform:
    ctx: SyncContext
    integration_id: uuid.UUID
    rooms: dict[str, uuid.UUID]


def platform_for(
    tenant: ServedTenant, database_url: str | None = None, options: dict[str, Any] | None = None
) -> Platform:
    """A migrated database with one organization whose integration points at ``tenant``,
    and every room of the tenant imported (inserted in bulk: importing is not measured).
    The integration has the shipped defaults unless ``options`` overrides some (a
    benchmark that does says so in what it prints)."""
    url = database_url or f"sqlite:///{tempfile.mkdtemp(prefix='roomsync-bench-db-')}/bench.db"
    upgrade(url)
    database = Database(url)
    settings = Settings(
        _env_file=None,
        secret_key=SECRET_KEY,
        login_url=tenant.base_url,
        graph_url=tenant.base_url,
        ca_bundle=Path(tenant.ca_bundle),
        database_url=url,
    )
    ctx = SyncContext.build(settings, database)
    config = tenant.config
    now = utcnow()
    ids = {"org": new_id(), "building": new_id(), "integration": new_id()}
    rooms = {room["email"].lower(): new_id() for room in config["rooms"]}
    stamps = {"created_at": now, "updated_at": now}
    with database.session() as session:
        session.execute(insert(Organization).values(id=ids["org"], name="Bench", **stamps))
        session.execute(
            insert(Building).values(
                id=ids["building"], organization_id=ids["org"], name="HQ", time_zone=ZONE, **stamps
            )
        )
        session.add(
            Integration(
                id=ids["integration"],
                organization_id=ids["org"],
                tenant_id=config["tenant_id"],
                client_id=config["client_id"],
                client_secret_encrypted=ctx.secrets.encrypt(config["client_secret"]),
                time_zone=ZONE,
                mode=IntegrationMode.POLLING,
                enabled=True,
                options=options or {},
            )
        )
        session.execute(
            insert(Resource), [_room_row(ids, email, rid) for email, rid in rooms.items()]
        )
    return Platform(ctx, ids["integration"], rooms)


def _room_row(ids: dict[str, uuid.UUID], email: str, resource_id: uuid.UUID) -> dict[str, Any]:
    now = utcnow()
    return {
        "id": resource_id,
        "organization_id": ids["org"],
        "building_id": ids["building"],
        "name": email.split("@", maxsplit=1)[0],
        "email": email,
        "attributes": {},
        "hidden_fields": [],
        "active": True,
        "origin": Origin.MICROSOFT365,
        "created_at": now,
        "updated_at": now,
    }


def machine() -> dict[str, Any]:
    return {
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
        "at": datetime.now(UTC).isoformat(),
    }


def write_results(name: str, data: dict[str, Any]) -> Path:
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps({"machine": machine(), **data}, indent=2, default=str))
    return path


def print_table(title: str, header: list[str], rows: list[list[object]]) -> None:
    widths = [max(len(str(x)) for x in [h, *(r[i] for r in rows)]) for i, h in enumerate(header)]
    print(f"\n{title}")
    print("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)))
    for row in rows:
        print("  ".join(str(x).ljust(w) for x, w in zip(row, widths, strict=True)))


# --- where the time goes (added for bench/listener_latency.py) ------------------------------


class GraphRoundTrips:
    """Times each request an ``httpx.Client`` sends, to its response's headers, through the
    client's event hooks (roomsync's Graph client as graphsim answers it, queueing and
    this machine's load included)."""

    def __init__(self, client: httpx.Client) -> None:
        self._sent: dict[int, float] = {}
        self.seconds: list[float] = []
        self.measuring = False
        client.event_hooks["request"].append(self._on_request)
        client.event_hooks["response"].append(self._on_response)

    def _on_request(self, request: httpx.Request) -> None:
        if self.measuring:
            self._sent[id(request)] = time.perf_counter()

    def _on_response(self, response: httpx.Response) -> None:
        sent = self._sent.pop(id(response.request), None)
        if sent is not None:
            self.seconds.append(time.perf_counter() - sent)


def process_cpu_seconds(pid: int) -> float:
    """CPU seconds (user + system) process ``pid`` has used so far, from /proc/PID/stat."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def children_cpu_seconds() -> float:
    """CPU seconds (user + system) used so far by this process's live child processes
    (``graphsim serve``), read from /proc; 0.0 where there is no /proc."""
    total = 0.0
    for children in Path(f"/proc/{os.getpid()}/task").glob("*/children"):
        for pid in children.read_text().split():
            with contextlib.suppress(OSError):
                total += process_cpu_seconds(int(pid))
    return total


class CollectorTime:
    """Seconds spent in CPython's cycle collector while the block runs, through
    ``gc.callbacks`` (every generation; the collections' count too)."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.collections = 0
        self._started = 0.0

    def __enter__(self) -> CollectorTime:
        gc.callbacks.append(self._on_collection)
        return self

    def __exit__(self, *exc_info: object) -> None:
        gc.callbacks.remove(self._on_collection)

    def _on_collection(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.seconds += time.perf_counter() - self._started
            self.collections += 1
