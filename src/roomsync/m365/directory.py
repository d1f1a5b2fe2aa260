"""Users from the directory: ``GET /users/{id | userPrincipalName}`` (user-get.md).

Organizers and room mailboxes are looked up by what roomsync has, usually an email. The
user principal name often equals the primary email but need not, so a miss by UPN falls
back to ``$filter=mail eq '…'``. ``$select`` asks for the properties field mappings use;
``onPremisesExtensionAttributes`` (extensionAttribute1..15) only comes when selected.

The people of the tenant are followed with ``GET /users/delta`` (user-delta.md,
delta-query-users.md): a round of ``@odata.nextLink`` pages ends with an
``@odata.deltaLink``, saved to start the next round with only what changed. ``$select``
goes in the first request only (the links carry it), and only selected properties are
tracked. ``@removed`` marks a user deleted (reason ``changed``: in the deleted items,
restorable) or deleted for good (reason ``deleted``). An expired link is a
``SyncStateExpired``: start over without it.
"""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import Field, model_validator

from roomsync.m365.exceptions import NotFound
from roomsync.m365.graph import GraphClient, odata_string, path_segment
from roomsync.m365.models import DirectoryUser
from roomsync.m365.wire import EvolvableEnum, WireModel, parse_wire

USER_FIELDS = (
    "id",
    "displayName",
    "mail",
    "userPrincipalName",
    "officeLocation",
    "city",
    "department",
    "jobTitle",
    "onPremisesExtensionAttributes",
)


def get_user(
    graph: GraphClient, user: str, *, select: Sequence[str] = USER_FIELDS
) -> DirectoryUser:
    """The user with this object id or user principal name; NotFound when there is none."""
    path = f"/users/{path_segment(user)}"
    response = graph.request("GET", path, params={"$select": ",".join(select)})
    return parse_wire(DirectoryUser, response.body, source=f"GET {path}")


def find_user_by_email(
    graph: GraphClient, email: str, *, select: Sequence[str] = USER_FIELDS
) -> DirectoryUser | None:
    """The user whose UPN or primary email is ``email``, or None."""
    try:
        return get_user(graph, email, select=select)
    except NotFound:
        pass
    query = {"$filter": f"mail eq {odata_string(email)}", "$select": ",".join(select)}
    for item in graph.iter_values("/users", params=query):
        return parse_wire(DirectoryUser, item, source="GET /users?$filter=mail eq …")
    return None


# --- users delta -----------------------------------------------------------------------

USERS_DELTA_PATH = "/users/delta"
PEOPLE_FIELDS = ("id", "displayName", "mail", "userPrincipalName", "accountEnabled")


class RemovedReason(EvolvableEnum):
    UNKNOWN = "unknown"
    CHANGED = "changed"  # deleted to the deleted items; may be restored
    DELETED = "deleted"  # deleted for good


class UserRemoved(WireModel):
    reason: RemovedReason = RemovedReason.UNKNOWN


class UserChange(WireModel):
    """One item of a users delta page: the person as they are now, or ``@removed``."""

    id: str
    removed: UserRemoved | None = Field(default=None, alias="@removed")
    display_name: str | None = None
    mail: str | None = None
    user_principal_name: str | None = None
    account_enabled: bool | None = None

    @property
    def address(self) -> str | None:
        """The primary email, else the UPN, lower-cased."""
        found = self.mail or self.user_principal_name
        return found.lower() if found else None


class UsersDeltaPage(WireModel):
    value: list[UserChange] = Field(default_factory=list)
    next_link: str | None = Field(default=None, alias="@odata.nextLink")
    delta_link: str | None = Field(default=None, alias="@odata.deltaLink")

    @model_validator(mode="after")
    def _one_link(self) -> UsersDeltaPage:
        if (self.next_link is None) == (self.delta_link is None):
            raise ValueError("a delta page carries exactly one of @odata.nextLink/deltaLink")
        return self


def fetch_users_delta_page(
    graph: GraphClient, link: str | None, *, select: Sequence[str] = PEOPLE_FIELDS
) -> UsersDeltaPage:
    """One page: of a fresh round (``link`` None) or of the saved next/delta link."""
    if link is None:
        response = graph.request("GET", USERS_DELTA_PATH, params={"$select": ",".join(select)})
    else:
        response = graph.request("GET", link)
    return parse_wire(UsersDeltaPage, response.body, source=f"GET {USERS_DELTA_PATH}")
