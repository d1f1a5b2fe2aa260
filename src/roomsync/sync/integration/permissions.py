"""The Microsoft Graph application permissions roomsync needs, and how each is checked.

| permission | why roomsync needs it | checked by |
|---|---|---|
| Calendars.Read | read room calendars | ``calendarView`` of a room, 15 minutes |
| Calendars.ReadWrite | write bookings to Outlook | ``roles`` claim: no write is harmless |
| Directory.Read.All (optional) | directory queries | the ``roles`` claim |
| User.Read.All | users and room accounts | ``GET /users/{service account or room}`` |
| Place.Read.All | rooms and room lists | ``GET /places/microsoft.graph.room?$top=1`` |

A call that works proves the permission (or one that includes it); a 403 proves it is
missing (or that an Exchange application access policy excludes the mailbox). The
``roles`` claim of the access token is read without verifying its signature: it is
informational, only a hint where no harmless call exists — Graph alone decides.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

PORTAL_PATH = (
    "Azure portal → App registrations → {app} → API permissions → Add a permission → "
    "Microsoft Graph → Application permissions → {permission} → Add permissions, then "
    "Grant admin consent for the tenant."
)


class Probe(StrEnum):
    """The harmless call that exercises a permission, if any."""

    CALENDAR_VIEW = "calendar_view"
    USER = "user"
    PLACES = "places"
    NONE = "none"


@dataclass(frozen=True)
class Permission:
    name: str
    purpose: str
    required: bool
    probe: Probe
    # Application permissions that include this one (a ReadWrite covers the Read).
    granted_by: frozenset[str]

    def remedy(self, client_id: str) -> str:
        return PORTAL_PATH.format(app=client_id, permission=self.name)


def guide_permissions(*, places_required: bool) -> tuple[Permission, ...]:
    """The table above; Place.Read.All is optional when rooms come from findRooms."""
    return (
        Permission(
            "Calendars.Read",
            "read room calendars (bookings from Outlook)",
            True,
            Probe.CALENDAR_VIEW,
            frozenset({"Calendars.Read", "Calendars.ReadWrite"}),
        ),
        Permission(
            "Calendars.ReadWrite",
            "write bookings to Outlook",
            True,
            Probe.NONE,
            frozenset({"Calendars.ReadWrite"}),
        ),
        Permission(
            "Directory.Read.All",
            "directory queries for room details (optional)",
            False,
            Probe.NONE,
            frozenset({"Directory.Read.All", "Directory.ReadWrite.All"}),
        ),
        Permission(
            "User.Read.All",
            "read users and room accounts",
            True,
            Probe.USER,
            frozenset(
                {
                    "User.Read.All",
                    "User.ReadWrite.All",
                    "Directory.Read.All",
                    "Directory.ReadWrite.All",
                }
            ),
        ),
        Permission(
            "Place.Read.All",
            "read rooms and room lists (Places API)",
            places_required,
            Probe.PLACES,
            frozenset({"Place.Read.All", "Place.ReadWrite.All"}),
        ),
    )
