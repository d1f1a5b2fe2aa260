"""Serving a simulator over real HTTP(S): uvicorn on a thread, TLS from graphsim's own CA.

The CA and server certificate (for 127.0.0.1, localhost and ::1) are made at start-up
and written to a directory; clients trust the CA file (``ca_bundle``). HTTP is parsed by
httptools rather than h11: h11's pure-Python parsing and its three writes per answer
cost a served Graph call about a third more CPU, on the cores its client shares.
"""

from __future__ import annotations

import contextlib
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import uvicorn
from starlette.types import ASGIApp

from graphsim.errors import ConfigurationError
from graphsim.identity.pki import certificate_authority, server_certificate
from graphsim.simulator import Simulator

LOOPBACK_NAMES = ["127.0.0.1", "localhost", "::1"]


@dataclass(frozen=True)
class ServerHandle:
    """A running server: where it listens and which CA file to trust (None without TLS)."""

    base_url: str
    ca_path: str | None
    port: int
    simulator: Simulator


def write_tls_files(directory: Path, now_sim: Simulator) -> tuple[Path, Path, Path]:
    """CA certificate, server certificate and server key files in ``directory``."""
    now = now_sim.core.clock.now()
    ca, ca_key = certificate_authority(now)
    server = server_certificate(ca, ca_key, now, LOOPBACK_NAMES)
    directory.mkdir(parents=True, exist_ok=True)
    paths = directory / "ca.pem", directory / "server.pem", directory / "server-key.pem"
    for path, text in zip(paths, (ca.cert_pem, server.cert_pem, server.key_pem), strict=True):
        path.write_text(text)
    paths[2].chmod(0o600)
    return paths


@contextlib.contextmanager
def serve_asgi(
    app: ASGIApp,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    certfile: str | None = None,
    keyfile: str | None = None,
) -> Iterator[tuple[str, int]]:
    """Run any ASGI app with uvicorn on a thread; yields (base URL, port)."""
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level="warning",
        access_log=False,
        lifespan="off",
        http="httptools",
        timeout_graceful_shutdown=2,
        ssl_certfile=certfile,
        ssl_keyfile=keyfile,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="graphsim-server", daemon=True)
    thread.start()
    try:
        bound = _wait_started(server, thread)
        shown = f"[{host}]" if ":" in host else host
        yield f"{'https' if certfile else 'http'}://{shown}:{bound}", bound
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@contextlib.contextmanager
def serve(
    simulator: Simulator | None = None,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    tls: bool = True,
    tls_dir: str | Path | None = None,
) -> Iterator[ServerHandle]:
    """Run ``simulator`` (a new one if None) on ``host:port`` until the block ends;
    port 0 picks a free port."""
    sim = simulator or Simulator()
    with tempfile.TemporaryDirectory(prefix="graphsim-") as scratch:
        directory = Path(tls_dir) if tls_dir else Path(scratch)
        ca_path, cert, key = None, None, None
        if tls:
            ca, cert_path, key_path = write_tls_files(directory, sim)
            ca_path, cert, key = str(ca.resolve()), str(cert_path), str(key_path)
        try:
            with serve_asgi(sim.app, host=host, port=port, certfile=cert, keyfile=key) as (
                base_url,
                bound,
            ):
                yield ServerHandle(base_url, ca_path, bound, sim)
        finally:
            if simulator is None:
                sim.close()


def _wait_started(server: uvicorn.Server, thread: threading.Thread) -> int:
    deadline = time.monotonic() + 15
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise ConfigurationError("graphsim's HTTP server did not start (is the port free?).")
        time.sleep(0.01)
    sockets = [s for srv in server.servers for s in srv.sockets]
    return int(sockets[0].getsockname()[1])
