"""Errors of the HTTP layer.

RoomsyncError
└── WebError
    ├── ServerStartError   the HTTP server could not start (port taken, ...)
    └── SignInRefusedError      a sign-in cannot go on (unknown organization, bad ``next``, ...)
"""

from __future__ import annotations

from roomsync.errors import RoomsyncError


class WebError(RoomsyncError):
    """The HTTP layer could not do its part."""


class ServerStartError(WebError):
    code = "server_start_failed"


class SignInRefusedError(WebError):
    """A sign-in request roomsync cannot go on with; ``http_status`` is the page's status."""

    code = "sign_in_refused"

    def __init__(self, message: str, *, status: int = 400, field: str | None = None) -> None:
        super().__init__(message, details={"field": field} if field else None)
        self.http_status = status
