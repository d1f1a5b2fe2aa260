"""Platform → Outlook latency: from the REST call that books a room to the room mailbox's
accepted copy, for a burst of bookings (``python -m bench.push_latency``).

graphsim runs as its own process (``graphsim serve``: HTTPS, 50 ms added to every Graph
call, Outlook throttling at its documented defaults of 4 concurrent requests and 10,000
per 10 minutes per app and mailbox), so it does not share roomsync's interpreter. roomsync
runs as ``roomsync run`` would: the REST API under uvicorn, Huey workers on threads, the
embedded SQLite database and queue. The bookings are posted by several clients at once;
each lands in a free slot of one of the rooms, with organizers spread over the tenant's
users. The room copy's ``createdDateTime`` is the instant the room accepted (graphsim and
roomsync share this machine's clock); the booking's ``confirmed`` history row is when the
platform learnt it from the room's answer (read back, no pull running).

Prints a table and writes ``bench/results/push_latency.json``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from pydantic import SecretStr
from sqlalchemy import func, select

from roomsync.platform.crypto import SecretBox
from roomsync.platform.db import Database
from roomsync.platform.enums import BookingStatus, HistoryKind, IntegrationMode, Role
from roomsync.platform.migrations import upgrade
from roomsync.platform.models import Booking, BookingHistory, EventLink, Integration
from roomsync.platform.services.buildings import create_building
from roomsync.platform.services.organizations import create_organization
from roomsync.platform.services.resources import create_resource
from roomsync.platform.services.tokens import create_api_token
from roomsync.runtime.runtime import Runtime
from roomsync.settings import Settings
from roomsync.web.app import create_app
from roomsync.web.server import serving_in_background

RESULTS = Path(__file__).parent / "results"
SECRET_KEY = SecretStr("benchmark-secret-key-0123456789-abcdefghijklmnop")
ZONE = "Europe/Paris"
FIRST_DAY = 20  # graphsim's seeded meetings lie within the next 10 days


@dataclass
class Options:
    bookings: int = 1000
    rooms: int = 20
    latency_ms: float = 50.0
    clients: int = 8
    workers: int = 8
    timeout: float = 900.0


@dataclass
class Platform:
    database: Database
    settings: Settings
    organization_id: uuid.UUID
    rooms: list[uuid.UUID]
    organizers: list[str]
    token: str


class Throttles(logging.Handler):
    """Counts the 429s roomsync's Graph client logs before it waits and retries."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:  # called under the handler's lock
        if isinstance(record.args, tuple) and 429 in record.args:
            self.count += 1


@contextlib.contextmanager
def served_graphsim(options: Options, workdir: Path) -> Iterator[dict[str, Any]]:
    config_path = workdir / "graphsim.json"
    command = [
        sys.executable, "-m", "graphsim", "serve", "--port", "0", "--rooms", str(options.rooms),
        "--latency-ms", str(options.latency_ms), "--config-out", str(config_path),
    ]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 120
        while not config_path.exists() or not config_path.read_text().strip():
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("graphsim serve did not start")
            time.sleep(0.1)
        time.sleep(0.2)
        yield json.loads(config_path.read_text())
    finally:
        process.terminate()
        process.wait(timeout=30)


def build_platform(config: dict[str, Any], workdir: Path) -> Platform:
    database_url = f"sqlite:///{workdir / 'roomsync.db'}"
    upgrade(database_url)
    settings = Settings(
        _env_file=None,
        database_url=database_url,
        queue_url=f"sqlite:///{workdir / 'queue.db'}",
        secret_key=SECRET_KEY,
        graph_url=config["graph_url"],
        login_url=config["login_url"],
        ca_bundle=Path(config["ca_bundle"]),
        log_level="WARNING",
    )
    database = Database(database_url)
    box = SecretBox(SECRET_KEY)
    with database.session() as session:
        organization = create_organization(session, name="Bench")
        building = create_building(
            session, organization_id=organization.id, name="HQ", time_zone=ZONE
        )
        session.add(
            Integration(
                organization_id=organization.id,
                tenant_id=config["tenant_id"],
                client_id=config["client_id"],
                client_secret_encrypted=box.encrypt(config["client_secret"]),
                time_zone=ZONE,
                mode=IntegrationMode.POLLING,
                enabled=True,
            )
        )
        rooms = [
            create_resource(
                session, building_id=building.id, name=room["name"], email=room["email"]
            ).id
            for room in config["rooms"]
        ]
        token = create_api_token(
            session, organization_id=organization.id, role=Role.ADMIN, name="bench"
        ).secret
    organizers = [user["email"] for user in config["users"]]
    return Platform(database, settings, organization.id, rooms, organizers, token)


