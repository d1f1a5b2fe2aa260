"""Steady-state pull round: roomsync next to a plain sequential loop, in one run.

For each size: graphsim serves N rooms (its own process, HTTPS, 50 ms added to every Graph
call, Outlook throttling on); roomsync imports them and runs the initial round; then ~1% of
rooms get a new meeting and the steady-state round is timed. The baseline is what a team
writes first: one ``calendarView/delta`` GET per room from its saved deltaLink, one after
the other, with httpx. It is timed over a sample of rooms and scaled to N (it is linear),
so the run stays short; the ratio is the figure.

The lower bound the limits allow: each room needs at least one request; Outlook's limits
are per mailbox (4 concurrent, 10,000 per 10 minutes), which one request per room never
reaches, so what binds is the app-wide 130,000 requests per 10 seconds and one round trip
of latency: max(latency, N / 13,000 per second).

    python -m bench.pull_round [--rooms 1000 5000] [--latency-ms 50] [--sample 300]
"""

from __future__ import annotations

import argparse
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import select

from bench.harness import (
    Platform,
    ServedTenant,
    platform_for,
    print_table,
    served_graphsim,
    write_results,
)
from roomsync.m365.calendar import delta_headers
from roomsync.platform.enums import SyncRunTrigger
from roomsync.platform.models import Integration, RoomSyncState
from roomsync.sync.integration.connection import graph_for
from roomsync.sync.pull.workflow import pull_bookings

GLOBAL_REQUESTS_PER_SECOND = 130_000 / 10
CHANGED_SHARE = 0.01


def measure(rooms: int, latency_ms: float, sample: int) -> dict[str, Any]:
    with served_graphsim(rooms=rooms, latency_ms=latency_ms) as tenant:
        platform = platform_for(tenant)
        started = time.perf_counter()
        initial = pull_bookings(
            platform.ctx, platform.integration_id, trigger=SyncRunTrigger.MANUAL
        )
        initial_seconds = time.perf_counter() - started
        changed = _change_some_rooms(tenant, platform, CHANGED_SHARE)
        delta_before = tenant.count_requests(path_contains="calendarView/delta")
        throttled_before = tenant.count_requests(status=429)
        started = time.perf_counter()
        report = pull_bookings(platform.ctx, platform.integration_id, trigger=SyncRunTrigger.MANUAL)
        round_seconds = time.perf_counter() - started
        requests = tenant.count_requests(path_contains="calendarView/delta") - delta_before
        throttled = tenant.count_requests(status=429) - throttled_before
        sequential = _sequential_seconds_per_room(tenant, platform, sample) * rooms
        platform.ctx.close()
    lower_bound = max(latency_ms / 1000, rooms / GLOBAL_REQUESTS_PER_SECOND)
    return {
        "rooms": rooms,
        "latency_ms": latency_ms,
        "changed_rooms": changed,
        "initial_round_s": round(initial_seconds, 2),
        "initial_items": initial.counts.get("items", 0),
        "round_s": round(round_seconds, 2),
        "graph_delta_requests": requests,
        "throttled_429": throttled,
        "bookings_created": report.counts.get("create_booking", 0),
        "sequential_s": round(sequential, 1),
        "sequential_sampled_rooms": min(sample, rooms),
        "ratio_vs_sequential": round(sequential / round_seconds, 1),
        "lower_bound_s": round(lower_bound, 3),
        "ratio_vs_lower_bound": round(round_seconds / lower_bound, 1),
    }


def _change_some_rooms(tenant: ServedTenant, platform: Platform, share: float) -> int:
    rooms = sorted(platform.rooms)[:: max(1, round(1 / share))]
    organizer = tenant.config["users"][0]["email"]
    start = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(days=2)
    with tenant.control() as control:
        for n, room in enumerate(rooms):
            slot = start + timedelta(minutes=30 * (n % 16))
            body = {
                "organizer": organizer,
                "rooms": room,
                "subject": f"Bench change {n}",
                "start": slot.isoformat(),
                "end": (slot + timedelta(minutes=30)).isoformat(),
            }
            control.post("/_sim/outlook/meetings", json=body).raise_for_status()
        control.post("/_sim/settle").raise_for_status()
    return len(rooms)


def _sequential_seconds_per_room(tenant: ServedTenant, platform: Platform, sample: int) -> float:
    """The baseline: one delta GET per room, one after the other, with plain httpx."""
    database = platform.ctx.database
    with database.session() as session:
        links = list(session.scalars(select(RoomSyncState.delta_link).limit(sample)))
        integration = session.get_one(Integration, platform.integration_id)
    token = graph_for(platform.ctx, integration).tokens.token()
    headers = {"Authorization": f"Bearer {token}", **delta_headers()}
    with httpx.Client(verify=tenant.ca_bundle, timeout=60) as client:
        started = time.perf_counter()
        for link in links:
            client.get(str(link), headers=headers).raise_for_status()
        elapsed = time.perf_counter() - started
    return elapsed / max(1, len(links))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rooms", type=int, nargs="+", default=[1000, 5000])
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--sample", type=int, default=300)
    args = parser.parse_args()
    results = [measure(n, args.latency_ms, args.sample) for n in args.rooms]
    columns = [
        "rooms", "round_s", "graph_delta_requests", "throttled_429", "sequential_s",
        "ratio_vs_sequential", "lower_bound_s", "ratio_vs_lower_bound", "initial_round_s",
    ]  # fmt: skip
    print_table(
        f"Steady-state pull round ({args.latency_ms:.0f} ms per Graph call, ~1% of rooms changed)",
        columns,
        [[row[c] for c in columns] for row in results],
    )
    path = write_results("pull_round", {"results": results})
    print(f"\nwritten to {path}")


if __name__ == "__main__":
    main()
