"""``/admin/tokens``: an organization's API tokens — listed (revoked ones too, never a
secret), created (the secret shown once, on the answer page only: it is in no URL and
nothing stores it) and revoked. Over the services of ``/api/v1/tokens``.

A refused form comes back with the message next to its field and what was typed kept.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from roomsync.platform.enums import Role
from roomsync.platform.exceptions import InvalidInputError
from roomsync.platform.models import ApiToken
from roomsync.platform.services.organizations import list_organizations
from roomsync.platform.services.tokens import (
    IssuedToken,
    create_api_token,
    get_api_token,
    list_api_tokens,
    revoke_api_token,
    token_user_emails,
)
from roomsync.web.pages.admin import NAV, admin_viewer, principal_of
from roomsync.web.pages.console_forms import optional_id, page_session
from roomsync.web.pages.guard import PageUser, check_form
from roomsync.web.pages.rendering import render

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 100
ROLES = (
    (Role.ADMIN, "Admin: everything in the organization, as the console does"),
    (Role.OCCUPANT, "Occupant: books as one person"),
    (Role.DISPLAY, "Display: reads one room's schedule (a screen at its door)"),
)


@dataclass(frozen=True)
class TokenForm:
    name: str = ""
    role: str = Role.OCCUPANT.value
    user: str = ""
    resource_id: str = ""
    organization_id: str = ""


@router.get("/admin/tokens", response_class=HTMLResponse)
def tokens_page(request: Request) -> Response:
    user = admin_viewer(request)
    return _page(request, user, TokenForm(), notice=request.query_params.get("notice"))


@router.post("/admin/tokens", response_class=HTMLResponse)
def create_token(  # noqa: PLR0917 - FastAPI passes each form field by name
    request: Request,
    name: Annotated[str, Form()] = "",
    role: Annotated[str, Form()] = "",
    token_user: Annotated[str, Form(alias="user")] = "",
    resource_id: Annotated[str, Form()] = "",
    organization_id: Annotated[str, Form()] = "",
    csrf: Annotated[str, Form()] = "",
) -> Response:
    user = admin_viewer(request)
    check_form(request, user, csrf)
    typed = TokenForm(name, role, token_user, resource_id, organization_id)
    try:
        with page_session(request) as session:
            issued = _create(session, user, typed)
            shown = _row(issued.token, token_user_emails(session, [issued.token]))
    except InvalidInputError as exc:
        return _page(request, user, typed, errors={_form_field(exc.field): exc.message})
    return _page(request, user, TokenForm(), issued=(shown, issued.secret), status_code=201)


@router.post("/admin/tokens/{token_id}/revoke")
def revoke_token(
    request: Request, token_id: uuid.UUID, csrf: Annotated[str, Form()] = ""
) -> Response:
    user = admin_viewer(request)
    check_form(request, user, csrf)
    with page_session(request) as session:
        token = get_api_token(session, token_id=token_id)
        principal_of(user).check_admin(token.organization_id)
        revoke_api_token(session, token_id=token_id)
        name = token.name
    query = urlencode({"notice": f"Token “{name}” is revoked: it is refused from now on."})
    return RedirectResponse(f"/admin/tokens?{query}", status_code=303)


def _create(session: Session, user: PageUser, typed: TokenForm) -> IssuedToken:
    principal = principal_of(user)
    wanted = optional_id(typed.organization_id, field="organization_id")
    organization_id = principal.target_organization(wanted)
    principal.check_admin(organization_id)
    if typed.role not in {role.value for role, _ in ROLES}:
        raise InvalidInputError("Choose what the token may do.", field="role")
    role = Role(typed.role)
    return create_api_token(
        session,
        organization_id=organization_id,
        role=role,
        name=typed.name,
        user=typed.user.strip() or None if role is Role.OCCUPANT else None,
        resource_id=optional_id(typed.resource_id, field="resource_id")
        if role is Role.DISPLAY
        else None,
    )


def _form_field(field: str) -> str:
    """Where a refusal goes on the form (the services name the occupant's email ``user``)."""
    return field if field in {"name", "role", "user", "resource_id", "organization_id"} else "name"


def _page(
    request: Request,
    user: PageUser,
    typed: TokenForm,
    *,
    errors: dict[str, str] | None = None,
    issued: tuple[dict[str, Any], str] | None = None,
    notice: str | None = None,
    status_code: int | None = None,
) -> Response:
    with page_session(request) as session:
        page = list_api_tokens(
            session, organization_id=user.organization_id, limit=PAGE_SIZE, cursor=None
        )
        emails = token_user_emails(session, page.items)
        rows = [_row(token, emails) for token in reversed(page.items)]
        organizations = _organizations(session, user)
    return render(
        request, "admin/tokens.html", user=user, nav=NAV, rows=rows, form=typed,
        errors=errors or {}, issued=issued, notice=notice, roles=ROLES,
        organizations=organizations, more=page.next_cursor is not None,
        status_code=status_code or (422 if errors else 200),
    )  # fmt: skip


def _organizations(session: Session, user: PageUser) -> list[tuple[str, str]]:
    """The super-admin picks the organization a token is for; others make their own."""
    if not user.is_super_admin:
        return []
    return [(str(o.id), o.name) for o in list_organizations(session, limit=200).items]


def _row(token: ApiToken, emails: dict[uuid.UUID, str]) -> dict[str, Any]:
    return {
        "id": token.id,
        "name": token.name,
        "role": token.role.value,
        "prefix": token.token_prefix,
        "user": emails.get(token.user_id) if token.user_id else None,
        "resource_id": token.resource_id,
        "created_at": token.created_at,
        "last_used_at": token.last_used_at,
        "revoked_at": token.revoked_at,
    }