# --- the burst ----------------------------------------------------------------------------


def slots(options: Options, platform_: Platform) -> list[tuple[uuid.UUID, str, datetime]]:
    """(room, organizer, start) for each booking: free half-hour slots, rooms in turn."""
    day0 = datetime.now(UTC).replace(hour=6, minute=0, second=0, microsecond=0)
    chosen = []
    for n in range(options.bookings):
        room = platform_.rooms[n % len(platform_.rooms)]
        slot = n // len(platform_.rooms)
        day, half_hour = divmod(slot, 24)
        start = day0 + timedelta(days=FIRST_DAY + day, minutes=30 * half_hour)
        chosen.append((room, platform_.organizers[n % len(platform_.organizers)], start))
    return chosen


def post_bookings(
    api: httpx.Client, wanted: list[tuple[uuid.UUID, str, datetime]], clients: int
) -> dict[uuid.UUID, datetime]:
    """POST every booking, ``clients`` at a time; when each call was made, by booking id."""

    def one(slot: tuple[uuid.UUID, str, datetime]) -> tuple[uuid.UUID, datetime]:
        room, organizer, start = slot
        called = datetime.now(UTC)
        body = {
            "resource_id": str(room),
            "organizer_email": organizer,
            "title": "Bench booking",
            "start": start.isoformat(),
            "end": (start + timedelta(minutes=30)).isoformat(),
        }
        response = api.post("bookings", json=body)
        response.raise_for_status()
        return uuid.UUID(response.json()["id"]), called

    with ThreadPoolExecutor(max_workers=clients) as pool:
        return dict(pool.map(one, wanted))


def wait_until_answered(database: Database, expected: int, timeout: float) -> float:
    """Seconds until no booking is pending any more (the room answered every push)."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        with database.session() as session:
            pending = session.scalar(
                select(func.count()).where(Booking.status == BookingStatus.PENDING)
            )
            total = session.scalar(select(func.count()).select_from(Booking))
        if total == expected and pending == 0:
            return time.monotonic() - started
        time.sleep(0.5)
    raise RuntimeError(f"bookings still pending after {timeout} s")


# --- measuring ----------------------------------------------------------------------------


def accepted_at(config: dict[str, Any]) -> dict[str, datetime]:
    """iCalUId → when the room wrote its copy (its ``createdDateTime``)."""
    found: dict[str, datetime] = {}
    with httpx.Client(base_url=config["graph_url"], verify=config["ca_bundle"]) as control:
        for room in config["rooms"]:
            events = control.get(f"/_sim/mailboxes/{room['email']}/events").raise_for_status()
            for event in events.json()["value"]:
                found[event["iCalUId"]] = datetime.fromisoformat(event["createdDateTime"])
    return found


def confirmed_at(database: Database) -> dict[uuid.UUID, datetime]:
    """When each booking became confirmed (its history row)."""
    with database.session() as session:
        rows = session.scalars(
            select(BookingHistory).where(BookingHistory.kind == HistoryKind.STATUS_CHANGED)
        )
        return {
            row.booking_id: row.created_at
            for row in rows
            if row.data.get("status", [None, None])[1] == BookingStatus.CONFIRMED.value
        }


def declined(database: Database) -> int:
    with database.session() as session:
        found = session.scalar(select(func.count()).where(Booking.status == BookingStatus.DECLINED))
        return int(found or 0)


def ical_uids(database: Database) -> dict[uuid.UUID, str]:
    with database.session() as session:
        rows = session.execute(select(EventLink.booking_id, EventLink.ical_uid))
        return {booking_id: uid for booking_id, uid in rows if uid}


def latencies(called: dict[uuid.UUID, datetime], done: dict[uuid.UUID, datetime]) -> list[float]:
    return sorted(
        (done[booking_id] - at).total_seconds()
        for booking_id, at in called.items()
        if booking_id in done
    )


def summary(values: list[float]) -> dict[str, float]:
    def pct(p: float) -> float:
        return values[min(len(values) - 1, round(p / 100 * (len(values) - 1)))]

    return {
        "count": len(values),
        "p50_s": round(statistics.median(values), 3),
        "p90_s": round(pct(90), 3),
        "p99_s": round(pct(99), 3),
        "max_s": round(values[-1], 3),
    }


# --- the run ------------------------------------------------------------------------------


def committed_at(database: Database) -> dict[uuid.UUID, datetime]:
    """When each booking's creating transaction committed (its ``created_at``)."""
    with database.session() as session:
        rows = session.execute(select(Booking.id, Booking.created_at))
        return {booking_id: at for booking_id, at in rows}


