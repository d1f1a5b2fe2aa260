"""The wizard's last two pages: the time zone (proposed from the tenant's mailbox
settings), listener or polling mode with the webhook address Graph will post to and
whether it answers, and what the first import already did."""

from __future__ import annotations

import uuid
import zoneinfo
from dataclasses import dataclass, replace
from functools import cache

import httpx
from fastapi import FastAPI
from sqlalchemy import func, select

from roomsync.errors import RoomsyncError
from roomsync.platform.enums import IntegrationMode, Origin, SyncRunKind, SyncRunOutcome
from roomsync.platform.models import Integration, Resource, SyncRun
from roomsync.settings import Settings
from roomsync.sync.context import SyncContext
from roomsync.sync.integration import configuration
from roomsync.sync.integration.connection import graph_for
from roomsync.sync.integration.preview import selected_rooms, tenant_time_zone
from roomsync.sync.integration.settings import RoomSelection
from roomsync.sync.listener.subscriptions import NOTIFICATION_PATH
from roomsync.web.deps import runtime_of
from roomsync.web.pages.wizard_forms import ZoneForm

WEBHOOK_PROBE_SECONDS = 3.0
PROBE_TOKEN = "roomsync-setup-check"  # noqa: S105 - echoed by the webhook, not a secret


# -- time zone and mode ------------------------------------------------------------------


@cache
def zone_names() -> list[str]:
    return sorted(zoneinfo.available_timezones())


@dataclass(frozen=True)
class ZoneView:
    time_zone: str
    proposal: str | None
    proposal_note: str
    mode: str
    webhook_url: str
    webhook_reachable: bool
    webhook_note: str

    @classmethod
    def saved(cls, ctx: SyncContext, settings: Settings, integration: Integration) -> ZoneView:
        proposal, note = _proposal(ctx, integration)
        zone = integration.time_zone
        if proposal and zone == "UTC" and not integration.enabled:
            zone = proposal
        url = settings.public_url.rstrip("/") + NOTIFICATION_PATH
        reachable, webhook_note = probe_webhook(url)
        return cls(zone, proposal, note, integration.mode.value, url, reachable, webhook_note)

    def typed(self, form: ZoneForm) -> ZoneView:
        return replace(self, time_zone=form.time_zone, mode=form.mode)


def _proposal(ctx: SyncContext, integration: Integration) -> tuple[str | None, str]:
    try:
        rooms = selected_rooms(
            ctx, integration, RoomSelection.from_stored(integration.room_selection)
        )
        return tenant_time_zone(graph_for(ctx, integration), [room.email for room in rooms])
    except RoomsyncError as exc:
        return None, f"The tenant's mailboxes could not be read: {exc.message}"


def probe_webhook(url: str) -> tuple[bool, str]:
    """Whether ``url`` answers Graph's validation handshake, seen from this server."""
    token = PROBE_TOKEN
    try:
        answer = httpx.post(url, params={"validationToken": token}, timeout=WEBHOOK_PROBE_SECONDS)
    except httpx.HTTPError as exc:
        return False, f"It did not answer from this server ({type(exc).__name__})."
    if answer.status_code == 200 and answer.text == token:
        https = url.lower().startswith("https://")
        note = "It answers Graph's validation handshake." + (
            ""
            if https
            else " Microsoft Graph only delivers to https:// addresses outside "
            "this machine: set ROOMSYNC_PUBLIC_URL to the public https:// address."
        )
        return True, note
    return False, f"It answered {answer.status_code} instead of echoing the validation token."


def listen_if_switched(app: FastAPI, ctx: SyncContext, integration_id: uuid.UUID) -> None:
    """Entering listener mode on a running integration imports and subscribes its rooms
    now, as the REST API's PATCH does."""
    with ctx.database.session() as session:
        integration = session.get(Integration, integration_id)
        now_listening = integration is not None and configuration.is_listening(integration)
    if now_listening:
        runtime_of(app).start_listening(integration_id)


# -- import ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ImportSummary:
    rooms: int
    last_outcome: SyncRunOutcome | None


def import_summary(ctx: SyncContext, integration: Integration) -> ImportSummary:
    with ctx.database.session() as session:
        rooms = session.scalar(
            select(func.count(Resource.id)).where(
                Resource.organization_id == integration.organization_id,
                Resource.origin == Origin.MICROSOFT365,
            )
        )
        last = session.scalars(
            select(SyncRun.outcome)
            .where(SyncRun.integration_id == integration.id, SyncRun.kind == SyncRunKind.ROOMS)
            .order_by(SyncRun.started_at.desc())
        ).first()
    return ImportSummary(int(rooms or 0), last)


def listening_modes() -> list[tuple[str, str, str]]:
    return [
        (IntegrationMode.POLLING.value, "Polling",
         "roomsync asks Microsoft 365 for changed bookings every 2 minutes."),
        (IntegrationMode.LISTENER.value, "Listener",
         "Microsoft 365 tells roomsync at once when a room is booked, changed or cancelled "
         "in Outlook, through a subscription per room; polling stays on as a safety net."),
    ]  # fmt: skip
