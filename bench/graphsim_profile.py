"""Where graphsim's CPU goes in a steady round: ``bench.graphsim_cost``'s rounds with py-spy
sampling the ``graphsim serve`` process, each sample put in one bucket (the innermost frame
that names one: TLS, HTTP server, Starlette, JWT, delta tokens, JSON, request log,
throttling, latency timers, the rest of graphsim), and each bucket's share turned into ms
per item with the CPU measured in the same rounds.

    python -m bench.graphsim_profile [--rooms 1000] [--rounds 3] [--out FILE]

Needs py-spy (``make bench`` installs it) and the right to trace a child process (root, or
``ptrace_scope`` 0). Raw samples are kept beside ``--out`` for a flame graph.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from pathlib import Path

from bench.graphsim_cost import batch_round, sampled
from bench.harness import ServedTenant, served_graphsim
from bench.peer_client import PeerCredentials, fetch_token, peer_session, run_peer_round

PY_SPY = str(Path(sys.executable).with_name("py-spy"))

# (bucket, what a frame's "function (file:line)" text contains, py-spy naming files from
# their sys.path entry); the first match from the innermost frame outwards names the
# sample's bucket.
BUCKETS: list[tuple[str, tuple[str, ...]]] = [
    ("JWT verification", ("(jwt/",)),
    ("delta token encode/decode", ("TokenCodec",)),
    ("request log", ("requestlog.py", "LoggedRequest")),
    ("throttling bookkeeping", ("throttling.py",)),
    ("asyncio tasks and timers (latency sleeps, gather)", ("asyncio/tasks.py", "Timer")),
    ("JSON encode/decode", ("(json/",)),
    ("query, Prefer and URL parsing", ("query.py", "urllib/parse", "prefer", "_preferences")),
    ("graphsim handler and pipeline", ("(graphsim/",)),
    ("Starlette (middleware, router, Request, Response)", ("(starlette/",)),
    ("HTTP server (uvicorn, h11/httptools)", ("(uvicorn/", "(h11/", "httptools")),
    ("TLS", ("ssl.py", "sslproto.py")),
    ("sockets and event loop", ("selector", "base_events", "events.py")),
]


def bucket_of(stack: list[str]) -> str:
    for frame in reversed(stack):
        for name, needles in BUCKETS:
            if any(needle in frame for needle in needles):
                return name
    return "other"


def breakdown(raw: Path) -> Counter[str]:
    """Samples per bucket in a py-spy ``--format raw`` file."""
    counts: Counter[str] = Counter()
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        counts[bucket_of(stack.split(";"))] += int(count)
    return counts


async def _profiled_rounds(
    tenant: ServedTenant, rounds: int, out: Path
) -> dict[str, tuple[Counter[str], float]]:
    config, pid, base = tenant.config, tenant.process_id or 0, tenant.base_url
    rooms = [room["email"] for room in config["rooms"]]
    credentials = PeerCredentials(config["tenant_id"], config["client_id"], config["client_secret"])
    found: dict[str, tuple[Counter[str], float]] = {}
    async with peer_session(tenant.ca_bundle) as session:
        token = await fetch_token(session, base, credentials)
        peer = functools.partial(run_peer_round, base, token, rooms, session=session)
        links = (await peer({})).delta_links

        async def single() -> tuple[int, int]:
            done = await peer(links)
            return done.requests, done.throttled

        async def batched() -> tuple[int, int]:
            return await batch_round(session, base, token, links, 16)

        kinds: dict[str, Callable[[], Awaitable[tuple[int, int]]]] = {
            "single GET": single,
            "$batch item": batched,
        }
        for kind, run in kinds.items():
            await run()  # connections open and caches warm, as in a steady state
            raw = out.with_name(f"{out.stem}-{kind.replace(' ', '_').strip('$')}.raw")
            spy = subprocess.Popen(
                [PY_SPY, "record", "--pid", str(pid), "--format", "raw", "--rate", "250",
                 "--nonblocking", "--output", str(raw)],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )  # fmt: skip
            time.sleep(1.5)  # py-spy attaches
            samples = [await sampled(pid, run) for _ in range(rounds)]
            spy.send_signal(2)
            spy.wait(timeout=60)
            per_item = 1000 * sum(s.cpu_seconds for s in samples) / sum(s.items for s in samples)
            found[kind] = (breakdown(raw), per_item)
    return found


def render(found: dict[str, tuple[Counter[str], float]]) -> str:
    lines = []
    for kind, (counts, per_item) in found.items():
        total = sum(counts.values()) or 1
        lines.append(f"\n{kind}: {per_item:.3f} ms of graphsim CPU per item")
        for name, count in counts.most_common():
            share = count / total
            lines.append(f"  {100 * share:5.1f} %  {per_item * share:6.3f} ms  {name}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rooms", type=int, default=1000)
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--out", type=Path, default=Path("bench/profiles/graphsim_cost.txt"))
    args = parser.parse_args()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with served_graphsim(rooms=args.rooms, latency_ms=args.latency_ms) as tenant:
        found = asyncio.run(_profiled_rounds(tenant, args.rounds, args.out))
    text = render(found)
    header = f"graphsim serve, {args.rooms} unchanged rooms, {args.latency_ms:.0f} ms per call"
    args.out.write_text(f"{header}\n{text}\n")
    print(header + text)
    print(f"\nwritten to {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
