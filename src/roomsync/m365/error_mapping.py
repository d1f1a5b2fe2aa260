"""The two translations into :mod:`roomsync.m365.exceptions`: Graph responses and Entra errors.

:func:`error_from_graph` reads an unsuccessful Graph response: its status, headers
(``request-id``, ``Retry-After``, ``Location``) and the OData error body
``{"error": {"code", "message", "innerError": {...}}}`` whose nested codes are walked for
the most specific one roomsync knows (concepts/errors.md). The same function reads a whole
response and one ``$batch`` item. :func:`error_from_entra` reads the dict msal returns when
the token endpoint refuses (``error``, ``error_description`` beginning ``AADSTSnnnn:``,
``error_codes``, ``correlation_id``; reference-error-codes.md). Both say what to do next,
name the request-id or correlation id Microsoft's support asks for, and never quote a
secret.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import httpx

from roomsync.m365.exceptions import (
    ApplicationNotFound,
    AuthenticationFailed,
    BadRequest,
    ClientSecretExpired,
    Conflict,
    GraphConnectionError,
    GraphError,
    GraphRequestFailed,
    InvalidCertificate,
    InvalidClientSecret,
    NotFound,
    PermissionDenied,
    ServiceUnavailable,
    SyncStateExpired,
    TenantNotFound,
    Throttled,
    TokenRejected,
)
from roomsync.m365.retry import parse_retry_after

_MAX_QUOTED_MESSAGE = 300
_PORTAL_SECRETS = "Azure portal → App registrations → {app} → Certificates & secrets"


# --- Graph responses -------------------------------------------------------------------

_SYNC_STATE_CODES = frozenset({"syncstatenotfound", "resyncrequired", "syncstateinvalid"})
_MAILBOX_CODES = frozenset({"mailboxnotenabledforrestapi", "errorinvaliduser"})


def error_from_graph(
    *, method: str, url: str, status: int, headers: Mapping[str, str], body: object
) -> GraphError:
    """The one translation of an unsuccessful Graph response into a :class:`GraphError`."""
    lowered = {name.lower(): value for name, value in headers.items()}
    codes = _error_codes(body)
    fields: dict[str, Any] = {
        "status": status,
        "graph_code": codes[0] if codes else None,
        "request_id": lowered.get("request-id") or _inner_request_id(body),
        "retry_after": parse_retry_after(lowered.get("retry-after")),
    }
    what = _describe(method, url, status, fields, _error_message(body))
    if status == 410 or _SYNC_STATE_CODES.intersection(code.lower() for code in codes):
        return SyncStateExpired(
            f"{what}: the delta token expired; roomsync starts a fresh synchronization "
            "round for this mailbox and reconciles it.",
            reset_url=lowered.get("location"),
            **fields,
        )
    return _by_status(status, url, codes, what, fields)


def _by_status(
    status: int, url: str, codes: list[str], what: str, fields: dict[str, Any]
) -> GraphError:
    error_class, advice = _classify(status, url, codes)
    return error_class(f"{what}: {advice}", **fields)


def _classify(status: int, url: str, codes: list[str]) -> tuple[type[GraphError], str]:
    conflict = (Conflict, "it conflicts with the current state in Microsoft 365.")
    exact: dict[int, tuple[type[GraphError], str]] = {
        401: (
            TokenRejected,
            "Graph did not accept a freshly issued token; check that ROOMSYNC_GRAPH_URL and "
            "ROOMSYNC_LOGIN_URL belong to the same cloud.",
        ),
        403: (PermissionDenied, _permission_hint(url)),
        404: (NotFound, _not_found_hint(codes)),
        409: conflict,
        412: conflict,
        429: (Throttled, "Microsoft 365 is throttling this application; roomsync retries later."),
        # 501 NotImplemented is an answer about the request, not the service's health: the
        # same request will never work, so it is permanent like a 4xx, never retried.
        501: (
            BadRequest,
            "Microsoft Graph does not implement this request (for this API version, cloud or "
            "kind of mailbox); roomsync will not retry it.",
        ),
    }
    if status in exact:
        return exact[status]
    if status >= 500:
        return ServiceUnavailable, "Microsoft Graph is having trouble; roomsync retries later."
    if status >= 400:
        return BadRequest, "Microsoft Graph refused the request as sent."
    return GraphRequestFailed, "the request did not succeed."


def _describe(
    method: str, url: str, status: int, fields: dict[str, Any], graph_message: str | None
) -> str:
    code = fields["graph_code"]
    parts = [f"{status} {code}" if code else str(status)]
    if graph_message:
        parts.append(f'"{graph_message[:_MAX_QUOTED_MESSAGE]}"')
    if fields["request_id"]:
        parts.append(f"request-id {fields['request_id']}")
    return f"Microsoft Graph answered {method} {_path_of(url)} with {', '.join(parts)}"


def _path_of(url: str) -> str:
    """The URL's path only: query strings carry delta tokens and filters, not worth a log line."""
    return urlsplit(url).path or url


