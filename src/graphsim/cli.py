"""The ``graphsim`` command line: ``graphsim serve``."""

from __future__ import annotations

import json
import signal
import threading
from pathlib import Path
from typing import Annotated

import typer

from graphsim.control.activity import start_activity
from graphsim.control.seeding import SeedSpec
from graphsim.server import serve as run_server
from graphsim.tenants import TenantRouter, make_tenants, serve_tenants

app = typer.Typer(help="graphsim: an emulated Microsoft 365 tenant.", no_args_is_help=True)


@app.callback()
def _root() -> None:
    """graphsim: an emulated Microsoft 365 tenant."""


@app.command()
def serve(
    *,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port (0 picks a free one).")] = 8443,
    seed: Annotated[str, typer.Option(help="'demo' for the demo tenant, or a number.")] = "1",
    rooms: Annotated[int, typer.Option(help="Rooms to seed (ignored with --seed demo).")] = 10,
    events_per_room: Annotated[
        int, typer.Option(help="Meetings seeded in each room (ignored with --seed demo).")
    ] = 3,
    days_before: Annotated[int, typer.Option(help="Seeded meetings start this many days ago.")] = 3,
    days_after: Annotated[
        int, typer.Option(help="Seeded meetings spread over this many days ahead.")
    ] = 10,
    latency_ms: Annotated[float, typer.Option(help="Latency added to every Graph call.")] = 0,
    config_out: Annotated[Path | None, typer.Option(help="Write connection details here.")] = None,
    tls: Annotated[bool, typer.Option(help="Serve HTTPS with graphsim's own CA.")] = True,
    redirect_uri: Annotated[
        list[str] | None,
        typer.Option(help="Also register this Web redirect URI on the app (repeatable)."),
    ] = None,
    activity: Annotated[
        float, typer.Option(help="Seconds between simulated Outlook changes (0: none).")
    ] = 0,
    tenants: Annotated[
        int,
        typer.Option(min=1, help="Tenants to serve on the one port, each with its own directory."),
    ] = 1,
) -> None:
    """Serve an emulated tenant (or several) until interrupted."""
    demo = seed == "demo"
    sims = make_tenants(tenants, seed=1 if demo else int(seed))
    spec = SeedSpec(
        rooms=rooms, events_per_room=events_per_room, days_before=days_before, days_after=days_after
    )
    results = [sim.seed_demo(index) if demo else sim.seed(spec) for index, sim in enumerate(sims)]
    for sim in sims:
        if latency_ms:
            sim.inject_latency(latency_ms)
        for uri in redirect_uri or []:
            sim.signin.add_redirect_uri(uri)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    tls_dir = config_out.resolve().parent / "graphsim-tls" if config_out else None
    router = TenantRouter(sims) if tenants > 1 else None
    serving = (
        serve_tenants(router, host=host, port=port, tls=tls, tls_dir=tls_dir)
        if router
        else run_server(sims[0], host=host, port=port, tls=tls, tls_dir=tls_dir)
    )
    with serving as handle:
        if config_out:
            source = router or sims[0]
            config_out.write_text(
                json.dumps(source.config(handle.base_url, handle.ca_path), indent=2)
            )
        typer.echo(
            f"graphsim serving {len(results[0].rooms)} rooms at {handle.base_url} "
            f"(tenant {sims[0].tenant_id}); CA: {handle.ca_path}"
        )
        for sim, result in zip(sims[1:], results[1:], strict=True):
            typer.echo(
                f"graphsim serving {len(result.rooms)} rooms of {sim.tenant.domain} "
                f"(tenant {sim.tenant_id}) there too"
            )
        if activity > 0:
            for sim, result in zip(sims, results, strict=True):
                start_activity(sim, result.rooms, result.users, activity, stop)
        try:
            stop.wait()
        except KeyboardInterrupt:
            typer.echo("graphsim stopping")


def main() -> None:
    app()
