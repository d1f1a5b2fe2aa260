"""How fast the change-notification webhook answers Graph (its limit: a 2xx within 3 s).

    python -m bench.webhook_burst [--notifications 2000] [--over 1.0] [--rooms 50]
                                  [--flood-connections 8] [--flood-over 5.0]
                                  [--redis-url URL]

roomsync's app runs in a child process under uvicorn (one worker, as ``roomsync api``)
with a SQLite database holding ``--rooms`` subscribed rooms. This process sends
``--notifications`` genuine change notifications spread evenly over ``--over`` seconds,
then the same number all at once, over 64 keep-alive connections, and times each answer
from the moment it was due. A third scenario is an attack: ``--flood-connections``
connections POST forged notifications without pause — the most one POST may carry (1,000),
each with a random subscription id, as someone without a credential would — while the
genuine ones are spread over ``--flood-over`` seconds; its row gives the genuine ones'
times (their p99 against Graph's 3 s) and how many forged notifications were refused a
second. Each scenario runs with the embedded SQLite queue and, when a Redis server
answers, with a Redis queue. No worker runs: the figures are the request path alone
(verify clientState from memory, queue a coalesced pull, answer 202). Prints a table and
writes ``bench/results/webhook_burst.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import platform
import socket
import statistics
import sys
import tempfile
import time
import uuid
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import redis
from pydantic import SecretStr
from sqlalchemy import select

from roomsync.platform.crypto import SecretBox
from roomsync.platform.db import Database
from roomsync.platform.migrations import upgrade
from roomsync.platform.models import Integration, RoomSyncState
from roomsync.platform.services.buildings import create_building
from roomsync.platform.services.organizations import create_organization
from roomsync.platform.services.resources import create_resource
from roomsync.runtime.queue import build_huey, close_queue
from roomsync.runtime.runtime import Runtime
from roomsync.settings import Settings
from roomsync.sync.room_states import ensure_room_states
from roomsync.web.app import create_app
from roomsync.web.server import serve
from roomsync.web.webhooks import MAX_NOTIFICATIONS

RESULTS = Path(__file__).parent / "results" / "webhook_burst.json"
SECRET_KEY = SecretStr("webhook-bench-secret-key-0123456789abcdefghij")
GRAPH_LIMIT_SECONDS = 3.0
CONNECTIONS = 64
WEBHOOK_PATH = "/webhooks/microsoft365"


@dataclass(frozen=True)
class Subscribed:
    subscription_id: str
    client_state: str


@dataclass(frozen=True)
class Measurement:
    queue: str
    scenario: str
    notifications: int
    answered_202: int
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    within_3s: float
    forged_refused_per_s: float = 0.0


def main() -> None:
    args = _arguments()
    queues = {"sqlite": None, "redis": _redis_or_none(args.redis_url)}
    measurements = []
    with tempfile.TemporaryDirectory(prefix="webhook-bench-") as scratch:
        database_url = f"sqlite:///{Path(scratch) / 'bench.db'}"
        rooms = _subscribed_rooms(database_url, args.rooms)
        for queue, redis_url in queues.items():
            if queue == "redis" and redis_url is None:
                print(f"(no Redis at {args.redis_url}: the Redis queue is not measured)")
                continue
            queue_url = redis_url or f"sqlite:///{Path(scratch) / 'queue.db'}"
            measurements += _measure(database_url, queue_url, queue, rooms, args)
    _print(measurements)
    _save(measurements, args)


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notifications", type=int, default=2000)
    parser.add_argument("--over", type=float, default=1.0, help="Seconds to spread them over.")
    parser.add_argument("--rooms", type=int, default=50)
    parser.add_argument("--flood-connections", type=int, default=8)
    parser.add_argument(
        "--flood-over", type=float, default=5.0, help="Seconds the flood scenario lasts."
    )
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    return parser.parse_args()


def _redis_or_none(url: str) -> str | None:
    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=2)
        client.ping()
        client.close()
    except redis.RedisError:
        return None
    return url


def _subscribed_rooms(database_url: str, count: int) -> list[Subscribed]:
    """An organization with ``count`` rooms, each with a recorded subscription."""
    upgrade(database_url)
    database = Database(database_url)
    secrets_box = SecretBox(SECRET_KEY)
    with database.session() as session:
        organization = create_organization(session, name="Bench")
        building = create_building(
            session, organization_id=organization.id, name="HQ", time_zone="UTC"
        )
        integration = Integration(
            organization_id=organization.id, tenant_id="t", client_id="c", time_zone="UTC"
        )
        session.add(integration)
        room_ids = [
            create_resource(
                session, building_id=building.id, name=f"Room {n}", email=f"room{n}@bench.test"
            ).id
            for n in range(count)
        ]
        session.flush()
        integration_id = integration.id
    ensure_room_states(database, integration_id=integration_id, resource_ids=room_ids)
    rooms = [Subscribed(str(uuid.uuid4()), uuid.uuid4().hex * 2) for _ in room_ids]
    with database.session() as session:
        states = session.scalars(select(RoomSyncState).order_by(RoomSyncState.resource_id))
        for state, room in zip(states, rooms, strict=True):
            state.subscription_id = room.subscription_id
            state.subscription_client_state_encrypted = secrets_box.encrypt(room.client_state)
    database.dispose()
    return rooms


def _measure(
    database_url: str,
    queue_url: str,
    queue: str,
    rooms: list[Subscribed],
    args: argparse.Namespace,
) -> list[Measurement]:
    queue_name = f"webhook-bench-{uuid.uuid4().hex[:8]}"
    port = _free_port()
    server = multiprocessing.get_context("spawn").Process(
        target=_serve, args=(database_url, queue_url, queue_name, port), daemon=True
    )
    server.start()
    try:
        _wait_ready(port, server)
        bodies = [_body(rooms[n % len(rooms)]) for n in range(args.notifications)]
        spread = asyncio.run(_send(port, bodies, over=args.over))
        burst = asyncio.run(_send(port, bodies, over=0.0))
        flooded, forged = asyncio.run(
            _send_under_flood(port, bodies, over=args.flood_over, flooders=args.flood_connections)
        )
    finally:
        server.terminate()
        server.join(10)
        _flush(queue_url, queue_name)
    flood = _summary(queue, f"{args.notifications} over {args.flood_over:g} s + flood", flooded)
    return [
        _summary(queue, f"{args.notifications} over {args.over:g} s", spread),
        _summary(queue, f"{args.notifications} at once", burst),
        replace(flood, forged_refused_per_s=round(forged, 0)),
    ]


def _serve(database_url: str, queue_url: str, queue_name: str, port: int) -> None:
    """The child process: roomsync's app, as ``roomsync api`` would serve it."""
    settings = Settings(
        _env_file=None,
        database_url=database_url,
        queue_url=queue_url,
        secret_key=SECRET_KEY,
        public_url=f"http://127.0.0.1:{port}",
    )
    database = Database(database_url)
    runtime = Runtime(settings, database, huey=build_huey(queue_url, name=queue_name))
    serve(create_app(settings, database, runtime=runtime), host="127.0.0.1", port=port,
          log_level="warning")  # fmt: skip


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _wait_ready(port: int, server: Any) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and server.is_alive():
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.1)
    sys.exit("The benchmark's roomsync server did not start.")


