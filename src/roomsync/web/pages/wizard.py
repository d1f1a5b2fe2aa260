"""``/admin/setup``: the set-up wizard, the customer guide as five pages, one thing each —
connection (with the permission doctor), rooms, fields, time zone and mode, first import.

Every page saves through the service the REST API uses (``create_integration`` /
``update_integration``, as ``POST``/``PATCH /api/v1/integrations``), checks the connection
with ``check_integration`` (``POST …/check``) and reads the tenant live through the room
workflow's own listing (:mod:`roomsync.sync.integration.preview`). A new integration is
saved disabled: nothing is imported behind the administrator's back until the last step
enables it and runs the first import. A form with problems is shown again as typed, each
message next to its field, and nothing of it is saved.
"""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from starlette.datastructures import FormData

from roomsync.errors import RoomsyncError
from roomsync.platform.enums import Role
from roomsync.platform.exceptions import DuplicateError, InvalidInputError
from roomsync.platform.models import Integration, Organization
from roomsync.settings import Settings
from roomsync.sync.context import SyncContext
from roomsync.sync.integration import configuration
from roomsync.sync.integration.access import load_integration
from roomsync.sync.integration.configuration import IntegrationChanges
from roomsync.sync.integration.doctor import DoctorReport, check_integration
from roomsync.web.deps import runtime_of
from roomsync.web.pages import wizard_forms as forms
from roomsync.web.pages import wizard_steps as steps
from roomsync.web.pages.admin import NAV, SIGN_IN
from roomsync.web.pages.guard import PageError, PageUser, check_form, require_role
from roomsync.web.pages.rendering import render
from roomsync.web.pages.wizard_import import ImportRunner

router = APIRouter(include_in_schema=False)
BASE = "/admin/setup"
FIRST_ZONE = "UTC"  # until the time zone step proposes the tenant's own
_SERVICE_FIELDS = {
    "client_secret_expires_at": "client_secret_expires_at",
    "certificate": "certificate_pem",
    "time_zone": "time_zone",
    "mode": "mode",
}


def _admin(request: Request) -> PageUser:
    settings: Settings = request.app.state.settings
    login = "/auth/login" if settings.admin_token is None else SIGN_IN
    return require_role(request, Role.ADMIN, login_path=login)


def _ctx(request: Request) -> SyncContext:
    ctx: SyncContext | None = request.app.state.sync_context
    if ctx is None:
        raise PageError("roomsync has no ROOMSYNC_SECRET_KEY, so it cannot reach Microsoft 365.")
    return ctx


async def _form(request: Request, user: PageUser) -> FormData:
    form = await request.form()
    check_form(request, user, str(form.get("csrf") or ""))
    return form


def _integration(user: PageUser, ctx: SyncContext, integration_id: uuid.UUID) -> Integration:
    """The integration, detached, if the viewer administers it (else a 404/403 page)."""
    try:
        with ctx.database.session() as session:
            integration = load_integration(session, integration_id)
            steps.principal(user).check_admin(integration.organization_id)
            session.expunge(integration)
    except RoomsyncError as exc:
        raise PageError(exc.message, status=exc.http_status) from exc
    return integration


def _to(integration_id: uuid.UUID, step: str, **query: str) -> Response:
    suffix = "?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else ""
    return RedirectResponse(f"{BASE}/{integration_id}/{step}{suffix}", status_code=303)


