"""The one mapping from Graph error responses to roomsync.m365.exceptions."""

from __future__ import annotations

import pytest

from roomsync.errors import RoomsyncError
from roomsync.m365.error_mapping import error_from_graph
from roomsync.m365.exceptions import (
    BadRequest,
    Conflict,
    GraphError,
    GraphRequestFailed,
    NotFound,
    PermissionDenied,
    ServiceUnavailable,
    SyncStateExpired,
    Throttled,
    TokenRejected,
)
from tests.m365.m365_fakes import GRAPH_URL, graph_error_body

REQUEST_ID = "94fb0a1e-1111-4ccc-9ddd-2bd7a3c53b11"


def _map(
    status: int,
    code: str,
    message: str = "",
    *,
    url: str = f"{GRAPH_URL}/v1.0/users/room1@contoso.com/events",
    method: str = "GET",
    headers: dict[str, str] | None = None,
) -> GraphError:
    return error_from_graph(
        method=method,
        url=url,
        status=status,
        headers={"request-id": REQUEST_ID, **(headers or {})},
        body=graph_error_body(code, message, request_id=REQUEST_ID),
    )


@pytest.mark.parametrize(
    ("status", "code", "message", "expected"),
    [
        (401, "InvalidAuthenticationToken", "Access token has expired or is not yet valid.",
         TokenRejected),
        (403, "ErrorAccessDenied", "Access to OData is disabled.", PermissionDenied),
        (403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.",
         PermissionDenied),
        (404, "ErrorItemNotFound", "The specified object was not found in the store.", NotFound),
        (404, "Request_ResourceNotFound", "Resource 'x' does not exist.", NotFound),
        (404, "ResourceNotFound", "Resource could not be discovered.", NotFound),
        (404, "MailboxNotEnabledForRESTAPI", "REST API is not yet supported for this mailbox.",
         NotFound),
        (429, "TooManyRequests", "Please retry again later.", Throttled),
        (503, "serviceNotAvailable", "The service is temporarily unavailable.",
         ServiceUnavailable),
        (504, "UnknownError", "", ServiceUnavailable),
        (501, "NotImplemented", "This operation is not supported.", BadRequest),
        (409, "Conflict", "Subscription Id <> already exists for the requested combination",
         Conflict),
        (412, "resourceModified", "The resource has changed since the caller last read it.",
         Conflict),
        (400, "ErrorOccurrenceCrossingBoundary",
         "Modified occurrence is crossing or overlapping adjacent occurrence.", BadRequest),
        (410, "Gone", "", SyncStateExpired),
        (400, "syncStateNotFound", "The sync state generation is not found.", SyncStateExpired),
        (400, "resyncRequired", "The delta token is no longer valid.", SyncStateExpired),
        (302, "", "", GraphRequestFailed),
    ],
)  # fmt: skip
def test_each_documented_graph_error_maps_to_its_class(
    status: int, code: str, message: str, expected: type[GraphError]
) -> None:
    error = _map(status, code, message)

    assert type(error) is expected
    assert isinstance(error, RoomsyncError)
    assert error.status == status
    assert error.request_id == REQUEST_ID
    assert REQUEST_ID in error.message
    assert error.message.endswith(".")


def test_code_nested_in_inner_error_is_found() -> None:
    body = {"error": {"code": "invalidRequest", "innerError": {"code": "syncStateNotFound"}}}

    error = error_from_graph(method="GET", url=GRAPH_URL, status=400, headers={}, body=body)

    assert isinstance(error, SyncStateExpired)
    assert error.graph_code == "invalidRequest"


def test_gone_carries_the_reset_url_from_location() -> None:
    reset = f"{GRAPH_URL}/v1.0/users/room1@contoso.com/calendarView/delta?$deltatoken="

    error = _map(410, "", headers={"Location": reset})

    assert isinstance(error, SyncStateExpired)
    assert error.reset_url == reset


def test_throttled_carries_fractional_retry_after() -> None:
    error = _map(429, "TooManyRequests", headers={"Retry-After": "2.128"})

    assert error.retry_after == pytest.approx(2.128)


def test_permission_denied_names_the_permission_the_call_needs() -> None:
    places = _map(403, "ErrorAccessDenied", url=f"{GRAPH_URL}/v1.0/places/microsoft.graph.room")
    write = _map(403, "ErrorAccessDenied", method="POST")

    assert "Place.Read.All" in places.message
    assert "Calendars.ReadWrite" in write.message
    assert "admin consent" in write.message


def test_mailbox_not_enabled_tells_the_operator_what_is_wrong_with_the_mailbox() -> None:
    error = _map(404, "MailboxNotEnabledForRESTAPI", "The mailbox is either inactive.")

    assert "Exchange admin center" in error.message


def test_message_shows_the_path_but_not_the_delta_token() -> None:
    url = f"{GRAPH_URL}/v1.0/users/room1@contoso.com/calendarView/delta?$deltatoken=SECRETISH"

    error = _map(503, "serviceNotAvailable", url=url)

    assert "/v1.0/users/room1@contoso.com/calendarView/delta" in error.message
    assert "SECRETISH" not in error.message


def test_a_body_that_is_not_odata_still_maps_by_status() -> None:
    error = error_from_graph(
        method="GET", url=GRAPH_URL, status=502, headers={}, body="<html>Bad gateway</html>"
    )

    assert isinstance(error, ServiceUnavailable)
    assert error.graph_code is None


def test_not_implemented_is_permanent_and_says_it_will_not_be_retried() -> None:
    error = _map(501, "NotImplemented", "This operation is not supported.", method="POST")

    assert not isinstance(error, ServiceUnavailable)
    assert "will not retry" in error.message
    assert "retries later" not in error.message
