"""``roomsync integration ...``: the Microsoft 365 connection from a terminal.

    roomsync integration list
    roomsync integration check ID [--json]        exit 0 only if every required permission works
    roomsync integration sync ID --rooms [--reconcile [--force]] [--json]
    roomsync integration sync ID --bookings [--json]
    roomsync integration status ID [--json]

Integrations are configured through the REST API (``POST /api/v1/integrations``); these
commands run against the database and Microsoft 365 the settings name
(``ROOMSYNC_DATABASE_URL``, ``ROOMSYNC_SECRET_KEY``, ``ROOMSYNC_LOGIN_URL``/``GRAPH_URL``,
``ROOMSYNC_CA_BUNDLE``).
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Callable, Iterator
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn
from rich.table import Table

from roomsync.cli.db import DatabaseUrlOption
from roomsync.cli.environment import load_settings, migrated_database
from roomsync.platform.enums import SyncRunOutcome, SyncRunTrigger
from roomsync.platform.exceptions import InvalidInputError
from roomsync.runtime.heap import settle_heap
from roomsync.sync.context import SyncContext
from roomsync.sync.doctor import DoctorReport, Verdict, check_integration
from roomsync.sync.integrations import list_integrations
from roomsync.sync.pull import pull_bookings
from roomsync.sync.room_reconcile import reconcile_rooms
from roomsync.sync.rooms import ImportPhase, ImportProgress, ProgressCallback, sync_rooms
from roomsync.sync.runs import RunReport
from roomsync.sync.status import integration_state, integration_status
from roomsync.sync.user_sync import sync_users

app = typer.Typer(help="Check and run a Microsoft 365 integration.", no_args_is_help=True)
out = Console(soft_wrap=True)
err = Console(stderr=True)

IdArgument = Annotated[
    str, typer.Argument(help="The integration's id (roomsync integration list).")
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for machines instead.")]
_VERDICT_STYLE = {Verdict.OK: "green", Verdict.MISSING: "red", Verdict.NOT_VERIFIABLE: "yellow"}
_PHASE_LABEL = {
    ImportPhase.LISTING: "Listing rooms",
    ImportPhase.DIRECTORY: "Reading directory attributes",
    ImportPhase.SAVING: "Saving rooms",
}


@contextlib.contextmanager
def sync_context(database_url: str | None = None) -> Iterator[SyncContext]:
    """The settings' database (migrated) and a sync context talking to Microsoft 365."""
    settings = load_settings()
    settings.require_secret_key()
    database = migrated_database(database_url or settings.database_url)
    ctx = SyncContext.build(settings, database)
    try:
        yield ctx
    finally:
        ctx.close()
        database.dispose()


@app.command("list")
def list_command(database_url: DatabaseUrlOption = None) -> None:
    """List the integrations: id, state and organization."""
    with sync_context(database_url) as ctx, ctx.database.session() as session:
        for row in list_integrations(session, limit=200).items:
            state = integration_state(row)
            out.print(f"{row.id}  {state:<8}  organization {row.organization_id}", highlight=False)


@app.command()
def check(
    integration: IdArgument, json: JsonOption = False, database_url: DatabaseUrlOption = None
) -> None:
    """Get a token and check every permission the guide lists; exit 1 if a required one fails."""
    with sync_context(database_url) as ctx:
        report = check_integration(ctx, parse_id(integration))
    if json:
        out.print_json(report.model_dump_json())
    else:
        print_doctor_report(report)
    raise typer.Exit(0 if report.ok else 1)


def print_doctor_report(report: DoctorReport) -> None:
    token = "[green]ok[/]" if report.token.ok else "[red]refused[/]"
    out.print(f"Token: {token}. {escape(report.token.detail)}", highlight=False)
    if report.token.roles is not None:
        roles = ", ".join(report.token.roles) or "none"
        out.print(f"Roles claim (read without verifying the token: informational): {roles}")
    table = Table("Permission", "Required", "Verdict", "Checked by")
    for verdict in report.permissions:
        style = _VERDICT_STYLE[verdict.verdict]
        required = "yes" if verdict.required else "optional"
        checked = str(verdict.evidence).replace("_", " ")
        table.add_row(verdict.permission, required, f"[{style}]{verdict.verdict}[/]", checked)
    out.print(table)
    for verdict in report.permissions:
        if verdict.verdict is not Verdict.OK:
            out.print(f"{verdict.permission}: {escape(verdict.detail)}", highlight=False)
            out.print(f"  What to do: {escape(verdict.remedy or '')}", highlight=False)
    days = report.credential.days_until_secret_expiry
    if days is not None:
        out.print(f"Client secret: {days} days until it expires.")
    for notice in report.notices:
        out.print(f"[yellow]{escape(notice)}[/]", highlight=False)
    out.print("[green]All required permissions work.[/]" if report.ok else "[red]Not ready.[/]")


