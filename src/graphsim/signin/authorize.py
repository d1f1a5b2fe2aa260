"""The parameters of ``GET /{tenant}/oauth2/v2.0/authorize`` and their checks
(v2-oauth2-auth-code-flow.md, "Request an authorization code"; v2-protocols-oidc.md).

- ``{tenant}``: this tenant's id or domain, or ``common`` / ``organizations`` (the user's
  own tenant then decides ``tid``); anything else is AADSTS90002.
- ``client_id`` must name an app registration (AADSTS700016); ``redirect_uri`` must match
  one of its Web redirect URIs exactly, case-sensitively (AADSTS50011), except that the
  port of a loopback (``localhost``, ``127.0.0.1``, ``[::1]``) URI is ignored
  (reply-url.md, "Localhost exceptions"); without ``redirect_uri`` the first registered
  one is used (AADSTS900971 when there is none).
- ``response_type`` must be ``code`` (an ``id_token`` from this endpoint needs the implicit
  grant, which graphsim's apps do not enable: AADSTS700054); ``response_mode`` is
  ``query`` (default), ``fragment`` or ``form_post``.
- ``code_challenge`` (43 to 128 characters, AADSTS501491) with ``code_challenge_method``
  ``S256`` or ``plain`` (plain when the method is left out).
- ``prompt``: ``login``, ``select_account`` and ``consent`` show the form; graphsim keeps
  no single sign-on session, so ``none`` is always ``login_required`` (AADSTS50058).
- ``login_hint`` pre-fills "Email"; ``domain_hint`` only skips home-realm discovery,
  which a one-tenant simulator does not have, so it is accepted and changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from graphsim.directory.tenant import Tenant
from graphsim.signin.errors import page_error, redirect_error
from graphsim.signin.model import AppSignIn
from graphsim.signin.scopes import requested_scopes

MULTI_TENANT = frozenset({"common", "organizations"})
_LOOPBACK = frozenset({"localhost", "127.0.0.1", "::1"})
_MODES = frozenset({"query", "fragment", "form_post"})
_PROMPTS = frozenset({"login", "none", "consent", "select_account"})


@dataclass(frozen=True)
class Target:
    """Where answers go: known once the app and its redirect URI are checked."""

    client_id: str
    redirect_uri: str
    response_mode: str
    state: str | None


@dataclass(frozen=True)
class AuthorizeRequest:
    """A checked authorization request."""

    tenant_segment: str
    client_id: str
    redirect_uri: str
    response_mode: str
    scopes: tuple[str, ...]
    state: str | None
    nonce: str | None
    code_challenge: str | None
    code_challenge_method: str
    prompt: str | None
    login_hint: str
    domain_hint: str | None


def check_tenant_segment(tenant: Tenant, segment: str) -> None:
    if segment.lower() not in MULTI_TENANT and not tenant.matches(segment):
        raise page_error(
            "invalid_tenant",
            90002,
            f"Tenant '{segment}' not found. Check to make sure you have the correct tenant ID "
            "and are signing into the correct cloud.",
        )


def parse_target(tenant: Tenant, segment: str, query: dict[str, str]) -> Target:
    """The app and redirect URI, or an AuthorizeError for graphsim's own page."""
    check_tenant_segment(tenant, segment)
    client_id = _client(tenant, query.get("client_id", ""))
    redirect_uri = _redirect_uri(tenant.signin.app(client_id), query.get("redirect_uri"))
    mode = query.get("response_mode", "query")
    return Target(client_id, redirect_uri, mode if mode in _MODES else "query", query.get("state"))


