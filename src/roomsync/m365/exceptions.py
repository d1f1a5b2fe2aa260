"""What can go wrong between roomsync and Microsoft 365, as exceptions an operator can act on.

Every failure of Microsoft Graph or Entra ID becomes one of these classes in
:mod:`roomsync.m365.error_mapping`, which holds the one function for Graph error responses
and the one for msal's token error dicts. Callers branch on the class, never on message
text. Messages never contain secrets, tokens or clientStates.

    RoomsyncError                       (roomsync.errors)
    └── GraphError                      status, graph_code, request_id, retry_after
        ├── AuthenticationFailed        Entra ID issued no token, or Graph refused it
        │   ├── InvalidClientSecret     AADSTS7000215, AADSTS70002
        │   ├── ClientSecretExpired     AADSTS7000222
        │   ├── ApplicationNotFound     AADSTS700016, AADSTS700011, AADSTS7000112
        │   ├── TenantNotFound          AADSTS90002, AADSTS900023
        │   ├── InvalidCertificate      AADSTS700027, AADSTS700024, AADSTS7000214, bad PEM
        │   └── TokenRejected           Graph answered 401 even to a fresh token
        ├── PermissionDenied            403: ErrorAccessDenied, Authorization_RequestDenied
        ├── NotFound                    404: ErrorItemNotFound, ResourceNotFound, ...
        ├── SyncStateExpired            410 Gone, syncStateNotFound, resyncRequired
        ├── Throttled                   429 TooManyRequests (Graph or Entra ID)
        ├── ServiceUnavailable          5xx, Entra ID temporarily_unavailable
        ├── BadRequest                  other 4xx: the request itself was refused
        │   └── Conflict                409, 412: it collides with what exists
        ├── GraphRequestFailed          any other unsuccessful status
        ├── InvalidResponse             a successful answer roomsync cannot read
        ├── UnknownTimeZone             a zone name that is neither Windows nor IANA
        ├── SignInFailed                a person's sign-in did not complete (400)
        └── GraphConnectionError        timeout, DNS, TLS or refused connection
"""

# The class names are the vocabulary operators and the sync workflows use ("Throttled",
# "NotFound"); an "Error" suffix on each would add nothing.
# ruff: noqa: N818

from __future__ import annotations

from typing import Any

from roomsync.errors import RoomsyncError


class GraphError(RoomsyncError):
    """Microsoft Graph or Entra ID did not do what roomsync asked."""

    code = "m365_error"
    http_status = 502

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        graph_code: str | None = None,
        request_id: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        details = {"status": status, "graph_code": graph_code, "request_id": request_id}
        super().__init__(message, details=details)
        self.status = status
        self.graph_code = graph_code
        self.request_id = request_id
        self.retry_after = retry_after


class AuthenticationFailed(GraphError):
    """Entra ID refused to issue an app-only token, or Graph refused the token."""

    code = "m365_authentication_failed"


class InvalidClientSecret(AuthenticationFailed):
    code = "m365_invalid_client_secret"


class ClientSecretExpired(AuthenticationFailed):
    code = "m365_client_secret_expired"


class ApplicationNotFound(AuthenticationFailed):
    code = "m365_application_not_found"


class TenantNotFound(AuthenticationFailed):
    code = "m365_tenant_not_found"


class InvalidCertificate(AuthenticationFailed):
    code = "m365_invalid_certificate"


class TokenRejected(AuthenticationFailed):
    code = "m365_token_rejected"


class PermissionDenied(GraphError):
    code = "m365_permission_denied"


class NotFound(GraphError):
    code = "m365_not_found"


class SyncStateExpired(GraphError):
    """The delta token is gone: start a fresh round (from ``reset_url`` when Graph gave one)."""

    code = "m365_sync_state_expired"

    def __init__(self, message: str, *, reset_url: str | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.reset_url = reset_url


class Throttled(GraphError):
    code = "m365_throttled"


class ServiceUnavailable(GraphError):
    code = "m365_service_unavailable"


class BadRequest(GraphError):
    code = "m365_bad_request"


class Conflict(BadRequest):
    code = "m365_conflict"


class GraphRequestFailed(GraphError):
    code = "m365_request_failed"


class InvalidResponse(GraphError):
    code = "m365_invalid_response"


class SignInFailed(GraphError):
    """A person's sign-in did not complete: Entra ID answered an error, the answer does not
    belong to the flow that was started, or its id_token does not verify."""

    code = "sign_in_failed"
    http_status = 400


class UnknownTimeZone(GraphError):
    code = "m365_unknown_time_zone"


class GraphConnectionError(GraphError):
    code = "m365_connection_error"