@app.command()
def sync(
    integration: IdArgument,
    *,
    rooms: Annotated[bool, typer.Option("--rooms", help="Import the rooms now.")] = False,
    bookings: Annotated[
        bool, typer.Option("--bookings", help="Pull the bookings made in Outlook now.")
    ] = False,
    users: Annotated[
        bool, typer.Option("--users", help="Bring users up to date with the directory now.")
    ] = False,
    reconcile: Annotated[
        bool,
        typer.Option(
            "--reconcile", help="With --rooms: also retire rooms gone from Microsoft 365."
        ),
    ] = False,
    force: Annotated[
        bool,
        typer.Option("--force", help="With --reconcile: retire even when many rooms go at once."),
    ] = False,
    json: JsonOption = False,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Run a workflow now, with a progress bar; exit 1 if a run failed."""
    if [rooms, bookings, users].count(True) != 1:
        raise InvalidInputError(
            "Say which one workflow to run: --rooms, --bookings or --users.", field="rooms"
        )
    integration_id = parse_id(integration)
    with sync_context(database_url) as ctx:
        settle_heap()  # a first pull may read 100,000 events: see runtime/heap.py
        if users:
            report = sync_users(ctx, integration_id, trigger=SyncRunTrigger.MANUAL)
        elif bookings:
            with pull_progress(enabled=not json) as pulled:
                report = pull_bookings(
                    ctx, integration_id, trigger=SyncRunTrigger.MANUAL, progress=pulled
                )
        else:
            with import_progress(enabled=not json) as progress:
                report = _room_run(ctx, integration_id, reconcile, force, progress)
    if json:
        out.print_json(data=_report_json(report))
    else:
        print_run_report(report)
    raise typer.Exit(1 if report.outcome is SyncRunOutcome.FAILED else 0)


def _room_run(
    ctx: SyncContext,
    integration_id: uuid.UUID,
    reconcile: bool,
    force: bool,
    progress: ProgressCallback | None,
) -> RunReport:
    manual = SyncRunTrigger.MANUAL
    if reconcile:
        return reconcile_rooms(ctx, integration_id, trigger=manual, force=force, progress=progress)
    return sync_rooms(ctx, integration_id, trigger=manual, progress=progress)


@contextlib.contextmanager
def pull_progress(*, enabled: bool) -> Iterator[Callable[[int, int], None] | None]:
    """A Rich progress bar of rooms pulled, on stderr."""
    if not enabled:
        yield None
        return
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, console=err, transient=False) as bar:
        task = bar.add_task("Pulling bookings (rooms)", total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield update


@contextlib.contextmanager
def import_progress(*, enabled: bool) -> Iterator[ProgressCallback | None]:
    """A Rich progress bar on stderr fed by the import's progress callback."""
    if not enabled:
        yield None
        return
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, console=err, transient=False) as bar:
        tasks: dict[ImportPhase, TaskID] = {}

        def update(step: ImportProgress) -> None:
            if step.phase not in tasks:
                tasks[step.phase] = bar.add_task(_PHASE_LABEL[step.phase], total=step.total)
            bar.update(tasks[step.phase], advance=step.advance, total=step.total)

        yield update


def print_run_report(report: RunReport) -> None:
    out.print(f"Run {report.run_id}: {report.outcome}", highlight=False)
    table = Table("Count", "Rooms")
    for name, value in sorted(report.counts.items()):
        table.add_row(name, str(value))
    out.print(table)
    for warning in report.warnings:
        out.print(f"[yellow]warning:[/] {escape(warning)}", highlight=False)
    for error in report.errors:
        out.print(f"[red]error:[/] {escape(error)}", highlight=False)


def _report_json(report: RunReport) -> dict[str, object]:
    return {
        "run_id": str(report.run_id),
        "outcome": str(report.outcome),
        "counts": dict(sorted(report.counts.items())),
        "warnings": report.warnings,
        "errors": report.errors,
    }


@app.command()
def status(
    integration: IdArgument, json: JsonOption = False, database_url: DatabaseUrlOption = None
) -> None:
    """Health, recent runs and counts."""
    with sync_context(database_url) as ctx:
        view = integration_status(ctx, parse_id(integration))
    if json:
        out.print_json(view.model_dump_json())
        return
    health = view.health
    out.print(f"Integration {view.integration_id}: {health.state}", highlight=False)
    for notice in health.notices:
        out.print(f"[yellow]{escape(notice)}[/]", highlight=False)
    table = Table("Kind", "Started", "Outcome", "Counts")
    for kind, runs in view.runs.items():
        for run in runs[:1]:
            counts = ", ".join(f"{k} {v}" for k, v in sorted(run.counts.items()) if v)
            started = f"{run.started_at:%Y-%m-%d %H:%M:%S}Z"
            table.add_row(str(kind), started, str(run.outcome), counts)
    out.print(table)


def parse_id(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError as exc:
        raise InvalidInputError(
            f"{value!r} is not an integration id (a UUID): list them with `roomsync integration "
            "list` or GET /api/v1/integrations.",
            field="integration",
        ) from exc
