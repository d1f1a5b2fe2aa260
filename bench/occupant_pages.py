"""Server time of the occupant pages with 5,000 rooms (target: every page under 200 ms).

    python -m bench.occupant_pages [--rooms 5000] [--bookings 100000]
        [--postgres postgresql+psycopg://postgres@127.0.0.1:5432/postgres] [--no-postgres]

Seeds one organization (50 buildings, the rooms, bookings over five weeks) with bulk
inserts, serves roomsync with its shipped settings on a loopback port, signs a person in
(a session row and its cookie), and times each page over HTTP, 20 requests each after one
warm-up. Runs on SQLite in a temporary directory and on a fresh PostgreSQL database
(dropped afterwards). Prints p50/p99 against
the target and writes ``bench/results/occupant_pages.json``.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from sqlalchemy import insert
from tests.web.signin_testkit import free_port

from bench.harness import machine, print_table, write_results
from bench.initial_sync import DEFAULT_POSTGRES, fresh_postgres
from roomsync.platform.db import Database
from roomsync.platform.enums import BookingStatus, Origin, Role
from roomsync.platform.migrations import upgrade_database
from roomsync.platform.models import Booking, Resource
from roomsync.platform.services.buildings import create_building
from roomsync.platform.services.organizations import create_organization
from roomsync.platform.services.sessions import open_session
from roomsync.platform.services.users import create_user
from roomsync.settings import Settings
from roomsync.web.app import create_app
from roomsync.web.server import serving_in_background

TARGET_MS = 200.0
REQUESTS = 20
ZONE = "Europe/Paris"
EQUIPMENT = ["display", "video", "whiteboard", "phone"]


def seed(database: Database, rooms: int, bookings: int, settings: Settings) -> dict[str, Any]:
    """The organization, its rooms and bookings; returns the ids the pages need."""
    rng = random.Random(7)
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    with database.session() as session:
        organization = create_organization(session, name="Bench").id
        buildings = [
            create_building(
                session, organization_id=organization, name=f"B{i:02}", time_zone=ZONE
            ).id
            for i in range(50)
        ]
        user = create_user(session, organization_id=organization, email="p@bench.test", name="P")
        cookie = open_session(session, user=user, role=Role.OCCUPANT, settings=settings, now=now)
    room_ids = [uuid.uuid4() for _ in range(rooms)]
    with database.session() as session:
        session.execute(
            insert(Resource),
            [
                _room(i, rid, organization, buildings=buildings, rng=rng, now=now)
                for i, rid in enumerate(room_ids)
            ],
        )
    with database.session() as session:
        for first in range(0, bookings, 20_000):
            rows = [
                _booking(organization, rng.choice(room_ids), rng, now)
                for _ in range(min(20_000, bookings - first))
            ]
            session.execute(insert(Booking), rows)
    return {"cookie": cookie, "building": buildings[0], "room": room_ids[0]}


def _room(
    i: int,
    rid: uuid.UUID,
    org: uuid.UUID,
    *,
    buildings: list[uuid.UUID],
    rng: random.Random,
    now: datetime,
) -> dict[str, Any]:
    return {
        "id": rid, "organization_id": org, "building_id": buildings[i % len(buildings)],
        "name": f"Room {i:04}", "capacity": rng.choice([2, 4, 6, 8, 10, 20]), "floor": str(i % 5),
        "attributes": {"equipment": rng.sample(EQUIPMENT, 2), "accessibility": i % 3 == 0},
        "hidden_fields": [], "active": True, "origin": Origin.PLATFORM,
        "created_at": now, "updated_at": now,
    }  # fmt: skip


def _booking(org: uuid.UUID, room: uuid.UUID, rng: random.Random, now: datetime) -> dict[str, Any]:
    start = now + timedelta(hours=rng.randint(-24 * 7, 24 * 28))
    return {
        "id": uuid.uuid4(), "organization_id": org, "resource_id": room,
        "organizer_email": "someone@bench.test", "title": "Meeting", "start_at": start,
        "end_at": start + timedelta(minutes=30 * rng.randint(1, 4)), "all_day": False,
        "private": False, "status": BookingStatus.CONFIRMED, "origin": Origin.PLATFORM,
        "version": 1, "created_at": now, "updated_at": now,
    }  # fmt: skip


def pages(ids: dict[str, Any]) -> dict[str, str]:
    day = (datetime.now(UTC) + timedelta(days=2)).astimezone(ZoneInfo(ZONE)).date()
    search = f"/?date={day}&start=10:00&duration=60"
    return {
        "finder, one building, 6 people": f"{search}&people=6&building={ids['building']}",
        "finder, all buildings, 6 people, display": f"{search}&people=6&equipment=display",
        "finder, all buildings": search,
        "my bookings": "/my",
        "room page": f"/rooms/{ids['room']}",
    }


def measure(database_url: str, rooms: int, bookings: int) -> list[dict[str, Any]]:
    port = free_port()
    settings = Settings(
        _env_file=None, database_url=database_url, public_url=f"http://127.0.0.1:{port}"
    )
    database = Database(database_url)
    upgrade_database(database)
    ids = seed(database, rooms, bookings, settings)
    found = []
    with (
        serving_in_background(create_app(settings, database), port=port) as base,
        httpx.Client(
            base_url=base, cookies={"roomsync_session": ids["cookie"]}, timeout=60
        ) as client,
    ):
        for label, path in pages(ids).items():
            client.get(path)
            times = sorted(_timed(client, path) for _ in range(REQUESTS))
            size = len(client.get(path).content)
            p99 = times[min(len(times) - 1, round(0.99 * len(times)) - 1)]
            found.append(
                {
                    "page": label,
                    "p50_ms": statistics.median(times),
                    "p99_ms": p99,
                    "kb": size / 1024,
                }
            )
    database.dispose()
    return found


def _timed(client: httpx.Client, path: str) -> float:
    started = time.perf_counter()
    answer = client.get(path)
    answer.raise_for_status()
    return (time.perf_counter() - started) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rooms", type=int, default=5000)
    parser.add_argument("--bookings", type=int, default=100_000)
    parser.add_argument("--postgres", default=DEFAULT_POSTGRES, help="a server to create a db on")
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    results: dict[str, list[dict[str, Any]]] = {}
    with tempfile.TemporaryDirectory() as folder:
        results["sqlite"] = measure(
            f"sqlite:///{Path(folder) / 'bench.db'}", args.rooms, args.bookings
        )
    if not args.no_postgres:
        with fresh_postgres(args.postgres) as url:
            results["postgresql"] = measure(url, args.rooms, args.bookings)
    rows = [
        [
            kind,
            r["page"],
            f"{r['p50_ms']:.0f}",
            f"{r['p99_ms']:.0f}",
            f"{r['p99_ms'] / TARGET_MS:.2f}",
            "yes" if r["p99_ms"] < TARGET_MS else "no",
            f"{r['kb']:.0f}",
        ]
        for kind, found in results.items()
        for r in found
    ]
    print_table(
        f"Occupant pages, {args.rooms:,} rooms and {args.bookings:,} bookings "
        f"(target p99 < {TARGET_MS:.0f} ms)",
        ["database", "page", "p50_ms", "p99_ms", "p99/target", "met", "KB"],
        rows,
    )
    write_results(
        "occupant_pages",
        {"machine": machine(), "rooms": args.rooms, "bookings": args.bookings, "results": results},
    )


if __name__ == "__main__":
    main()
