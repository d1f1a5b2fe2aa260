"""Steady-state pull round: roomsync with its shipped defaults next to plain clients, in one run.

For each size: graphsim serves N rooms (its own process, HTTPS, 50 ms added to every Graph
call, Outlook throttling on); roomsync imports them and runs the initial round; then, round
after round, ~1% of rooms get a new meeting and one method runs a steady round over every
room, on the same graphsim process, methods interleaved:

- **roomsync** as a user gets it: an integration with no options set (shipped defaults);
  any other setting (``--in-flight``) is a row of its own, labelled with the setting;
- **plain peer**: the best plain client a few dozen lines make (``bench/peer_client.py``:
  asyncio, individual delta GETs from the same saved links, 256 in flight, at most 4 per
  mailbox, Retry-After honoured); it only fetches, roomsync also applies;
- **sequential**: one delta GET per room after the other with httpx, timed over a sample
  of rooms and scaled to N (it is linear).

Each row prints the round's wall time, the model time (what Graph's rules alone cost that
method: graphsim's latency per call, 4 items of a ``$batch`` at a time, the method's
requests in flight), the client's CPU per room (this process: ``time.process_time``) and
graphsim's CPU per delta request (its process, from /proc/PID/stat), so a reader sees
whether the client, graphsim or Graph's rules bound the round.

The lower bound Graph's limits allow: each room needs one request; Outlook's per-mailbox
limits (4 concurrent, 10,000 per 10 minutes) are never reached by one request per room, so
what binds is the app-wide 130,000 requests per 10 seconds and one round trip:
max(latency, N / 13,000 per second).

    python -m bench.pull_round [--rooms 1000 5000 20000] [--repeats 2] [--in-flight 16 32]
        [--sample 100] [--latency-ms 50] [--profile /tmp/pull.txt]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib
import math
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import select

from bench.harness import (
    Platform,
    ServedTenant,
    platform_for,
    print_table,
    process_cpu_seconds,
    served_graphsim,
    write_results,
)
from roomsync.m365.batch import MAX_BATCH_SIZE
from roomsync.m365.calendar import delta_headers
from roomsync.platform.enums import SyncRunTrigger
from roomsync.platform.models import Integration, Resource, RoomSyncState
from roomsync.sync.integration.connection import graph_for
from roomsync.sync.options import IntegrationOptions
from roomsync.sync.pull.workflow import pull_bookings

GLOBAL_REQUESTS_PER_SECOND = 130_000 / 10
CHANGED_SHARE = 0.01
OUTLOOK_ITEMS_AT_A_TIME = 4
PEER_IN_FLIGHT = 256
SHIPPED = "roomsync (shipped defaults)"


@dataclass(frozen=True)
class Row:
    method: str
    round_s: float
    model_s: float
    delta_requests: int
    throttled_429: int
    client_cpu_ms_per_room: float
    graphsim_cpu_ms_per_request: float
    note: str = ""


@dataclass(frozen=True)
class Run:
    """One timed round: wall and CPU seconds of both processes, Graph's counts."""

    seconds: float
    client_cpu: float
    graphsim_cpu: float
    delta_requests: int
    throttled: int