def _permission_hint(url: str) -> str:
    path = _path_of(url).lower()
    if "/findroom" in path:
        needed = "delegated User.Read for the service account (findRooms has no app-only access)"
    elif "/places" in path:
        needed = "the application permission Place.Read.All"
    elif "/subscriptions" in path or "/calendarview" in path:
        needed = "the application permission Calendars.Read (or Calendars.ReadWrite)"
    elif "/events" in path:
        needed = "the application permission Calendars.ReadWrite"
    else:
        needed = "the application permission User.Read.All"
    return (
        f"grant the app {needed} in Azure portal → App registrations → API permissions, "
        "grant admin consent, and check that no Exchange application access policy "
        "excludes this mailbox."
    )


def _not_found_hint(codes: list[str]) -> str:
    if _MAILBOX_CODES.intersection(code.lower() for code in codes):
        return (
            "the mailbox is not an Exchange Online mailbox roomsync can reach (inactive, "
            "soft-deleted, on-premises or unlicensed); check it in the Exchange admin center."
        )
    return "it does not exist (any more) in Microsoft 365."


def _error_codes(body: object) -> list[str]:
    """Codes from the outer ``error`` down its nested ``innerError``s, outermost first."""
    codes: list[str] = []
    node = body.get("error") if isinstance(body, Mapping) else None
    while isinstance(node, Mapping):
        code = node.get("code")
        if isinstance(code, str) and code:
            codes.append(code)
        node = node.get("innerError") or node.get("innererror")
    return codes


def _error_message(body: object) -> str | None:
    error = body.get("error") if isinstance(body, Mapping) else None
    message = error.get("message") if isinstance(error, Mapping) else None
    return message if isinstance(message, str) and message else None


def _inner_request_id(body: object) -> str | None:
    error = body.get("error") if isinstance(body, Mapping) else None
    inner = error.get("innerError") if isinstance(error, Mapping) else None
    if not isinstance(inner, Mapping):
        return None
    value = inner.get("request-id") or inner.get("requestId")
    return value if isinstance(value, str) else None


def error_from_transport(exc: httpx.TransportError, *, service: str, url: str) -> GraphError:
    """A network failure (no HTTP answer at all) reaching Graph or Entra ID."""
    origin = "{0.scheme}://{0.netloc}".format(urlsplit(url))
    kind = "timed out" if isinstance(exc, httpx.TimeoutException) else "failed"
    return GraphConnectionError(
        f"The connection to {service} at {origin} {kind} ({type(exc).__name__}): check the "
        "network, any proxy, and ROOMSYNC_CA_BUNDLE when a private CA signs that host."
    )


# --- Entra ID token errors (msal's error dict) --------------------------------------------

_AADSTS = re.compile(r"AADSTS(\d+)")


def error_from_entra(result: Mapping[str, Any], *, tenant_id: str, client_id: str) -> GraphError:
    """The one translation of msal's token error dict into a :class:`GraphError`."""
    aadsts = _aadsts_code(result)
    oauth_error = str(result.get("error") or "unknown_error")
    correlation = result.get("correlation_id")
    fields: dict[str, Any] = {
        "graph_code": f"AADSTS{aadsts}" if aadsts else oauth_error,
        "request_id": correlation if isinstance(correlation, str) else None,
    }
    ref = f", correlation id {correlation}" if fields["request_id"] else ""
    known = _KNOWN_AADSTS.get(aadsts) if aadsts else None
    if known is not None:
        error_class, template = known
        return error_class(
            template.format(tenant=tenant_id, app=client_id, code=aadsts, ref=ref), **fields
        )
    label = (f"{oauth_error}, AADSTS{aadsts}" if aadsts else oauth_error) + ref
    subject = f"Entra ID refused a token for application {client_id} in tenant {tenant_id}"
    if oauth_error == "temporarily_unavailable":
        return ServiceUnavailable(
            f"{subject} ({label}): it is temporarily unavailable; roomsync retries later.",
            **fields,
        )
    summary = _summary(result.get("error_description")).rstrip(".")
    return AuthenticationFailed(
        f"{subject} ({label}){': ' + summary if summary else ''}. Check the integration's "
        "tenant id, client id and credential against Azure portal → App registrations.",
        **fields,
    )