def _body(room: Subscribed) -> bytes:
    notification = {
        "subscriptionId": room.subscription_id,
        "subscriptionExpirationDateTime": "2030-01-10T09:00:00.0000000+00:00",
        "changeType": "updated",
        "resource": "Users/6f1e/Events/AAMkAGI=",
        "resourceData": {"@odata.type": "#Microsoft.Graph.Event", "id": "AAMkAGI="},
        "clientState": room.client_state,
        "tenantId": "00000000-0000-0000-0000-000000000001",
    }
    return json.dumps({"value": [notification]}).encode()


async def _send(port: int, bodies: list[bytes], *, over: float) -> list[tuple[int, float]]:
    """POST each body when it is due, from ``CONNECTIONS`` keep-alive connections (Graph's
    notifier sends in parallel too); (status, seconds from due to answer) for each. A body
    whose connection is still busy goes out late, and its lateness is part of its time."""
    connections = [await _Connection.open(port) for _ in range(CONNECTIONS)]
    start, step = time.perf_counter() + 0.05, over / len(bodies)
    schedule = iter(enumerate(bodies))
    answers: list[tuple[int, float]] = []

    async def sender(connection: _Connection) -> None:
        for n, body in schedule:
            due = start + n * step
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            status = await connection.post(WEBHOOK_PATH, body)
            answers.append((status, time.perf_counter() - due))

    try:
        await asyncio.gather(*(sender(connection) for connection in connections))
    finally:
        for connection in connections:
            connection.close()
    return answers


