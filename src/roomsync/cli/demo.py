"""``roomsync demo``: an emulated Microsoft 365 tenant synced with the platform, to try.

Imports the tenant's rooms and pulls its bookings (with progress bars), listens for
changes, then serves the API on http://127.0.0.1:PORT and the emulated tenant on PORT+1 and
prints what to try. ``--once`` instead runs the round trip (rooms imported, bookings pulled,
a booking made through the API accepted by the room mailbox, a meeting booked in Outlook
arriving as a booking) and exits 0 only if every step held (``runtime.demo_checks``).
graphsim is imported here only when the command runs, so no other command loads it.
"""

from __future__ import annotations

import signal
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from roomsync.cli.environment import load_settings
from roomsync.cli.exceptions import DemoCheckError
from roomsync.cli.integration import import_progress, pull_progress

if TYPE_CHECKING:
    from roomsync.runtime.demo import Connected, Demo

out = Console()
PortOption = Annotated[
    int, typer.Option(help="Port of the API (the emulated tenant gets PORT+1).", min=1, max=65534)
]
DataDirOption = Annotated[Path, typer.Option(help="Where the demo keeps its SQLite files.")]
OnceOption = Annotated[
    bool, typer.Option("--once", help="Check the round trip, print a summary, exit.")
]
RoomsOption = Annotated[
    int | None, typer.Option(help="Rooms in the tenant (default: the demo tenant's 40).", min=1)
]
SetupOption = Annotated[
    bool,
    typer.Option(
        "--setup",
        help="Leave the organization unconnected and print what the set-up wizard at "
        "/admin/setup asks for.",
    ),
]
ActivityOption = Annotated[
    float, typer.Option(help="Seconds between simulated Outlook changes (0: none).", min=0)
]


def demo(
    *,
    port: PortOption = 8000,
    data_dir: DataDirOption = Path("demo-data"),
    once: OnceOption = False,
    rooms: RoomsOption = None,
    activity: ActivityOption = 20.0,
    setup: SetupOption = False,
) -> None:
    """Try roomsync against an emulated Microsoft 365 tenant, on 127.0.0.1:PORT."""
    from roomsync.runtime.demo import Demo, DemoOptions  # noqa: PLC0415 - loads graphsim

    if setup and once:
        raise typer.BadParameter("--once checks a connected demo: leave out --setup.")
    options = DemoOptions(port, data_dir, rooms, 0.0 if once else activity, setup=setup)
    built = Demo(options, load_settings())
    with built.start() as tenant_url:
        if setup:
            _print(built.prepare_setup())
            built.run_workers()
            _wait_for_a_stop_signal()
            return
        connected = built.connect()
        with import_progress(enabled=True) as progress:
            built.import_rooms(connected, progress)
        with pull_progress(enabled=True) as pulled:
            built.pull(connected, pulled)
        listening = built.subscribe(connected)
        built.run_workers()
        if once:
            _print(built.sign_in_lines())
            _check(built, connected)
            return
        _welcome(built, connected.admin_token, tenant_url, listening)
        _wait_for_a_stop_signal()


def _check(built: Demo, connected: Connected) -> None:
    from roomsync.runtime.demo_checks import round_trip  # noqa: PLC0415 - loads graphsim

    checks = round_trip(built, connected)
    table = Table("step", "held", "what was seen", "seconds")
    for check in checks:
        mark = "[green]yes[/]" if check.ok else "[red]no[/]"
        table.add_row(check.name, mark, check.detail, f"{check.seconds:.1f}")
    out.print(table)
    failed = [check.name for check in checks if not check.ok]
    if failed:
        raise DemoCheckError(f"The demo round trip failed at: {', '.join(failed)}.")
    out.print("[green]The demo round trip held.[/]")


def _welcome(built: Demo, token: str, tenant_url: str, listening: int) -> None:
    _print(built.instructions(token=token, tenant_url=tenant_url, listening=listening))


def _print(lines: list[str]) -> None:
    for line in lines:
        out.print(line, highlight=False, soft_wrap=True, markup=False)


def _wait_for_a_stop_signal() -> None:
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    stop.wait()
    out.print("roomsync demo: stopping")
