"""Errors of the HTTP layer.

RoomsyncError
└── WebError
    └── ServerStartError   the HTTP server could not start (port taken, ...)
"""

from __future__ import annotations

from roomsync.errors import RoomsyncError


class WebError(RoomsyncError):
    """The HTTP layer could not do its part."""


class ServerStartError(WebError):
    code = "server_start_failed"
