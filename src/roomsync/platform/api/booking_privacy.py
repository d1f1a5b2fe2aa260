"""Who may see a private booking's details and who may change whether it is private.

A private booking's title and description are shown only to its organizer and to admins;
everyone else reads "Private booking" and no description. Only they may change
``private`` too, since turning a private booking public is how its title would reach
everyone. The link into Outlook on the web opens the organizer's own mailbox, so only the
organizer is given it. The caller is the organizer when
the person it acts for (a session, or an occupant token's user) has the booking's
``organizer_email``; a token acting for no person never is.
"""

from __future__ import annotations

from typing import Any

from roomsync.platform.api.auth import Principal
from roomsync.platform.exceptions import PermissionDeniedError
from roomsync.platform.models import Booking

PRIVATE_TITLE = "Private booking"


def is_organizer(principal: Principal, booking: Booking) -> bool:
    email = principal.email
    return email is not None and email.lower() == booking.organizer_email.lower()


def is_organizer_or_admin(principal: Principal, booking: Booking) -> bool:
    return principal.is_admin or is_organizer(principal, booking)


def shown_title(principal: Principal, booking: Booking) -> str:
    """The title ``principal`` may read: the real one unless the booking is private."""
    if booking.private and not is_organizer_or_admin(principal, booking):
        return PRIVATE_TITLE
    return booking.title


def shown_description(principal: Principal, booking: Booking) -> str | None:
    """The description ``principal`` may read: none of a private booking's but its own."""
    if booking.private and not is_organizer_or_admin(principal, booking):
        return None
    return booking.description


def permitted_changes(
    principal: Principal, booking: Booking, changes: dict[str, Any]
) -> dict[str, Any]:
    """``changes`` (a PATCH body's) if ``principal`` may make them, else 403 naming
    ``private`` when they would change the booking's privacy.

    Repeating the current value is no change and is accepted, but it is left out of what is
    applied: a concurrent change of privacy by an admin is then never undone by it.
    """
    if "private" not in changes or is_organizer_or_admin(principal, booking):
        return changes
    if changes["private"] != booking.private:
        message = (
            "Only the booking's organizer or an admin may change `private`, and this token "
            "does not act for the organizer: ask an admin of the organization to change it."
        )
        raise PermissionDeniedError(message, details=[{"field": "private", "message": message}])
    return {name: value for name, value in changes.items() if name != "private"}