def measure(rooms: int, args: argparse.Namespace) -> dict[str, Any]:
    latency = args.latency_ms / 1000
    with served_graphsim(rooms=rooms, latency_ms=args.latency_ms) as tenant:
        platform = platform_for(tenant)
        started = time.perf_counter()
        pull_bookings(platform.ctx, platform.integration_id, trigger=SyncRunTrigger.MANUAL)
        initial_seconds = time.perf_counter() - started
        bench = _Bench(tenant, platform, rooms)
        runs: dict[str, list[Run]] = {}
        shipped = IntegrationOptions().max_batches_in_flight
        # Each method is made ready (its links read) before its round is timed.
        methods: list[tuple[str, Callable[[], Callable[[], object]], float]] = [
            (SHIPPED, lambda: bench.roomsync_round, _batched_model(rooms, shipped, latency))
        ]
        if (peer := _peer_round(tenant, bench)) is not None:
            methods.append(("plain peer, 256 in flight", peer, _peer_model(rooms, latency)))
        for repeat in range(args.repeats):
            for name, prepare, _ in methods:
                profile = (
                    args.profile if (repeat, name, rooms) == (0, SHIPPED, max(args.rooms)) else None
                )
                runs.setdefault(name, []).append(bench.timed(prepare(), profile=profile))
        for in_flight in args.in_flight:
            name = f"roomsync, max_batches_in_flight={in_flight} (not the default)"
            with bench.options({"max_batches_in_flight": in_flight}):
                runs[name] = [bench.timed(bench.roomsync_round)]
            methods.append(
                (name, lambda: bench.roomsync_round, _batched_model(rooms, in_flight, latency))
            )
        # The same round once more with nothing changed in Outlook: every room is quiet.
        quiet = bench.timed(bench.roomsync_round, changes=False)
        sequential = bench.sequential_seconds_per_room(args.sample) * rooms
        platform.ctx.close()
    rows = [_row(name, runs[name], model, rooms) for name, _, model in methods]
    rows.append(
        Row("sequential httpx loop (sampled)", round(sequential, 1), round(rooms * latency, 1),
            rooms, 0, 0.0, 0.0, f"{min(args.sample, rooms)} rooms timed, scaled to {rooms}")
    )  # fmt: skip
    summary = _summary(rooms, latency, initial_seconds, rows, shipped)
    changed = max(1, round(rooms * CHANGED_SHARE))
    unchanged_cpu = quiet.client_cpu / rooms
    best = min(runs[SHIPPED], key=lambda run: run.client_cpu)
    return summary | {
        "roomsync_cpu_ms_per_unchanged_room": round(1000 * unchanged_cpu, 3),
        "roomsync_cpu_ms_per_changed_room": round(
            1000 * (best.client_cpu - unchanged_cpu * (rooms - changed)) / changed, 2
        ),
        "quiet_round_s": round(quiet.seconds, 2),
    }


def _row(name: str, runs: list[Run], model: float, rooms: int) -> Row:
    """The best of the method's rounds (the machine's load only ever adds time), with the
    CPU of that same round."""
    best = min(runs, key=lambda run: run.seconds)
    note = (
        f"best of {len(runs)}: " + ", ".join(f"{r.seconds:.2f}" for r in runs)
        if len(runs) > 1
        else ""
    )
    return Row(
        name, round(best.seconds, 2), round(model, 3), best.delta_requests,
        sum(r.throttled for r in runs),
        round(1000 * best.client_cpu / rooms, 3),
        round(1000 * best.graphsim_cpu / max(1, best.delta_requests), 3), note,
    )  # fmt: skip


def _summary(
    rooms: int, latency: float, initial_seconds: float, rows: list[Row], shipped: int
) -> dict[str, Any]:
    by_method = {row.method: row for row in rows}
    ours = by_method[SHIPPED]
    peer = next((row for row in rows if row.method.startswith("plain peer")), None)
    sequential = rows[-1]
    lower_bound = max(latency, rooms / GLOBAL_REQUESTS_PER_SECOND)
    return {
        "rooms": rooms,
        "latency_ms": latency * 1000,
        "max_batches_in_flight": shipped,
        "initial_round_s": round(initial_seconds, 2),
        "round_s": ours.round_s,
        "throttled_429": sum(row.throttled_429 for row in rows),
        "roomsync_cpu_ms_per_room": ours.client_cpu_ms_per_room,
        "graphsim_cpu_ms_per_request": ours.graphsim_cpu_ms_per_request,
        "peer_s": peer.round_s if peer else None,
        "ratio_vs_peer": round(peer.round_s / ours.round_s, 2) if peer else None,
        "sequential_s": sequential.round_s,
        "ratio_vs_sequential": round(sequential.round_s / ours.round_s, 1),
        "lower_bound_s": round(lower_bound, 3),
        "ratio_vs_lower_bound": round(ours.round_s / lower_bound, 1),
        "rows": [asdict(row) for row in rows],
    }


