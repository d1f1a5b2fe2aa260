"""Starlette endpoints of the sign-in service.

    GET  /{tenant}/oauth2/v2.0/authorize   the sign-in form (login_hint fills "Email")
    POST /{tenant}/oauth2/v2.0/authorize   the form's answer: checks the password, then
                                           answers the app (code and state, or error)
    GET|POST /{tenant}/oauth2/v2.0/logout  back to ``post_logout_redirect_uri`` when it
                                           is a registered redirect URI of the tenant's
                                           apps (v2-protocols-oidc.md, "Send a sign-out
                                           request"); a signed-out page otherwise

The form posts to the authorize URL itself, query string included, so every answer is
checked against the request as the app sent it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, urlencode

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from graphsim.requestlog import LoggedRequest
from graphsim.signin.authorize import Target, parse_authorize, parse_target, redirect_uri_registered
from graphsim.signin.errors import AuthorizeError, LoginError
from graphsim.signin.pages import error_page, form_post_page, sign_in_page, signed_out_page

if TYPE_CHECKING:
    from graphsim.core import Core

_NO_STORE = {"Cache-Control": "no-store, no-cache", "Pragma": "no-cache"}


def answer(target: Target, params: dict[str, str]) -> Response:
    """Send ``params`` to the app the way ``response_mode`` asks."""
    if target.response_mode == "form_post":
        return HTMLResponse(form_post_page(target.redirect_uri, params), headers=_NO_STORE)
    separator = (
        "#" if target.response_mode == "fragment" else ("&" if "?" in target.redirect_uri else "?")
    )
    location = f"{target.redirect_uri}{separator}{urlencode(params)}"
    return RedirectResponse(location, status_code=302, headers=_NO_STORE)


def _error_params(error: AuthorizeError, state: str | None) -> dict[str, str]:
    params = {
        "error": error.error,
        "error_description": f"AADSTS{error.aadsts}: {error.description}",
    }
    if state is not None:
        params["state"] = state
    return params


class SignInEndpoints:
    def __init__(self, core: Core) -> None:
        self.core = core

    async def authorize(self, request: Request) -> Response:
        segment, query = request.path_params["tenant"], dict(request.query_params)
        form = dict(parse_qsl((await request.body()).decode(errors="replace")))
        with self.core.lock:
            response = self._authorize(request, segment, query, form)
        self._log(request, query.get("client_id"), response.status_code)
        return response

    def _authorize(
        self, request: Request, segment: str, query: dict[str, str], form: dict[str, str]
    ) -> Response:
        try:
            target = parse_target(self.core.tenant, segment, query)
        except AuthorizeError as error:
            return HTMLResponse(error_page(error), 400, headers=_NO_STORE)
        try:
            auth = parse_authorize(target, segment, query)
            if request.method == "GET":
                return self._form(request, auth.login_hint, None)
            user = self.core.signin.authenticate_user(
                form.get("email", ""), form.get("password", "")
            )
            return answer(target, self.core.signin.complete(auth, user))
        except LoginError as error:
            return self._form(request, form.get("email", ""), error)
        except AuthorizeError as error:
            return answer(target, _error_params(error, target.state))

    def _form(self, request: Request, email: str, error: LoginError | None) -> Response:
        action = f"{request.url.path}?{request.url.query}"
        page = sign_in_page(self.core.tenant.display_name, action, email, error)
        return HTMLResponse(page, headers={**_NO_STORE, "X-Frame-Options": "DENY"})

    async def logout(self, request: Request) -> Response:
        params = dict(request.query_params)
        params.update(parse_qsl((await request.body()).decode(errors="replace")))
        uri = params.get("post_logout_redirect_uri")
        with self.core.lock:
            known = uri is not None and self._registered(uri, params.get("client_id"))
        self._log(request, params.get("client_id"), 302 if known else 200)
        if uri is not None and known:
            state = params.get("state")
            suffix = ("&" if "?" in uri else "?") + urlencode({"state": state}) if state else ""
            return RedirectResponse(uri + suffix, status_code=302, headers=_NO_STORE)
        note = f"{uri} is not a registered redirect URI, so you stay here." if uri else None
        return HTMLResponse(signed_out_page(note), headers=_NO_STORE)

    def _registered(self, uri: str, client_id: str | None) -> bool:
        apps = self.core.tenant.signin.apps
        candidates = [apps[client_id.lower()]] if client_id and client_id.lower() in apps else []
        candidates = candidates or list(apps.values())
        return any(redirect_uri_registered(app, uri) for app in candidates)

    def _log(self, request: Request, client_id: str | None, status: int) -> None:
        entry = LoggedRequest(
            self.core.clock.now(),
            request.method,
            request.url.path,
            "",
            None,
            client_id,
            status,
            False,
        )
        self.core.log.add(entry)


def signin_routes(core: Core) -> list[BaseRoute]:
    endpoints = SignInEndpoints(core)
    return [
        Route("/{tenant}/oauth2/v2.0/authorize", endpoints.authorize, methods=["GET", "POST"]),
        Route("/{tenant}/oauth2/v2.0/logout", endpoints.logout, methods=["GET", "POST"]),
    ]
