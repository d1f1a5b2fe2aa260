"""Outlook → platform latency in listener mode (``python -m bench.listener_latency``).

graphsim runs as its own process (``graphsim serve``: HTTPS, 50 ms added to every Graph
call, Outlook throttling on). roomsync runs as ``roomsync run`` would: the webhook served
over real HTTP by uvicorn at ``ROOMSYNC_PUBLIC_URL`` (graphsim's notifier POSTs to it),
Huey workers on threads of the same process, SQLite for data and queue; the periodic
scheduler is off so that no 2-minute safety-net round lands inside the measurement. The
integration is in listener mode: every room subscribed, the initial pull done.

Then ``--changes`` Outlook changes (a third each of new meetings, moved meetings and
cancelled meetings, through graphsim's ``/_sim/outlook/meetings`` control API, from a
process of their own) are spread over ``--over`` seconds across the rooms. Each lands in
a slot of its own, so a booking (room, start) names its change; a watcher reads the
bookings changed since its last look every 20 ms and stamps the first time each change
is visible committed (bench/outlook_changes.py). The latency of a change runs from the
moment its control call returned (graphsim then takes
``room_processing_delay``, 0.2 s, to update the room's copy, as Exchange's booking
assistant does) to that stamp. The breakdown follows each change through its room: first
notification received after it, first pull task started after that, commit seen.

Prints a table and writes ``bench/results/listener_latency.json``.
"""

from __future__ import annotations

import argparse
import socket
import statistics
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from huey.signals import SIGNAL_EXECUTING
from sqlalchemy import select, update

from bench.harness import (
    GraphRoundTrips,
    ServedTenant,
    children_cpu_seconds,
    platform_for,
    print_table,
    served_graphsim,
    write_results,
)
from bench.outlook_changes import KINDS, Change, CommitWatcher, book_before, drive, plan_changes
from roomsync.platform.db import Database
from roomsync.platform.enums import IntegrationMode, SyncRunTrigger
from roomsync.platform.models import Integration, SyncRun
from roomsync.runtime.runtime import Runtime
from roomsync.settings import Settings
from roomsync.sync.listener.workflow import renew_subscriptions
from roomsync.sync.pull.workflow import pull_bookings
from roomsync.web.app import create_app
from roomsync.web.server import serving_in_background
from roomsync.web.webhooks import notification_receiver

NAME = "listener_latency"


@dataclass
class Timeline:
    """When things happened (``time.time()``), filled in by several threads."""

    changed: dict[int, float] = field(default_factory=dict)
    committed: dict[int, float] = field(default_factory=dict)
    notified: dict[uuid.UUID, list[float]] = field(default_factory=lambda: defaultdict(list))
    started: dict[uuid.UUID, list[float]] = field(default_factory=lambda: defaultdict(list))
    lock: threading.Lock = field(default_factory=threading.Lock)

    def note(self, bucket: dict[uuid.UUID, list[float]], room: uuid.UUID) -> None:
        with self.lock:
            bucket[room].append(time.time())


# --- the run ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Options:
    changes: int = 1000
    rooms: int = 200
    over: float = 10.0
    latency_ms: float = 50.0
    workers: int = 4
    timeout: float = 40.0
    seed: int = 7


def run(options: Options) -> dict[str, Any]:
    timeline = Timeline()
    with served_graphsim(rooms=options.rooms, latency_ms=options.latency_ms) as tenant:
        platform = platform_for(tenant)
        platform.ctx.close()
        settings = _settings(platform.ctx.settings, platform.ctx.database)
        database = platform.ctx.database
        with database.session() as session:
            session.execute(
                update(Integration)
                .where(Integration.id == platform.integration_id)
                .values(mode=IntegrationMode.LISTENER)
            )
        before, planned = plan_changes(tenant.config, options.changes, options.seed)
        changes = book_before(tenant, before, planned)
        runtime = Runtime(settings, database)
        _record_task_starts(runtime, timeline)
        app = create_app(settings, database, runtime=runtime)
        consumer = runtime.start_workers(workers=options.workers, periodic=False)
        try:
            with serving_in_background(app, port=int(settings.public_url.rsplit(":", 1)[1])):
                _record_notifications(runtime, timeline)
                prepared = _prepare(runtime, platform.integration_id)
                result = _measure(
                    tenant,
                    runtime,
                    rooms=platform.rooms,
                    changes=changes,
                    options=options,
                    timeline=timeline,
                )
                received = notification_receiver(app).counts()
        finally:
            consumer.stop(graceful=True)
            runtime.close()
    return {
        "benchmark": NAME,
        "options": vars(options),
        "prepared": prepared,
        **result,
        "notifications": received,
    }


