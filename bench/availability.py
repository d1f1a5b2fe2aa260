"""Availability search: 5,000 rooms in 20 buildings and 500,000 bookings, on SQLite and then
PostgreSQL (targets: p99 under 50 ms for a one-hour search in one building, under 200 ms
across all buildings).

Each database is migrated and seeded in bulk (``bench/availability_seed.py``: 100
bookings a room between 60 days ago and 30 days ahead, mixed statuses), then searched for one
free hour in the coming week at working hours: in one building (the building and the hour
change from run to run), across all buildings, and in one building for six people with a
display. Each run is the service function as the pages call it, in a session of its own
(``free_rooms``, and ``busy_blocks`` for one room's day, as the schedule reads it); the same
searches then go through the HTTP routes (uvicorn on a loopback port, an organization
admin's token) for comparison; client and server share this process, so the HTTP figures
include the client's own time. Before the runs the cycle collector is set as a started
roomsync process sets it (``settle_heap``), and PostgreSQL is analysed after the load, as
its autovacuum would do on its own. Prints p50/p99 against the targets and writes
``bench/results/availability.json``.

    python -m bench.availability [--rooms 5000] [--buildings 20] [--bookings 500000]
        [--runs 200] [--http-runs 100]
        [--postgres postgresql+psycopg://postgres@127.0.0.1:5432/postgres] [--no-postgres]
"""

from __future__ import annotations

import argparse
import os
import random
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import text

from bench.availability_seed import FIRST_HOUR, HOURS_PER_DAY, SeededOrganization, seed
from bench.harness import CollectorTime, print_table, write_results
from bench.initial_sync import DEFAULT_POSTGRES, fresh_postgres
from roomsync.platform.db import Database
from roomsync.platform.enums import Role
from roomsync.platform.migrations import upgrade
from roomsync.platform.services.availability import RoomSearch, busy_blocks, free_rooms
from roomsync.platform.services.tokens import create_api_token
from roomsync.runtime.heap import settle_heap
from roomsync.settings import Settings
from roomsync.web.app import create_app
from roomsync.web.server import serving_in_background

TARGETS_MS = {"one building, 1 h": 50.0, "all buildings, 1 h": 200.0}
PAGE = 50  # the route's default page size


@dataclass(frozen=True)
class Timing:
    backend: str
    path: str  # "service" or "http"
    case: str
    runs: int
    p50_ms: float
    p99_ms: float
    max_ms: float
    # This process's CPU time per run (client and server threads; not PostgreSQL's): what a
    # run costs, less the waits for a CPU that a loaded machine adds to the wall time.
    cpu_p50_ms: float
    cpu_p99_ms: float
    collector_ms: float  # CPython's cycle collector, over all the runs
    rooms_answered: int

    @property
    def target_ms(self) -> float | None:
        return TARGETS_MS.get(self.case)


@dataclass(frozen=True)
class Case:
    name: str
    query: Callable[[int], dict[str, Any]]  # run number -> the search's parameters


def main() -> None:
    args = _arguments()
    timings: list[Timing] = []
    seeding: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="availability-bench-") as scratch:
        databases = [("sqlite", f"sqlite:///{Path(scratch) / 'bench.db'}")]
        for backend, url in _databases(databases, args):
            seconds, found = measure(backend, url, args)
            seeding[backend] = seconds
            timings.extend(found)
    _print(timings)
    load = os.getloadavg()
    print(f"\nload average after the run: {load[0]:.1f} (1 min), {load[2]:.1f} (15 min), "
          f"on {os.cpu_count()} CPUs")  # fmt: skip
    write_results(
        "availability",
        {"sizes": {"rooms": args.rooms, "buildings": args.buildings, "bookings": args.bookings},
         "seed_s": seeding, "load_average": load,
         "timings": [asdict(t) | {"target_ms": t.target_ms} for t in timings]},
    )  # fmt: skip


def _databases(local: list[tuple[str, str]], args: argparse.Namespace) -> Iterator[tuple[str, str]]:
    yield from local
    if not args.no_postgres:
        with fresh_postgres(args.postgres) as url:
            yield "postgresql", url


def measure(backend: str, url: str, args: argparse.Namespace) -> tuple[float, list[Timing]]:
    upgrade(url)
    database = Database(url)
    try:
        started = time.perf_counter()
        seeded = seed(database, rooms=args.rooms, buildings=args.buildings, bookings=args.bookings)
        seed_seconds = time.perf_counter() - started
        print(f"{backend}: seeded {args.rooms} rooms, {args.bookings} bookings "
              f"in {seed_seconds:.0f} s", flush=True)  # fmt: skip
        if backend == "postgresql":
            with database.engine.begin() as connection:
                connection.execute(text("ANALYZE"))
        settle_heap()  # as every roomsync process does once started (runtime/heap.py)
        cases = _cases(seeded)
        timings = [_time_service(backend, database, seeded, case, args.runs) for case in cases]
        timings.append(_time_schedule(backend, database, seeded, args.runs))
        timings.extend(
            _time_http(backend, url=url, database=database, seeded=seeded, cases=cases,
                       runs=args.http_runs)
        )  # fmt: skip
        return seed_seconds, timings
    finally:
        database.dispose()


