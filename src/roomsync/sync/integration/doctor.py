"""The credential and permission doctor: ``roomsync integration check ID`` and
``POST /integrations/{id}/check``.

It gets a token with the integration's credential, then checks each permission
roomsync needs (:mod:`roomsync.sync.integration.permissions`) with a harmless call where one exists,
and with the token's ``roles`` claim otherwise. The claim is read by decoding the JWT
payload without verifying its signature — informational only: Graph, not the claim,
decides, and access tokens are opaque to clients by Microsoft's own rule. Each verdict
is ``ok``, ``missing`` or ``not_verifiable``, and every failure says what to do in Azure
portal. The report is ``ok`` only when a token was issued and every required permission
works.

The doctor runs whatever the integration's state: it is how an operator finds out why it
stopped. A credential Entra ID refuses for good stops the integration; a token issued
again resumes it (whatever was wrong was fixed in Azure).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

import jwt
from pydantic import BaseModel, ConfigDict
from sqlalchemy import select
from sqlalchemy.orm import Session

from roomsync.errors import RoomsyncError
from roomsync.m365.credentials import TokenProvider
from roomsync.m365.exceptions import GraphError, PermissionDenied
from roomsync.m365.graph import GraphClient, path_segment
from roomsync.m365.retry import RetryPolicy
from roomsync.platform.db import isoformat_utc
from roomsync.platform.enums import Origin, RoomSource, SyncRunKind, SyncRunTrigger
from roomsync.platform.models import Integration, Resource
from roomsync.sync.context import SyncContext
from roomsync.sync.integration.access import (
    is_credential_failure,
    load_integration,
    resume_integration,
    stop_integration,
)
from roomsync.sync.integration.connection import tokens_for
from roomsync.sync.integration.permissions import Permission, Probe, guide_permissions
from roomsync.sync.integration.status import CredentialHealth, health_of
from roomsync.sync.leases import lease_ttl
from roomsync.sync.runs import RunReport, recorded_run

# The doctor answers a person waiting at a terminal: one quick retry, short waits.
DOCTOR_RETRY = RetryPolicy(max_attempts=2, max_delay=10.0)
_CLAIM_NOTE = "read from the token without verifying it: informational"
_PROBE_ORDER = (Probe.PLACES, Probe.USER, Probe.CALENDAR_VIEW)


class Verdict(StrEnum):
    OK = "ok"
    MISSING = "missing"
    NOT_VERIFIABLE = "not_verifiable"


class Evidence(StrEnum):
    CALL = "call"
    ROLES_CLAIM = "roles_claim"
    NONE = "none"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True)


class PermissionVerdict(_Frozen):
    permission: str
    purpose: str
    required: bool
    verdict: Verdict
    evidence: Evidence
    detail: str
    remedy: str | None


class TokenVerdict(_Frozen):
    ok: bool
    detail: str
    roles: list[str] | None


class DoctorReport(_Frozen):
    integration_id: uuid.UUID
    checked_at: datetime
    ok: bool
    token: TokenVerdict
    permissions: list[PermissionVerdict]
    credential: CredentialHealth
    notices: list[str]
    stopped_reason: str | None


class _ProbeOutcome(StrEnum):
    WORKED = "worked"
    DENIED = "denied"
    FAILED = "failed"


@dataclass(frozen=True)
class _ProbeResult:
    outcome: _ProbeOutcome
    detail: str


def check_integration(
    ctx: SyncContext, integration_id: uuid.UUID, *, trigger: SyncRunTrigger = SyncRunTrigger.MANUAL
) -> DoctorReport:
    """Check the integration's credential and permissions; recorded as a ``check`` run."""
    with ctx.database.session() as session:
        integration = load_integration(session, integration_id)
        room = _sample_room(session, integration)
    with recorded_run(
        ctx.database, integration_id=integration_id, kind=SyncRunKind.CHECK, trigger=trigger,
        clock=ctx.clock, liveness=lease_ttl(ctx.settings),
    ) as run:  # fmt: skip
        provider, token = _token(ctx, integration, run)
        verdicts = _verdicts(ctx, integration, provider, token, room)
        _record(run, verdicts)
    return _report(ctx, integration_id, token, verdicts)


def _sample_room(session: Session, integration: Integration) -> str | None:
    """A room mailbox for the calendar probe: the first imported one, if any."""
    return session.scalars(
        select(Resource.email)
        .where(
            Resource.organization_id == integration.organization_id,
            Resource.origin == Origin.MICROSOFT365,
            Resource.email.is_not(None),
            Resource.active.is_(True),
        )
        .order_by(Resource.id)
    ).first()


def _token(
    ctx: SyncContext, integration: Integration, run: RunReport
) -> tuple[TokenProvider | None, TokenVerdict]:
    try:
        provider = tokens_for(ctx, integration)
        token = provider.token()
    except RoomsyncError as exc:
        run.error(exc.message)
        if isinstance(exc, GraphError) and is_credential_failure(exc):
            stop_integration(ctx.database, integration.id, exc.message)
        return None, TokenVerdict(ok=False, detail=exc.message, roles=None)
    _resume(ctx, integration.id)
    roles = token_roles(token)
    detail = f"Entra ID issued a token to application {integration.client_id}."
    return provider, TokenVerdict(ok=True, detail=detail, roles=roles)


def token_roles(token: str) -> list[str] | None:
    """The ``roles`` claim of an access token, decoded without verification (a hint only)."""
    try:
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        return None
    roles = claims.get("roles")
    return sorted(str(r) for r in roles) if isinstance(roles, list) else None


