"""A mailbox's time zone: ``GET /users/{id | userPrincipalName}/mailboxSettings/timeZone``
(api-reference/v1.0/api/user-get-mailboxsettings.md), application permission
MailboxSettings.Read.

Graph answers the zone in the format the Exchange administrator set it up in: Windows
("Romance Standard Time") by default, IANA when so configured. A single string setting
comes back as ``{"@odata.context", "value"}``. :func:`mailbox_time_zone` gives the IANA
name either way, converted with CLDR's table (:mod:`roomsync.m365.timezones`).
"""

from __future__ import annotations

from roomsync.m365.exceptions import UnknownTimeZone
from roomsync.m365.graph import GraphClient, path_segment
from roomsync.m365.timezones import resolve_zone


def mailbox_time_zone(graph: GraphClient, mailbox: str) -> str | None:
    """The IANA zone of ``mailbox``'s settings; None when it names no zone roomsync knows.

    Raises the GraphError of a refused read (403 without MailboxSettings.Read, 404 for an
    account without a mailbox).
    """
    answer = graph.request("GET", f"/users/{path_segment(mailbox)}/mailboxSettings/timeZone")
    value = answer.body.get("value")
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        return resolve_zone(value).key
    except UnknownTimeZone:
        return None
