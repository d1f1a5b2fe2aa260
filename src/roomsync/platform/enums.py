"""The closed vocabularies of the platform, stored as strings (no database enum types, so
migrations stay portable; docs/data-model.md "Conventions")."""

from __future__ import annotations

from enum import StrEnum


class ChangeSource(StrEnum):
    """Who makes a change: the platform's own users, the room mailbox (via sync), or us."""

    PLATFORM = "platform"
    MICROSOFT365 = "microsoft365"
    SYSTEM = "system"


class Origin(StrEnum):
    """Where a booking or resource was first created."""

    PLATFORM = "platform"
    MICROSOFT365 = "microsoft365"


class BookingStatus(StrEnum):
    PENDING = "pending"
    CONFIRMED = "confirmed"
    DECLINED = "declined"
    CANCELLED = "cancelled"
    RELEASED = "released"
    """Nobody checked in within the room's check-in window: the room was given back."""


class HistoryKind(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    STATUS_CHANGED = "status_changed"
    CANCELLED = "cancelled"
    CONFLICT_OVERRIDDEN = "conflict_overridden"


class Role(StrEnum):
    ADMIN = "admin"
    OCCUPANT = "occupant"
    DISPLAY = "display"


class OutboxAction(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    CANCEL = "cancel"


class OutboxState(StrEnum):
    PENDING = "pending"
    DONE = "done"
    FAILED = "failed"


class SyncState(StrEnum):
    """What the booking JSON's ``sync.state`` says about its Microsoft 365 copy."""

    SYNCED = "synced"
    PENDING = "pending"
    FAILED = "failed"
    NOT_SYNCED = "not_synced"


class RoomSource(StrEnum):
    PLACES = "places"
    FINDROOMS = "findrooms"


class IntegrationMode(StrEnum):
    POLLING = "polling"
    LISTENER = "listener"


class SyncRunKind(StrEnum):
    ROOMS = "rooms"
    RECONCILE = "reconcile"
    BOOKINGS = "bookings"
    PUSH = "push"
    CHECK = "check"
    USERS = "users"


class SyncRunTrigger(StrEnum):
    SCHEDULE = "schedule"
    MANUAL = "manual"
    NOTIFICATION = "notification"


class SyncRunOutcome(StrEnum):
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    WARNING = "warning"
    FAILED = "failed"
    INTERRUPTED = "interrupted"
    """The process running it died (``kill -9``, a power cut) before it could finish."""