def _settings(base: Settings, database: Database) -> Settings:
    scratch = Path(database.engine.url.database or ".").parent
    return base.model_copy(
        update={
            "queue_url": f"sqlite:///{scratch / 'queue.db'}",
            "public_url": f"http://127.0.0.1:{_free_port()}",
            "log_level": "WARNING",
        }
    )


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _record_task_starts(runtime: Runtime, timeline: Timeline) -> None:
    """A pull task starting (Huey's executing signal): its rooms' ids from its arguments."""

    @runtime.huey.signal(SIGNAL_EXECUTING)
    def started(_signal: str, task: Any, *_: Any) -> None:
        if "pull_room" in task.name:
            for argument in task.args[1:]:
                for room in str(argument).split(","):
                    timeline.note(timeline.started, uuid.UUID(room))


def _record_notifications(runtime: Runtime, timeline: Timeline) -> None:
    """A verified notification asking for its room's pull (wraps the runtime's requester,
    which the webhook's receiver looks up when the first notification arrives)."""
    requester: Callable[[uuid.UUID, uuid.UUID], bool] = runtime.request_room_pull

    def noted(integration_id: uuid.UUID, resource_id: uuid.UUID) -> bool:
        timeline.note(timeline.notified, resource_id)
        return requester(integration_id, resource_id)

    runtime.request_room_pull = noted  # type: ignore[method-assign]


def _prepare(runtime: Runtime, integration_id: uuid.UUID) -> dict[str, float]:
    started = time.monotonic()
    report = renew_subscriptions(runtime.ctx, integration_id)
    if report.errors:
        raise RuntimeError(f"subscriptions failed: {report.errors[:3]}")
    subscribed = time.monotonic()
    pull_bookings(runtime.ctx, integration_id, trigger=SyncRunTrigger.MANUAL)
    return {
        "subscriptions_s": round(subscribed - started, 2),
        "initial_pull_s": round(time.monotonic() - subscribed, 2),
    }


def _measure(
    tenant: ServedTenant,
    runtime: Runtime,
    *,
    rooms: dict[str, uuid.UUID],
    changes: list[Change],
    options: Options,
    timeline: Timeline,
) -> dict[str, Any]:
    requests_before = tenant.count_requests()
    throttled_before = tenant.count_requests(status=429)
    round_trips = GraphRoundTrips(runtime.ctx.http)
    round_trips.measuring, graphsim_cpu = True, children_cpu_seconds()
    measured_from = datetime.now(UTC)
    watcher = CommitWatcher(runtime.database, rooms, changes)
    watching = threading.Thread(target=watcher.run, args=(timeline.committed,), daemon=True)
    watching.start()
    started, cpu = time.monotonic(), time.process_time()
    timeline.changed.update(drive(tenant, changes, options.over))
    driven = time.monotonic() - started
    deadline = time.monotonic() + options.timeout
    while not watcher.done(timeline.committed) and time.monotonic() < deadline:
        time.sleep(0.1)
    watcher.stop.set()
    watching.join()
    settled = time.monotonic() - started
    cpu = time.process_time() - cpu
    graphsim_cpu = children_cpu_seconds() - graphsim_cpu
    round_trips.measuring = False
    return {
        "driven_in_s": round(driven, 2),
        "all_committed_after_s": round(settled, 2),
        "changes": len(changes),
        "changes_lost": len(changes) - len(timeline.committed),
        "latency": summary(latencies(timeline)),
        "by_kind": {
            kind: summary(latencies(timeline, lambda n, k=kind: changes[n].kind == k))
            for kind in KINDS
        },
        "breakdown": breakdown(timeline, changes, rooms),
        "graph_requests": tenant.count_requests() - requests_before,
        "graph_429": tenant.count_requests(status=429) - throttled_before,
        "watcher_polls": watcher.polls,
        "process_cpu_s": round(cpu, 2),
        "process_cpu_per_wall": round(cpu / settled, 2),
        "graphsim_cpu_s": round(graphsim_cpu, 2),
        "graph_round_trip": summary(sorted(round_trips.seconds)),
        "notification_pulls": notification_pulls(runtime.database, measured_from),
    }


