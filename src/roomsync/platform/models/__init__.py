"""Every table of docs/data-model.md, on one metadata migrated by ``platform.migrations``."""

from roomsync.platform.models.base import Base
from roomsync.platform.models.bookings import (
    Booking,
    BookingHistory,
    BookingSeries,
    OutboxEntry,
)
from roomsync.platform.models.microsoft365 import (
    DirectorySyncState,
    EventLink,
    Integration,
    IntegrationAudit,
    Lease,
    RoomSyncState,
    SyncRun,
)
from roomsync.platform.models.organizations import ApiToken, Building, Organization, User
from roomsync.platform.models.resources import Resource
from roomsync.platform.models.signin import SignInFlow, SignInSession

__all__ = [
    "ApiToken",
    "Base",
    "Booking",
    "BookingHistory",
    "BookingSeries",
    "Building",
    "DirectorySyncState",
    "EventLink",
    "Integration",
    "IntegrationAudit",
    "Lease",
    "Organization",
    "OutboxEntry",
    "Resource",
    "RoomSyncState",
    "SignInFlow",
    "SignInSession",
    "SyncRun",
    "User",
]
