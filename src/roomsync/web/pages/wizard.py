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

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from roomsync.platform.exceptions import DuplicateError, InvalidInputError
from roomsync.platform.models import Integration, Organization
from roomsync.sync.context import SyncContext
from roomsync.sync.integration import audit, configuration
from roomsync.sync.integration.configuration import IntegrationChanges
from roomsync.sync.integration.doctor import DoctorReport, check_integration
from roomsync.web.deps import runtime_of
from roomsync.web.pages import wizard_forms as forms
from roomsync.web.pages import wizard_page as page
from roomsync.web.pages import wizard_steps as steps
from roomsync.web.pages import wizard_zone as zones
from roomsync.web.pages.guard import PageError, PageUser
from roomsync.web.pages.wizard_import import ImportRunner

router = APIRouter(include_in_schema=False)
BASE = page.BASE
FIRST_ZONE = "UTC"  # until the time zone step proposes the tenant's own


# -- connection --------------------------------------------------------------------------


@router.get(BASE, response_class=HTMLResponse)
def start(request: Request) -> Response:
    """The first page: a new connection, or the viewer's organization's existing one."""
    user = page.admin_of(request)
    ctx = page.sync_context(request)
    if user.organization_id is not None:
        with ctx.database.session() as session:
            existing = session.scalars(
                select(Integration.id).where(Integration.organization_id == user.organization_id)
            ).first()
        if existing is not None:
            return page.step_redirect(existing, "connection")
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
    return page.step_page(
        request,
        user,
        "connection",
        integration,
        errors=errors,
        values=values,
        organizations=_organizations(ctx, user),
        secret=steps.secret_summary(integration, ctx.clock()),
        certificate=steps.certificate_of(ctx, integration),
        cloud=steps.cloud_of(ctx),
        report=report,
        permission_help=steps.PERMISSION_HELP,
    )


@router.post(f"{BASE}/connection", response_class=HTMLResponse)
async def create(request: Request) -> Response:
    user = page.admin_of(request)
    form = await page.read_form(request, user)
    ctx = page.sync_context(request)
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
            audit.record_change(
                session, integration, before=audit.snapshot(None), actor=page.actor_of(user)
            )
            created = integration.id
    except (DuplicateError, IntegrityError):
        # The same form sent twice: the first one made the integration.
        return page.step_redirect(_existing(ctx, organization_id), "connection", notice="saved")
    except InvalidInputError as exc:
        return _connection_page(
            request, user, ctx, None, values=typed.values, errors=page.service_errors(exc)
        )
    if str(form.get("action")) == "check":
        return _checked(request, user, ctx, created, typed.values)
    return page.step_redirect(created, "rooms")


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
    user, ctx, integration = page.visit(request, integration_id)
    return _connection_page(
        request, user, ctx, integration, values=steps.connection_values(integration)
    )


@router.post(f"{BASE}/{{integration_id}}/connection", response_class=HTMLResponse)
async def save_connection(request: Request, integration_id: uuid.UUID) -> Response:
    user, ctx, integration, form = await page.posted(request, integration_id)
    typed = await forms.read_connection(
        form,
        has_secret=bool(integration.client_secret_encrypted),
        has_certificate=bool(integration.certificate_encrypted),
        today=ctx.clock().date(),
    )
    errors = typed.errors or page.save_changes(
        ctx, integration_id, forms.connection_changes(typed), user=user
    )
    if errors:
        return _connection_page(request, user, ctx, integration, values=typed.values, errors=errors)
    if str(form.get("action")) == "check":
        return _checked(request, user, ctx, integration_id, typed.values)
    return page.step_redirect(integration_id, "rooms")


def _checked(
    request: Request,
    user: PageUser,
    ctx: SyncContext,
    integration_id: uuid.UUID,
    values: dict[str, str],
) -> HTMLResponse:
    report = check_integration(ctx, integration_id)
    integration = page.integration_of(user, ctx, integration_id)
    shown = {
        **steps.connection_values(integration),
        "credential": values.get("credential", "secret"),
    }
    return _connection_page(request, user, ctx, integration, values=shown, report=report)


# -- rooms -------------------------------------------------------------------------------


@router.get(f"{BASE}/{{integration_id}}/rooms", response_class=HTMLResponse)
def rooms(request: Request, integration_id: uuid.UUID) -> Response:
    user, ctx, integration = page.visit(request, integration_id)
    view = steps.RoomsView.saved(ctx, integration)
    return page.step_page(request, user, "rooms", integration, view=view)


