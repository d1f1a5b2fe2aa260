"""The frame of every set-up wizard page: who may see it, the integration it is about,
the step list and layout it renders in, and saving through the configuration service
with its refusal turned into a message next to the form field concerned."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import FormData

from roomsync.errors import RoomsyncError
from roomsync.platform.enums import Role
from roomsync.platform.exceptions import InvalidInputError
from roomsync.platform.models import Integration
from roomsync.settings import Settings
from roomsync.sync.context import SyncContext
from roomsync.sync.integration import audit, configuration
from roomsync.sync.integration.access import load_integration
from roomsync.sync.integration.configuration import IntegrationChanges
from roomsync.web.pages import wizard_forms as forms
from roomsync.web.pages import wizard_steps as steps
from roomsync.web.pages import wizard_zone as zones
from roomsync.web.pages.admin import NAV, SIGN_IN, principal_of
from roomsync.web.pages.guard import PageError, PageUser, check_form, require_role
from roomsync.web.pages.rendering import render

BASE = "/admin/setup"
_SERVICE_FIELDS = {
    "client_secret_expires_at": "client_secret_expires_at",
    "certificate": "certificate_pem",
    "time_zone": "time_zone",
    "mode": "mode",
}


def admin_of(request: Request) -> PageUser:
    settings: Settings = request.app.state.settings
    login = "/auth/login" if settings.admin_token is None else SIGN_IN
    return require_role(request, Role.ADMIN, login_path=login)


def sync_context(request: Request) -> SyncContext:
    ctx: SyncContext | None = request.app.state.sync_context
    if ctx is None:
        raise PageError("roomsync has no ROOMSYNC_SECRET_KEY, so it cannot reach Microsoft 365.")
    return ctx


async def read_form(request: Request, user: PageUser) -> FormData:
    form = await request.form()
    check_form(request, user, str(form.get("csrf") or ""))
    return form


def integration_of(user: PageUser, ctx: SyncContext, integration_id: uuid.UUID) -> Integration:
    """The integration, detached, if the viewer administers it (else a 404/403 page)."""
    try:
        with ctx.database.session() as session:
            integration = load_integration(session, integration_id)
            steps.principal(user).check_admin(integration.organization_id)
            session.expunge(integration)
    except RoomsyncError as exc:
        raise PageError(exc.message, status=exc.http_status) from exc
    return integration


def visit(request: Request, integration_id: uuid.UUID) -> tuple[PageUser, SyncContext, Integration]:
    """The viewer, the context and the integration of a step page."""
    user = admin_of(request)
    ctx = sync_context(request)
    return user, ctx, integration_of(user, ctx, integration_id)


async def posted(
    request: Request, integration_id: uuid.UUID
) -> tuple[PageUser, SyncContext, Integration, FormData]:
    """As :func:`_visit`, for a step's form: the session first (sign in and come back),
    then the form's CSRF token."""
    user = admin_of(request)
    form = await read_form(request, user)
    ctx = sync_context(request)
    return user, ctx, integration_of(user, ctx, integration_id), form


def step_redirect(integration_id: uuid.UUID, step: str, **query: str) -> Response:
    suffix = "?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else ""
    return RedirectResponse(f"{BASE}/{integration_id}/{step}{suffix}", status_code=303)


def step_page(
    request: Request,
    user: PageUser,
    step: str,
    integration: Integration | None,
    *,
    errors: forms.FormErrors | None = None,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    failed = bool(errors)
    return render(
        request,
        f"admin/wizard/{step.replace('-', '_')}.html",
        user=user,
        nav=NAV,
        status_code=422 if failed and status_code == 200 else status_code,
        step=step,
        steps=steps.step_list(integration, step),
        integration=integration,
        base=BASE,
        errors=errors or {},
        notice=request.query_params.get("notice"),
        **_extras(step),
        **context,
    )


def _extras(step: str) -> dict[str, Any]:
    if step in ("fields", "_fields_preview"):
        return {
            "source_choices": steps.source_choices(),
            "directory_names": steps.directory_suggestions(),
        }
    if step == "time-zone":
        return {"zones": zones.zone_names(), "modes": zones.listening_modes()}
    return {}


def save_changes(
    ctx: SyncContext, integration_id: uuid.UUID, changes: IntegrationChanges, *, user: PageUser
) -> forms.FormErrors:
    """``update_integration`` in one transaction, audited as the REST API's is; its
    refusal, keyed by form field."""
    try:
        with ctx.database.session() as session:
            before = audit.snapshot(session.get(Integration, integration_id))
            integration = configuration.update_integration(
                session, ctx, integration_id=integration_id, changes=changes
            )
            audit.record_change(session, integration, before=before, actor=actor_of(user))
    except InvalidInputError as exc:
        return service_errors(exc)
    return forms.FormErrors()


def actor_of(user: PageUser) -> str:
    """Who saved, as the settings audit records it."""
    return principal_of(user).actor


def service_errors(exc: InvalidInputError) -> forms.FormErrors:
    errors = forms.FormErrors()
    name = exc.field
    if name.startswith("field_mappings."):
        name = "field." + name.split(".")[1]
    errors.add(_SERVICE_FIELDS.get(name, name), exc.message)
    return errors
