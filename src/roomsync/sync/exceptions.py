"""Errors of the sync workflows.

RoomsyncError
└── SyncError
    ├── UnusableEventError          (a room-calendar item lacks what a booking needs)
    ├── IntegrationUnavailableError (no such integration, disabled, or stopped)
    ├── LeaseHeldError              (another process runs this workflow right now)
    ├── PushRefusedError            (a push that cannot succeed until someone acts)
    └── NothingToRetryError         (a push retry asked for a booking already in sync)
"""

from __future__ import annotations

from roomsync.errors import RoomsyncError


class SyncError(RoomsyncError):
    code = "sync_error"


class UnusableEventError(SyncError):
    """A room-calendar item roomsync cannot turn into a booking; it is skipped and counted."""

    code = "unusable_event"


class IntegrationUnavailableError(SyncError):
    code = "integration_unavailable"
    http_status = 409


class LeaseHeldError(SyncError):
    """Another process holds the lease; the caller skips this run instead of waiting."""

    code = "lease_held"
    http_status = 409


class PushRefusedError(SyncError):
    """A push that retrying cannot fix (no mailbox to book in, integration switched off):
    it is parked as failed at once, with this message on the booking."""

    code = "push_refused"
    http_status = 409


class NothingToRetryError(SyncError):
    """A retry of a booking whose Microsoft 365 copy is already in sync: retrying it would
    only disturb a healthy sync state."""

    code = "nothing_to_retry"
    http_status = 409
