"""``/admin``: the admin console. The super-admin signs in here by pasting
``ROOMSYNC_ADMIN_TOKEN`` once; an organization's admin signs in with Microsoft.

The dashboard renders :func:`integration_status` (what ``GET …/status`` answers) and
refreshes its body from ``/admin/integrations/{id}/live``; its buttons queue the same
runs as ``POST …/sync/rooms|bookings`` and its Retry calls ``request_push_retry``.
"""

from __future__ import annotations

import hmac
import uuid
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from roomsync.errors import RoomsyncError
from roomsync.platform.api.auth import Principal
from roomsync.platform.db import Database
from roomsync.platform.enums import Role, SyncRunKind
from roomsync.platform.models import Integration
from roomsync.platform.services.bookings import get_booking
from roomsync.platform.services.sessions import COOKIE_NAME
from roomsync.settings import Settings
from roomsync.sync.context import SyncContext
from roomsync.sync.integration import audit, configuration
from roomsync.sync.integration.access import load_integration
from roomsync.sync.integration.status import IntegrationStatus, integration_status
from roomsync.sync.push.outbox import request_push_retry
from roomsync.web.deps import runtime_of
from roomsync.web.pages.guard import (
    PageError,
    PageUser,
    check_form,
    open_super_admin,
    require_role,
    same_origin_path,
)
from roomsync.web.pages.rendering import render
from roomsync.web.pages.room_table import COLUMNS, RoomQuery, room_table

router = APIRouter(include_in_schema=False)
SIGN_IN = "/admin/sign-in"
# The console's navigation: each admin page area adds its entry here.
NAV = [
    ("Dashboard", "/admin"),
    ("Buildings & rooms", "/admin/buildings"),
    ("Tokens", "/admin/tokens"),
    ("Set up", "/admin/setup"),
]
ACTIONS = {
    "rooms": (SyncRunKind.ROOMS, False, "Room import queued."),
    "bookings": (SyncRunKind.BOOKINGS, False, "Booking pull queued."),
    "reconcile": (SyncRunKind.RECONCILE, False, "Reconcile queued."),
    "reconcile-force": (SyncRunKind.RECONCILE, True, "Reconcile (forced) queued."),
}
MAX_LISTED = 200


def _admin(request: Request) -> PageUser:
    return require_role(request, Role.ADMIN, login_path=_login_path(request))


def admin_viewer(request: Request) -> PageUser:
    """The admin looking at a console page: sign-in first without a session, 403 page for
    another role. For the console's other page areas."""
    return _admin(request)


def principal_of(user: PageUser) -> Principal:
    """The viewer as the services' access checks know callers."""
    return _principal(user)


def _login_path(request: Request) -> str:
    """Sign-in with Microsoft when it is configured; else the admin-token form."""
    settings: Settings = request.app.state.settings
    return "/auth/login" if settings.admin_token is None else SIGN_IN


def _principal(user: PageUser) -> Principal:
    return Principal(role=user.role, organization_id=user.organization_id, email=user.email)


def _ctx(request: Request) -> SyncContext:
    ctx: SyncContext | None = request.app.state.sync_context
    if ctx is None:
        raise PageError("roomsync has no ROOMSYNC_SECRET_KEY, so it cannot reach Microsoft 365.")
    return ctx


@router.get(SIGN_IN, response_class=HTMLResponse)
def sign_in_form(request: Request, next: str | None = None) -> Response:
    return render(request, "admin/sign_in.html", next=same_origin_path(next, "/admin"))


@router.post(SIGN_IN, response_class=HTMLResponse)
def sign_in(
    request: Request,
    admin_token: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/admin",
) -> Response:
    settings: Settings = request.app.state.settings
    database: Database = request.app.state.database
    target = same_origin_path(next, "/admin")
    expected = settings.admin_token
    if expected is None or not hmac.compare_digest(
        admin_token.strip().encode(), expected.get_secret_value().encode()
    ):
        error = (
            "This roomsync has no ROOMSYNC_ADMIN_TOKEN: sign in with Microsoft instead."
            if expected is None
            else "That is not this roomsync's ROOMSYNC_ADMIN_TOKEN."
        )
        return render(request, "admin/sign_in.html", next=target, error=error, status_code=401)
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        COOKIE_NAME,
        open_super_admin(expected, database.clock(), settings.session_max_hours),
        max_age=int(settings.session_max_hours * 3600),
        path="/",
        secure=settings.public_url.lower().startswith("https://"),
        httponly=True,
        samesite="lax",
    )
    return response


