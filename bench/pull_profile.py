"""Where a steady round's CPU goes, from the py-spy recording ``bench.pull_round --profile``
makes (every thread, sampled only while it holds the GIL: Python's own CPU).

    .venv/bin/python -m bench.pull_round --rooms 5000 --repeats 1 --profile /tmp/pull.txt
    .venv/bin/python -m bench.pull_profile /tmp/pull.txt

Each sample goes to the first category its stack matches.
"""

from __future__ import annotations

import argparse
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from bench.main_thread import _short

CATEGORIES: list[tuple[str, Callable[[list[str]], bool]]] = [
    (
        "fan-out threads: $batch over HTTP (httpx, TLS, JSON)",
        lambda s: _thread(s, "roomsync-batch"),
    ),
    ("rooms and saved rounds loaded, requests made", lambda s: _has(s, "_Round._first_requests")),
    ("delta pages parsed (pydantic)", lambda s: _has(s, "parse_delta_page")),
    ("lookups planned and made", lambda s: _has(s, "PageBuffer._prefetched")),
    ("pages applied, links and states written", lambda s: _has(s, "PageBuffer._apply")),
    ("fan-out bookkeeping on the main thread", lambda s: _has(s, "FanOut.run")),
]
OTHER = "other (lease, run record, token)"


def _has(stack: list[str], fragment: str) -> bool:
    return any(fragment in frame for frame in stack)


def _thread(stack: list[str], name: str) -> bool:
    return bool(stack) and name in stack[0]


def breakdown(path: Path) -> tuple[Counter[str], Counter[str], int]:
    categories: Counter[str] = Counter()
    leaves: Counter[str] = Counter()
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        frames = stack.split(";")
        category = next((name for name, test in CATEGORIES if test(frames)), OTHER)
        categories[category] += int(count)
        leaves[_short(frames[-1])] += int(count)
    return categories, leaves, sum(categories.values())


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("recording", type=Path, help="py-spy record --format raw output")
    parser.add_argument("--leaves", type=int, default=15)
    args = parser.parse_args()
    categories, leaves, total = breakdown(args.recording)
    if not total:
        raise SystemExit("no samples in the recording")
    print(f"{total} samples holding the GIL\n")
    for name, count in categories.most_common():
        print(f"{count / total:6.1%}  {name}")
    print(f"\ntop {args.leaves} leaf frames")
    for name, count in leaves.most_common(args.leaves):
        print(f"{count / total:6.1%}  {name}")


if __name__ == "__main__":
    main()