@contextlib.contextmanager
def platform_with_api(
    config: dict[str, Any], workdir: Path, workers: int
) -> Iterator[tuple[Platform, httpx.Client]]:
    """The platform on the served tenant with its workers running and its REST API served,
    and a client of that API with the admin token: what a push benchmark books through.
    The platform's database stays open afterwards, for reading what happened."""
    platform_ = build_platform(config, workdir)
    runtime = Runtime(platform_.settings, platform_.database)
    consumer = runtime.start_workers(workers=workers, periodic=False)
    try:
        app = create_app(platform_.settings, platform_.database)
        with (
            serving_in_background(app) as base_url,
            httpx.Client(
                base_url=f"{base_url}/api/v1/",
                headers={"Authorization": f"Bearer {platform_.token}"},
                timeout=120,
            ) as api,
        ):
            yield platform_, api
    finally:
        consumer.stop(graceful=True)
        runtime.close()


def run(options: Options, *, timeline: bool = False) -> dict[str, Any]:
    """The burst, measured; ``timeline`` adds each booking's stamps (bench.push_profile)."""
    throttles = Throttles()
    logging.getLogger("roomsync.m365.graph").addHandler(throttles)
    with (
        tempfile.TemporaryDirectory(prefix="roomsync-push-bench-") as scratch,
        served_graphsim(options, Path(scratch)) as config,
    ):
        with platform_with_api(config, Path(scratch), options.workers) as (platform_, api):
            started = time.monotonic()
            called = post_bookings(api, slots(options, platform_), options.clients)
            posted = time.monotonic() - started
            settled = wait_until_answered(platform_.database, options.bookings, options.timeout)
        uids = ical_uids(platform_.database)
        rooms = accepted_at(config)
        room_done = {b: rooms[uid] for b, uid in uids.items() if uid in rooms}
        confirmed = confirmed_at(platform_.database)
        declines = declined(platform_.database)
        committed = committed_at(platform_.database) if timeline else {}
        platform_.database.dispose()
    stamps = {
        "api_called": called,
        "api_committed": committed,
        "room_accepted": room_done,
        "confirmed": confirmed,
    }
    return ({"timeline": stamps} if timeline else {}) | {
        "benchmark": "push_latency",
        "when": datetime.now(UTC).isoformat(),
        "machine": f"{platform.machine()} {platform.python_implementation()} "
        f"{platform.python_version()}",
        "options": vars(options),
        "burst_posted_in_s": round(posted, 2),
        "all_answered_after_burst_s": round(settled, 2),
        "room_accepted": summary(latencies(called, room_done)),
        "platform_confirmed": summary(latencies(called, confirmed)),
        "graph_429_answers": throttles.count,
        "declined_by_rooms": declines,
    }


def print_table(result: dict[str, Any]) -> None:
    options = result["options"]
    print(
        f"push latency: {options['bookings']} bookings in a burst from {options['clients']} "
        f"clients, {options['rooms']} rooms, Graph +{options['latency_ms']:g} ms, "
        f"{options['workers']} workers, Outlook throttling on"
    )
    print(f"{'from the API call to':<32}{'n':>6}{'p50 s':>9}{'p90 s':>9}{'p99 s':>9}{'max s':>9}")
    for label, key in (
        ("the room's accepted copy", "room_accepted"),
        ("the booking confirmed", "platform_confirmed"),
    ):
        row = result[key]
        print(
            f"{label:<32}{row['count']:>6}{row['p50_s']:>9.2f}{row['p90_s']:>9.2f}"
            f"{row['p99_s']:>9.2f}{row['max_s']:>9.2f}"
        )
    print(
        f"burst posted in {result['burst_posted_in_s']} s; every room answered "
        f"{result['all_answered_after_burst_s']} s later; "
        f"{result['graph_429_answers']} throttled answers (429) retried; "
        f"{result['declined_by_rooms']} declined by their room"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    defaults = Options()
    for name, value in vars(defaults).items():
        parser.add_argument(f"--{name.replace('_', '-')}", type=type(value), default=value)
    options = Options(**vars(parser.parse_args()))
    result = run(options)
    print_table(result)
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / "push_latency.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"written to {out}")


if __name__ == "__main__":
    main()
