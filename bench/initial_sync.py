"""Initial sync: the first pull round of an integration whose rooms are already full.

graphsim serves 500 rooms with 200 meetings each inside the pull window (start of
yesterday to 90 days ahead; one to a few a day at different hours, so no room declines
one for a conflict), over HTTPS in its own process with 50 ms added to every Graph call
and Outlook throttling on. roomsync's first round (``pull_bookings``: ``calendarView/delta``
per room, pages of 16, rooms sent by ``$batch``) is timed into SQLite, then into a fresh
PostgreSQL database, each in a child process of its own so that its peak memory is its own.

Memory must not grow with the number of events: the round streams pages, so what it holds
at once is bounded by the pages in flight, not by the events in the window. The same round
is therefore also run against rooms holding a quarter of the events (500 x 50): the peak
resident memory the round added over the process's baseline is printed for both sizes,
and their ratio (≈ 1 when memory is flat; 4 if it grew with the events).

graphsim's CPU time during each round is read from /proc: on a 2-core machine its share
of the wall time is time roomsync's own process could not have saved.

    python -m bench.initial_sync [--rooms 500] [--events 200] [--small-events 50]
        [--latency-ms 50] [--postgres postgresql+psycopg://postgres@127.0.0.1:5432/postgres]
        [--no-postgres] [--profile /tmp/initial_sync]
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import multiprocessing
import os
import resource
import time
import uuid
from collections.abc import Iterator
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import func, make_url, select

from bench.harness import (
    CollectorTime,
    SeedOptions,
    ServedTenant,
    platform_for,
    print_table,
    served_graphsim,
    write_results,
)
from roomsync.platform.enums import SyncRunTrigger
from roomsync.platform.models import Booking
from roomsync.runtime.heap import settle_heap
from roomsync.sync.pull.workflow import pull_bookings

DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
# Inside the default window (yesterday .. +90 days): seeded days run from -1 to +88.
DAYS_BEFORE, DAYS_AFTER = 1, 89


def measure(
    tenant: ServedTenant, backend: str, database_url: str | None, profile: str | None = None
) -> dict[str, Any]:
    """One first round into a fresh database, in a child process; graphsim's side around it."""
    cpu_before = _process_cpu_seconds(tenant.process_id)
    delta_before = tenant.count_requests(path_contains="calendarView/delta")
    batches_before = tenant.count_requests(path_contains="$batch")
    throttled_before = tenant.count_requests(status=429)
    child = _run_in_child(tenant, database_url, profile)
    graphsim_cpu = _process_cpu_seconds(tenant.process_id) - cpu_before
    wall = child["wall_s"]
    events = child["items"]
    return {
        "backend": backend,
        "rooms": len(tenant.config["rooms"]),
        "wall_s": round(wall, 2),
        "events": events,
        "events_per_s": round(events / wall),
        "bookings": child["bookings"],
        "delta_requests": tenant.count_requests(path_contains="calendarView/delta") - delta_before,
        "batch_requests": tenant.count_requests(path_contains="$batch") - batches_before,
        "throttled_429": tenant.count_requests(status=429) - throttled_before,
        "peak_rss_growth_mb": child["peak_rss_growth_mb"],
        "peak_rss_mb": child["peak_rss_mb"],
        "roomsync_cpu_s": child["cpu_s"],
        "roomsync_gc_s": child["gc_s"],
        "graphsim_cpu_s": round(graphsim_cpu, 2),
        "graphsim_cpu_share": round(graphsim_cpu / wall, 2),
        "counts": child["counts"],
        "errors": child["errors"],
        "warnings": child["warnings"],
    }


def _run_in_child(
    tenant: ServedTenant, database_url: str | None, profile: str | None
) -> dict[str, Any]:
    context = multiprocessing.get_context("spawn")
    receiving, sending = context.Pipe(duplex=False)
    process = context.Process(target=_first_round, args=(tenant, database_url, profile, sending))
    process.start()
    sending.close()
    try:
        result: dict[str, Any] = receiving.recv()
    except EOFError as exc:
        raise RuntimeError("The benchmark's child process died before reporting.") from exc
    process.join()
    if "error" in result:
        raise RuntimeError(result["error"])
    return result