def parse_authorize(target: Target, segment: str, query: dict[str, str]) -> AuthorizeRequest:
    """The whole request, or an AuthorizeError to send back to ``target``."""
    _check_response_type(query.get("response_type", ""))
    challenge, method = _pkce(query)
    return AuthorizeRequest(
        tenant_segment=segment,
        client_id=target.client_id,
        redirect_uri=target.redirect_uri,
        response_mode=_response_mode(query.get("response_mode")),
        scopes=requested_scopes(query.get("scope", "")),
        state=target.state,
        nonce=query.get("nonce"),
        code_challenge=challenge,
        code_challenge_method=method,
        prompt=_prompt(query.get("prompt")),
        login_hint=query.get("login_hint", ""),
        domain_hint=query.get("domain_hint"),
    )


def _client(tenant: Tenant, client_id: str) -> str:
    if not client_id:
        raise page_error(
            "invalid_request",
            900144,
            "The request body must contain the following parameter: 'client_id'.",
        )
    app = tenant.apps.get(client_id.lower())
    if app is None or not app.enabled:
        raise page_error(
            "unauthorized_client",
            700016,
            f"Application with identifier '{client_id}' was not found in the directory "
            f"'{tenant.display_name}'. This can happen if the application has not been "
            "installed by the administrator of the tenant or consented to by any user in the "
            "tenant. You may have sent your authentication request to the wrong tenant.",
        )
    return app.client_id


def redirect_uri_registered(app: AppSignIn, uri: str) -> bool:
    return any(_same_redirect(registered, uri) for registered in app.redirect_uris)


def _same_redirect(registered: str, given: str) -> bool:
    if registered == given:
        return True
    a, b = urlsplit(registered), urlsplit(given)
    if a.hostname not in _LOOPBACK or a.hostname != b.hostname:
        return False
    same_path = (a.path or "/") == (b.path or "/")
    return a.scheme == b.scheme and same_path and a.query == b.query


def _redirect_uri(app: AppSignIn, given: str | None) -> str:
    if not given:
        if not app.redirect_uris:
            raise page_error("invalid_request", 900971, "No reply address provided.")
        return app.redirect_uris[0]
    if not redirect_uri_registered(app, given):
        raise page_error(
            "invalid_request",
            50011,
            f"The redirect URI '{given}' specified in the request does not match the "
            "redirect URIs configured for the application. Make sure the redirect URI sent "
            "in the request matches one added to your application in the Azure portal.",
        )
    return given


def _check_response_type(response_type: str) -> None:
    kinds = set(response_type.split())
    if "code" not in kinds:
        raise redirect_error(
            "unsupported_response_type",
            70005,
            "The provided value for the input parameter 'response_type' is not allowed for "
            "this client. Expected value is 'code'.",
        )
    if kinds - {"code"}:
        raise redirect_error(
            "unsupported_response_type",
            700054,
            "response_type 'id_token' is not enabled for the application.",
        )


def _response_mode(mode: str | None) -> str:
    if mode is None:
        return "query"
    if mode not in _MODES:
        raise redirect_error(
            "invalid_request", 70007, f"The response_mode '{mode}' is not supported."
        )
    return mode


def _pkce(query: dict[str, str]) -> tuple[str | None, str]:
    challenge, method = query.get("code_challenge"), query.get("code_challenge_method")
    if challenge is None:
        if method is not None:
            raise redirect_error(
                "invalid_request",
                900144,
                "The request body must contain the following parameter: 'code_challenge'.",
            )
        return None, "plain"
    if method not in (None, "S256", "plain"):
        raise redirect_error(
            "invalid_request", 501491, f"Invalid code_challenge_method '{method}'."
        )
    if not 43 <= len(challenge) <= 128:
        raise redirect_error("invalid_request", 501491, "Invalid size of Code_Challenge parameter.")
    return challenge, method or "plain"


def _prompt(prompt: str | None) -> str | None:
    if prompt is not None and prompt not in _PROMPTS:
        raise redirect_error(
            "invalid_request", 90023, f"Invalid value '{prompt}' for the prompt parameter."
        )
    if prompt == "none":
        raise redirect_error(
            "login_required",
            50058,
            "A silent sign-in request was sent but no user is signed in.",
        )
    return prompt