def _batched_model(rooms: int, in_flight: int, latency: float) -> float:
    """Graph's time for ``$batch`` calls of 20, ``in_flight`` at a time, each running its
    items 4 at a time (one round trip per wave of 4)."""
    batches = math.ceil(rooms / MAX_BATCH_SIZE)
    waves = math.ceil(MAX_BATCH_SIZE / OUTLOOK_ITEMS_AT_A_TIME)
    return max(1, math.ceil(batches / in_flight)) * waves * latency


def _peer_model(rooms: int, latency: float) -> float:
    return math.ceil(rooms / PEER_IN_FLIGHT) * latency


class _Bench:
    """One size's platform and tenant: timed rounds, each after its own Outlook changes."""

    def __init__(self, tenant: ServedTenant, platform: Platform, rooms: int) -> None:
        self.tenant, self.platform, self.rooms = tenant, platform, rooms
        self.changes = 0

    def roomsync_round(self) -> None:
        ctx, integration = self.platform.ctx, self.platform.integration_id
        report = pull_bookings(ctx, integration, trigger=SyncRunTrigger.MANUAL)
        if report.errors:
            raise RuntimeError(f"the round failed: {report.errors[:3]}")

    def timed(
        self, method: Callable[[], object], *, profile: str | None = None, changes: bool = True
    ) -> Run:
        if changes:
            self._change_some_rooms()
        delta_before = self.tenant.count_requests(path_contains="calendarView/delta")
        throttled_before = self.tenant.count_requests(status=429)
        graphsim = self.tenant.process_id or 0
        with _py_spy(profile):
            graphsim_before, cpu_before = process_cpu_seconds(graphsim), time.process_time()
            started = time.perf_counter()
            method()
            seconds = time.perf_counter() - started
            cpu = time.process_time() - cpu_before
            graphsim_cpu = process_cpu_seconds(graphsim) - graphsim_before
        requests = self.tenant.count_requests(path_contains="calendarView/delta") - delta_before
        throttled = self.tenant.count_requests(status=429) - throttled_before
        return Run(seconds, cpu, graphsim_cpu, requests, throttled)

    @contextlib.contextmanager
    def options(self, options: dict[str, Any]) -> Iterator[None]:
        """The integration with ``options`` set for the block, then the defaults again."""
        with self.platform.ctx.database.session() as session:
            session.get_one(Integration, self.platform.integration_id).options = options
        try:
            yield
        finally:
            with self.platform.ctx.database.session() as session:
                session.get_one(Integration, self.platform.integration_id).options = {}

    def saved_links(self) -> list[tuple[str, str]]:
        """(room mailbox, saved deltaLink) of every room, as roomsync left them."""
        with self.platform.ctx.database.session() as session:
            rows = session.execute(
                select(Resource.email, RoomSyncState.delta_link).join(
                    RoomSyncState, RoomSyncState.resource_id == Resource.id
                )
            ).all()
        return [(str(email), str(link)) for email, link in rows if email and link]

    def token(self) -> str:
        with self.platform.ctx.database.session() as session:
            integration = session.get_one(Integration, self.platform.integration_id)
        return graph_for(self.platform.ctx, integration).tokens.token()

    def sequential_seconds_per_room(self, sample: int) -> float:
        """The first client a team writes: one delta GET per room, one after the other."""
        links = self.saved_links()[:sample]
        headers = {"Authorization": f"Bearer {self.token()}", **delta_headers()}
        with httpx.Client(verify=self.tenant.ca_bundle, timeout=60) as client:
            started = time.perf_counter()
            for _, link in links:
                client.get(link, headers=headers).raise_for_status()
            elapsed = time.perf_counter() - started
        return elapsed / max(1, len(links))

    def _change_some_rooms(self) -> None:
        """A new meeting in ~1% of rooms (a different day each round, so none collides)."""
        self.changes += 1
        rooms = sorted(self.platform.rooms)[:: max(1, round(1 / CHANGED_SHARE))]
        organizer = self.tenant.config["users"][0]["email"]
        today = datetime.now(UTC).replace(hour=8, minute=0, second=0, microsecond=0)
        start = today + timedelta(days=1 + self.changes % 60)
        with self.tenant.control() as control:
            for n, room in enumerate(rooms):
                slot = start + timedelta(minutes=30 * (n % 16))
                body = {
                    "organizer": organizer, "rooms": room, "subject": f"Bench change {n}",
                    "start": slot.isoformat(), "end": (slot + timedelta(minutes=30)).isoformat(),
                }  # fmt: skip
                control.post("/_sim/outlook/meetings", json=body).raise_for_status()
            control.post("/_sim/settle").raise_for_status()


