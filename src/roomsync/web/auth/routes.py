"""``/auth/login``, ``/auth/callback`` and ``/auth/logout``: the browser's side of sign-in.

Entra ID answers the callback with an auto-submitting form (``response_mode=form_post``),
so the callback takes POST as well as GET. Every refusal is the error page with a 4xx
status, or 502 when Entra ID itself could not be reached or read; none opens a session.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Annotated
from urllib.parse import parse_qsl

from fastapi import APIRouter, Cookie, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from roomsync.errors import RoomsyncError
from roomsync.platform.api.deps import DatabaseDep, SettingsDep
from roomsync.platform.services.sessions import COOKIE_NAME, revoke_session
from roomsync.settings import Settings
from roomsync.web.auth.pages import error_page
from roomsync.web.auth.signin import (
    CALLBACK_PATH,
    Login,
    SignedInCookie,
    finish_sign_in,
    flow_answer,
    signing_keys_of,
    start_sign_in,
)
from roomsync.web.deps import SyncContextDep
from roomsync.web.pages.guard import same_origin_path
from roomsync.web.pages.rendering import render

logger = logging.getLogger(__name__)
router = APIRouter(include_in_schema=False)
_FORM = "application/x-www-form-urlencoded"


@router.get("/auth/login")
def login(
    request: Request,
    ctx: SyncContextDep,
    settings: SettingsDep,
    *,
    organization: str | None = None,
    login_hint: str | None = None,
    next: str | None = None,
) -> Response:
    if not organization and not (login_hint or "").strip():
        # Nothing says who signs in yet: ask for the work email (its domain finds the
        # organization), keeping where to go afterwards.
        error = "Enter your work email." if login_hint is not None else None
        return render(
            request,
            "auth/sign_in.html",
            next=same_origin_path(next, ""),
            login_hint=login_hint,
            error=error,
            status_code=422 if error else 200,
        )
    return _answered(
        lambda: RedirectResponse(
            start_sign_in(ctx, settings, Login(organization, login_hint, next)), 302
        )
    )


@router.api_route(CALLBACK_PATH, methods=["GET", "POST"])
async def callback(request: Request, ctx: SyncContextDep, settings: SettingsDep) -> Response:
    fields = dict(request.query_params)
    if request.method == "POST" and request.headers.get("content-type", "").startswith(_FORM):
        fields |= dict(parse_qsl((await request.body()).decode("utf-8", "replace")))
    keys = signing_keys_of(request.app, ctx)
    return await run_in_threadpool(
        _answered,
        lambda: _signed_in(finish_sign_in(ctx, settings, keys, flow_answer(fields)), settings),
    )


@router.post("/auth/logout")
def logout(
    database: DatabaseDep,
    session_cookie: Annotated[str | None, Cookie(alias=COOKIE_NAME)] = None,
) -> Response:
    if session_cookie:
        with database.session() as session:
            revoke_session(session, session_cookie, now=database.clock())
    # The sign-in page: the occupant app at / is not there yet.
    response = RedirectResponse("/auth/login", status_code=303)
    response.delete_cookie(COOKIE_NAME, path="/")
    return response


def _signed_in(cookie: SignedInCookie, settings: Settings) -> Response:
    response = RedirectResponse(cookie.next_path, status_code=303)
    response.set_cookie(
        COOKIE_NAME,
        cookie.value,
        max_age=int(settings.session_max_hours * 3600),
        path="/",
        secure=settings.public_url.lower().startswith("https://"),
        httponly=True,
        samesite="lax",
    )
    return response


def _answered(respond: Callable[[], Response]) -> Response:
    """The response, or the error page for a refusal (never a 500 for a bad answer)."""
    try:
        return respond()
    except RoomsyncError as exc:
        status = exc.http_status if 400 <= exc.http_status < 500 else 502
        logger.info("Sign-in refused (%s): %s", exc.code, exc.message)
        return error_page(exc.message, status)
