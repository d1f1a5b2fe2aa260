"""The one place where errors become HTTP responses: ``{"error": {code, message, details}}``.

Caller mistakes are 4xx with a message that says what to fix: roomsync's own errors carry
their status; FastAPI's validation errors become 422 naming each bad field; a body that is
not UTF-8 is 400; unknown routes 404 and wrong methods 405, whose ``Allow`` lists every
method of the path. A database that does not answer is 503. Anything else is our bug: 500
with a generic message (details stay in the log, never in the response).
"""

from __future__ import annotations

import functools
import json
import logging
import re
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError, IntegrityError, OperationalError
from starlette.exceptions import HTTPException

from roomsync.errors import RoomsyncError

logger = logging.getLogger(__name__)

_HTTP_CODES = {
    400: "malformed_body",
    401: "unauthenticated",
    404: "not_found",
    405: "method_not_allowed",
}
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"})
_BODY_ERROR = {
    "description": "The body could not be read: not UTF-8, or not JSON at all.",
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorOut"}}},
}
_MALFORMED_BODY = (
    "The request body could not be read: send UTF-8 JSON with Content-Type: application/json."
)


def declare_body_errors(app: FastAPI) -> None:
    """Document the 400 of an unreadable body on every operation that takes a body."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        schema = build()  # cached by FastAPI: the additions below are made once
        for item in schema.get("paths", {}).values():
            for operation in item.values():
                if isinstance(operation, dict) and "requestBody" in operation:
                    operation["responses"].setdefault("400", _BODY_ERROR)
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RoomsyncError, _roomsync_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(IntegrityError, _integrity_error)
    app.add_exception_handler(DataError, _data_error)
    app.add_exception_handler(OperationalError, _database_unavailable)
    app.add_exception_handler(Exception, _unexpected_error)


def error_response(
    status: int, code: str, message: str, details: Any = None, headers: dict[str, str] | None = None
) -> JSONResponse:
    body = {"error": {"code": code, "message": message, "details": details}}
    return _EscapedJSONResponse(body, status_code=status, headers=headers)


class _EscapedJSONResponse(JSONResponse):
    """JSON with every non-ASCII character escaped: a refusal may quote what the caller
    sent, and a lone surrogate in it cannot be encoded as UTF-8."""

    def render(self, content: Any) -> bytes:
        return json.dumps(content, separators=(",", ":")).encode("ascii")


async def _roomsync_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RoomsyncError)  # the registration guarantees it
    headers = {"WWW-Authenticate": "Bearer"} if exc.http_status == 401 else None
    return error_response(exc.http_status, exc.code, exc.message, exc.details, headers)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    details = [_field_error(error) for error in exc.errors()]
    summary = "; ".join(f"{d['field']}: {d['message']}" for d in details)
    return error_response(422, "invalid_input", f"Invalid request: {summary}.", details)


def _field_error(error: Any) -> dict[str, str]:
    location, *path = [str(part) for part in error.get("loc", ())] or ["request"]
    # A body that is not JSON at all is located by character offset: name the body instead.
    field = ".".join(path) if path and error.get("type") != "json_invalid" else location
    message = str(error.get("msg", "invalid")).removeprefix("Value error, ")
    return {"field": field, "location": location, "message": message}


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    headers = dict(exc.headers or {})
    if exc.status_code == 404:
        message = f"There is no {request.method} {request.url.path} in this API; see /docs."
    elif exc.status_code == 405:
        headers["Allow"] = ", ".join(_allowed_methods(request)) or headers.get("Allow", "")
        message = f"{request.method} is not allowed on {request.url.path}: use {headers['Allow']}."
    elif exc.status_code == 400:
        message = _MALFORMED_BODY
    else:
        message = str(exc.detail)
    code = _HTTP_CODES.get(exc.status_code, "http_error")
    return error_response(exc.status_code, code, message, headers=headers)


def _allowed_methods(request: Request) -> list[str]:
    """The methods the OpenAPI description gives the request's path: FastAPI makes one
    route per method, and Starlette's 405 names only those of the first it finds."""
    for template, item in request.app.openapi().get("paths", {}).items():
        if _path_pattern(template).fullmatch(request.url.path):
            return sorted(method.upper() for method in item if method.upper() in _METHODS)
    return []


@functools.cache
def _path_pattern(template: str) -> re.Pattern[str]:
    """``/bookings/{booking_id}`` as a pattern matching ``/bookings/<one segment>``."""
    parts = re.split(r"(\{[^}]+\})", template)
    return re.compile("".join("[^/]+" if p.startswith("{") else re.escape(p) for p in parts))


async def _integrity_error(request: Request, exc: Exception) -> JSONResponse:
    logger.warning("integrity error on %s %s: %s", request.method, request.url.path, exc)
    return error_response(
        409, "conflict", "The change conflicts with existing data (a duplicate or a missing link)."
    )


async def _data_error(request: Request, exc: Exception) -> JSONResponse:
    logger.warning("data error on %s %s: %s", request.method, request.url.path, exc)
    return error_response(
        422, "invalid_input", "A value is too large or malformed for the database to store."
    )


async def _database_unavailable(request: Request, exc: Exception) -> JSONResponse:
    logger.error("database error on %s %s: %s", request.method, request.url.path, exc)
    return error_response(
        503, "database_unavailable", "The database is unavailable or busy; retry shortly."
    )


async def _unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    logger.exception("unexpected error on %s %s", request.method, request.url.path)
    return error_response(500, "internal_error", "Something went wrong on our side.")
