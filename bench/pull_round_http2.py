"""HTTP/2 against HTTP/1.1 for the steady round's fan-out, side by side on one server.

Graph serves HTTP/2; ``graphsim serve`` (uvicorn) serves HTTP/1.1 only. So this script
serves graphsim's ASGI app with Hypercorn, which offers both over TLS (ALPN), in its own
process with the same seeding, latency and throttling as ``graphsim serve``, and times
roomsync's steady round (shipped defaults) through two transports, interleaved:

- the shipped one: httpx's pool of HTTP/1.1 connections (one per batch in flight);
- ``httpx.HTTPTransport(http2=True)``: batches multiplexed as streams of one connection
  (more only when the server's stream limit is reached).

    python -m bench.pull_round_http2 [--rooms 5000] [--repeats 3] [--latency-ms 50]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
from hypercorn.asyncio import serve as hypercorn_serve
from hypercorn.config import Config

from bench.harness import (
    SECRET_KEY,
    ServedTenant,
    _wait_for_config,
    platform_for,
    print_table,
    write_results,
)
from bench.pull_round import _Bench
from graphsim.control.seeding import SeedSpec
from graphsim.server import write_tls_files
from graphsim.simulator import Simulator
from roomsync.m365.http import MAX_CONNECTIONS
from roomsync.platform.enums import SyncRunTrigger
from roomsync.settings import Settings
from roomsync.sync.context import SyncContext
from roomsync.sync.pull.workflow import pull_bookings


def serve(config_path: Path, rooms: int, latency_ms: float) -> None:
    """In the child: a seeded simulator served by Hypercorn (h2 and http/1.1) until SIGTERM."""
    sim = Simulator(seed=1)
    sim.seed(SeedSpec(rooms=rooms))
    sim.inject_latency(latency_ms)
    ca, cert, key = write_tls_files(config_path.parent / "tls", sim)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = Config()
    config.bind = [f"127.0.0.1:{port}"]
    config.certfile, config.keyfile = str(cert), str(key)
    config.alpn_protocols = ["h2", "http/1.1"]
    config.accesslog = None
    config.h2_max_concurrent_streams = 1000
    config.graceful_timeout = 1.0
    stop = asyncio.Event()

    async def main() -> None:
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGTERM, stop.set)
        served = asyncio.ensure_future(hypercorn_serve(sim.app, config, shutdown_trigger=stop.wait))  # type: ignore[arg-type]
        await asyncio.sleep(0.5)
        config_path.write_text(
            json.dumps(sim.config(f"https://127.0.0.1:{port}", str(ca.resolve())))
        )
        await served

    asyncio.run(main())


@contextlib.contextmanager
def served_by_hypercorn(rooms: int, latency_ms: float) -> Iterator[ServedTenant]:
    workdir = Path(tempfile.mkdtemp(prefix="roomsync-bench-h2-"))
    config_path = workdir / "graphsim.json"
    command = [sys.executable, "-m", "bench.pull_round_http2", "--serve", str(config_path),
               "--rooms", str(rooms), "--latency-ms", str(latency_ms)]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        yield ServedTenant(_wait_for_config(config_path, process), process.pid)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def http2_context(tenant: ServedTenant, database: Any) -> SyncContext:
    """A context whose shared client speaks HTTP/2 (the transport is the seam)."""
    settings = Settings(
        _env_file=None, secret_key=SECRET_KEY, login_url=tenant.base_url,
        graph_url=tenant.base_url, ca_bundle=Path(tenant.ca_bundle),
    )  # fmt: skip
    verify = ssl.create_default_context(cafile=tenant.ca_bundle)
    limits = httpx.Limits(
        max_connections=MAX_CONNECTIONS, max_keepalive_connections=MAX_CONNECTIONS
    )
    transport = httpx.HTTPTransport(http2=True, verify=verify, limits=limits)
    return SyncContext.build(settings, database, transport=transport)


def _note_version(versions: set[str]) -> Callable[[httpx.Response], None]:
    return lambda response: versions.add(response.http_version)


def measure(rooms: int, latency_ms: float, repeats: int) -> list[dict[str, Any]]:
    with served_by_hypercorn(rooms, latency_ms) as tenant:
        platform = platform_for(tenant)
        pull_bookings(platform.ctx, platform.integration_id, trigger=SyncRunTrigger.MANUAL)
        h2_ctx = http2_context(tenant, platform.ctx.database)
        contexts = {"HTTP/1.1 pool (shipped)": platform.ctx, "HTTP/2 (http2=True)": h2_ctx}
        bench = _Bench(tenant, platform, rooms)
        timed: dict[str, list[tuple[float, float, float, str]]] = {name: [] for name in contexts}
        failures: dict[str, list[str]] = {name: [] for name in contexts}
        for _ in range(repeats):
            for name, ctx in contexts.items():
                versions: set[str] = set()
                ctx.http.event_hooks["response"] = [_note_version(versions)]

                def round_(ctx: SyncContext = ctx) -> None:
                    pull_bookings(ctx, platform.integration_id, trigger=SyncRunTrigger.MANUAL)

                try:
                    run = bench.timed(round_)
                except Exception as exc:  # a transport that breaks is a result too
                    failures[name].append(f"{type(exc).__name__}: {exc}"[:200])
                    continue
                row = (run.seconds, run.client_cpu, run.graphsim_cpu, ",".join(sorted(versions)))
                timed[name].append(row)
        h2_ctx.close()
        platform.ctx.close()
    return [_row(rooms, name, runs, failures[name]) for name, runs in timed.items()]


def _row(
    rooms: int, name: str, runs: list[tuple[float, float, float, str]], failures: list[str]
) -> dict[str, Any]:
    def best(n: int) -> float | None:
        return min(r[n] for r in runs) if runs else None

    def per_room(seconds: float | None) -> float | None:
        return round(1000 * seconds / rooms, 3) if seconds is not None else None

    seconds = best(0)
    return {
        "rooms": rooms, "transport": name,
        "best_round_s": round(seconds, 2) if seconds is not None else None,
        "rounds_s": [round(r[0], 2) for r in runs],
        "roomsync_cpu_ms_per_room": per_room(best(1)),
        "graphsim_cpu_ms_per_room": per_room(best(2)),
        "http_version": runs[0][3] if runs else "-",
        "failed_rounds": failures,
    }  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rooms", type=int, nargs="+", default=[5000])
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--serve", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.rooms[0], args.latency_ms)
        return
    started = time.perf_counter()
    results = [row for n in args.rooms for row in measure(n, args.latency_ms, args.repeats)]
    columns = list(results[0])
    print_table(
        f"Steady round through HTTP/1.1 and HTTP/2, one Hypercorn-served graphsim "
        f"({args.latency_ms:.0f} ms per call), shipped defaults otherwise",
        columns,
        [[row[c] for c in columns] for row in results],
    )
    path = write_results("pull_round_http2", {"results": results})
    print(f"\nwritten to {path} in {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