def _page(
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
        return {"zones": steps.zone_names(), "modes": steps.listening_modes()}
    return {}


def _save(
    ctx: SyncContext, integration_id: uuid.UUID, changes: IntegrationChanges
) -> forms.FormErrors:
    """``update_integration`` in one transaction; its refusal, keyed by form field."""
    try:
        with ctx.database.session() as session:
            configuration.update_integration(
                session, ctx, integration_id=integration_id, changes=changes
            )
    except InvalidInputError as exc:
        return _service_errors(exc)
    return forms.FormErrors()


def _service_errors(exc: InvalidInputError) -> forms.FormErrors:
    errors = forms.FormErrors()
    name = exc.field
    if name.startswith("field_mappings."):
        name = "field." + name.split(".")[1]
    errors.add(_SERVICE_FIELDS.get(name, name), exc.message)
    return errors


# -- connection --------------------------------------------------------------------------


@router.get(BASE, response_class=HTMLResponse)
def start(request: Request) -> Response:
    """The first page: a new connection, or the viewer's organization's existing one."""
    user = _admin(request)
    ctx = _ctx(request)
    if user.organization_id is not None:
        with ctx.database.session() as session:
            existing = session.scalars(
                select(Integration.id).where(Integration.organization_id == user.organization_id)
            ).first()
        if existing is not None:
            return _to(existing, "connection")
    return _connection_page(request, user, ctx, None, values={"credential": "secret"})


def _organizations(ctx: SyncContext, user: PageUser) -> list[tuple[str, str]]:
    """For the super-admin: the organizations that have no integration yet."""
    if user.organization_id is not None:
        return []
    with ctx.database.session() as session:
        taken = select(Integration.organization_id)
        rows = session.execute(
            select(Organization.id, Organization.name)
            .where(Organization.id.not_in(taken))
            .order_by(Organization.name)
        ).all()
    return [(str(row.id), row.name) for row in rows]


def _connection_page(
    request: Request,
    user: PageUser,
    ctx: SyncContext,
    integration: Integration | None,
    *,
    values: dict[str, str],
    errors: forms.FormErrors | None = None,
    report: DoctorReport | None = None,
) -> HTMLResponse:
    if report is not None and not report.token.ok:
        errors = errors or forms.FormErrors()
        field = "certificate_pem" if values.get("credential") == "certificate" else "client_secret"
        errors.add(field, f"Entra ID refused this credential: {report.token.detail}")
    return _page(
        request,
        user,
        "connection",
        integration,
        errors=errors,
        values=values,
        organizations=_organizations(ctx, user),
        secret=steps.secret_summary(integration),
        certificate=steps.certificate_of(ctx, integration),
        cloud=steps.cloud_of(ctx),
        report=report,
        permission_help=steps.PERMISSION_HELP,
    )


@router.post(f"{BASE}/connection", response_class=HTMLResponse)
async def create(request: Request) -> Response:
    user = _admin(request)
    form = await _form(request, user)
    ctx = _ctx(request)
    typed = await forms.read_connection(
        form, has_secret=False, has_certificate=False, today=ctx.clock().date()
    )
    organization_id = _organization_for(user, typed)
    if typed.errors:
        return _connection_page(request, user, ctx, None, values=typed.values, errors=typed.errors)
    try:
        with ctx.database.session() as session:
            integration = configuration.create_integration(
                session, ctx, organization_id=organization_id, time_zone=FIRST_ZONE,
                enabled=False, **steps.create_arguments(forms.connection_changes(typed)),
            )  # fmt: skip
            created = integration.id
    except (DuplicateError, IntegrityError):
        # The same form sent twice: the first one made the integration.
        return _to(_existing(ctx, organization_id), "connection", notice="saved")
    except InvalidInputError as exc:
        return _connection_page(
            request, user, ctx, None, values=typed.values, errors=_service_errors(exc)
        )
    if str(form.get("action")) == "check":
        return _checked(request, user, ctx, created, typed.values)
    return _to(created, "rooms")


def _organization_for(user: PageUser, typed: forms.ConnectionForm) -> uuid.UUID:
    if user.organization_id is not None:
        return user.organization_id
    try:
        return uuid.UUID(typed.values["organization_id"])
    except ValueError:
        typed.errors.add("organization_id", "Choose the organization to connect.")
        return uuid.UUID(int=0)


def _existing(ctx: SyncContext, organization_id: uuid.UUID) -> uuid.UUID:
    with ctx.database.session() as session:
        return session.scalars(
            select(Integration.id).where(Integration.organization_id == organization_id)
        ).one()


@router.get(f"{BASE}/{{integration_id}}/connection", response_class=HTMLResponse)
def connection(request: Request, integration_id: uuid.UUID) -> Response:
    user = _admin(request)
    ctx = _ctx(request)
    integration = _integration(user, ctx, integration_id)
    return _connection_page(
        request, user, ctx, integration, values=steps.connection_values(integration)
    )


@router.post(f"{BASE}/{{integration_id}}/connection", response_class=HTMLResponse)
async def save_connection(request: Request, integration_id: uuid.UUID) -> Response:
    user = _admin(request)
    form = await _form(request, user)
    ctx = _ctx(request)
    integration = _integration(user, ctx, integration_id)
    typed = await forms.read_connection(
        form,
        has_secret=bool(integration.client_secret_encrypted),
        has_certificate=bool(integration.certificate_encrypted),
        today=ctx.clock().date(),
    )
    errors = typed.errors or _save(ctx, integration_id, forms.connection_changes(typed))
    if errors:
        return _connection_page(request, user, ctx, integration, values=typed.values, errors=errors)
    if str(form.get("action")) == "check":
        return _checked(request, user, ctx, integration_id, typed.values)
    return _to(integration_id, "rooms")


@router.post(f"{BASE}/{{integration_id}}/check", response_class=HTMLResponse)
async def check(request: Request, integration_id: uuid.UUID) -> Response:
    user = _admin(request)
    await _form(request, user)
    ctx = _ctx(request)
    integration = _integration(user, ctx, integration_id)
    return _checked(request, user, ctx, integration_id, steps.connection_values(integration))


def _checked(
    request: Request,
    user: PageUser,
    ctx: SyncContext,
    integration_id: uuid.UUID,
    values: dict[str, str],
) -> HTMLResponse:
    report = check_integration(ctx, integration_id)
    integration = _integration(user, ctx, integration_id)
    shown = {
        **steps.connection_values(integration),
        "credential": values.get("credential", "secret"),
    }
    return _connection_page(request, user, ctx, integration, values=shown, report=report)


# -- rooms -------------------------------------------------------------------------------


@router.get(f"{BASE}/{{integration_id}}/rooms", response_class=HTMLResponse)
def rooms(request: Request, integration_id: uuid.UUID) -> Response:
    user = _admin(request)
    ctx = _ctx(request)
    integration = _integration(user, ctx, integration_id)
    view = steps.RoomsView.saved(ctx, integration)
    return _page(request, user, "rooms", integration, view=view)


@router.post(f"{BASE}/{{integration_id}}/rooms", response_class=HTMLResponse)
async def save_rooms(request: Request, integration_id: uuid.UUID) -> Response:
    user = _admin(request)
    form = await _form(request, user)
    ctx = _ctx(request)
    integration = _integration(user, ctx, integration_id)
    view = steps.RoomsView.live(ctx, integration)
    typed = forms.read_rooms(form, [item.email for item in view.lists])
    view = view.typed(typed)
    if typed.errors or typed.selection is None:
        return _page(request, user, "rooms", integration, view=view, errors=typed.errors)
    if str(form.get("action")) == "preview":
        view = view.previewed(ctx, integration, typed.selection)
        return _page(request, user, "rooms", integration, view=view)
    errors = _save(ctx, integration_id, IntegrationChanges(room_selection=typed.selection))
    if errors:
        return _page(request, user, "rooms", integration, view=view, errors=errors)
    return _to(integration_id, "fields")


# -- fields ------------------------------------------------------------------------------


@router.get(f"{BASE}/{{integration_id}}/fields", response_class=HTMLResponse)
def fields(request: Request, integration_id: uuid.UUID) -> Response:
    user = _admin(request)
    ctx = _ctx(request)
    integration = _integration(user, ctx, integration_id)
    view = steps.FieldsView.saved(ctx, integration)
    return _page(request, user, "fields", integration, view=view)


@router.post(f"{BASE}/{{integration_id}}/fields", response_class=HTMLResponse)
async def save_fields(request: Request, integration_id: uuid.UUID) -> Response:
    user = _admin(request)
    form = await _form(request, user)
    ctx = _ctx(request)
    integration = _integration(user, ctx, integration_id)
    typed = forms.read_fields(form, steps.row_count(form))
    view = steps.FieldsView.typed(ctx, integration, typed)
    errors = typed.errors
    if not errors and str(form.get("action")) != "preview":
        errors = _save(ctx, integration_id, IntegrationChanges(field_mappings=typed.mappings))
        if not errors:
            return _to(integration_id, "time-zone")
    template = "_fields_preview" if form.get("partial") else "fields"
    return _page(request, user, template, integration, view=view, errors=errors)


# -- time zone and mode ------------------------------------------------------------------


@router.get(f"{BASE}/{{integration_id}}/time-zone", response_class=HTMLResponse)
def time_zone(request: Request, integration_id: uuid.UUID) -> Response:
    user = _admin(request)
    ctx = _ctx(request)
    integration = _integration(user, ctx, integration_id)
    view = steps.ZoneView.saved(ctx, request.app.state.settings, integration)
    return _page(request, user, "time-zone", integration, view=view)


@router.post(f"{BASE}/{{integration_id}}/time-zone", response_class=HTMLResponse)
async def save_time_zone(request: Request, integration_id: uuid.UUID) -> Response:
    user = _admin(request)
    form = await _form(request, user)
    ctx = _ctx(request)
    integration = _integration(user, ctx, integration_id)
    typed = forms.read_zone(form)
    errors = typed.errors or _save(ctx, integration_id, typed.changes())
    if errors:
        view = steps.ZoneView.saved(ctx, request.app.state.settings, integration).typed(typed)
        return _page(request, user, "time-zone", integration, view=view, errors=errors)
    if not configuration.is_listening(integration):  # as it was before this change
        steps.listen_if_switched(request.app, ctx, integration_id)
    return _to(integration_id, "import")


# -- import ------------------------------------------------------------------------------


def _runner(request: Request) -> ImportRunner:
    state = request.app.state
    if not hasattr(state, "wizard_imports"):
        state.wizard_imports = ImportRunner()
    runner: ImportRunner = state.wizard_imports
    return runner


@router.get(f"{BASE}/{{integration_id}}/import", response_class=HTMLResponse)
def import_page(request: Request, integration_id: uuid.UUID) -> Response:
    user = _admin(request)
    ctx = _ctx(request)
    integration = _integration(user, ctx, integration_id)
    state = _runner(request).state(integration_id)
    summary = steps.import_summary(ctx, integration)
    return _page(request, user, "import", integration, run=state, summary=summary)


@router.post(f"{BASE}/{{integration_id}}/import", response_class=HTMLResponse)
async def run_import(request: Request, integration_id: uuid.UUID) -> Response:
    user = _admin(request)
    await _form(request, user)
    ctx = _ctx(request)
    _integration(user, ctx, integration_id)
    errors = _save(ctx, integration_id, IntegrationChanges(enabled=True))
    if errors:
        raise PageError(next(iter(errors.values())), status=422)
    app = request.app
    _runner(request).start(ctx, integration_id, lambda i: runtime_of(app).after_room_import(i))
    return _to(integration_id, "import")


@router.get(f"{BASE}/{{integration_id}}/import/progress")
def import_progress(request: Request, integration_id: uuid.UUID) -> Response:
    """How far the first import got, for the page's progress bar."""
    user = _admin(request)
    _integration(user, _ctx(request), integration_id)
    state = _runner(request).state(integration_id)
    body = {"state": "idle"} if state is None else state.as_json()
    body["dashboard"] = f"/admin/integrations/{integration_id}"
    return JSONResponse(body, headers={"Cache-Control": "no-store"})
