"""The Outlook side of bench/listener_latency.py: changes planned so that each lands in a
slot of its own, made through graphsim's control API by a process of their own (the
people using Outlook do not share roomsync's interpreter), and a watcher that stamps each
change when the platform database first shows it committed."""

from __future__ import annotations

import multiprocessing
import random
import sqlite3
import threading
import time
import uuid
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from bench.harness import ServedTenant
from roomsync.platform.db import Database
from roomsync.platform.enums import BookingStatus

POLL_SECONDS = 0.02
MARGIN_SECONDS = 1.0  # bookings.updated_at is set at flush; the commit follows within this
FIRST_DAY = 20  # graphsim's seeded meetings lie within the next 10 days
KINDS = ("create", "move", "cancel")


@dataclass(frozen=True)
class Change:
    kind: str
    room: str  # email
    organizer: str
    slot: datetime  # where the booking is expected: (room, slot)
    event_id: str | None = None  # the organizer's event, for a move or a cancel


# --- the changes --------------------------------------------------------------------------


def plan_changes(
    config: dict[str, Any], changes: int, seed: int
) -> tuple[list[Change], list[Change]]:
    """(meetings to book before the run, the changes): per room a third new meetings, a
    third moves and a third cancels of meetings booked before the run, each slot unique."""
    rooms = [room["email"].lower() for room in config["rooms"]]
    users = [user["email"] for user in config["users"]]
    day0 = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    day0 += timedelta(days=FIRST_DAY)
    rng = random.Random(seed)
    kinds = [KINDS[n % len(KINDS)] for n in range(changes)]
    rng.shuffle(kinds)
    before: list[Change] = []
    planned: list[Change] = []
    for n, kind in enumerate(kinds):
        room = rooms[n % len(rooms)]
        slot = day0 + timedelta(days=n // len(rooms), hours=7, minutes=0)
        moved = slot + timedelta(hours=3)
        organizer = users[n % len(users)]
        if kind == "create":
            planned.append(Change(kind, room, organizer, slot))
        else:
            before.append(Change("create", room, organizer, slot))
            planned.append(Change(kind, room, organizer, moved if kind == "move" else slot))
    rng.shuffle(planned)
    return before, planned


def book(control: httpx.Client, change: Change) -> str:
    body = {
        "organizer": change.organizer,
        "rooms": [change.room],
        "subject": "Bench meeting",
        "start": change.slot.isoformat(),
        "end": (change.slot + timedelta(minutes=30)).isoformat(),
    }
    return str(control.post("/_sim/outlook/meetings", json=body).raise_for_status().json()["id"])


def perform(control: httpx.Client, change: Change) -> None:
    if change.kind == "create":
        book(control, change)
        return
    path = f"/_sim/outlook/meetings/{change.event_id}/{change.kind}"
    body: dict[str, Any] = {"organizer": change.organizer}
    if change.kind == "move":
        body |= {
            "start": change.slot.isoformat(),
            "end": (change.slot + timedelta(minutes=30)).isoformat(),
        }
    control.post(path, json=body).raise_for_status()


def book_before(tenant: ServedTenant, before: list[Change], planned: list[Change]) -> list[Change]:
    """Book the meetings the moves and cancels act on; the changes with their event ids."""
    with tenant.control() as control, ThreadPoolExecutor(16) as pool:
        ids = list(pool.map(lambda change: book(control, change), before))
        control.post("/_sim/settle").raise_for_status()
    by_room = defaultdict(list)
    for change, event_id in zip(before, ids, strict=True):
        by_room[change.room].append((change, event_id))
    resolved = []
    for change in planned:
        if change.kind == "create":
            resolved.append(change)
            continue
        original, event_id = by_room[change.room].pop()
        slot = change.slot if change.kind == "move" else original.slot
        resolved.append(Change(change.kind, change.room, original.organizer, slot, event_id))
    return resolved


def drive(tenant: ServedTenant, changes: list[Change], over: float) -> dict[int, float]:
    """Make the changes from a process of their own; when each control call returned."""
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(1, mp_context=context) as process:
        return process.submit(_drive_here, tenant, changes, over).result()


def _drive_here(tenant: ServedTenant, changes: list[Change], over: float) -> dict[int, float]:
    """Each change at its due time (evenly spread over ``over`` seconds)."""
    start = time.monotonic() + 0.5
    step = over / len(changes)

    def one(n: int) -> tuple[int, float]:
        time.sleep(max(0.0, start + n * step - time.monotonic()))
        perform(control, changes[n])
        return n, time.time()

    with tenant.control() as control, ThreadPoolExecutor(32) as pool:
        return dict(pool.map(one, range(len(changes))))


# --- watching the platform ----------------------------------------------------------------


class CommitWatcher:
    """Stamps each change the first time the platform database shows it committed.

    It reads the SQLite file with the sqlite3 module and a read-only connection: cheap
    (it shares the interpreter with roomsync) and never taking roomsync's write lock, as
    roomsync's own sessions would (BEGIN IMMEDIATE)."""

    def __init__(self, database: Database, rooms: dict[str, uuid.UUID], changes: list[Change]):
        path = database.engine.url.database
        self.connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
        self.expected: dict[tuple[str, str], list[int]] = defaultdict(list)
        for n, change in enumerate(changes):
            self.expected[(rooms[change.room].hex, _stored(change.slot))].append(n)
        self.changes = changes
        self.stop = threading.Event()
        self.polls = 0

    def run(self, committed: dict[int, float]) -> None:
        since = _stored(datetime.now(UTC) - timedelta(seconds=5))
        while not self.stop.is_set():
            seen_at = time.time()
            newest = self._look(since, seen_at, committed)
            if newest is not None:  # a transaction may commit after a newer one: margin
                margin = datetime.fromisoformat(newest) - timedelta(seconds=MARGIN_SECONDS)
                since = max(since, _stored(margin))
            self.polls += 1
            time.sleep(POLL_SECONDS)
        self.connection.close()

    def _look(self, since: str, seen_at: float, committed: dict[int, float]) -> str | None:
        rows = self.connection.execute(
            "SELECT resource_id, start_at, status, updated_at FROM bookings WHERE updated_at >= ?",
            (since,),
        ).fetchall()
        for room, start, status, _ in rows:
            for n in self.expected.get((room, start), ()):
                # No slot holds such a booking before its change: seen means done.
                cancelled = status == BookingStatus.CANCELLED.value
                if n not in committed and cancelled == (self.changes[n].kind == "cancel"):
                    committed[n] = seen_at
        return max((row[3] for row in rows), default=None)

    def done(self, committed: dict[int, float]) -> bool:
        return len(committed) == len(self.changes)


def _stored(instant: datetime) -> str:
    """An instant as roomsync's SQLite columns hold it (naive UTC)."""
    return instant.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")
