"""How long importing 2,000 rooms from the emulated tenant takes (target: under 10 s).

    python -m bench.rooms_import [--rooms 2000] [--room-lists 20] [--database-url URL]

Three runs against one graphsim tenant, each timed end to end (token, listing, directory
attributes through $batch where mapped, database writes): a first import with the
default field mappings, a second run that must change nothing, and a first import into
a fresh organization whose mappings also read a directory attribute of every room
account (one ``GET /users/{room}`` each, 20 per ``$batch``). Prints a table and writes
``bench/results/rooms_import.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
import uuid
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from pydantic import SecretStr

from graphsim import Simulator
from roomsync.platform.db import Database
from roomsync.platform.enums import SyncRunTrigger
from roomsync.platform.migrations import upgrade
from roomsync.platform.services.organizations import create_organization
from roomsync.settings import Settings
from roomsync.sync.context import SyncContext
from roomsync.sync.integration.configuration import create_integration
from roomsync.sync.rooms.field_mapping import FieldMapping, default_field_mappings
from roomsync.sync.rooms.workflow import sync_rooms

TARGET_SECONDS = 10.0
RESULTS = Path(__file__).parent / "results" / "rooms_import.json"
# A sign-in host msal does not run instance discovery against (graphsim answers any host).
LOGIN_URL = "https://login.graphsim.test"


@dataclass(frozen=True)
class Measurement:
    scenario: str
    rooms: int
    seconds: float
    graph_requests: int
    batch_calls: int
    counts: dict[str, int]


def main() -> None:
    args = _arguments()
    with tempfile.TemporaryDirectory(prefix="rooms-bench-") as scratch:
        url = args.database_url or f"sqlite:///{Path(scratch) / 'bench.db'}"
        measurements = run(url, rooms=args.rooms, room_lists=args.room_lists)
    _print(measurements)
    _save(measurements, url)
    first = measurements[0].seconds
    verdict = "met" if first < TARGET_SECONDS else "MISSED"
    print(f"\nTarget: {args.rooms} rooms imported in under {TARGET_SECONDS:.0f} s: {verdict}")


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rooms", type=int, default=2000)
    parser.add_argument("--room-lists", type=int, default=20)
    parser.add_argument("--database-url", help="Default: a fresh SQLite file.")
    return parser.parse_args()


def run(database_url: str, *, rooms: int, room_lists: int) -> list[Measurement]:
    upgrade(database_url)
    database = Database(database_url)
    sim = Simulator(seed=11)
    sim.seed(rooms=rooms, room_lists=room_lists, users=5, events_per_room=0,
             recurring_series=0, private_meetings=0)  # fmt: skip
    settings = Settings(
        _env_file=None, secret_key=SecretStr(uuid.uuid4().hex * 2), login_url=LOGIN_URL
    )
    ctx = SyncContext.build(settings, database, transport=sim.transport())
    try:
        plain = _integration(ctx, sim, default_field_mappings())
        with_directory = _integration(
            ctx,
            sim,
            (
                *default_field_mappings(),
                FieldMapping(field="wing", source=("directory:officeLocation",)),
            ),
        )
        return [
            _measure(ctx, sim, plain, "first import, default mappings"),
            _measure(ctx, sim, plain, "second run (nothing changes)"),
            _measure(ctx, sim, with_directory, "first import, + directory attribute"),
        ]
    finally:
        ctx.close()
        sim.close()
        database.dispose()


def _integration(ctx: SyncContext, sim: Simulator, mappings: tuple[FieldMapping, ...]) -> uuid.UUID:
    with ctx.database.session() as session:
        organization = create_organization(session, name=f"Bench {uuid.uuid4().hex[:6]}")
        return create_integration(
            session,
            ctx,
            organization_id=organization.id,
            tenant_id=sim.tenant_id,
            client_id=sim.credentials.client_id,
            client_secret=sim.credentials.client_secret,
            time_zone="Europe/Amsterdam",
            field_mappings=mappings,
        ).id


def _measure(
    ctx: SyncContext, sim: Simulator, integration_id: uuid.UUID, scenario: str
) -> Measurement:
    sim.requests.clear()
    started = time.perf_counter()
    report = sync_rooms(ctx, integration_id, trigger=SyncRunTrigger.MANUAL)
    seconds = time.perf_counter() - started
    return Measurement(
        scenario=scenario,
        rooms=report.counts["listed"],
        seconds=round(seconds, 3),
        graph_requests=sim.requests.count(include_batch_items=False),
        batch_calls=sim.requests.count(path_contains="$batch"),
        counts={k: v for k, v in sorted(report.counts.items()) if v},
    )


def _print(measurements: list[Measurement]) -> None:
    header = (
        f"{'scenario':<38} {'rooms':>6} {'seconds':>8} {'rooms/s':>8} {'HTTP':>6} {'$batch':>7}"
    )
    print(header)
    print("-" * len(header))
    for m in measurements:
        rate = m.rooms / m.seconds if m.seconds else 0.0
        print(
            f"{m.scenario:<38} {m.rooms:>6} {m.seconds:>8.2f} {rate:>8.0f} "
            f"{m.graph_requests:>6} {m.batch_calls:>7}"
        )


def _save(measurements: list[Measurement], database_url: str) -> None:
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    record = {
        "benchmark": "rooms_import",
        "measured_at": datetime.now(UTC).isoformat(),
        "database": database_url.split(":", 1)[0],
        "machine": {
            "python": sys.version.split()[0],
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
        },
        "target_seconds": TARGET_SECONDS,
        "measurements": [asdict(m) for m in measurements],
    }
    RESULTS.write_text(json.dumps(record, indent=2) + "\n")
    print(f"\nWrote {RESULTS}")


if __name__ == "__main__":
    main()
