"""Errors raised by graphsim, and how Graph and Entra ID put them on the wire.

Graph answers every failure with ``{"error": {"code", "message", "innerError": {"date",
"request-id", "client-request-id"}}}`` (concepts/errors.md); Entra ID's token endpoint with
``{"error", "error_description": "AADSTSnnnn: …", "error_codes", "timestamp", "trace_id",
"correlation_id"}`` (entra-docs reference-error-codes.md).

The tree::

    GraphsimError
     ├── ConfigurationError   a seed, snapshot or option the simulator cannot use
     ├── NotFoundError        a Python-API call named a mailbox, event or subscription
     │                        the tenant does not have
     ├── GraphApiError        a Graph answer that is not 2xx (status, code, message, headers)
     └── TokenEndpointError   an Entra ID token-endpoint failure (status, error, AADSTS code)
"""

from __future__ import annotations

from datetime import datetime
from typing import Any


class GraphsimError(Exception):
    """Base class of every error graphsim raises."""


class ConfigurationError(GraphsimError):
    """The simulator was given a seed, snapshot or option it cannot use."""


class NotFoundError(GraphsimError):
    """A Python-API call named something the tenant does not have."""


class GraphApiError(GraphsimError):
    """A Graph failure: rendered by :func:`graph_error_body` with this status and code."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        headers: dict[str, str] | None = None,
        inner: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}
        self.inner = inner or {}


class TokenEndpointError(GraphsimError):
    """An Entra ID token-endpoint failure with its AADSTS code."""

    def __init__(self, status: int, error: str, aadsts: int, description: str) -> None:
        super().__init__(f"AADSTS{aadsts}: {description}")
        self.status = status
        self.error = error
        self.aadsts = aadsts
        self.description = description


def graph_error_body(
    error: GraphApiError, *, request_id: str, client_request_id: str, now: datetime
) -> dict[str, Any]:
    """The documented Graph error object; ``date`` has no offset, as in Graph's examples."""
    inner = {
        **error.inner,
        "date": now.strftime("%Y-%m-%dT%H:%M:%S"),
        "request-id": request_id,
        "client-request-id": client_request_id,
    }
    return {"error": {"code": error.code, "message": error.message, "innerError": inner}}


def token_error_body(
    error: TokenEndpointError, *, trace_id: str, correlation_id: str, now: datetime
) -> dict[str, Any]:
    """The documented Entra ID error object for the token endpoint."""
    stamp = now.strftime("%Y-%m-%d %H:%M:%SZ")
    description = (
        f"AADSTS{error.aadsts}: {error.description}\r\nTrace ID: {trace_id}\r\n"
        f"Correlation ID: {correlation_id}\r\nTimestamp: {stamp}"
    )
    return {
        "error": error.error,
        "error_description": description,
        "error_codes": [error.aadsts],
        "timestamp": stamp,
        "trace_id": trace_id,
        "correlation_id": correlation_id,
        "error_uri": f"https://login.microsoftonline.com/error?code={error.aadsts}",
    }


def bad_request(message: str, code: str = "BadRequest") -> GraphApiError:
    """A 400 with Graph's generic code."""
    return GraphApiError(400, code, message)


def not_found(message: str, code: str = "ErrorItemNotFound") -> GraphApiError:
    """A 404; Outlook items use ``ErrorItemNotFound``, directory objects another code."""
    return GraphApiError(404, code, message)
