"""A weekly series of 100 occurrences made through the REST API, pushed and confirmed end to
end, beside the same 100 meetings booked one by one (``python -m bench.series_push``).

graphsim runs as its own process (``graphsim serve``: HTTPS, 50 ms added to every Graph
call, Outlook throttling on), roomsync as ``roomsync run`` would (the REST API under
uvicorn, Huey workers on threads, SQLite). The series is one POST; the singles are 100
POSTs from a few clients. The figure is the seconds from the first API call until every
occurrence (every single booking) is confirmed, with the Graph requests each needed.

Prints a table and writes ``bench/results/series_push.json``.
"""

from __future__ import annotations

import argparse
import json
import platform
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from bench.push_latency import Options as GraphsimOptions
from bench.push_latency import Platform, platform_with_api, served_graphsim, wait_until_answered

RESULTS = Path(__file__).parent / "results"


@dataclass
class Options:
    occurrences: int = 100
    latency_ms: float = 50.0
    workers: int = 8
    clients: int = 8
    timeout: float = 900.0


def _first_monday() -> datetime:
    today = datetime.now(UTC).date() + timedelta(days=7)
    monday = today + timedelta(days=(7 - today.weekday()) % 7)
    return datetime(monday.year, monday.month, monday.day, 8, tzinfo=UTC)


def _body(platform_: Platform, start: datetime, **extra: Any) -> dict[str, Any]:
    return {
        "resource_id": str(platform_.rooms[0]),
        "organizer_email": platform_.organizers[0],
        "title": "Weekly sync",
        "start": start.isoformat(),
        "end": (start + timedelta(hours=1)).isoformat(),
        **extra,
    }


def book_series(api: httpx.Client, platform_: Platform, options: Options) -> None:
    recurrence = {
        "pattern": {"type": "weekly", "interval": 1, "daysOfWeek": ["monday"]},
        "range": {"type": "numbered", "numberOfOccurrences": options.occurrences},
    }
    body = _body(platform_, _first_monday(), recurrence=recurrence)
    api.post("bookings", json=body).raise_for_status()


def book_singles(api: httpx.Client, platform_: Platform, options: Options) -> None:
    starts = [_first_monday() + timedelta(weeks=n) for n in range(options.occurrences)]
    with ThreadPoolExecutor(max_workers=options.clients) as pool:
        for response in pool.map(lambda s: api.post("bookings", json=_body(platform_, s)), starts):
            response.raise_for_status()


def measure(options: Options, *, series: bool) -> dict[str, Any]:
    served = GraphsimOptions(rooms=2, latency_ms=options.latency_ms)
    with (
        tempfile.TemporaryDirectory(prefix="roomsync-series-bench-") as scratch,
        served_graphsim(served, Path(scratch)) as config,
    ):
        with platform_with_api(config, Path(scratch), options.workers) as (platform_, api):
            started = time.monotonic()
            (book_series if series else book_singles)(api, platform_, options)
            wait_until_answered(platform_.database, options.occurrences, options.timeout)
            elapsed = time.monotonic() - started
        with httpx.Client(base_url=config["graph_url"], verify=config["ca_bundle"]) as control:
            log = control.get("/_sim/requests", params={"path_contains": "/users/"}).json()
        platform_.database.dispose()
    return {"seconds": round(elapsed, 2), "graph_requests": int(log["count"])}


def run(options: Options) -> dict[str, Any]:
    series = measure(options, series=True)
    singles = measure(options, series=False)
    return {
        "benchmark": "series_push",
        "when": datetime.now(UTC).isoformat(),
        "machine": f"{platform.machine()} {platform.python_implementation()} "
        f"{platform.python_version()}",
        "options": vars(options),
        "series": series,
        "singles": singles,
        "speedup": round(singles["seconds"] / max(series["seconds"], 0.001), 2),
    }


def print_table(result: dict[str, Any]) -> None:
    options = result["options"]
    print(
        f"series push: {options['occurrences']} weekly occurrences, Graph "
        f"+{options['latency_ms']:g} ms, {options['workers']} workers"
    )
    print(f"{'booked as':<26}{'s to all confirmed':>20}{'Graph requests':>16}")
    for label, key in (("one series (one POST)", "series"), ("single bookings", "singles")):
        row = result[key]
        print(f"{label:<26}{row['seconds']:>20.2f}{row['graph_requests']:>16}")
    print(f"the series is confirmed {result['speedup']}x as fast as the singles")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    defaults = Options()
    for name, value in vars(defaults).items():
        parser.add_argument(f"--{name.replace('_', '-')}", type=type(value), default=value)
    options = Options(**vars(parser.parse_args()))
    result = run(options)
    print_table(result)
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / "series_push.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"written to {out}")


if __name__ == "__main__":
    main()