def _first_round(
    tenant: ServedTenant, database_url: str | None, profile: str | None, out: Connection
) -> None:
    """In the child: a platform on the database, then the timed (or profiled) first round."""
    try:
        platform = platform_for(tenant, database_url)
        settle_heap()  # as every roomsync process does once started (runtime/heap.py)
        # Main-thread CPU time: on a shared machine, wall time charges waits to whoever ran.
        profiler = cProfile.Profile(time.thread_time) if profile else None
        _reset_peak_rss()
        baseline = _rss_mb("VmRSS")
        cpu = os.times()
        started = time.perf_counter()
        with profiler or contextlib.nullcontext(), CollectorTime() as collector:
            report = pull_bookings(
                platform.ctx, platform.integration_id, trigger=SyncRunTrigger.MANUAL
            )
        wall = time.perf_counter() - started
        if profiler and profile:
            profiler.dump_stats(profile)
        used = os.times()
        peak = _rss_mb("VmHWM")
        with platform.ctx.database.session() as session:
            bookings = session.scalar(select(func.count()).select_from(Booking))
        platform.ctx.close()
        out.send(
            {
                "wall_s": wall,
                "items": report.counts.get("items", 0),
                "bookings": bookings,
                "peak_rss_mb": round(peak),
                "peak_rss_growth_mb": round(peak - baseline, 1),
                "cpu_s": round(used.user + used.system - cpu.user - cpu.system, 2),
                "gc_s": round(collector.seconds, 2),
                "counts": dict(report.counts),
                "errors": report.errors[:5],
                "warnings": report.warnings[:5],
            }
        )
    except Exception as exc:  # reported to the parent, which raises it
        out.send({"error": f"{type(exc).__name__}: {exc}"})


def _reset_peak_rss() -> None:
    """Linux: writing 5 to clear_refs resets the peak resident set size (VmHWM)."""
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


def _rss_mb(field: str) -> float:
    """VmRSS or VmHWM of this process in MiB (ru_maxrss where /proc is missing)."""
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _process_cpu_seconds(pid: int | None) -> float:
    """User + system CPU seconds of another process so far (0 where /proc is missing)."""
    if pid is None:
        return 0.0
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextlib.contextmanager
def fresh_postgres(server_url: str) -> Iterator[str]:
    """A new, empty database on the server of ``server_url``, dropped afterwards."""
    url = make_url(server_url)
    name = f"roomsync_bench_{uuid.uuid4().hex[:12]}"
    admin = url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _profile_path(prefix: str | None, backend: str) -> str | None:
    return f"{prefix}-{backend}.prof" if prefix else None


def run(args: argparse.Namespace) -> list[dict[str, Any]]:
    results = []
    large = SeedOptions(args.events, DAYS_BEFORE, DAYS_AFTER)
    with served_graphsim(rooms=args.rooms, latency_ms=args.latency_ms, seeding=large) as tenant:
        results.append(measure(tenant, "sqlite", None, _profile_path(args.profile, "sqlite")))
        if not args.no_postgres:
            with fresh_postgres(args.postgres) as url:
                profile = _profile_path(args.profile, "postgresql")
                results.append(measure(tenant, "postgresql", url, profile))
    small = SeedOptions(args.small_events, DAYS_BEFORE, DAYS_AFTER)
    with served_graphsim(rooms=args.rooms, latency_ms=args.latency_ms, seeding=small) as tenant:
        results.append(measure(tenant, "sqlite", None))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rooms", type=int, default=500)
    parser.add_argument("--events", type=int, default=200, help="meetings per room")
    parser.add_argument("--small-events", type=int, default=50, help="for the memory ratio")
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--postgres", default=DEFAULT_POSTGRES, help="a server to create a db on")
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--profile", help="cProfile the large rounds into PREFIX-<backend>.prof")
    args = parser.parse_args()
    results = run(args)
    large, small = results[0], results[-1]
    ratio = large["peak_rss_growth_mb"] / max(small["peak_rss_growth_mb"], 0.1)
    columns = [
        "backend", "rooms", "events", "wall_s", "events_per_s", "delta_requests",
        "batch_requests", "throttled_429", "peak_rss_growth_mb", "peak_rss_mb",
        "roomsync_cpu_s", "roomsync_gc_s", "graphsim_cpu_s", "graphsim_cpu_share",
    ]  # fmt: skip
    print_table(
        f"Initial sync, first round ({args.latency_ms:.0f} ms per Graph call, pages of 16)",
        columns,
        [[row[c] for c in columns] for row in results],
    )
    for row in results:
        for problem in row["errors"] + row["warnings"]:
            print(f"{row['backend']} {row['events']} events: {problem}")
    print(
        f"\npeak memory growth: {large['events']} events {large['peak_rss_growth_mb']} MiB, "
        f"{small['events']} events {small['peak_rss_growth_mb']} MiB: ratio {ratio:.2f} "
        f"for {large['events'] / max(small['events'], 1):.1f}x the events"
    )
    path = write_results(
        "initial_sync", {"results": results, "memory_growth_ratio": round(ratio, 2)}
    )
    print(f"\nwritten to {path}")


if __name__ == "__main__":
    main()
