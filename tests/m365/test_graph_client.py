"""GraphClient over a MockTransport: tokens, 401 refresh, Retry-After, paging, logging."""

from __future__ import annotations

import gc
import logging
import weakref

import httpx
import pytest

from roomsync.m365.exceptions import (
    GraphConnectionError,
    InvalidResponse,
    NotFound,
    ServiceUnavailable,
    Throttled,
    TokenRejected,
)
from roomsync.m365.graph import ApiVersion, Preferences
from roomsync.m365.retry import RetryPolicy
from tests.m365.m365_fakes import (
    GRAPH_URL,
    SleepRecorder,
    StaticTokens,
    graph_error,
    graph_json,
    make_graph,
    too_many_requests,
)


def _invalid_token() -> httpx.Response:
    return graph_error(
        401,
        "InvalidAuthenticationToken",
        "Access token has expired or is not yet valid.",
        headers={
            "WWW-Authenticate": 'Bearer realm="", authorization_uri='
            '"https://login.microsoftonline.com/common/oauth2/authorize", '
            'client_id="00000003-0000-0000-c000-000000000000"'
        },
    )


def test_request_sends_the_bearer_token_under_the_version_root() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return graph_json({"id": "u1", "displayName": "Room 1"}, headers={"request-id": "req-1"})

    response = make_graph(handler).request("GET", "/users/room1@contoso.com")

    assert response.body["displayName"] == "Room 1"
    assert (response.request_id == seen[0].url and False) or response.request_id
    assert str(seen[0].url) == f"{GRAPH_URL}/v1.0/users/room1@contoso.com"
    assert seen[0].headers["Authorization"] == "Bearer token-1"
    assert seen[0].headers["client-request-id"]


def test_beta_paths_go_under_beta() -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return graph_json({})

    make_graph(handler).request(
        "GET", "/users/sa@contoso.com/findRooms", api_version=ApiVersion.BETA
    )

    assert seen == [f"{GRAPH_URL}/beta/users/sa@contoso.com/findRooms"]


def test_an_expired_token_is_refreshed_once_and_the_call_repeated(tokens: StaticTokens) -> None:
    authorizations: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        authorizations.append(request.headers["Authorization"])
        if request.headers["Authorization"] == "Bearer token-1":
            return _invalid_token()
        return graph_json({"value": []})

    make_graph(handler, tokens=tokens).request("GET", "/subscriptions")

    assert authorizations == ["Bearer token-1", "Bearer token-2"]
    assert tokens.forced_refreshes == 1


def test_a_second_401_after_refreshing_is_token_rejected(tokens: StaticTokens) -> None:
    calls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request.headers["Authorization"])
        return _invalid_token()

    with pytest.raises(TokenRejected, match="same cloud"):
        make_graph(handler, tokens=tokens).request("GET", "/subscriptions")

    assert calls == ["Bearer token-1", "Bearer token-2"]
    assert tokens.forced_refreshes == 1


def test_retry_after_is_honoured_with_bounded_jitter(sleeps: SleepRecorder) -> None:
    answers = iter([too_many_requests("2.128"), too_many_requests("3"), graph_json({"ok": 1})])

    response = make_graph(lambda request: next(answers), sleep=sleeps).request("GET", "/me")

    assert response.body == {"ok": 1}
    first, second = sleeps.waits
    assert 2.128 <= first <= 2.128 * 1.2
    assert 3 <= second <= 3 * 1.2


@pytest.mark.parametrize("status", [503, 504])
def test_unavailable_answers_are_retried_like_throttling(
    status: int, sleeps: SleepRecorder
) -> None:
    answers = iter(
        [graph_error(status, "serviceNotAvailable", "", headers={"Retry-After": "1"}),
         graph_json({"ok": 1})]
    )  # fmt: skip

    make_graph(lambda request: next(answers), sleep=sleeps).request("GET", "/me")

    assert len(sleeps.waits) == 1
    assert 1 <= sleeps.waits[0] <= 1.2


def test_without_retry_after_the_backoff_grows_exponentially(sleeps: SleepRecorder) -> None:
    answers = iter([too_many_requests(None)] * 3 + [graph_json({})])
    policy = RetryPolicy(max_attempts=4, backoff_base=1.0, jitter=0.2)

    make_graph(lambda request: next(answers), retry=policy, sleep=sleeps).request("GET", "/me")

    assert all(base <= w <= base * 1.2 for base, w in zip([1, 2, 4], sleeps.waits, strict=True))


def test_retries_are_bounded_and_end_in_throttled(sleeps: SleepRecorder) -> None:
    calls: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        return too_many_requests("1")

    with pytest.raises(Throttled) as caught:
        make_graph(handler, retry=RetryPolicy(max_attempts=3), sleep=sleeps).request("GET", "/me")

    assert len(calls) == 3
    assert len(sleeps.waits) == 2
    assert caught.value.retry_after == 1


def test_a_retry_after_beyond_the_cap_is_left_to_the_caller(sleeps: SleepRecorder) -> None:
    graph = make_graph(
        lambda request: too_many_requests("600"), retry=RetryPolicy(max_delay=60), sleep=sleeps
    )

    with pytest.raises(Throttled) as caught:
        graph.request("GET", "/me")

    assert sleeps.waits == []
    assert caught.value.retry_after == 600


def test_other_errors_are_not_retried(sleeps: SleepRecorder) -> None:
    graph = make_graph(
        lambda request: graph_error(404, "ErrorItemNotFound", "Not found."), sleep=sleeps
    )

    with pytest.raises(NotFound):
        graph.request("GET", "/users/room1@contoso.com/events/AAMk")

    assert sleeps.waits == []


