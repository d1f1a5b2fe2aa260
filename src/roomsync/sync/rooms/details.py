"""Directory attributes of room accounts: one ``GET /users/{room}?$select=…`` per room.

A room mailbox is also a directory user (user-get.md), which is where an on-premises
Active Directory's attributes (``officeLocation``, ``onPremisesExtensionAttributes``)
land. Thousands of rooms are read through ``$batch`` (20 per call) on the fan-out's
bounded pool, each item retried on its own 429 (json-batching.md), so 2,000 rooms take
100 calls rather than 2,000. A room whose account cannot be read is reported and left
as it is this time rather than imported without those attributes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from roomsync.m365.exceptions import GraphError
from roomsync.m365.fanout import BatchItemResult, FanOut, MailboxRequest
from roomsync.m365.graph import GraphClient, encode_query, path_segment
from roomsync.sync.integration.access import is_credential_failure


@dataclass
class DirectoryAttributes:
    found: dict[str, dict[str, Any]] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)


def read_directory_attributes(
    graph: GraphClient,
    emails: Sequence[str],
    select: Sequence[str],
    *,
    max_batches_in_flight: int = 8,
    on_read: Callable[[int], None] | None = None,
) -> DirectoryAttributes:
    """The selected user properties of each room account (none asked: no call at all).

    Raises the credential failure if Entra ID refused the token midway: that is no
    per-room problem but the integration's.
    """
    result = DirectoryAttributes()
    if not select or not emails:
        return result
    query = encode_query({"$select": ",".join(select)})
    requests = [
        MailboxRequest(email, "GET", f"/users/{path_segment(email)}?{query}", email)
        for email in emails
    ]

    refused: list[GraphError] = []

    def keep(item: BatchItemResult[str]) -> None:
        if item.error is not None and is_credential_failure(item.error):
            refused.append(item.error)
        if item.error is None and isinstance(item.body, dict):
            result.found[item.request.context] = item.body
        else:
            reason = item.error.message if item.error else "the answer was not a JSON object"
            result.failed[item.request.context] = reason
        if on_read is not None:
            on_read(1)

    FanOut(graph, max_batches_in_flight=max_batches_in_flight).run(requests, keep)
    if refused:
        raise refused[0]
    return result
