"""Which meetings of a mailbox are private, read from that mailbox's own calendar.

A room mailbox's copy of a meeting does not tell whether the meeting is private: by default
the room clears the flag (Set-CalendarProcessing ``RemovePrivateProperty`` is ``$true``) and
puts the organizer's name in place of the subject. The organizer's own copy keeps both. So
the private meetings of an organizer are asked for once, for a whole window:

    GET /users/{organizer}/calendarView?startDateTime=…&endDateTime=…
        &$filter=sensitivity eq 'private' or sensitivity eq 'confidential'
        &$select=iCalUId,subject,sensitivity&$top=100

- ``calendarView`` lists single instances, occurrences and exceptions, each with its own
  ``iCalUId`` (the room's copy of the same instance has the same one) and its own
  ``sensitivity``, so an exception that differs from its series is seen as it is
  (api-reference/v1.0/api/user-list-calendarview.md; api-reference/v1.0/resources/event.md).
- The page says calendarView "supports some of the OData Query Parameters"; ``$filter``
  with ``eq`` and ``or`` on a property is concepts/filter-query-parameter.md. Should Graph
  refuse the filter for a mailbox (400), the same view is read without it and filtered
  here: the answer is the same, only longer to get.
- The first pages of many mailboxes go out as one ``$batch`` of up to 20
  (concepts/json-batching.md); further pages follow their ``@odata.nextLink``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from roomsync.m365.batch import MAX_BATCH_SIZE, BatchRequest, BatchResponse, send_batch
from roomsync.m365.calendar import CALENDAR_PREFERENCES, DeltaWindow
from roomsync.m365.exceptions import BadRequest, GraphError
from roomsync.m365.graph import GraphClient, encode_query, path_segment

PRIVATE_SENSITIVITIES = frozenset({"private", "confidential"})
PRIVATE_FILTER = "sensitivity eq 'private' or sensitivity eq 'confidential'"
_SELECT = "iCalUId,subject,sensitivity"
_PAGE = 100

PrivateMeetings = dict[str, str]
"""iCalUId of each private (or confidential) instance → its subject in the organizer's copy."""


def private_meetings_url(mailbox: str, window: DeltaWindow, *, filtered: bool = True) -> str:
    """The relative URL of the first page of a mailbox's private meetings in the window."""
    params: dict[str, object] = {
        "startDateTime": _utc_text(window.start),
        "endDateTime": _utc_text(window.end),
    }
    if filtered:
        params["$filter"] = PRIVATE_FILTER
    params |= {"$select": _SELECT, "$top": _PAGE}
    return f"/users/{path_segment(mailbox)}/calendarView?{encode_query(params)}"


def read_private_meetings(
    graph: GraphClient, mailboxes: Sequence[str], window: DeltaWindow
) -> dict[str, PrivateMeetings | GraphError]:
    """Each mailbox's private meetings in the window, or the error Graph gave for it."""
    found: dict[str, PrivateMeetings | GraphError] = {}
    for start in range(0, len(mailboxes), MAX_BATCH_SIZE):
        chunk = mailboxes[start : start + MAX_BATCH_SIZE]
        requests = [
            BatchRequest(str(n), "GET", private_meetings_url(mailbox, window), _headers())
            for n, mailbox in enumerate(chunk)
        ]
        outcome = send_batch(graph, requests)
        for request, mailbox in zip(requests, chunk, strict=True):
            answer = outcome.responses[request.id]
            found[mailbox] = _settle(graph, mailbox, window, request, answer)
    return found


def _settle(
    graph: GraphClient,
    mailbox: str,
    window: DeltaWindow,
    request: BatchRequest,
    answer: BatchResponse,
) -> PrivateMeetings | GraphError:
    try:
        if answer.ok:
            return _collect(graph, answer.body)
        error = answer.error(request, graph.graph_url)
        if not isinstance(error, BadRequest):
            return error
        unfiltered = private_meetings_url(mailbox, window, filtered=False)
        return _collect(graph, graph.request("GET", unfiltered, headers=_headers()).body)
    except GraphError as exc:
        return exc


def _collect(graph: GraphClient, first_page: Any) -> PrivateMeetings:
    """The private instances of a page and of the pages its nextLinks lead to."""
    page: Mapping[str, Any] = first_page if isinstance(first_page, Mapping) else {}
    found = _private_of(page.get("value"))
    while isinstance(next_link := page.get("@odata.nextLink"), str):
        page = graph.request("GET", next_link, headers=_headers()).body
        found |= _private_of(page.get("value"))
    return found


def _private_of(values: object) -> PrivateMeetings:
    """Checked here as well: the unfiltered view lists every instance."""
    items: Iterable[object] = values if isinstance(values, list) else []
    return {
        item["iCalUId"]: str(item.get("subject") or "")
        for item in items
        if isinstance(item, dict)
        and isinstance(item.get("iCalUId"), str)
        and str(item.get("sensitivity", "")).lower() in PRIVATE_SENSITIVITIES
    }


def _utc_text(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _headers() -> dict[str, str]:
    return CALENDAR_PREFERENCES.headers()