def test_a_get_that_cannot_connect_is_retried_then_reported(sleeps: SleepRecorder) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectTimeout("timed out", request=request)

    graph = make_graph(handler, retry=RetryPolicy(max_attempts=2), sleep=sleeps)

    with pytest.raises(GraphConnectionError, match="timed out"):
        graph.request("GET", "/me")

    assert len(sleeps.waits) == 1


def test_a_post_that_cannot_connect_is_not_repeated(sleeps: SleepRecorder) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    with pytest.raises(GraphConnectionError):
        make_graph(handler, sleep=sleeps).request("POST", "/subscriptions", json={})

    assert sleeps.waits == []


def test_server_error_after_all_attempts_is_service_unavailable(sleeps: SleepRecorder) -> None:
    graph = make_graph(
        lambda request: graph_error(503, "serviceNotAvailable", "Down."),
        retry=RetryPolicy(max_attempts=2),
        sleep=sleeps,
    )

    with pytest.raises(ServiceUnavailable):
        graph.request("GET", "/me")


def test_iter_pages_follows_next_links_as_given() -> None:
    seen: list[str] = []
    page_two = f"{GRAPH_URL}/v1.0/users?$skiptoken=RFNwdAoAAQAAAAAAAAAAFAAAAI45"

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        if "skiptoken" in str(request.url):
            return graph_json({"value": [{"id": "3"}]})
        return graph_json({"value": [{"id": "1"}, {"id": "2"}], "@odata.nextLink": page_two})

    items = list(make_graph(handler).iter_values("/users", params={"$select": "id"}))

    assert [item["id"] for item in items] == ["1", "2", "3"]
    assert seen == [f"{GRAPH_URL}/v1.0/users?$select=id", page_two]


def test_a_next_link_to_another_host_is_refused() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return graph_json({"value": [], "@odata.nextLink": "https://evil.example/v1.0/users"})

    with pytest.raises(InvalidResponse, match="does not send its Graph token there"):
        list(make_graph(handler).iter_pages("/users"))


def _places_handler(total: int, *, with_count: bool, seen: list[dict[str, str]]):
    def handler(request: httpx.Request) -> httpx.Response:
        params = dict(request.url.params)
        seen.append(params)
        top, skip = int(params["$top"]), int(params["$skip"])
        rooms = [{"id": f"r{n}"} for n in range(skip, min(skip + top, total))]
        body: dict[str, object] = {"value": rooms}
        if with_count:
            body["@odata.count"] = total
        return graph_json(body)

    return handler


def test_skip_paging_stops_at_a_short_page() -> None:
    seen: list[dict[str, str]] = []
    graph = make_graph(_places_handler(250, with_count=False, seen=seen))

    pages = list(graph.iter_skip_pages("/places/microsoft.graph.room", top=100))

    assert [len(page) for page in pages] == [100, 100, 50]
    assert [params["$skip"] for params in seen] == ["0", "100", "200"]
    assert all(params["$count"] == "true" for params in seen)


def test_skip_paging_stops_at_the_count_without_an_empty_page() -> None:
    seen: list[dict[str, str]] = []
    graph = make_graph(_places_handler(200, with_count=True, seen=seen))

    pages = list(graph.iter_skip_pages("/places/microsoft.graph.room", top=100))

    assert [len(page) for page in pages] == [100, 100]
    assert len(seen) == 2


def test_query_values_keep_odata_syntax_and_encode_spaces_and_plus() -> None:
    seen: list[bytes] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.raw_path)
        return graph_json({"value": []})

    make_graph(handler).request(
        "GET",
        "/users/room1@contoso.com/calendarView?startDateTime=2025-01-01T00:00:00Z",
        params={"$filter": "iCalUId eq 'a+b'"},
    )

    assert seen == [
        b"/v1.0/users/room1@contoso.com/calendarView?startDateTime=2025-01-01T00:00:00Z"
        b"&$filter=iCalUId%20eq%20'a%2Bb'"
    ]


def test_preferences_travel_in_one_prefer_header() -> None:
    headers = Preferences(max_page_size=16, immutable_ids=True, time_zone="UTC").headers()

    assert headers == {
        "Prefer": 'odata.maxpagesize=16, IdType="ImmutableId", outlook.timezone="UTC"'
    }
    assert Preferences().headers() == {}


def test_log_lines_carry_the_request_id_and_never_the_token(
    caplog: pytest.LogCaptureFixture, sleeps: SleepRecorder
) -> None:
    answers = iter([too_many_requests("1"), graph_json({}, headers={"request-id": "req-42"})])
    caplog.set_level(logging.DEBUG, logger="roomsync")

    make_graph(lambda request: next(answers), sleep=sleeps).request("GET", "/me")

    assert "93b6f17e-c05d-4f45-ad2a-6665c708d8a0" in caplog.text
    assert "req-42" in caplog.text
    assert "token-1" not in caplog.text


def test_a_read_response_is_freed_without_waiting_for_the_cycle_collector() -> None:
    graph = make_graph(lambda request: httpx.Response(200, json={"value": []}))
    responses: list[weakref.ref[httpx.Response]] = []
    graph.http.event_hooks["response"].append(
        lambda response: responses.append(weakref.ref(response))
    )
    gc.collect()
    gc.disable()
    try:
        assert graph.request("GET", "/users").body == {"value": []}
        assert len(responses) == 1
        assert responses[0]() is None
    finally:
        gc.enable()