def _peer_round(tenant: ServedTenant, bench: _Bench) -> Callable[[], Callable[[], object]] | None:
    """The plain peer's round over the links roomsync saved (read before the clock starts),
    or None where ``bench/peer_client.py`` is not there."""
    try:
        peer_client: Any = importlib.import_module("bench.peer_client")
    except ImportError:
        return None

    def prepare() -> Callable[[], object]:
        links, token = dict(bench.saved_links()), bench.token()
        return lambda: asyncio.run(
            peer_client.run_peer_round(
                tenant.base_url, token, list(links), links, ca_bundle=tenant.ca_bundle,
                in_flight=PEER_IN_FLIGHT,
            )
        )  # fmt: skip

    return prepare


@contextlib.contextmanager
def _py_spy(output: str | None) -> Iterator[None]:
    """py-spy recording this process (every thread, only while it runs Python: the CPU)
    for the block, when ``output`` is given."""
    if output is None:
        yield
        return
    spy = os.path.join(os.path.dirname(sys.executable), "py-spy")
    command = [spy, "record", "--pid", str(os.getpid()), "--threads", "--gil", "--rate", "250",
               "--format", "raw", "--nonblocking", "--output", output]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(1.0)  # py-spy attaches
    try:
        yield
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=60)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rooms", type=int, nargs="+", default=[1000, 5000])
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--repeats", type=int, default=2, help="rounds per method and size")
    parser.add_argument(
        "--in-flight", type=int, nargs="*", default=[],
        help="also time roomsync with these max_batches_in_flight (labelled)",
    )  # fmt: skip
    parser.add_argument("--sample", type=int, default=100, help="rooms the sequential loop times")
    parser.add_argument("--profile", help="py-spy the first shipped round of the largest size")
    args = parser.parse_args()
    results = [measure(n, args) for n in args.rooms]
    for result in results:
        columns = list(Row.__dataclass_fields__)
        print_table(
            f"Steady round, {result['rooms']} rooms ({args.latency_ms:.0f} ms per Graph call, "
            f"~1% of rooms changed, Outlook throttling on); lower bound "
            f"{result['lower_bound_s']} s; initial round {result['initial_round_s']} s",
            columns,
            [[row[c] for c in columns] for row in result["rows"]],
        )
    columns = [
        "rooms", "round_s", "ratio_vs_peer", "ratio_vs_sequential", "ratio_vs_lower_bound",
        "roomsync_cpu_ms_per_room", "roomsync_cpu_ms_per_unchanged_room",
        "roomsync_cpu_ms_per_changed_room", "graphsim_cpu_ms_per_request", "throttled_429",
    ]  # fmt: skip
    print_table("Shipped defaults", columns, [[r[c] for c in columns] for r in results])
    path = write_results("pull_round", {"results": results})
    print(f"\nwritten to {path}")


if __name__ == "__main__":
    main()
