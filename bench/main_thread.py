"""Where a pull round's main thread spends its wall time, from a py-spy recording.

cProfile charges the cycle collector and waits for the GIL to whatever Python line was
running, and doubles the cost of small functions; a sampling profiler outside the process
does neither. Record the initial sync with py-spy (installed by ``make bench``), sampling
idle threads too, then summarise the main thread of the benchmark's child process:

    py-spy record --subprocesses --threads --idle --nonblocking --rate 100 --format raw \\
        --output /tmp/initial_sync.txt -- .venv/bin/python -m bench.initial_sync --no-postgres
    .venv/bin/python -m bench.main_thread /tmp/initial_sync.txt

Each sample of the main thread is put in the first category its stack matches, from the
database driver's calls, waiting (for Graph's answers), parsing delta pages, then the
Python work of planning lookups and of applying pages.
"""

from __future__ import annotations

import argparse
from collections import Counter
from collections.abc import Callable
from pathlib import Path

WAITING = ("Condition.wait", "Event.wait", "SSLSocket.read", "SSLSocket.recv")
# (category, whether a stack, root first, belongs to it); the first that matches wins.
CATEGORIES: list[tuple[str, Callable[[list[str]], bool]]] = [
    ("database driver (execute, executemany, commit)", lambda s: _has(s, "DefaultDialect.do_")),
    ("waiting for Graph's answers", lambda s: s[-1].startswith(WAITING)),
    ("parsing delta pages (pydantic)", lambda s: _has(s, "parse_delta_page")),
    ("planning and lookups (Python)", lambda s: _has(s, "PageBuffer._prefetched")),
    ("applying pages: rows, plans, inserts (Python)", lambda s: _has(s, "PageBuffer._apply")),
    ("fan-out bookkeeping", lambda s: _has(s, "FanOut.run")),
]
OTHER = "other (set-up, room states, progress)"


def _has(stack: list[str], fragment: str) -> bool:
    return any(fragment in frame for frame in stack)


def main_thread_stacks(path: Path, process: str) -> list[tuple[list[str], int]]:
    """The main thread's stacks (root first) and their sample counts, in the process whose
    command line contains ``process`` and whose main thread was sampled most (the large
    round, when the benchmark also ran a small one)."""
    by_process: dict[str, list[tuple[list[str], int]]] = {}
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        frames = stack.split(";")
        thread = next((n for n, f in enumerate(frames) if f.startswith("thread (")), None)
        if thread is None or process not in frames[thread - 1]:
            continue
        if "MainThread" in frames[thread]:
            by_process.setdefault(frames[thread - 1], []).append((frames[thread + 1 :], int(count)))
    return max(by_process.values(), key=lambda s: sum(n for _, n in s), default=[])


def breakdown(stacks: list[tuple[list[str], int]]) -> tuple[Counter[str], Counter[str]]:
    """Samples per category, and per leaf frame."""
    categories: Counter[str] = Counter()
    leaves: Counter[str] = Counter()
    for frames, count in stacks:
        category = next((name for name, test in CATEGORIES if frames and test(frames)), OTHER)
        categories[category] += count
        leaves[_short(frames[-1]) if frames else "?"] += count
    return categories, leaves


def _short(frame: str) -> str:
    """``function (file.py:line)``, without the directories."""
    function, _, where = frame.partition(" (")
    return f"{function} ({where.rsplit('/', 1)[-1]}"


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("recording", type=Path, help="py-spy record --format raw output")
    parser.add_argument("--process", default="spawn_main", help="part of the command line")
    parser.add_argument("--leaves", type=int, default=20)
    args = parser.parse_args()
    categories, leaves = breakdown(main_thread_stacks(args.recording, args.process))
    total = sum(categories.values())
    if not total:
        raise SystemExit(f"no main-thread samples of a {args.process!r} process")
    print(f"main thread, {total} samples (100 per second of wall time at --rate 100)\n")
    for name, count in categories.most_common():
        print(f"{count / total:6.1%}  {name}")
    print(f"\ntop {args.leaves} leaf frames")
    for name, count in leaves.most_common(args.leaves):
        print(f"{count / total:6.1%}  {name}")


if __name__ == "__main__":
    main()
