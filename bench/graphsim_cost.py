"""graphsim's own CPU per ``calendarView/delta`` item of a steady round (rooms unchanged),
inside ``$batch`` and alone, against the 0.25 ms target.

graphsim serves N rooms in its own process (``graphsim serve``, HTTPS, 50 ms per Graph
call, Outlook throttling on, as every benchmark runs it). An initial round gives each
room its deltaLink; then, ``--rounds`` times, every room is brought up to date twice with
nothing changed: once with individual GETs (the plain peer of ``bench.peer_client``, 256 in
flight) and once in ``$batch`` calls of 20 items (``--batches`` in flight). graphsim's CPU
(user + system, from /proc) over each round divided by the delta items it answered is
the figure; the load generator's CPU is not counted.

    python -m bench.graphsim_cost [--rooms 2000] [--latency-ms 50] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import os
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

from bench.harness import ServedTenant, print_table, served_graphsim, write_results
from bench.peer_client import PeerCredentials, fetch_token, peer_session, run_peer_round

TARGET_MS = 0.25
BATCH_SIZE = 20
ITEM_HEADERS = {"Prefer": 'odata.maxpagesize=16, IdType="ImmutableId", outlook.timezone="UTC"'}


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of process ``pid`` (all its threads), from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class CostSample:
    items: int
    cpu_seconds: float
    seconds: float
    throttled: int


async def batch_round(
    session: aiohttp.ClientSession, base_url: str, token: str, links: dict[str, str], batches: int
) -> tuple[int, int]:
    """Every room's deltaLink once, 20 to a ``$batch``, ``batches`` calls in flight;
    returns (items, 429 items)."""
    relative = [link.removeprefix(f"{base_url}/v1.0") for link in links.values()]
    chunks = [relative[i : i + BATCH_SIZE] for i in range(0, len(relative), BATCH_SIZE)]
    gate = asyncio.Semaphore(batches)
    headers = {"Authorization": f"Bearer {token}"}

    async def one(chunk: list[str]) -> list[dict[str, Any]]:
        wire = [
            {"id": str(n), "method": "GET", "url": url, "headers": ITEM_HEADERS}
            for n, url in enumerate(chunk)
        ]
        async with (
            gate,
            session.post(
                f"{base_url}/v1.0/$batch", json={"requests": wire}, headers=headers
            ) as response,
        ):
            response.raise_for_status()
            return list((await response.json())["responses"])

    answers = [a for found in await asyncio.gather(*map(one, chunks)) for a in found]
    return len(answers), sum(1 for a in answers if a["status"] == 429)


async def _sampled(pid: int, run: Callable[[], Awaitable[tuple[int, int]]]) -> CostSample:
    cpu, started = process_cpu_seconds(pid), time.perf_counter()
    items, throttled = await run()
    return CostSample(
        items, process_cpu_seconds(pid) - cpu, time.perf_counter() - started, throttled
    )


async def _measure(tenant: ServedTenant, rounds: int, batches: int) -> dict[str, list[CostSample]]:
    config, pid, base = tenant.config, tenant.process_id or 0, tenant.base_url
    rooms = [room["email"] for room in config["rooms"]]
    credentials = PeerCredentials(config["tenant_id"], config["client_id"], config["client_secret"])
    samples: dict[str, list[CostSample]] = {"single": [], "batch": []}
    # One session for the whole run: connections are opened once, as by a long-lived client.
    async with peer_session(tenant.ca_bundle) as session:
        token = await fetch_token(session, base, credentials)
        peer = functools.partial(run_peer_round, base, token, rooms, session=session)
        links = (await peer({})).delta_links
        for _ in range(rounds):

            async def single() -> tuple[int, int]:
                nonlocal links
                done = await peer(links)
                links = done.delta_links
                return done.requests, done.throttled

            samples["single"].append(await _sampled(pid, single))
            samples["batch"].append(
                await _sampled(pid, lambda: batch_round(session, base, token, links, batches))
            )
    return samples


def _summary(kind: str, samples: list[CostSample]) -> dict[str, Any]:
    items = sum(s.items for s in samples)
    cpu = sum(s.cpu_seconds for s in samples)
    per_item = 1000 * cpu / max(1, items)
    return {
        "kind": kind,
        "items": items,
        "graphsim_cpu_s": round(cpu, 2),
        "cpu_ms_per_item": round(per_item, 3),
        "round_s": round(sum(s.seconds for s in samples) / len(samples), 2),
        "throttled_429": sum(s.throttled for s in samples),
        "target_ms": TARGET_MS,
        "met": per_item <= TARGET_MS,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rooms", type=int, default=2000)
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--batches", type=int, default=16, help="$batch calls in flight")
    args = parser.parse_args()
    with served_graphsim(rooms=args.rooms, latency_ms=args.latency_ms) as tenant:
        samples = asyncio.run(_measure(tenant, args.rounds, args.batches))
    results = [_summary("$batch item", samples["batch"]), _summary("single GET", samples["single"])]
    columns = ["kind", "items", "graphsim_cpu_s", "cpu_ms_per_item", "target_ms", "met"]
    columns += ["round_s", "throttled_429"]
    print_table(
        f"graphsim CPU per calendarView/delta item, {args.rooms} unchanged rooms "
        f"({args.latency_ms:.0f} ms per call)",
        columns,
        [[row[c] for c in columns] for row in results],
    )
    path = write_results(
        "graphsim_cost", {"rooms": args.rooms, "latency_ms": args.latency_ms, "results": results}
    )
    print(f"\nwritten to {path}")


if __name__ == "__main__":
    main()
