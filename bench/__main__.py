"""``make bench``: the benchmarks of docs/performance.md, one after the other, then a
summary of each headline figure next to its target, and the growth plot.

Each benchmark runs in its own interpreter (a fresh heap for the memory figures) and writes
its JSON under ``bench/results/``; the summary is read back from those files.

    python -m bench [--only pull_round initial_sync ...] [--no-plot]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time

from bench.harness import print_table
from bench.plot import render
from bench.summary import headlines

# name → arguments; sizes are the issue's, chosen so the whole run stays under 10 minutes.
BENCHMARKS: dict[str, list[str]] = {
    "pull_round": ["--rooms", "1000", "5000", "20000"],
    "initial_sync": [],
    "listener_latency": [],
    "push_latency": [],
    "webhook_burst": [],
    "rooms_import": [],
    "availability": [],
    "occupant_pages": [],
    "graphsim_cost": [],
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="+", choices=sorted(BENCHMARKS), default=list(BENCHMARKS))
    parser.add_argument("--no-plot", action="store_true", help="Skip rendering the PNG.")
    args = parser.parse_args()
    durations: dict[str, float] = {}
    failed: list[str] = []
    for name in args.only:
        print(f"\n=== bench.{name} ===", flush=True)
        started = time.perf_counter()
        command = [sys.executable, "-m", f"bench.{name}", *BENCHMARKS[name]]
        done = subprocess.run(command, check=False)
        durations[name] = time.perf_counter() - started
        if done.returncode != 0:
            failed.append(name)
    rows = [[*row, f"{durations.get(row[0], 0):.0f}"] for row in headlines(args.only)]
    print_table(
        "Summary (figures from bench/results/*.json)",
        ["benchmark", "figure", "measured", "target", "met", "run_s"],
        rows,
    )
    print(f"\nall benchmarks: {sum(durations.values()):.0f} s")
    if not args.no_plot:
        print(f"growth plot: {render()}")
    if failed:
        sys.exit(f"benchmarks that failed: {', '.join(failed)}")


if __name__ == "__main__":
    main()