@router.get("/admin", response_class=HTMLResponse)
def dashboard_home(request: Request) -> Response:
    """The organization's dashboard; the super-admin first picks an organization."""
    user = _admin(request)
    ctx = _ctx(request)
    with ctx.database.session() as session:
        integrations = configuration.list_integrations(
            session, organization_id=user.organization_id, limit=MAX_LISTED
        ).items
        rows = [_row(integration) for integration in integrations]
    if len(rows) == 1:  # the status opens transactions of its own: this one has ended
        return _dashboard(request, user, ctx, uuid.UUID(str(rows[0]["id"])))
    return render(request, "admin/integrations.html", user=user, nav=NAV, integrations=rows)


def _row(integration: Integration) -> dict[str, object]:
    return {
        "id": integration.id,
        "organization_id": integration.organization_id,
        "tenant_id": integration.tenant_id,
        "enabled": integration.enabled,
    }


@router.get("/admin/integrations/{integration_id}", response_class=HTMLResponse)
def dashboard(request: Request, integration_id: uuid.UUID) -> Response:
    return _dashboard(request, _admin(request), _ctx(request), integration_id)


@router.get("/admin/integrations/{integration_id}/live", response_class=HTMLResponse)
def dashboard_live(request: Request, integration_id: uuid.UUID) -> Response:
    """The dashboard's body alone, which the page's script swaps in every few seconds."""
    user = _admin(request)
    body = _body(request, user, _ctx(request), integration_id)
    return render(request, "admin/_dashboard_body.html", user=user, **body)


def _dashboard(
    request: Request, user: PageUser, ctx: SyncContext, integration_id: uuid.UUID
) -> Response:
    body = _body(request, user, ctx, integration_id)
    notice = request.query_params.get("notice")
    return render(request, "admin/dashboard.html", user=user, nav=NAV, notice=notice, **body)


def _body(
    request: Request, user: PageUser, ctx: SyncContext, integration_id: uuid.UUID
) -> dict[str, Any]:
    """What the dashboard's body shows: the status, one page of its rooms, the last changes."""
    status = _status(user, ctx, integration_id, with_rooms=False)
    query = RoomQuery.from_params(request.query_params)
    with ctx.database.session() as session:
        changes = audit.latest_changes(session, integration_id=integration_id)
        rooms = room_table(session, integration_id, query, total=status.counts.rooms_active)
    return {
        "status": status,
        "rooms": rooms,
        "columns": COLUMNS,
        "changes": changes,
        "live_query": query.params(),
    }


def _status(
    user: PageUser, ctx: SyncContext, integration_id: uuid.UUID, *, with_rooms: bool = True
) -> IntegrationStatus:
    _check_integration(user, ctx, integration_id)
    return integration_status(ctx, integration_id, with_rooms=with_rooms)


def _check_integration(user: PageUser, ctx: SyncContext, integration_id: uuid.UUID) -> None:
    """A 404/403 page unless the viewer administers this integration."""
    try:
        with ctx.database.session() as session:
            integration = load_integration(session, integration_id)
            _principal(user).check_admin(integration.organization_id)
    except RoomsyncError as exc:
        raise PageError(exc.message, status=exc.http_status) from exc


@router.post("/admin/integrations/{integration_id}/run")
def run_now(
    request: Request,
    integration_id: uuid.UUID,
    action: Annotated[str, Form()] = "",
    csrf: Annotated[str, Form()] = "",
) -> Response:
    user = _admin(request)
    check_form(request, user, csrf)
    ctx = _ctx(request)
    _check_integration(user, ctx, integration_id)
    if action not in ACTIONS:
        return _back(integration_id, "Unknown action.")
    kind, force, said = ACTIONS[action]
    runtime_of(request.app).queue_run(integration_id, kind, force=force)
    return _back(integration_id, said)


@router.post("/admin/integrations/{integration_id}/retry/{booking_id}")
def retry_push(
    request: Request,
    integration_id: uuid.UUID,
    booking_id: uuid.UUID,
    csrf: Annotated[str, Form()] = "",
) -> Response:
    user = _admin(request)
    check_form(request, user, csrf)
    ctx = _ctx(request)
    principal = _principal(user)
    _check_integration(user, ctx, integration_id)
    with ctx.database.session() as session:
        try:
            booking = get_booking(session, booking_id=booking_id)
            principal.check_admin(booking.organization_id)
            request_push_retry(session, booking_id=booking.id, now=ctx.database.clock())
        except RoomsyncError as exc:
            return _back(integration_id, exc.message)
    return _back(integration_id, "The booking will be sent to Microsoft 365 again.")


def _back(integration_id: uuid.UUID, notice: str) -> Response:
    query = urlencode({"notice": notice})
    return RedirectResponse(f"/admin/integrations/{integration_id}?{query}", status_code=303)
