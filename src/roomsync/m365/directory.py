"""Users from the directory: ``GET /users/{id | userPrincipalName}`` (user-get.md).

Organizers and room mailboxes are looked up by what roomsync has, usually an email. The
user principal name often equals the primary email but need not, so a miss by UPN falls
back to ``$filter=mail eq '…'``. ``$select`` asks for the properties field mappings use;
``onPremisesExtensionAttributes`` (extensionAttribute1..15) only comes when selected.
"""

from __future__ import annotations

from collections.abc import Sequence

from roomsync.m365.exceptions import NotFound
from roomsync.m365.graph import GraphClient, odata_string, path_segment
from roomsync.m365.models import DirectoryUser
from roomsync.m365.wire import parse_wire

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