def _aadsts_code(result: Mapping[str, Any]) -> int | None:
    codes = result.get("error_codes")
    if isinstance(codes, list) and codes and isinstance(codes[0], int):
        return codes[0]
    match = _AADSTS.search(str(result.get("error_description") or ""))
    return int(match.group(1)) if match else None


def _summary(description: object) -> str:
    """Entra's first line, without the ``AADSTSnnnn:`` prefix and the trace footer."""
    first_line = str(description or "").strip().splitlines()[0] if description else ""
    return _AADSTS.sub("", first_line).lstrip(": ").strip()[:_MAX_QUOTED_MESSAGE]


_CHECK_TENANT = (
    "check the tenant id on the integration (Azure portal → Microsoft Entra ID → Overview "
    "→ Tenant ID) and that ROOMSYNC_LOGIN_URL is the sign-in address of the tenant's cloud."
)
_KNOWN_AADSTS: dict[int, tuple[type[GraphError], str]] = {
    7000215: (
        InvalidClientSecret,
        "The client secret for application {app} in tenant {tenant} was rejected "
        "(AADSTS{code}{ref}): in " + _PORTAL_SECRETS + " copy a secret's Value (not its "
        "Secret ID), then save it on the integration.",
    ),
    70002: (
        InvalidClientSecret,
        "The client secret for application {app} in tenant {tenant} does not match "
        "(AADSTS{code}{ref}): in " + _PORTAL_SECRETS + " create a new secret, then save its "
        "Value on the integration.",
    ),
    7000222: (
        ClientSecretExpired,
        "The client secret for application {app} in tenant {tenant} expired "
        "(AADSTS{code}{ref}): create a new one in " + _PORTAL_SECRETS + ", then save it on the "
        "integration.",
    ),
    700016: (
        ApplicationNotFound,
        "Tenant {tenant} has no application {app} (AADSTS{code}{ref}): check the client id on "
        "the integration against Azure portal → App registrations → Application (client) "
        "ID, and that an administrator of this tenant consented to the app.",
    ),
    700011: (
        ApplicationNotFound,
        "Tenant {tenant} has no application {app} (AADSTS{code}{ref}): check the client id on "
        "the integration and that the app was consented to in this tenant.",
    ),
    7000112: (
        ApplicationNotFound,
        "Application {app} is disabled in tenant {tenant} (AADSTS{code}{ref}): enable it in "
        "Azure portal → Enterprise applications → {app} → Properties.",
    ),
    90002: (
        TenantNotFound,
        "Entra ID knows no tenant {tenant} (AADSTS{code}{ref}): " + _CHECK_TENANT,
    ),
    900023: (
        TenantNotFound,
        "{tenant} is not a valid tenant id (AADSTS{code}{ref}): " + _CHECK_TENANT,
    ),
    700027: (
        InvalidCertificate,
        "Entra ID could not verify the certificate of application {app} in tenant {tenant} "
        "(AADSTS{code}{ref}): upload the certificate saved on the integration to "
        + _PORTAL_SECRETS
        + ", or save the certificate and private key registered there.",
    ),
    700024: (
        InvalidCertificate,
        "The signed assertion of application {app} in tenant {tenant} is outside its valid "
        "time range (AADSTS{code}{ref}): check this server's clock.",
    ),
    7000214: (
        InvalidCertificate,
        "The certificate of application {app} in tenant {tenant} has been revoked "
        "(AADSTS{code}{ref}): register a new certificate in " + _PORTAL_SECRETS + " and save it "
        "on the integration.",
    ),
    90055: (
        Throttled,
        "Entra ID is throttling token requests of application {app} in tenant {tenant} "
        "(AADSTS{code}{ref}); roomsync retries later.",
    ),
    500011: (
        AuthenticationFailed,
        "Tenant {tenant} has no service principal for the Graph address roomsync asked a "
        "token for (AADSTS{code}{ref}): check that ROOMSYNC_GRAPH_URL belongs to the "
        "tenant's cloud.",
    ),
    70011: (
        AuthenticationFailed,
        "Entra ID refused the scope roomsync asked for application {app} (AADSTS{code}{ref}): "
        "check that ROOMSYNC_GRAPH_URL is the Graph address of the tenant's cloud.",
    ),
}
