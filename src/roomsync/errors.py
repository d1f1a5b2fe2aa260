"""The root of roomsync's exception tree.

Every package keeps its own ``exceptions`` module whose classes derive from
:class:`RoomsyncError`; the web and CLI layers each have one handler that turns these into
an HTTP error envelope or a single line for the operator. Messages are whole sentences
that say what to do next.

    RoomsyncError
    ├── ConfigurationError            (settings that cannot work: missing secret key, ...)
    ├── roomsync.platform.exceptions  (domain and storage rules)
    ├── roomsync.m365.exceptions      (Graph and Entra ID)
    └── roomsync.sync.exceptions      (workflows)
"""

from __future__ import annotations

from typing import Any


class RoomsyncError(Exception):
    """An error roomsync raises on purpose, with a message an operator can act on.

    ``code`` is a stable machine-readable identifier; ``http_status`` is the status the
    REST API answers with when the error reaches it; ``details`` is optional structured
    context (never secrets).
    """

    code: str = "error"
    http_status: int = 500

    def __init__(self, message: str, *, details: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class ConfigurationError(RoomsyncError):
    """The settings cannot work as given (for example no ``ROOMSYNC_SECRET_KEY``)."""

    code = "configuration_error"
