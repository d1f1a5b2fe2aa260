"""Application permissions (the token's ``roles``) each endpoint needs.

Missing role: 403 ``ErrorAccessDenied`` for Exchange-backed data (mail, calendars,
places) and 403 ``Authorization_RequestDenied`` for directory data (users), the codes
each service uses (auth-limit-mailbox-access.md, json-batching.md).
"""

from __future__ import annotations

from graphsim.errors import GraphApiError
from graphsim.identity.tokens import AppPrincipal

CALENDARS_READ = frozenset({"Calendars.Read", "Calendars.ReadWrite"})
CALENDARS_WRITE = frozenset({"Calendars.ReadWrite"})
USERS_READ = frozenset(
    {
        "User.Read.All",
        "User.ReadWrite.All",
        "Directory.Read.All",
        "Directory.ReadWrite.All",
        "User.ReadBasic.All",
    }
)
PLACES_READ = frozenset({"Place.Read.All", "Place.ReadWrite.All"})
MAILBOX_SETTINGS_READ = frozenset({"MailboxSettings.Read", "MailboxSettings.ReadWrite"})


def require_mail(principal: AppPrincipal, allowed: frozenset[str]) -> None:
    if not principal.roles & allowed:
        raise GraphApiError(
            403, "ErrorAccessDenied", "Access is denied. Check credentials and try again."
        )


def require_directory(principal: AppPrincipal, allowed: frozenset[str]) -> None:
    if not principal.roles & allowed:
        raise GraphApiError(
            403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation."
        )