def notification_pulls(database: Database, since: datetime) -> dict[str, Any]:
    """The pulls notifications caused: how many, rooms per pull, how long each took."""
    with database.session() as session:
        runs = session.scalars(
            select(SyncRun).where(
                SyncRun.trigger == SyncRunTrigger.NOTIFICATION, SyncRun.started_at >= since
            )
        ).all()
    rooms = [int(run.counts.get("rooms", 0)) for run in runs]
    seconds = sorted(
        (run.finished_at - run.started_at).total_seconds() for run in runs if run.finished_at
    )
    return {
        "pulls": len(runs),
        "rooms_per_pull": round(statistics.mean(rooms), 2) if rooms else 0,
        "duration": summary(seconds),
    }


def latencies(timeline: Timeline, keep: Callable[[int], bool] = lambda _: True) -> list[float]:
    return sorted(done - timeline.changed[n] for n, done in timeline.committed.items() if keep(n))


def breakdown(
    timeline: Timeline, changes: list[Change], rooms: dict[str, uuid.UUID]
) -> dict[str, dict[str, float]]:
    """Per change: change → its room's next notification → the next pull task start of
    that room → commit seen. Rooms see several changes, so this is an approximation."""
    parts: dict[str, list[float]] = defaultdict(list)
    for n, done in timeline.committed.items():
        room, changed = rooms[changes[n].room], timeline.changed[n]
        notified = _first_after(timeline.notified[room], changed)
        started = _first_after(timeline.started[room], notified) if notified else None
        if notified is None or started is None or started > done:
            continue
        parts["change_to_webhook"].append(notified - changed)
        parts["webhook_to_task_start"].append(started - notified)
        parts["task_start_to_commit_seen"].append(done - started)
    return {name: summary(sorted(values)) for name, values in parts.items()}


def _first_after(instants: list[float], after: float) -> float | None:
    return min((t for t in instants if t >= after), default=None)


def summary(values: list[float]) -> dict[str, float]:
    if not values:
        return {"count": 0}

    def pct(p: float) -> float:
        return round(values[min(len(values) - 1, round(p / 100 * (len(values) - 1)))], 3)

    return {
        "count": len(values),
        "p50_s": round(statistics.median(values), 3),
        "p90_s": pct(90),
        "p99_s": pct(99),
        "max_s": round(values[-1], 3),
    }


def report(result: dict[str, Any]) -> None:
    options = result["options"]
    header = ["from the Outlook change to", "n", "p50 s", "p90 s", "p99 s", "max s"]
    rows: list[list[object]] = [_row("booking committed (all)", result["latency"])]
    rows += [_row(f"  {kind}", row) for kind, row in result["by_kind"].items()]
    rows += [_row(f"part: {name}", row) for name, row in result["breakdown"].items()]
    rows.append(_row("(a notification pull's duration)", result["notification_pulls"]["duration"]))
    rows.append(_row("(a Graph round trip)", result["graph_round_trip"]))
    print_table(
        f"listener latency: {result['changes']} Outlook changes over {options['over']:g} s "
        f"across {options['rooms']} rooms, Graph +{options['latency_ms']:g} ms, "
        f"{options['workers']} workers, throttling on",
        header,
        rows,
    )
    notes = result["notifications"]
    print(
        f"lost {result['changes_lost']}; notifications accepted {notes.get('accepted')}, "
        f"pulls requested {notes.get('pulls_requested')}, coalesced "
        f"{notes.get('pulls_coalesced')}; Graph requests {result['graph_requests']}, "
        f"429s {result['graph_429']}; all committed {result['all_committed_after_s']} s "
        f"after the first change; this process used {result['process_cpu_s']} s of CPU "
        f"({result['process_cpu_per_wall']:.0%} of a core), graphsim "
        f"{result['graphsim_cpu_s']} s; {result['notification_pulls']['pulls']} notification "
        f"pulls of {result['notification_pulls']['rooms_per_pull']} rooms on average"
    )


def _row(label: str, row: dict[str, float]) -> list[object]:
    keys = ("count", "p50_s", "p90_s", "p99_s", "max_s")
    return [label, *(row.get(key, "-") for key in keys)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    for name, value in vars(Options()).items():
        parser.add_argument(f"--{name.replace('_', '-')}", type=type(value), default=value)
    result = run(Options(**vars(parser.parse_args())))
    report(result)
    print(f"written to {write_results(NAME, result)}")


if __name__ == "__main__":
    main()