async def _send_under_flood(
    port: int, bodies: list[bytes], *, over: float, flooders: int
) -> tuple[list[tuple[int, float]], float]:
    """The genuine ``bodies`` spread over ``over`` seconds while ``flooders`` connections
    POST forged batches back to back; (the genuine answers, forged notifications refused
    per second). A forged batch not answered 202 fails the run: a flood must not see 5xx."""
    forged = _forged_body()
    done = asyncio.Event()
    answered: list[int] = []

    async def flooder() -> None:
        connection = await _Connection.open(port)
        try:
            while not done.is_set():
                answered.append(await connection.post(WEBHOOK_PATH, forged))
        finally:
            connection.close()

    flooding = [asyncio.create_task(flooder()) for _ in range(flooders)]
    started = time.perf_counter()
    try:
        genuine = await _send(port, bodies, over=over)
    finally:
        done.set()
        await asyncio.gather(*flooding)
    elapsed = time.perf_counter() - started
    if set(answered) - {202}:
        sys.exit(f"A forged batch was answered {sorted(set(answered))}, not 202.")
    return genuine, len(answered) * MAX_NOTIFICATIONS / elapsed


def _forged_body() -> bytes:
    """The largest batch one POST may carry, each notification for a random subscription."""
    notification = {
        "changeType": "updated",
        "resource": "Users/6f1e/Events/AAMkAGI=",
        "clientState": "guessed",
        "tenantId": "00000000-0000-0000-0000-000000000001",
    }
    forged = [
        {"subscriptionId": str(uuid.uuid4()), **notification} for _ in range(MAX_NOTIFICATIONS)
    ]
    return json.dumps({"value": forged}).encode()


class _Connection:
    """A minimal HTTP/1.1 keep-alive client: a Python HTTP library spends more CPU per
    request than the server under test, and would measure itself."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, port: int) -> _Connection:
        return cls(*await asyncio.open_connection("127.0.0.1", port))

    async def post(self, path: str, body: bytes) -> int:
        head = (
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        )
        self.writer.write(head.encode() + body)
        status_line, *headers = (await self.reader.readuntil(b"\r\n\r\n")).split(b"\r\n")
        length = next(
            (int(h.split(b":")[1]) for h in headers if h.lower().startswith(b"content-length:")),
            0,
        )
        await self.reader.readexactly(length)
        return int(status_line.split()[1])

    def close(self) -> None:
        self.writer.close()


def _flush(queue_url: str, queue_name: str) -> None:
    huey = build_huey(queue_url, name=queue_name)
    huey.flush()
    close_queue(huey)


def _summary(queue: str, scenario: str, answers: list[tuple[int, float]]) -> Measurement:
    seconds = sorted(elapsed for _, elapsed in answers)
    cuts = statistics.quantiles(seconds, n=100, method="inclusive")
    return Measurement(
        queue=queue,
        scenario=scenario,
        notifications=len(answers),
        answered_202=sum(status == 202 for status, _ in answers),
        p50_ms=round(cuts[49] * 1000, 1),
        p90_ms=round(cuts[89] * 1000, 1),
        p99_ms=round(cuts[98] * 1000, 1),
        max_ms=round(seconds[-1] * 1000, 1),
        within_3s=round(sum(s < GRAPH_LIMIT_SECONDS for s in seconds) / len(seconds), 4),
    )


def _print(measurements: list[Measurement]) -> None:
    header = f"{'queue':<7} {'scenario':<28} {'202s':>6} {'p50 ms':>8} {'p90 ms':>8} "
    header += f"{'p99 ms':>8} {'max ms':>8} {'< 3 s':>7} {'forged/s':>9}"
    print(header)
    for m in measurements:
        print(
            f"{m.queue:<7} {m.scenario:<28} {m.answered_202:>6} {m.p50_ms:>8.1f} "
            f"{m.p90_ms:>8.1f} {m.p99_ms:>8.1f} {m.max_ms:>8.1f} {m.within_3s:>7.1%} "
            f"{m.forged_refused_per_s:>9,.0f}"
        )
        if "flood" in m.scenario:
            verdict = "within" if m.p99_ms < GRAPH_LIMIT_SECONDS * 1000 else "OVER"
            print(
                f"        genuine p99 under the flood: {m.p99_ms:,.0f} ms, {verdict} Graph's "
                f"{GRAPH_LIMIT_SECONDS:g} s budget"
            )


def _save(measurements: list[Measurement], args: argparse.Namespace) -> None:
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    report = {
        "benchmark": "webhook_burst",
        "measured_at": datetime.now(UTC).isoformat(),
        "python": sys.version.split()[0],
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs",
        "load_average_1min": round(os.getloadavg()[0], 2),  # figures are not comparable past ~1
        "arguments": vars(args),
        "rooms": args.rooms,
        "graph_limit_seconds": GRAPH_LIMIT_SECONDS,
        "measurements": [asdict(m) for m in measurements],
    }
    RESULTS.write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nWritten to {RESULTS}")


if __name__ == "__main__":
    main()