def _resume(ctx: SyncContext, integration_id: uuid.UUID) -> None:
    with ctx.database.session() as session:
        resume_integration(session, load_integration(session, integration_id))


def _verdicts(
    ctx: SyncContext,
    integration: Integration,
    provider: TokenProvider | None,
    token: TokenVerdict,
    room: str | None,
) -> list[PermissionVerdict]:
    permissions = guide_permissions(places_required=integration.room_source is RoomSource.PLACES)
    app = integration.client_id
    if provider is None:
        return [
            _judged(p, Verdict.NOT_VERIFIABLE, Evidence.NONE, "No token was issued.", app)
            for p in permissions
        ]
    graph = GraphClient(
        ctx.http, provider, ctx.cloud.graph_url, retry=DOCTOR_RETRY, sleep=ctx.sleep
    )
    probes = _Probes(graph, ctx.clock(), room, integration.service_account)
    # The places probe runs first: it finds a room for the calendar probe when none is
    # imported yet.
    results = {probe: probes.run(probe) for probe in _PROBE_ORDER}
    return [_verdict(p, results.get(p.probe), token.roles, app) for p in permissions]


class _Probes:
    """The harmless calls; the places probe also finds a room when none is imported yet."""

    def __init__(
        self, graph: GraphClient, now: datetime, room: str | None, service_account: str | None
    ) -> None:
        self.graph, self.now, self.room, self.service_account = graph, now, room, service_account

    def run(self, probe: Probe) -> _ProbeResult | None:
        if probe is Probe.PLACES:
            return self._call("/places/microsoft.graph.room", {"$top": 1}, find_room=True)
        if probe is Probe.USER:
            who = self.service_account or self.room
            if who is None:
                return None
            return self._call(f"/users/{path_segment(who)}", {"$select": "id"})
        if probe is Probe.CALENDAR_VIEW and self.room is not None:
            window = {
                "startDateTime": isoformat_utc(self.now),
                "endDateTime": isoformat_utc(self.now + timedelta(minutes=15)),
                "$top": 1,
                "$select": "id",
            }
            return self._call(f"/users/{path_segment(self.room)}/calendarView", window)
        return None

    def _call(
        self, path: str, params: dict[str, object], *, find_room: bool = False
    ) -> _ProbeResult:
        what = f"GET {path}"
        try:
            page = self.graph.request("GET", path, params=params)
        except PermissionDenied as exc:
            return _ProbeResult(outcome=_ProbeOutcome.DENIED, detail=exc.message)
        except GraphError as exc:
            return _ProbeResult(outcome=_ProbeOutcome.FAILED, detail=exc.message)
        if find_room and self.room is None:
            self.room = next(
                (str(r["emailAddress"]) for r in page.values() if r.get("emailAddress")), None
            )
        return _ProbeResult(outcome=_ProbeOutcome.WORKED, detail=f"{what} answered {page.status}.")


def _verdict(
    permission: Permission, probe: _ProbeResult | None, roles: list[str] | None, client_id: str
) -> PermissionVerdict:
    if probe is not None and probe.outcome is _ProbeOutcome.WORKED:
        return _judged(permission, Verdict.OK, Evidence.CALL, probe.detail, client_id)
    if probe is not None and probe.outcome is _ProbeOutcome.DENIED:
        return _judged(permission, Verdict.MISSING, Evidence.CALL, probe.detail, client_id)
    prefix = f"The check call failed ({probe.detail}); " if probe is not None else ""
    if roles is None:
        detail = f"{prefix}the token carries no readable roles claim."
        return _judged(permission, Verdict.NOT_VERIFIABLE, Evidence.NONE, detail, client_id)
    granted = sorted(permission.granted_by.intersection(roles))
    if granted:
        detail = f"{prefix}the token's roles claim lists {', '.join(granted)} ({_CLAIM_NOTE})."
        return _judged(permission, Verdict.OK, Evidence.ROLES_CLAIM, detail, client_id)
    detail = f"{prefix}the token's roles claim does not list it ({_CLAIM_NOTE})."
    return _judged(permission, Verdict.MISSING, Evidence.ROLES_CLAIM, detail, client_id)


def _judged(
    permission: Permission, verdict: Verdict, evidence: Evidence, detail: str, client_id: str
) -> PermissionVerdict:
    return PermissionVerdict(
        permission=permission.name,
        purpose=permission.purpose,
        required=permission.required,
        verdict=verdict,
        evidence=evidence,
        detail=detail,
        remedy=None if verdict is Verdict.OK else permission.remedy(client_id),
    )


def _record(run: RunReport, verdicts: list[PermissionVerdict]) -> None:
    for verdict in verdicts:
        run.count(verdict.verdict)
        if verdict.verdict is not Verdict.OK and verdict.required:
            run.warn(f"{verdict.permission}: {verdict.verdict}. {verdict.detail}")


def _report(
    ctx: SyncContext,
    integration_id: uuid.UUID,
    token: TokenVerdict,
    verdicts: list[PermissionVerdict],
) -> DoctorReport:
    now = ctx.clock()
    with ctx.database.session() as session:
        integration = load_integration(session, integration_id)
    health = health_of(ctx, integration, now)
    return DoctorReport(
        integration_id=integration_id,
        checked_at=now,
        ok=token.ok and all(v.verdict is Verdict.OK for v in verdicts if v.required),
        token=token,
        permissions=verdicts,
        credential=health.credential,
        notices=health.notices,
        stopped_reason=integration.stopped_reason,
    )
