"""``/api/v1/integrations``: the Microsoft 365 connection of an organization (one each),
its permission check, room import on demand and its status.

Admin tokens of the organization, or ``ROOMSYNC_ADMIN_TOKEN``. Routes that run a workflow
authenticate in a transaction of their own (``PrincipalNowDep``) and leave every write to
the workflow.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Query, Request, Response
from pydantic import BaseModel, Field

from roomsync.platform.api import API_PREFIX
from roomsync.platform.api.auth import Principal
from roomsync.platform.api.deps import (
    DEFAULT_LIMIT,
    CursorQuery,
    LimitQuery,
    OrganizationQuery,
    PrincipalDep,
    SessionDep,
)
from roomsync.platform.api.schemas import PageOut, error_responses, page_out
from roomsync.platform.enums import SyncRunKind, SyncRunTrigger
from roomsync.platform.models import Integration, IntegrationAudit
from roomsync.sync.context import SyncContext
from roomsync.sync.integration import audit
from roomsync.sync.integration import configuration as service
from roomsync.sync.integration.access import load_integration
from roomsync.sync.integration.doctor import DoctorReport, check_integration
from roomsync.sync.integration.status import IntegrationStatus, integration_status
from roomsync.sync.listener.workflow import is_listening
from roomsync.sync.pull.workflow import pull_bookings
from roomsync.sync.rooms.reconcile import reconcile_rooms
from roomsync.sync.rooms.workflow import sync_rooms
from roomsync.web.deps import PrincipalNowDep, SyncContextDep, runtime_of
from roomsync.web.integration_schemas import (
    IntegrationIn,
    IntegrationOut,
    IntegrationPatch,
    QueuedRunOut,
    RunReportOut,
    integration_out,
    run_report_out,
)

router = APIRouter(
    prefix=f"{API_PREFIX}/integrations",
    tags=["integrations"],
    responses=error_responses(401, 403, 404, 409, 422),
)

ReconcileQuery = Annotated[
    bool,
    Query(
        description="Also retire rooms gone from Microsoft 365 (as at midnight), only on a "
        "complete listing."
    ),
]
WaitQuery = Annotated[
    bool,
    Query(description="false: queue the run for the workers and answer 202 at once."),
]
ForceQuery = Annotated[
    bool,
    Query(
        description="With reconcile: retire even when over 20% of the rooms (or all) are "
        "gone at once. A failed or partial listing never retires."
    ),
]


@router.post("", status_code=201, summary="Connect the organization to Microsoft 365 (admin)")
def create_integration(
    body: IntegrationIn,
    *,
    session: SessionDep,
    principal: PrincipalDep,
    ctx: SyncContextDep,
    request: Request,
    after: BackgroundTasks,
) -> IntegrationOut:
    organization_id = principal.target_organization(body.organization_id)
    principal.check_admin(organization_id)
    integration = service.create_integration(
        session, ctx, organization_id=organization_id, **body.create_arguments()
    )
    audit.record_change(session, integration, before=audit.snapshot(None), actor=principal.actor)
    _start_listening_after_commit(request, after, integration, was_listening=False)
    return integration_out(ctx, integration)


@router.get("", summary="List integrations (admin)")
def list_integrations(
    *,
    session: SessionDep,
    principal: PrincipalDep,
    ctx: SyncContextDep,
    organization_id: OrganizationQuery = None,
    limit: LimitQuery = DEFAULT_LIMIT,
    cursor: CursorQuery = None,
) -> PageOut[IntegrationOut]:
    principal.check_admin()
    page = service.list_integrations(
        session, organization_id=principal.list_scope(organization_id), limit=limit, cursor=cursor
    )
    return page_out(page, lambda row: integration_out(ctx, row))


@router.get("/{integration_id}", summary="Get an integration (admin)")
def get_integration(
    integration_id: uuid.UUID, session: SessionDep, principal: PrincipalDep, ctx: SyncContextDep
) -> IntegrationOut:
    integration = load_integration(session, integration_id)
    principal.check_admin(integration.organization_id)
    return integration_out(ctx, integration)


@router.patch(
    "/{integration_id}",
    summary="Change an integration (admin); new credentials apply on the next call",
)
def update_integration(
    integration_id: uuid.UUID,
    body: IntegrationPatch,
    *,
    session: SessionDep,
    principal: PrincipalDep,
    ctx: SyncContextDep,
    request: Request,
    after: BackgroundTasks,
) -> IntegrationOut:
    before = load_integration(session, integration_id)
    principal.check_admin(before.organization_id)
    was_listening = service.is_listening(before)
    settings_before = audit.snapshot(before)
    changes = body.integration_changes()
    integration = service.update_integration(
        session, ctx, integration_id=integration_id, changes=changes
    )
    audit.record_change(session, integration, before=settings_before, actor=principal.actor)
    _start_listening_after_commit(request, after, integration, was_listening=was_listening)
    warning = service.kept_expiry_warning(changes, integration)
    return integration_out(ctx, integration, warnings=[] if warning is None else [warning])


@router.post(
    "/{integration_id}/check",
    summary="Check the credential and each permission (admin)",
)
def check(
    integration_id: uuid.UUID, principal: PrincipalNowDep, ctx: SyncContextDep
) -> DoctorReport:
    _check_admin(ctx, principal, integration_id)
    return check_integration(ctx, integration_id)


@router.post(
    "/{integration_id}/sync/rooms",
    summary="Import the rooms now, and retire gone ones with reconcile=true (admin)",
    responses={202: {"model": QueuedRunOut, "description": "Queued for the workers."}},
)
def sync_rooms_now(
    integration_id: uuid.UUID,
    *,
    principal: PrincipalNowDep,
    ctx: SyncContextDep,
    request: Request,
    response: Response,
    reconcile: ReconcileQuery = False,
    force: ForceQuery = False,
    wait: WaitQuery = True,
) -> RunReportOut | QueuedRunOut:
    _check_admin(ctx, principal, integration_id)
    kind = SyncRunKind.RECONCILE if reconcile else SyncRunKind.ROOMS
    if not wait:
        return _queued(request, response, integration_id, kind, force=force)
    manual = SyncRunTrigger.MANUAL
    if reconcile:
        return run_report_out(
            reconcile_rooms(ctx, integration_id, trigger=manual, force=force), kind
        )
    report = sync_rooms(ctx, integration_id, trigger=manual)
    if is_listening(ctx, integration_id):
        runtime_of(request.app).after_room_import(integration_id)
    return run_report_out(report, kind)


def _start_listening_after_commit(
    request: Request, after: BackgroundTasks, integration: Integration, *, was_listening: bool
) -> None:
    """Entering listener mode imports the rooms at once, which subscribes them; queued
    once the response is ready, so after the request's transaction committed."""
    if service.is_listening(integration) and not was_listening:
        after.add_task(runtime_of(request.app).start_listening, integration.id)


