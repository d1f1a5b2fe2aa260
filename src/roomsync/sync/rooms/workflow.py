"""Workflow 1, rooms (docs/architecture.md#the-four-workflows): every 30 minutes (and
on demand), list the integration's rooms, map their fields and create or update the
platform's resources.

One run: the shared gate (a stopped or disabled integration is refused), the integration's
``rooms:`` lease (an import and a midnight reconciliation never overlap), a recorded run,
then token → room listing (:mod:`room_listing`) → directory attributes when a mapping
needs them (:mod:`room_details`, ``$batch``) → field mapping (:mod:`field_mapping`) →
resources and buildings (:mod:`room_import`). An expired or rejected credential stops the
integration (:mod:`integration_access`). Retiring rooms gone from Microsoft 365 happens
only at midnight (:mod:`room_reconcile`).
"""

from __future__ import annotations

import contextlib
import logging
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from enum import StrEnum

from roomsync.m365.graph import GraphClient
from roomsync.platform.enums import SyncRunKind, SyncRunTrigger
from roomsync.platform.models import Integration
from roomsync.sync.context import SyncContext
from roomsync.sync.integration.access import runnable_integration, stopping_on_credential_failure
from roomsync.sync.integration.connection import graph_for
from roomsync.sync.integration.settings import RoomSelection
from roomsync.sync.leases import kept_lease, lease_ttl
from roomsync.sync.options import IntegrationOptions
from roomsync.sync.rooms.details import DirectoryAttributes, read_directory_attributes
from roomsync.sync.rooms.field_mapping import (
    FieldMapping,
    directory_select,
    map_room,
    mappings_from_stored,
)
from roomsync.sync.rooms.listing import RoomListing, list_selected_rooms, room_directory
from roomsync.sync.rooms.writing import PlannedRoom, RoomChange, save_rooms
from roomsync.sync.runs import RunReport, recorded_run

logger = logging.getLogger(__name__)

REPORTED_COUNTS = (*RoomChange, "reactivated", "skipped", "excluded")


class ImportPhase(StrEnum):
    LISTING = "listing"
    DIRECTORY = "directory"
    SAVING = "saving"


@dataclass(frozen=True)
class ImportProgress:
    """``advance`` more items of ``phase`` are done, of ``total`` (None: not known yet)."""

    phase: ImportPhase
    advance: int
    total: int | None


ProgressCallback = Callable[[ImportProgress], None]


def rooms_lease_name(integration_id: uuid.UUID) -> str:
    return f"rooms:{integration_id}"


def sync_rooms(
    ctx: SyncContext,
    integration_id: uuid.UUID,
    *,
    trigger: SyncRunTrigger,
    progress: ProgressCallback | None = None,
) -> RunReport:
    """Import the integration's rooms now; the report counts created, updated, moved and
    unchanged rooms (retired is always 0 here: see ``reconcile_rooms``)."""
    with rooms_run(ctx, integration_id, SyncRunKind.ROOMS, trigger) as (integration, report):
        import_rooms(ctx, integration, report, progress)
        report.count("retired", 0)
    return report


@contextlib.contextmanager
def rooms_run(
    ctx: SyncContext, integration_id: uuid.UUID, kind: SyncRunKind, trigger: SyncRunTrigger
) -> Iterator[tuple[Integration, RunReport]]:
    """Gate, lease, recorded run and credential guard around one room workflow run."""
    with ctx.database.session() as session:
        integration = runnable_integration(session, integration_id)
    ttl = lease_ttl(ctx.settings)
    with (
        kept_lease(ctx.database, rooms_lease_name(integration_id), ttl=ttl, clock=ctx.clock),
        recorded_run(
            ctx.database,
            integration_id=integration_id,
            kind=kind,
            trigger=trigger,
            clock=ctx.clock,
            liveness=ttl,
        ) as report,
        stopping_on_credential_failure(ctx.database, integration_id),
    ):
        yield integration, report
    logger.info(
        "The %s run of integration %s ended %s: %s",
        kind, integration_id, report.outcome, dict(sorted(report.counts.items())),
    )  # fmt: skip


def import_rooms(
    ctx: SyncContext,
    integration: Integration,
    report: RunReport,
    progress: ProgressCallback | None = None,
) -> RoomListing:
    """List, map and save the integration's rooms; returns the listing it worked from."""
    for name in REPORTED_COUNTS:
        report.count(name, 0)
    notify = progress or _no_progress
    graph = graph_for(ctx, integration)
    listing = _listing(graph, integration, report, notify)
    mappings = mappings_from_stored(integration.field_mappings)
    details = _directory_attributes(graph, integration, listing, mappings, notify)
    planned = _planned(listing, details, mappings, report)
    notify(ImportProgress(ImportPhase.SAVING, 0, len(planned)))
    save_rooms(
        ctx.database,
        integration,
        planned,
        report,
        on_saved=lambda n: notify(ImportProgress(ImportPhase.SAVING, n, len(planned))),
    )
    return listing


def _listing(
    graph: GraphClient, integration: Integration, report: RunReport, notify: ProgressCallback
) -> RoomListing:
    listing = list_selected_rooms(
        room_directory(graph, integration),
        RoomSelection.from_stored(integration.room_selection),
        on_list=lambda n: notify(ImportProgress(ImportPhase.LISTING, n, None)),
    )
    notify(ImportProgress(ImportPhase.LISTING, 0, len(listing.rooms)))
    for warning in listing.warnings:
        report.warn(warning)
    report.count("listed", len(listing.rooms))
    return listing


def _directory_attributes(
    graph: GraphClient,
    integration: Integration,
    listing: RoomListing,
    mappings: list[FieldMapping],
    notify: ProgressCallback,
) -> DirectoryAttributes:
    select = directory_select(mappings)
    emails = [room.email for room in listing.rooms] if select else []
    if emails:
        notify(ImportProgress(ImportPhase.DIRECTORY, 0, len(emails)))
    return read_directory_attributes(
        graph,
        emails,
        select,
        max_batches_in_flight=IntegrationOptions.from_stored(
            integration.options
        ).max_batches_in_flight,
        on_read=lambda n: notify(ImportProgress(ImportPhase.DIRECTORY, n, len(emails))),
    )


def _planned(
    listing: RoomListing,
    details: DirectoryAttributes,
    mappings: list[FieldMapping],
    report: RunReport,
) -> list[PlannedRoom]:
    if details.failed:
        first_email, first_reason = next(iter(sorted(details.failed.items())))
        report.count("skipped", len(details.failed))
        report.warn(
            f"The directory attributes of {len(details.failed)} rooms could not be read, so "
            f"they were left as they were (first: {first_email}: {first_reason})"
        )
    return [
        PlannedRoom(
            map_room(room.raw, details.found.get(room.email), mappings, email=room.email),
            room.room_list,
        )
        for room in listing.rooms
        if room.email not in details.failed
    ]


def _no_progress(_: ImportProgress) -> None:
    """Nobody is watching (a scheduled run)."""
