"""The console's pages with 5,000 rooms: how long the server takes to answer each, and how
large the answer is, against the targets of 200 ms and 100 KB.

The database (SQLite in a temporary directory, or ``--database-url``) is seeded through the
platform services — an organization, 25 buildings of 200 rooms with mailboxes, an
integration — plus one room-sync state per room, as after a pull. roomsync then serves its
shipped app on loopback and each page is fetched ``--repeat`` times by a signed-in
super-admin; the time is the loopback round trip, so it bounds the server time from above.
Measured side by side in the same run: ``/healthz`` (the floor of any answer) and the
status API, which reads every room, as the dashboard did before it read one page.

    python -m bench.pages [--rooms 5000] [--repeat 15] [--database-url URL]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path

import httpx
from pydantic import SecretStr
from sqlalchemy import insert, select

from bench.harness import SECRET_KEY, ZONE, print_table, write_results
from roomsync.platform.db import Database, new_id, utcnow
from roomsync.platform.migrations import upgrade
from roomsync.platform.models import Resource, RoomSyncState
from roomsync.platform.services.buildings import create_building
from roomsync.platform.services.organizations import create_organization
from roomsync.platform.services.resources import create_resource
from roomsync.settings import Settings
from roomsync.sync.context import SyncContext
from roomsync.sync.integration.configuration import create_integration
from roomsync.web.app import create_app
from roomsync.web.server import serving_in_background

TARGET_MS = 200.0
TARGET_BYTES = 100_000
ADMIN_TOKEN = "bench-admin-token-0123456789-abcdefghijklmnop"
ROOMS_PER_BUILDING = 200


def seed(database: Database, ctx: SyncContext, rooms: int) -> tuple[uuid.UUID, uuid.UUID]:
    """The organization's integration id and one room id."""
    with database.session() as session:
        organization = create_organization(session, name="Bench Corp")
        integration = create_integration(
            session, ctx, organization_id=organization.id, time_zone=ZONE,
            tenant_id=str(uuid.uuid4()), client_id=str(uuid.uuid4()),
            client_secret="bench-secret", client_secret_expires_at=utcnow() + timedelta(days=20),
        )  # fmt: skip
        organization_id, integration_id = organization.id, integration.id
    for start in range(0, rooms, ROOMS_PER_BUILDING):
        with database.session() as session:
            number = start // ROOMS_PER_BUILDING + 1
            building = create_building(
                session, organization_id=organization_id, name=f"Building {number:02d}",
                time_zone=ZONE, m365_room_list_email=f"building{number:02d}@bench.test",
            )  # fmt: skip
            for n in range(start, min(start + ROOMS_PER_BUILDING, rooms)):
                create_resource(
                    session, building_id=building.id, name=f"Room {n:05d}",
                    email=f"room{n:05d}@bench.test", capacity=4 + n % 12, floor=str(n % 9),
                    attributes={"equipment": ["screen"]}, hidden_fields=["capacity"],
                )  # fmt: skip
    _pulled(database, integration_id)
    with database.session() as session:
        some_room = session.scalars(select(Resource.id).limit(1)).one()
    return integration_id, some_room


def _pulled(database: Database, integration_id: uuid.UUID) -> None:
    """One room-sync state per room, as a finished pull leaves it."""
    with database.session() as session:
        now = utcnow()
        ids = session.scalars(select(Resource.id)).all()
        session.execute(insert(RoomSyncState), [
            {"id": new_id(), "resource_id": rid, "integration_id": integration_id,
             "last_round_at": now, "last_success_at": now - timedelta(seconds=i % 300),
             "last_outcome": "succeeded", "events_seen": i % 40, "consecutive_failures": 0,
             "created_at": now, "updated_at": now}
            for i, rid in enumerate(ids)
        ])  # fmt: skip


def measure(client: httpx.Client, path: str, repeat: int) -> dict[str, float]:
    client.get(path)  # warm the templates and caches
    times, size, status = [], 0, 0
    for _ in range(repeat):
        started = time.perf_counter()
        answer = client.get(path)
        times.append((time.perf_counter() - started) * 1000)
        size, status = len(answer.content), answer.status_code
    ordered = sorted(times)
    return {
        "status": status,
        "median_ms": statistics.median(ordered),
        "p95_ms": ordered[max(0, round(0.95 * len(ordered)) - 1)],
        "bytes": size,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rooms", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        url = args.database_url or f"sqlite:///{Path(scratch) / 'pages.db'}"
        upgrade(url)
        settings = Settings(
            _env_file=None, database_url=url, secret_key=SECRET_KEY,
            admin_token=SecretStr(ADMIN_TOKEN),
        )  # fmt: skip
        database = Database(url)
        ctx = SyncContext.build(settings, database)
        integration_id, room_id = seed(database, ctx, args.rooms)
        dashboard = f"/admin/integrations/{integration_id}"
        paths = {
            "dashboard": dashboard,
            "dashboard refresh": f"{dashboard}/live",
            "dashboard, by lag, p. 40": f"{dashboard}?rooms_sort=lag&rooms_dir=desc&rooms_page=40",
            "dashboard, rooms filtered": f"{dashboard}/live?rooms_q=room049",
            "rooms list": "/admin/rooms",
            "rooms search": "/admin/rooms?q=room04",
            "buildings": "/admin/buildings",
            "a room": f"/admin/rooms/{room_id}",
            "tokens": "/admin/tokens",
            # side by side: the floor of any answer, and the status API reading every room
            "/healthz": "/healthz",
            "API status (every room)": f"/api/v1/integrations/{integration_id}/status",
        }
        results = {}
        app = create_app(settings, database, sync_context=ctx)
        with serving_in_background(app) as base, httpx.Client(base_url=base, timeout=60) as client:
            client.post("/admin/sign-in", data={"admin_token": ADMIN_TOKEN, "next": "/admin"})
            client.headers["Authorization"] = f"Bearer {ADMIN_TOKEN}"  # for the API row
            for name, path in paths.items():
                results[name] = measure(client, path, args.repeat)
        ctx.close()
        database.dispose()
    floor = results["/healthz"]["median_ms"]
    rows = [
        [name, r["status"], f"{r['median_ms']:.0f}", f"{r['p95_ms']:.0f}",
         f"{r['p95_ms'] / TARGET_MS:.2f}", f"{r['median_ms'] / floor:.1f}",
         f"{r['bytes'] / 1000:.0f}", f"{r['bytes'] / TARGET_BYTES:.2f}"]
        for name, r in results.items()
    ]  # fmt: skip
    print_table(
        f"Console pages with {args.rooms} rooms (targets {TARGET_MS:.0f} ms, 100 KB)",
        ["page", "status", "median ms", "p95 ms", "p95/target", "vs healthz", "KB", "size/target"],
        rows,
    )
    name = "pages_postgresql" if args.database_url else "pages"
    write_results(name, {"rooms": args.rooms, "repeat": args.repeat, "pages": results})


if __name__ == "__main__":
    main()
