"""The headline figure of each benchmark next to its target, read from bench/results/."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from bench.harness import RESULTS

Row = list[object]


def headlines(names: list[str]) -> list[Row]:
    rows: list[Row] = []
    for name in names:
        path = RESULTS / f"{name}.json"
        if not path.exists():
            rows.append([name, "-", "no results", "-", "-"])
            continue
        rows.extend([name, *row] for row in _READERS[name](json.loads(path.read_text())))
    return rows


def _met(ok: bool) -> str:
    return "yes" if ok else "NO"


_ROUND_TARGETS = {1000: 0.8, 5000: 3.0, 20000: 15.0}
"""Seconds a steady round of that many rooms may take with the shipped defaults."""


def _pull_round(data: dict[str, Any]) -> list[list[object]]:
    rows: list[list[object]] = []
    for result in data["results"]:
        rooms, seconds = result["rooms"], result["round_s"]
        target = _ROUND_TARGETS.get(rooms)
        rows.append(
            [f"round, {rooms} rooms, shipped defaults", f"{seconds} s",
             f"<= {target} s" if target else "-", _met(seconds <= target) if target else "-"]
        )  # fmt: skip
        ratio = result.get("ratio_vs_peer")
        against = rooms == 5000 and ratio is not None
        rows.append(
            [f"x plain peer, {rooms} rooms", f"{ratio}x" if ratio else "no peer",
             ">= 2x" if against else "-", _met(ratio >= 2) if against and ratio else "-"]
        )  # fmt: skip
        cpu = result["roomsync_cpu_ms_per_unchanged_room"]
        rows.append([f"roomsync CPU per unchanged room, {rooms} rooms", f"{cpu} ms",
                     "<= 0.25 ms", _met(cpu <= 0.25)])  # fmt: skip
        rows.append([f"graphsim CPU per delta request, {rooms} rooms",
                     f"{result['graphsim_cpu_ms_per_request']} ms", "-", "-"])  # fmt: skip
        rows.append([f"429s, {rooms} rooms", result["throttled_429"], "0",
                     _met(result["throttled_429"] == 0)])  # fmt: skip
        rows.append(
            [f"x lower bound, {rooms} rooms", f"{result['ratio_vs_lower_bound']}x", "-", "-"]
        )
    return rows


def _initial_sync(data: dict[str, Any]) -> list[list[object]]:
    """The target applies to the full-size SQLite round; the smaller round is there for
    the memory comparison."""
    rows: list[list[object]] = []
    largest = max(r["events"] for r in data["results"])
    for result in data["results"]:
        rate, backend, events = result["events_per_s"], result["backend"], result["events"]
        target = backend == "sqlite" and events == largest
        rows.append(
            [f"{events} events into {backend}", f"{rate:.0f}/s", ">= 5000/s" if target else "-",
             _met(rate >= 5000) if target else "-"]
        )  # fmt: skip
    growth = data.get("memory_growth_ratio")
    if growth is not None:
        rows.append(["peak memory, 4x the events", f"{growth}x", "flat (~1x)", _met(growth < 1.5)])
    return rows


def _listener_latency(data: dict[str, Any]) -> list[list[object]]:
    latency = data["latency"]
    return [
        ["change -> booking p50", f"{latency['p50_s']} s", "-", "-"],
        ["change -> booking p99", f"{latency['p99_s']} s", "< 2 s", _met(latency["p99_s"] < 2)],
    ]


def _push_latency(data: dict[str, Any]) -> list[list[object]]:
    accepted = data["room_accepted"]
    return [
        ["booking -> room accepted p50", f"{accepted['p50_s']} s", "-", "-"],
        [
            "booking -> room accepted p99",
            f"{accepted['p99_s']} s",
            "< 5 s",
            _met(accepted["p99_s"] < 5),
        ],
    ]


def _webhook_burst(data: dict[str, Any]) -> list[list[object]]:
    rows: list[list[object]] = []
    for m in data["measurements"]:
        ok = m["within_3s"] == 1.0
        rows.append(
            [f"{m['scenario']} ({m['queue']}) p99", f"{m['p99_ms']} ms", "all < 3 s", _met(ok)]
        )
    return rows


def _rooms_import(data: dict[str, Any]) -> list[list[object]]:
    return [
        [f"{m['scenario']}, {m['rooms']} rooms", f"{m['seconds']} s", "-", "-"]
        for m in data["measurements"]
    ]


def _availability(data: dict[str, Any]) -> list[list[object]]:
    rows: list[list[object]] = []
    for t in data["timings"]:
        target = t["target_ms"]
        rows.append(
            [f"{t['case']}, {t['backend']}, {t['path']} p99", f"{t['p99_ms']} ms",
             "-" if target is None else f"< {target:g} ms",
             "-" if target is None else _met(t["p99_ms"] < target)]
        )  # fmt: skip
    return rows


def _graphsim_cost(data: dict[str, Any]) -> list[list[object]]:
    return [
        [f"graphsim CPU per {r['kind']}", f"{r['cpu_ms_per_item']} ms",
         f"<= {r['target_ms']} ms" if r["target_ms"] else "-",
         _met(r["met"]) if r["met"] is not None else "-"]
        for r in data["results"]
    ]  # fmt: skip


_READERS: dict[str, Callable[[dict[str, Any]], list[list[object]]]] = {
    "pull_round": _pull_round,
    "initial_sync": _initial_sync,
    "listener_latency": _listener_latency,
    "push_latency": _push_latency,
    "webhook_burst": _webhook_burst,
    "rooms_import": _rooms_import,
    "availability": _availability,
    "graphsim_cost": _graphsim_cost,
}
