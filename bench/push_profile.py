"""Where a push's time goes: ``bench.push_latency`` run with a timeline and a profile of
the worker side (``python -m bench.push_profile``).

The worker tasks are wrapped (in this process only, for the measurement) so that each
booking's stages are stamped: the API call, its commit (``bookings.created_at``), the push
task's start, the Graph call answered, the rows recorded (``outbox.done_at``), the room's
copy written (graphsim's ``createdDateTime``), the answer check that saw it, and the
``confirmed`` history row. Every worker task also runs under a per-thread cProfile whose
stats are merged. graphsim's CPU (a child process) is compared with roomsync's.

Prints the timeline and the top of the profile; ``--out`` writes them to a text file.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import statistics
import threading
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, event

from bench import push_latency
from roomsync.platform import db
from roomsync.runtime import push_tasks
from roomsync.sync.push import graph as push_graph


class Recorder:
    """Stamps per booking, outcomes per task, and per-thread profiles."""

    def __init__(self, profile: bool) -> None:
        self.profile = profile
        self.lock = threading.Lock()
        self.stamps: dict[str, dict[uuid.UUID, datetime]] = defaultdict(dict)
        self.outcomes: Counter[str] = Counter()
        self.profiles: list[cProfile.Profile] = []
        self.local = threading.local()
        self.holds: dict[str, list[float]] = defaultdict(list)

    def stamp(self, stage: str, booking_id: uuid.UUID) -> None:
        now = datetime.now(UTC)
        with self.lock:
            self.stamps[stage].setdefault(booking_id, now)

    def count(self, what: str) -> None:
        with self.lock:
            self.outcomes[what] += 1

    def profiled(self, work: Callable[[], Any]) -> Any:
        if not self.profile:
            return work()
        profiler = getattr(self.local, "profiler", None)
        if profiler is None:
            profiler = self.local.profiler = cProfile.Profile()
            with self.lock:
                self.profiles.append(profiler)
        profiler.enable()
        try:
            return work()
        finally:
            profiler.disable()


def watch_write_lock(recorder: Recorder) -> None:
    """Time from each transaction's BEGIN IMMEDIATE (the SQLite write lock taken) to its
    COMMIT or ROLLBACK, by thread kind."""
    create_engine = db._create_engine

    def begun(_connection: Any) -> None:
        recorder.local.begun = time.perf_counter()

    def ended(_connection: Any) -> None:
        begun = getattr(recorder.local, "begun", None)
        if begun is None:
            return
        recorder.local.begun = None
        name = threading.current_thread().name
        kind = "worker" if name.startswith("Thread") else name.split("-")[0]
        with recorder.lock:
            recorder.holds[kind].append(time.perf_counter() - begun)

    def watched(url: Any) -> Engine:
        engine = create_engine(url)
        event.listen(engine, "begin", begun)
        event.listen(engine, "commit", ended)
        event.listen(engine, "rollback", ended)
        return engine

    db._create_engine = watched


def hold_table(recorder: Recorder, wall: float) -> list[str]:
    lines = [
        f"{'SQLite write lock held, by thread':<34}{'tx':>7}{'sum s':>8}{'p50 ms':>8}{'p99 ms':>8}"
    ]
    for kind, holds in sorted(recorder.holds.items()):
        holds.sort()
        p50, p99 = holds[len(holds) // 2] * 1e3, holds[round(0.99 * (len(holds) - 1))] * 1e3
        lines.append(f"{kind:<34}{len(holds):>7}{sum(holds):>8.1f}{p50:>8.1f}{p99:>8.1f}")
    total = sum(sum(h) for h in recorder.holds.values())
    lines.append(f"lock held {total:.1f} s of the {wall:.1f} s run ({100 * total / wall:.0f}%)")
    return lines


def instrument(recorder: Recorder) -> None:
    push_due = push_tasks.push_due
    check_answers_of = push_tasks.check_answers_of
    sweep_outbox = push_tasks.sweep_outbox
    send = push_graph.PushSender.send

    def timed_push(ctx: Any, booking_id: uuid.UUID, **kw: Any) -> Any:
        recorder.stamp("task_started", booking_id)
        outcomes = recorder.profiled(lambda: push_due(ctx, booking_id, **kw))
        recorder.count(f"push tasks taking {len(outcomes)}")
        for pushed, outcome in outcomes.items():
            recorder.count(f"push:{outcome.state.value}")
            recorder.stamp("push_recorded", pushed)
        return outcomes

    def timed_check(ctx: Any, booking_ids: list[uuid.UUID]) -> Any:
        for booking_id in booking_ids:
            recorder.stamp("first_check", booking_id)
        outcomes = recorder.profiled(lambda: check_answers_of(ctx, booking_ids))
        recorder.count("check tasks")
        for outcome in outcomes.values():
            recorder.count(f"check:{outcome.answer.value}")
        return outcomes

    def timed_sweep(ctx: Any, **kwargs: Any) -> Any:
        recorder.count("sweep")
        return sweep_outbox(ctx, **kwargs)

    def timed_send(self: push_graph.PushSender) -> Any:
        result = send(self)
        recorder.stamp("graph_done", self.booking.booking_id)
        return result

    push_tasks.push_due = timed_push  # type: ignore[assignment]
    push_tasks.check_answers_of = timed_check  # type: ignore[assignment]
    push_tasks.sweep_outbox = timed_sweep  # type: ignore[assignment]
    push_graph.PushSender.send = timed_send  # type: ignore[method-assign]


def stage_table(stages: dict[str, dict[uuid.UUID, datetime]], origin: str) -> list[str]:
    start = stages[origin]
    lines = [f"{'stage (seconds after ' + origin + ')':<44}{'n':>6}{'p50':>8}{'p90':>8}{'p99':>8}"]
    for name, stamps in stages.items():
        values = sorted((at - start[b]).total_seconds() for b, at in stamps.items() if b in start)
        if not values:
            continue
        p90 = values[round(0.9 * (len(values) - 1))]
        p99 = values[round(0.99 * (len(values) - 1))]
        median = statistics.median(values)
        lines.append(f"{name:<44}{len(values):>6}{median:>8.2f}{p90:>8.2f}{p99:>8.2f}")
    return lines


def profile_text(recorder: Recorder, top: int) -> list[str]:
    if not recorder.profiles:
        return []
    stats = pstats.Stats(recorder.profiles[0])
    for other in recorder.profiles[1:]:
        stats.add(other)
    lines = []
    for key in ("cumulative", "tottime"):
        buffer = io.StringIO()
        stats.stream = buffer
        stats.strip_dirs().sort_stats(key).print_stats(top)
        text = buffer.getvalue()
        body = text[text.find("   ncalls") :] if "   ncalls" in text else text
        lines += [f"-- worker tasks, all threads, by {key} (top {top}) --", body.rstrip()]
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--bookings", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--no-profile", action="store_true")
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    recorder = Recorder(profile=not args.no_profile)
    instrument(recorder)
    watch_write_lock(recorder)
    options = push_latency.Options(bookings=args.bookings, workers=args.workers)
    before, wall = os.times(), time.monotonic()
    result = push_latency.run(options, timeline=True)
    after, wall = os.times(), time.monotonic() - wall
    stages = {**result.pop("timeline"), **recorder.stamps}
    order = ["api_called", "api_committed", "task_started", "graph_done", "push_recorded"]
    order += ["room_accepted", "first_check", "confirmed"]
    lines = [f"push profile: {args.bookings} bookings, {args.workers} workers, wall {wall:.1f} s"]
    ours = (after.user - before.user) + (after.system - before.system)
    graphsim = (after.children_user - before.children_user) + (
        after.children_system - before.children_system
    )
    lines.append(
        f"CPU: roomsync (API + workers + bench) {ours:.1f} s, graphsim {graphsim:.1f} s "
        f"({100 * graphsim / max(ours + graphsim, 1e-9):.0f}% of the two)"
    )
    lines.append(
        "task outcomes: " + ", ".join(f"{k} {v}" for k, v in sorted(recorder.outcomes.items()))
    )
    lines += hold_table(recorder, wall)
    lines += stage_table({k: stages[k] for k in order if k in stages}, "api_called")
    lines += profile_text(recorder, args.top)
    text = "\n".join(lines)
    print(text)
    push_latency.print_table(result)
    if args.out:
        args.out.write_text(text + "\n")


if __name__ == "__main__":
    main()
