"""Errors of the workspace platform: domain rules, authorization and storage.

Each class carries the HTTP status the REST API answers with and a stable ``code``; the
web layer's single handler renders them as ``{"error": {"code", "message", "details"}}``
and the CLI prints the message as one line.

    RoomsyncError
    └── PlatformError
        ├── InvalidInputError           422  a value breaks a rule (details name the field)
        ├── NotFoundError               404  no such id (or not visible to the caller)
        ├── ConflictError               409
        │   ├── BookingConflictError         the room is taken (details name the booking)
        │   ├── IllegalTransitionError       status lifecycle forbids the change
        │   ├── BookingClosedError           cancelled/declined bookings cannot be edited
        │   ├── ManagedInOutlookError        a meeting only its organizer can change in Outlook
        │   └── DuplicateError               a unique name or email already exists
        ├── VersionMismatchError        412  If-Match / expected_version is stale
        ├── AuthenticationError         401  missing or unknown bearer token
        ├── PermissionDeniedError       403  another organization's data or admin-only work
        └── DatabaseError
            ├── DatabaseUrlError             ROOMSYNC_DATABASE_URL cannot be used
            └── DatabaseUnavailableError 503 the database does not answer
"""

from __future__ import annotations

from roomsync.errors import RoomsyncError


class PlatformError(RoomsyncError):
    """A platform rule refused the request."""


class InvalidInputError(PlatformError):
    """A value breaks a rule; ``field`` names it so callers can point at it."""

    code = "invalid_input"
    http_status = 422

    def __init__(self, message: str, *, field: str) -> None:
        super().__init__(message, details=[{"field": field, "message": message}])
        self.field = field


class NotFoundError(PlatformError):
    code = "not_found"
    http_status = 404


class ConflictError(PlatformError):
    code = "conflict"
    http_status = 409


class BookingConflictError(ConflictError):
    code = "booking_conflict"


class IllegalTransitionError(ConflictError):
    code = "illegal_transition"


class BookingClosedError(ConflictError):
    code = "booking_closed"


class ManagedInOutlookError(ConflictError):
    code = "managed_in_outlook"


class DuplicateError(ConflictError):
    code = "duplicate"


class VersionMismatchError(PlatformError):
    code = "version_mismatch"
    http_status = 412


class AuthenticationError(PlatformError):
    code = "unauthenticated"
    http_status = 401


class PermissionDeniedError(PlatformError):
    code = "forbidden"
    http_status = 403


class DatabaseError(PlatformError):
    code = "database_error"


class DatabaseUrlError(DatabaseError):
    code = "database_url_invalid"


class DatabaseUnavailableError(DatabaseError):
    code = "database_unavailable"
    http_status = 503
