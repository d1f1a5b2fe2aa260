"""What each page of the set-up wizard shows: the step list with each step's saved
summary, the guide's words for each permission, and the live views of the tenant (room
lists, rooms, one mapped room, the mailboxes' time zone, the webhook's reachability).

Help texts paraphrase the customer guide roomsync implements, so an administrator reads
here what their Microsoft 365 colleague was told.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import cache
from typing import Any

from starlette.datastructures import FormData

from roomsync.errors import RoomsyncError
from roomsync.m365.clouds import NATIONAL_CLOUDS
from roomsync.platform.api.auth import Principal
from roomsync.platform.models import Integration
from roomsync.platform.services.changes import UNCHANGED
from roomsync.sync.context import SyncContext
from roomsync.sync.integration import configuration
from roomsync.sync.integration.configuration import CertificateSummary, IntegrationChanges
from roomsync.sync.integration.preview import (
    FieldPreview,
    LiveRoomList,
    live_room_lists,
    preview_fields,
    selected_rooms,
)
from roomsync.sync.integration.settings import RoomSelection, RoomSelectionMode
from roomsync.sync.rooms.field_mapping import (
    DIRECTORY_PROPERTIES,
    ROOM_PROPERTIES,
    mappings_from_stored,
)
from roomsync.sync.rooms.listing import ListedRoom
from roomsync.web.pages.guard import PageUser
from roomsync.web.pages.wizard_forms import FieldsForm, MappingRow, RoomsForm

STEPS = (
    ("connection", "Connection"),
    ("rooms", "Rooms"),
    ("fields", "Fields"),
    ("time-zone", "Time zone and mode"),
    ("import", "Import"),
)
EMPTY_ROWS = 2
MAX_ROWS = 60
PREVIEW_ROOMS = 50

# The guide's permission table, in its own terms.
PERMISSION_HELP = {
    "Calendars.Read": "Needed to synchronize bookings from Outlook to roomsync.",
    "Calendars.ReadWrite": "Needed to synchronize bookings from roomsync to Outlook.",
    "Directory.Read.All": "Optional: lets roomsync read room details through a directory query.",
    "User.Read.All": "Needed to synchronize the people who book rooms.",
    "Place.Read.All": "Lets roomsync retrieve all information about the rooms.",
}


def principal(user: PageUser) -> Principal:
    return Principal(role=user.role, organization_id=user.organization_id, email=user.email)


@dataclass(frozen=True)
class Step:
    key: str
    label: str
    number: int
    href: str | None  # None: not reachable before the connection is saved
    summary: str
    current: bool


def step_list(integration: Integration | None, current: str) -> list[Step]:
    summaries = _summaries(integration) if integration is not None else {}
    return [
        Step(
            key,
            label,
            number,
            None if integration is None else f"/admin/setup/{integration.id}/{key}",
            summaries.get(key, ""),
            key == current,
        )
        for number, (key, label) in enumerate(STEPS, start=1)
    ]


def _summaries(integration: Integration) -> dict[str, str]:
    selection = RoomSelection.from_stored(integration.room_selection)
    mappings = mappings_from_stored(integration.field_mappings)
    hidden = sum(not m.visible for m in mappings)
    rooms = (
        "all rooms"
        if selection.mode is RoomSelectionMode.ALL
        else f"{len(selection.room_lists)} room list{'s' * (len(selection.room_lists) != 1)}"
    )
    return {
        "connection": "saved",
        "rooms": rooms,
        "fields": f"{len(mappings)} fields, {hidden} hidden",
        "time-zone": f"{integration.time_zone}, {integration.mode.value}",
        "import": "enabled" if integration.enabled else "not run yet",
    }


# -- connection --------------------------------------------------------------------------


def create_arguments(changes: IntegrationChanges) -> dict[str, Any]:
    """The connection form's changes as ``create_integration`` keywords."""
    names = ("tenant_id", "client_id", "client_secret", "client_secret_expires_at",
             "certificate", "service_account")  # fmt: skip
    given = {name: getattr(changes, name) for name in names}
    return {name: value for name, value in given.items() if value is not UNCHANGED}


def connection_values(integration: Integration) -> dict[str, str]:
    return {
        "client_id": integration.client_id,
        "tenant_id": integration.tenant_id,
        "credential": "certificate" if integration.certificate_encrypted else "secret",
        "service_account": integration.service_account or "",
    }


@dataclass(frozen=True)
class SecretSummary:
    expires_at: datetime | None
    days_left: int | None


def secret_summary(integration: Integration | None, now: datetime) -> SecretSummary | None:
    """What the page may show of a saved secret: only that it is set, and its expiry."""
    if integration is None or not integration.client_secret_encrypted:
        return None
    expires = integration.client_secret_expires_at
    days = None if expires is None else (expires - now).days
    return SecretSummary(expires, days)


def certificate_of(ctx: SyncContext, integration: Integration | None) -> CertificateSummary | None:
    if integration is None:
        return None
    try:
        return configuration.certificate_summary(ctx, integration)
    except RoomsyncError:
        return None


