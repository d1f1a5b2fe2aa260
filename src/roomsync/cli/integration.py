"""``roomsync integration ...``: the Microsoft 365 connection from a terminal.

    roomsync integration list
    roomsync integration check ID [--json]        exit 0 only if every required permission works
    roomsync integration sync ID --rooms [--reconcile [--force]] [--bookings] [--json]
    roomsync integration sync ID --bookings [--json]
    roomsync integration status ID [--json]

Every command takes ``--database-url URL`` or ``--data-dir DIR`` (the demo's database).

Integrations are configured through the REST API (``POST /api/v1/integrations``); these
commands run against the database and Microsoft 365 the settings name
(``ROOMSYNC_DATABASE_URL``, ``ROOMSYNC_SECRET_KEY``, ``ROOMSYNC_LOGIN_URL``/``GRAPH_URL``,
``ROOMSYNC_CA_BUNDLE``).
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Callable, Iterator
from enum import StrEnum
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn
from rich.table import Table

from roomsync.cli.environment import (
    DatabaseUrlOption,
    DataDirOption,
    command_settings,
    existing_database,
)
from roomsync.platform.enums import SyncRunOutcome, SyncRunTrigger
from roomsync.platform.exceptions import InvalidInputError
from roomsync.runtime.heap import settle_heap
from roomsync.settings import Settings
from roomsync.sync.context import SyncContext
from roomsync.sync.integration.configuration import list_integrations
from roomsync.sync.integration.doctor import DoctorReport, Verdict, check_integration
from roomsync.sync.integration.status import integration_state, integration_status
from roomsync.sync.pull.workflow import pull_bookings
from roomsync.sync.rooms.reconcile import reconcile_rooms
from roomsync.sync.rooms.workflow import ImportPhase, ImportProgress, ProgressCallback, sync_rooms
from roomsync.sync.runs import RunReport
from roomsync.sync.users.workflow import sync_users

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
def sync_context(settings: Settings) -> Iterator[SyncContext]:
    """The settings' database (migrated) and a sync context talking to Microsoft 365."""
    settings.require_secret_key()
    database = existing_database(settings.database_url)
    ctx = SyncContext.build(settings, database)
    try:
        yield ctx
    finally:
        ctx.close()
        database.dispose()


@app.command("list")
def list_command(database_url: DatabaseUrlOption = None, data_dir: DataDirOption = None) -> None:
    """List the integrations: id, state and organization."""
    settings = command_settings(database_url, data_dir)
    with sync_context(settings) as ctx, ctx.database.session() as session:
        for row in list_integrations(session, limit=200).items:
            state = integration_state(row)
            out.print(f"{row.id}  {state:<8}  organization {row.organization_id}", highlight=False)


@app.command()
def check(
    integration: IdArgument,
    json: JsonOption = False,
    database_url: DatabaseUrlOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """Get a token and check every permission roomsync needs; exit 1 if a required one fails."""
    with sync_context(command_settings(database_url, data_dir)) as ctx:
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


class Workflow(StrEnum):
    ROOMS = "rooms"
    BOOKINGS = "bookings"
    USERS = "users"


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
    data_dir: DataDirOption = None,
) -> None:
    """Run the workflows asked for now, in order (rooms, bookings, users), with a progress
    bar; exit 1 if a run failed."""
    workflows = chosen_workflows(
        rooms=rooms, bookings=bookings, users=users, reconcile=reconcile, force=force
    )
    integration_id = parse_id(integration)
    reports: list[tuple[Workflow, RunReport]] = []
    with sync_context(command_settings(database_url, data_dir)) as ctx:
        settle_heap()  # a first pull may read 100,000 events: see runtime/heap.py
        for workflow in workflows:
            run = _run_workflow(ctx, integration_id, workflow, reconcile, force, show=not json)
            reports.append((workflow, run))
    _print_reports(reports, json=json)
    failed = any(report.outcome is SyncRunOutcome.FAILED for _, report in reports)
    raise typer.Exit(1 if failed else 0)


def _print_reports(reports: list[tuple[Workflow, RunReport]], *, json: bool) -> None:
    """One table per run; with --json one object, or a list of them when both ran."""
    if not json:
        for workflow, report in reports:
            print_run_report(report, workflow)
        return
    payloads = [_report_json(workflow, report) for workflow, report in reports]
    out.print_json(data=payloads[0] if len(payloads) == 1 else payloads)


def chosen_workflows(
    *, rooms: bool, bookings: bool, users: bool = False, reconcile: bool, force: bool
) -> list[Workflow]:
    """The workflows the flags ask for, in the order they run; refuses flags that do nothing."""
    if force and not reconcile:
        raise InvalidInputError(
            "--force only changes --reconcile (it retires rooms even when many go at once): "
            "add --reconcile, or leave --force out.",
            field="force",
        )
    if reconcile and not rooms:
        raise InvalidInputError(
            "--reconcile is part of the room import: add --rooms.", field="reconcile"
        )
    asked = ((Workflow.ROOMS, rooms), (Workflow.BOOKINGS, bookings), (Workflow.USERS, users))
    chosen = [flow for flow, on in asked if on]
    if not chosen:
        raise InvalidInputError(
            "Say which workflow to run: --rooms, --bookings or --users (give several to run "
            "them in that order).",
            field="rooms",
        )
    return chosen


def _run_workflow(
    ctx: SyncContext,
    integration_id: uuid.UUID,
    workflow: Workflow,
    reconcile: bool,
    force: bool,
    *,
    show: bool,
) -> RunReport:
    if workflow is Workflow.USERS:
        return sync_users(ctx, integration_id, trigger=SyncRunTrigger.MANUAL)
    if workflow is Workflow.BOOKINGS:
        with pull_progress(enabled=show) as pulled:
            return pull_bookings(
                ctx, integration_id, trigger=SyncRunTrigger.MANUAL, progress=pulled
            )
    with import_progress(enabled=show) as progress:
        return _room_run(ctx, integration_id, reconcile, force, progress)


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


def print_run_report(report: RunReport, workflow: Workflow) -> None:
    out.print(f"Run {report.run_id} ({workflow}): {report.outcome}", highlight=False)
    table = Table("Count", "Value")
    for name, value in sorted(report.counts.items()):
        table.add_row(name, str(value))
    out.print(table)
    for warning in report.warnings:
        out.print(f"[yellow]warning:[/] {escape(warning)}", highlight=False)
    for error in report.errors:
        out.print(f"[red]error:[/] {escape(error)}", highlight=False)


def _report_json(workflow: Workflow, report: RunReport) -> dict[str, object]:
    return {
        "workflow": str(workflow),
        "run_id": str(report.run_id),
        "outcome": str(report.outcome),
        "counts": dict(sorted(report.counts.items())),
        "warnings": report.warnings,
        "errors": report.errors,
    }


@app.command()
def status(
    integration: IdArgument,
    json: JsonOption = False,
    database_url: DatabaseUrlOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """Health, recent runs and counts."""
    with sync_context(command_settings(database_url, data_dir)) as ctx:
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