@router.post(
    "/{integration_id}/sync/bookings",
    summary="Pull the bookings made in Outlook now, every imported room (admin)",
    responses={202: {"model": QueuedRunOut, "description": "Queued for the workers."}},
)
def sync_bookings_now(
    integration_id: uuid.UUID,
    *,
    principal: PrincipalNowDep,
    ctx: SyncContextDep,
    request: Request,
    response: Response,
    wait: WaitQuery = True,
) -> RunReportOut | QueuedRunOut:
    _check_admin(ctx, principal, integration_id)
    if not wait:
        return _queued(request, response, integration_id, SyncRunKind.BOOKINGS)
    report = pull_bookings(ctx, integration_id, trigger=SyncRunTrigger.MANUAL)
    return run_report_out(report, SyncRunKind.BOOKINGS)


def _queued(
    request: Request,
    response: Response,
    integration_id: uuid.UUID,
    kind: SyncRunKind,
    *,
    force: bool = False,
) -> QueuedRunOut:
    runtime_of(request.app).queue_run(integration_id, kind, force=force)
    response.status_code = 202
    return QueuedRunOut(kind=kind, integration_id=integration_id)


@router.get(
    "/{integration_id}/status",
    summary="Health, recent runs, counts, outbox depth, subscriptions and per-room health (admin)",
)
def status(
    integration_id: uuid.UUID, principal: PrincipalNowDep, ctx: SyncContextDep
) -> IntegrationStatus:
    _check_admin(ctx, principal, integration_id)
    return integration_status(ctx, integration_id)


class AuditEntryOut(BaseModel):
    """One saved change of the integration's settings: field names, never values."""

    id: uuid.UUID
    at: datetime
    actor: str = Field(description="The person's email, or which token made the change.")
    action: audit.AuditAction
    fields: list[str]


@router.get(
    "/{integration_id}/audit",
    summary="Who changed which settings of the integration, and when (admin); oldest first",
)
def audit_log(
    integration_id: uuid.UUID,
    session: SessionDep,
    principal: PrincipalDep,
    limit: LimitQuery = DEFAULT_LIMIT,
    cursor: CursorQuery = None,
) -> PageOut[AuditEntryOut]:
    principal.check_admin(load_integration(session, integration_id).organization_id)
    page = audit.list_changes(session, integration_id=integration_id, limit=limit, cursor=cursor)
    return page_out(page, audit_entry_out)


def audit_entry_out(row: IntegrationAudit) -> AuditEntryOut:
    entry = audit.AuditEntry.of(row)
    return AuditEntryOut(
        id=entry.id, at=entry.at, actor=entry.actor, action=entry.action, fields=entry.fields
    )


def _check_admin(ctx: SyncContext, principal: Principal, integration_id: uuid.UUID) -> None:
    with ctx.database.session() as session:
        principal.check_admin(load_integration(session, integration_id).organization_id)