def cloud_of(ctx: SyncContext) -> dict[str, str]:
    """Which cloud this roomsync signs in to (a process setting, not per integration)."""
    names = ("Global (Microsoft 365)", "US Government L4", "US Government L5 (DoD)",
             "China (operated by 21Vianet)")  # fmt: skip
    known = dict(zip(NATIONAL_CLOUDS, names, strict=True))
    name = known.get(ctx.cloud, "Another endpoint (not a Microsoft national cloud)")
    return {"name": name, "login": ctx.cloud.login_url, "graph": ctx.cloud.graph_url}


# -- rooms -------------------------------------------------------------------------------


@dataclass(frozen=True)
class RoomsView:
    """The rooms page: the live room lists, what is chosen (saved or typed), a preview."""

    lists: list[LiveRoomList]
    mode: str
    chosen: dict[str, str]
    problem: str | None = None
    preview: list[ListedRoom] | None = None
    preview_total: int = 0

    @classmethod
    def live(cls, ctx: SyncContext, integration: Integration) -> RoomsView:
        selection = RoomSelection.from_stored(integration.room_selection)
        chosen = {choice.email: choice.name for choice in selection.room_lists}
        try:
            lists = live_room_lists(ctx, integration)
        except RoomsyncError as exc:
            return cls([], selection.mode.value, chosen, problem=exc.message)
        return cls(lists, selection.mode.value, chosen)

    @classmethod
    def saved(cls, ctx: SyncContext, integration: Integration) -> RoomsView:
        view = cls.live(ctx, integration)
        if view.problem is not None:
            return view
        return view.previewed(
            ctx, integration, RoomSelection.from_stored(integration.room_selection)
        )

    def typed(self, form: RoomsForm) -> RoomsView:
        return replace(self, mode=form.mode, chosen=form.chosen)

    def previewed(
        self, ctx: SyncContext, integration: Integration, selection: RoomSelection
    ) -> RoomsView:
        try:
            rooms = selected_rooms(ctx, integration, selection)
        except RoomsyncError as exc:
            return replace(self, problem=exc.message)
        return replace(self, preview=rooms[:PREVIEW_ROOMS], preview_total=len(rooms))

    def name_of(self, item: LiveRoomList) -> str:
        return self.chosen.get(item.email, item.name)


# -- fields ------------------------------------------------------------------------------


@cache
def source_choices() -> list[tuple[str, str]]:
    """The drop-down: each Graph room property (parts of address and geoCoordinates too)."""
    choices: list[tuple[str, str]] = []
    for name, parts in ROOM_PROPERTIES.items():
        choices.append((name, name))
        choices.extend((f"{name}/{part}", f"{name}/{part}") for part in parts)
    return choices


@cache
def directory_suggestions() -> list[str]:
    return [
        f"{name}/{part}" if part else name
        for name, parts in DIRECTORY_PROPERTIES.items()
        for part in (parts or ("",))
    ]


@dataclass(frozen=True)
class FieldsView:
    rows: list[MappingRow]
    preview: FieldPreview | None
    problem: str | None = None
    hidden_rows: frozenset[int] = field(default_factory=frozenset)

    @classmethod
    def saved(cls, ctx: SyncContext, integration: Integration) -> FieldsView:
        mappings = mappings_from_stored(integration.field_mappings)
        rows = [MappingRow.of(m) for m in mappings] + _empty_rows()
        return cls._with_preview(ctx, integration, rows, mappings, None)

    @classmethod
    def typed(cls, ctx: SyncContext, integration: Integration, form: FieldsForm) -> FieldsView:
        blanks = sum(not row.field for row in form.rows)
        rows = form.rows + _empty_rows()[: max(0, EMPTY_ROWS - blanks)]
        return cls._with_preview(ctx, integration, rows, form.mappings, form)

    @classmethod
    def _with_preview(
        cls,
        ctx: SyncContext,
        integration: Integration,
        rows: list[MappingRow],
        mappings: Sequence[Any],
        form: FieldsForm | None,
    ) -> FieldsView:
        try:
            rooms = selected_rooms(
                ctx, integration, RoomSelection.from_stored(integration.room_selection)
            )
            preview = preview_fields(ctx, integration, mappings, rooms)
        except RoomsyncError as exc:
            return cls(rows, None, problem=exc.message)
        if form is not None:
            _flag_missing(form, preview)
        return cls(rows, preview)


def _flag_missing(form: FieldsForm, preview: FieldPreview) -> None:
    """A directory attribute no sampled room has is refused next to its row."""
    for index, source in preview.missing.items():
        form.errors.add(
            f"directory.{form.row_of[index]}",
            f"No room of this tenant has a value in {source.removeprefix('directory:')} "
            "(none of the rooms checked has one): check the attribute's name in Entra ID, "
            "or choose another source.",
        )


def _empty_rows() -> list[MappingRow]:
    return [MappingRow("", "displayName", "", True) for _ in range(EMPTY_ROWS)]


def row_count(form: FormData) -> int:
    try:
        return max(0, min(MAX_ROWS, int(str(form.get("rows") or "0"))))
    except ValueError:
        return 0