@router.post(f"{BASE}/{{integration_id}}/rooms", response_class=HTMLResponse)
async def save_rooms(request: Request, integration_id: uuid.UUID) -> Response:
    user, ctx, integration, form = await page.posted(request, integration_id)
    view = steps.RoomsView.live(ctx, integration)
    typed = forms.read_rooms(form, [item.email for item in view.lists])
    view = view.typed(typed)
    if typed.errors or typed.selection is None:
        return page.step_page(request, user, "rooms", integration, view=view, errors=typed.errors)
    if str(form.get("action")) == "preview":
        view = view.previewed(ctx, integration, typed.selection)
        return page.step_page(request, user, "rooms", integration, view=view)
    errors = page.save_changes(
        ctx, integration_id, IntegrationChanges(room_selection=typed.selection), user=user
    )
    if errors:
        return page.step_page(request, user, "rooms", integration, view=view, errors=errors)
    return page.step_redirect(integration_id, "fields")


# -- fields ------------------------------------------------------------------------------


@router.get(f"{BASE}/{{integration_id}}/fields", response_class=HTMLResponse)
def fields(request: Request, integration_id: uuid.UUID) -> Response:
    user, ctx, integration = page.visit(request, integration_id)
    view = steps.FieldsView.saved(ctx, integration)
    return page.step_page(request, user, "fields", integration, view=view)


@router.post(f"{BASE}/{{integration_id}}/fields", response_class=HTMLResponse)
async def save_fields(request: Request, integration_id: uuid.UUID) -> Response:
    user, ctx, integration, form = await page.posted(request, integration_id)
    typed = forms.read_fields(form, steps.row_count(form))
    view = steps.FieldsView.typed(ctx, integration, typed)
    errors = typed.errors
    if not errors and str(form.get("action")) != "preview":
        errors = page.save_changes(
            ctx, integration_id, IntegrationChanges(field_mappings=typed.mappings), user=user
        )
        if not errors:
            return page.step_redirect(integration_id, "time-zone")
    template = "_fields_preview" if form.get("partial") else "fields"
    return page.step_page(request, user, template, integration, view=view, errors=errors)


# -- time zone and mode ------------------------------------------------------------------


@router.get(f"{BASE}/{{integration_id}}/time-zone", response_class=HTMLResponse)
def time_zone(request: Request, integration_id: uuid.UUID) -> Response:
    user, ctx, integration = page.visit(request, integration_id)
    view = zones.ZoneView.saved(ctx, request.app.state.settings, integration)
    return page.step_page(request, user, "time-zone", integration, view=view)


@router.post(f"{BASE}/{{integration_id}}/time-zone", response_class=HTMLResponse)
async def save_time_zone(request: Request, integration_id: uuid.UUID) -> Response:
    user, ctx, integration, form = await page.posted(request, integration_id)
    typed = forms.read_zone(form)
    errors = typed.errors or page.save_changes(ctx, integration_id, typed.changes(), user=user)
    if errors:
        view = zones.ZoneView.saved(ctx, request.app.state.settings, integration).typed(typed)
        return page.step_page(request, user, "time-zone", integration, view=view, errors=errors)
    if not configuration.is_listening(integration):  # as it was before this change
        zones.listen_if_switched(request.app, ctx, integration_id)
    return page.step_redirect(integration_id, "import")


# -- import ------------------------------------------------------------------------------


def _runner(request: Request) -> ImportRunner:
    state = request.app.state
    if not hasattr(state, "wizard_imports"):
        state.wizard_imports = ImportRunner()
    runner: ImportRunner = state.wizard_imports
    return runner


@router.get(f"{BASE}/{{integration_id}}/import", response_class=HTMLResponse)
def import_page(request: Request, integration_id: uuid.UUID) -> Response:
    user, ctx, integration = page.visit(request, integration_id)
    state = _runner(request).state(integration_id)
    summary = zones.import_summary(ctx, integration)
    return page.step_page(request, user, "import", integration, run=state, summary=summary)


@router.post(f"{BASE}/{{integration_id}}/import", response_class=HTMLResponse)
async def run_import(request: Request, integration_id: uuid.UUID) -> Response:
    user = page.admin_of(request)
    await page.read_form(request, user)
    ctx = page.sync_context(request)
    page.integration_of(user, ctx, integration_id)
    errors = page.save_changes(ctx, integration_id, IntegrationChanges(enabled=True), user=user)
    if errors:
        raise PageError(next(iter(errors.values())), status=422)
    app = request.app
    _runner(request).start(ctx, integration_id, lambda i: runtime_of(app).after_room_import(i))
    return page.step_redirect(integration_id, "import")


@router.get(f"{BASE}/{{integration_id}}/import/progress")
def import_progress(request: Request, integration_id: uuid.UUID) -> Response:
    """How far the first import got, for the page's progress bar."""
    user = page.admin_of(request)
    page.integration_of(user, page.sync_context(request), integration_id)
    state = _runner(request).state(integration_id)
    body = {"state": "idle"} if state is None else state.as_json()
    body["dashboard"] = f"/admin/integrations/{integration_id}"
    return JSONResponse(body, headers={"Cache-Control": "no-store"})