def _cases(seeded: SeededOrganization) -> list[Case]:
    buildings = seeded.building_ids

    def hour(n: int) -> tuple[datetime, datetime]:
        # A working hour of the coming week, a different one each run.
        start = seeded.today + timedelta(days=1 + n % 7, hours=FIRST_HOUR + n % HOURS_PER_DAY)
        return start, start + timedelta(hours=1)

    def one(n: int) -> dict[str, Any]:
        start, end = hour(n)
        return {"start": start, "end": end, "building_id": buildings[n % len(buildings)]}

    def every(n: int) -> dict[str, Any]:
        start, end = hour(n)
        return {"start": start, "end": end}

    def filtered(n: int) -> dict[str, Any]:
        return one(n) | {"capacity_min": 6, "equipment": ("display",)}

    return [
        Case("one building, 1 h", one),
        Case("all buildings, 1 h", every),
        Case("one building, 1 h, 6+ people, display", filtered),
    ]


def _time_service(
    backend: str, database: Database, seeded: SeededOrganization, case: Case, runs: int
) -> Timing:
    def run(n: int) -> int:
        search = RoomSearch(organization_id=seeded.organization_id, **case.query(n))
        with database.session() as session:
            return len(free_rooms(session, search, limit=PAGE))

    return _timed(backend, "service", case.name, run, runs)


def _time_schedule(
    backend: str, database: Database, seeded: SeededOrganization, runs: int
) -> Timing:
    def run(n: int) -> int:
        day = seeded.today + timedelta(days=n % 7)
        room = seeded.room_ids[(n * 7919) % len(seeded.room_ids)]
        with database.session() as session:
            return len(busy_blocks(session, room, day, day + timedelta(days=1)))

    return _timed(backend, "service", "schedule, one room's day", run, runs)


def _time_http(
    backend: str,
    *,
    url: str,
    database: Database,
    seeded: SeededOrganization,
    cases: list[Case],
    runs: int,
) -> list[Timing]:
    # An admin of the organization, as the service runs are: the super-admin's token
    # reaches every organization, which no index of rooms orders.
    settings = Settings(_env_file=None, database_url=url)
    with database.session() as session:
        token = create_api_token(
            session, organization_id=seeded.organization_id, role=Role.ADMIN, name="bench"
        ).secret
    headers = {"Authorization": f"Bearer {token}"}
    with (
        serving_in_background(create_app(settings, database)) as base_url,
        httpx.Client(base_url=f"{base_url}/api/v1/", headers=headers, timeout=60) as client,
    ):
        timings = [_time_route(backend, client, case, runs) for case in cases[:2]]

        def schedule(n: int) -> int:
            room = seeded.room_ids[(n * 7919) % len(seeded.room_ids)]
            day = (seeded.today + timedelta(days=n % 7)).date().isoformat()
            answer = client.get(f"resources/{room}/schedule", params={"date": day})
            return len(answer.raise_for_status().json()["items"])

        timings.append(_timed(backend, "http", "schedule, one room's day", schedule, runs))
    return timings


def _time_route(backend: str, client: httpx.Client, case: Case, runs: int) -> Timing:
    def run(n: int) -> int:
        params = {name: _wire(value) for name, value in case.query(n).items()}
        answer = client.get("availability", params=params)
        return len(answer.raise_for_status().json()["items"])

    return _timed(backend, "http", case.name, run, runs)


def _wire(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    return value


def _timed(backend: str, path: str, case: str, run: Callable[[int], int], runs: int) -> Timing:
    for n in range(5):  # warm-up: connections, statement caches
        run(random.randrange(1000) + n)
    seconds: list[float] = []
    cpu: list[float] = []
    answered = 0
    with CollectorTime() as collector:
        for n in range(runs):
            started, cpu_started = time.perf_counter(), time.process_time()
            answered = run(n)
            seconds.append(time.perf_counter() - started)
            cpu.append(time.process_time() - cpu_started)
    seconds.sort()
    cpu.sort()
    return Timing(
        backend, path, case, runs,
        p50_ms=_ms(_rank(seconds, 0.50)), p99_ms=_ms(_rank(seconds, 0.99)),
        max_ms=_ms(seconds[-1]), cpu_p50_ms=_ms(_rank(cpu, 0.50)),
        cpu_p99_ms=_ms(_rank(cpu, 0.99)), collector_ms=_ms(collector.seconds),
        rooms_answered=answered,
    )  # fmt: skip


def _ms(seconds: float) -> float:
    return round(seconds * 1e3, 2)


def _rank(ordered: list[float], fraction: float) -> float:
    """The nearest-rank percentile of sorted values."""
    return ordered[max(0, round(fraction * len(ordered) + 0.5) - 1)]


def _print(timings: list[Timing]) -> None:
    rows: list[list[object]] = []
    for t in timings:
        target = t.target_ms
        met = "-" if target is None else ("met" if t.p99_ms < target else "MISSED")
        rows.append(
            [t.backend, t.path, t.case, t.runs, t.p50_ms, t.p99_ms, t.max_ms,
             "-" if target is None else f"< {target:g}", met, t.cpu_p50_ms, t.cpu_p99_ms,
             t.collector_ms, t.rooms_answered]
        )  # fmt: skip
    print_table(
        "Availability search (ms)",
        ["database", "through", "search", "runs", "p50", "p99", "max", "p99 target", "",
         "cpu p50", "cpu p99", "gc total", "rows"],
        rows,
    )  # fmt: skip


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rooms", type=int, default=5000)
    parser.add_argument("--buildings", type=int, default=20)
    parser.add_argument("--bookings", type=int, default=500_000)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--http-runs", type=int, default=100)
    parser.add_argument("--postgres", default=DEFAULT_POSTGRES, help="a server to create a db on")
    parser.add_argument("--no-postgres", action="store_true")
    return parser.parse_args()


if __name__ == "__main__":
    main()
