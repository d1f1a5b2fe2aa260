"""$batch: packing, relative URLs, per-item retries and dependsOn, over a MockTransport."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from roomsync.m365.batch import BatchRequest, relative_url, send_batch
from roomsync.m365.exceptions import GraphConnectionError, InvalidResponse, NotFound
from roomsync.m365.graph import ApiVersion
from tests.m365.m365_fakes import (
    GRAPH_URL,
    BatchEndpoint,
    ItemAnswer,
    SleepRecorder,
    graph_error_body,
    make_graph,
    ok_item,
    throttled_item,
)


def test_absolute_graph_links_become_relative_to_the_version_root() -> None:
    next_link = f"{GRAPH_URL}/v1.0/users/room1@contoso.com/calendarView/delta?$skiptoken=abc"

    assert relative_url(next_link, graph_url=GRAPH_URL) == (
        "/users/room1@contoso.com/calendarView/delta?$skiptoken=abc"
    )
    assert relative_url("/users/x", graph_url=GRAPH_URL) == "/users/x"
    assert relative_url("users?$top=1", graph_url=GRAPH_URL) == "/users?$top=1"


def test_a_link_of_another_version_or_host_cannot_go_into_the_batch() -> None:
    with pytest.raises(InvalidResponse):
        relative_url(f"{GRAPH_URL}/beta/users/x", graph_url=GRAPH_URL)
    with pytest.raises(InvalidResponse):
        relative_url("https://elsewhere.example/v1.0/users/x", graph_url=GRAPH_URL)


def test_items_are_sent_relative_with_content_type_and_matched_by_id() -> None:
    endpoint = BatchEndpoint(lambda item: ok_item({"echo": item["url"]}))
    requests = [
        BatchRequest("1", "GET", f"{GRAPH_URL}/v1.0/users/a@contoso.com/events?$skiptoken=t"),
        BatchRequest("2", "POST", "/users/b@contoso.com/events", body={"subject": "Standup"}),
    ]

    outcome = send_batch(make_graph(endpoint), requests)

    (sent,) = endpoint.posts
    assert sent[0] == {
        "id": "1",
        "method": "GET",
        "url": "/users/a@contoso.com/events?$skiptoken=t",
    }
    assert sent[1]["headers"] == {"Content-Type": "application/json"}
    assert sent[1]["body"] == {"subject": "Standup"}
    assert outcome.responses["1"].body == {"echo": "/users/a@contoso.com/events?$skiptoken=t"}
    assert outcome.responses["2"].body == {"echo": "/users/b@contoso.com/events"}


def test_more_than_twenty_requests_do_not_fit_one_batch() -> None:
    requests = [BatchRequest(str(n), "GET", "/me") for n in range(21)]

    with pytest.raises(ValueError, match="1 to 20"):
        send_batch(make_graph(BatchEndpoint(lambda item: ok_item())), requests)


def test_ids_must_be_unique_ignoring_case() -> None:
    requests = [BatchRequest("a", "GET", "/me"), BatchRequest("A", "GET", "/me")]

    with pytest.raises(ValueError, match="unique"):
        send_batch(make_graph(BatchEndpoint(lambda item: ok_item())), requests)


def test_each_throttled_item_is_resent_after_its_own_retry_after(sleeps: SleepRecorder) -> None:
    answered: Counter[str] = Counter()

    def answer(item: dict[str, Any]) -> ItemAnswer:
        answered[item["id"]] += 1
        waits = {"fast": "1", "slow": "5"}
        if item["id"] in waits and answered[item["id"]] == 1:
            return throttled_item(waits[item["id"]])
        return ok_item({"id": item["id"]})

    endpoint = BatchEndpoint(answer, sleeps=sleeps)
    requests = [BatchRequest(i, "GET", f"/users/{i}@contoso.com") for i in ("fast", "slow", "ok")]

    outcome = send_batch(make_graph(endpoint, sleep=sleeps), requests)

    assert [[item["id"] for item in post] for post in endpoint.posts] == [
        ["fast", "slow", "ok"],
        ["fast"],
        ["slow"],
    ]
    assert 1 <= endpoint.slept_before[1] <= 1.2
    assert 5 <= endpoint.slept_before[2] <= 6
    assert all(response.ok for response in outcome.responses.values())
    assert outcome.throttled == 2


def test_a_server_error_item_is_retried_with_backoff(sleeps: SleepRecorder) -> None:
    answered: Counter[str] = Counter()

    def answer(item: dict[str, Any]) -> ItemAnswer:
        answered[item["id"]] += 1
        if answered[item["id"]] == 1:
            body = graph_error_body("serviceNotAvailable", "Try later.", request_id="r")
            return 503, {}, body
        return ok_item()

    outcome = send_batch(
        make_graph(BatchEndpoint(answer), sleep=sleeps), [BatchRequest("1", "GET", "/me")]
    )

    assert outcome.responses["1"].ok
    assert len(sleeps.waits) == 1
    assert outcome.throttled == 0


def test_a_failed_item_maps_through_the_one_error_mapping() -> None:
    def answer(item: dict[str, Any]) -> ItemAnswer:
        body = graph_error_body("ErrorItemNotFound", "Not found.", request_id="item-404")
        return 404, {"request-id": "item-404"}, body

    request = BatchRequest("1", "GET", "/users/room1@contoso.com/events/AAMk")
    outcome = send_batch(make_graph(BatchEndpoint(answer)), [request])

    error = outcome.responses["1"].error(request, GRAPH_URL)
    assert isinstance(error, NotFound)
    assert error.request_id == "item-404"
    assert "/users/room1@contoso.com/events/AAMk" in error.message


def test_a_dependent_of_a_throttled_request_is_resent_with_it(sleeps: SleepRecorder) -> None:
    answered: Counter[str] = Counter()

    def answer(item: dict[str, Any]) -> ItemAnswer:
        answered[item["id"]] += 1
        if item["id"] == "create" and answered["create"] == 1:
            return throttled_item("2")
        if item["id"] == "read" and answered["read"] == 1:
            body = graph_error_body("FailedDependency", "Dependency failed.", request_id="d")
            return 424, {}, body
        return ok_item()

    endpoint = BatchEndpoint(answer, sleeps=sleeps)
    requests = [
        BatchRequest("create", "POST", "/users/o@contoso.com/events", body={"subject": "x"}),
        BatchRequest("read", "GET", "/users/o@contoso.com/events", depends_on=("create",)),
    ]

    outcome = send_batch(make_graph(endpoint, sleep=sleeps), requests)

    second = endpoint.posts[1]
    assert [item["id"] for item in second] == ["create", "read"]
    assert second[1]["dependsOn"] == ["create"]
    assert outcome.responses["read"].ok


def test_a_dependency_that_already_succeeded_is_dropped_from_depends_on(
    sleeps: SleepRecorder,
) -> None:
    answered: Counter[str] = Counter()

    def answer(item: dict[str, Any]) -> ItemAnswer:
        answered[item["id"]] += 1
        if item["id"] == "second" and answered["second"] == 1:
            return throttled_item("1")
        return ok_item()

    endpoint = BatchEndpoint(answer, sleeps=sleeps)
    requests = [
        BatchRequest("first", "GET", "/me"),
        BatchRequest("second", "GET", "/me/events", depends_on=("first",)),
    ]

    send_batch(make_graph(endpoint, sleep=sleeps), requests)

    assert endpoint.posts[1] == [{"id": "second", "method": "GET", "url": "/me/events"}]


def test_a_dependent_whose_prerequisite_failed_for_good_is_not_sent_alone(
    sleeps: SleepRecorder,
) -> None:
    def answer(item: dict[str, Any]) -> ItemAnswer:
        if item["id"] == "first":
            return 400, {}, graph_error_body("invalidRequest", "Bad.", request_id="x")
        return throttled_item("1")

    endpoint = BatchEndpoint(answer, sleeps=sleeps)
    requests = [
        BatchRequest("first", "POST", "/me/events", body={}),
        BatchRequest("second", "GET", "/me/events", depends_on=("first",)),
    ]

    outcome = send_batch(make_graph(endpoint, sleep=sleeps), requests)

    assert len(endpoint.posts) == 1
    assert sleeps.waits == []
    assert outcome.responses["second"].status == 424


def test_beta_batches_post_to_the_beta_root() -> None:
    endpoint = BatchEndpoint(lambda item: ok_item(), version="beta")
    link = f"{GRAPH_URL}/beta/users/sa@contoso.com/findRooms"

    send_batch(make_graph(endpoint), [BatchRequest("1", "GET", link)], api_version=ApiVersion.BETA)

    assert endpoint.posts[0][0]["url"] == "/users/sa@contoso.com/findRooms"


def _dropping_the_first_connection(endpoint: BatchEndpoint) -> Callable[[httpx.Request], Any]:
    """The server closes a kept-alive connection just as the first POST reuses it."""
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        if len(calls) == 1:
            raise httpx.RemoteProtocolError("Server disconnected without sending a response.")
        return endpoint(request)

    return handler


def test_a_batch_of_reads_whose_connection_dropped_is_sent_again() -> None:
    endpoint = BatchEndpoint(lambda item: ok_item())
    requests = [BatchRequest(str(n), "GET", f"/users/room{n}@contoso.com/events") for n in (1, 2)]

    sleeps = SleepRecorder()

    outcome = send_batch(
        make_graph(_dropping_the_first_connection(endpoint), sleep=sleeps), requests
    )

    assert len(endpoint.posts) == 1
    assert sleeps.waits == [0.0]  # a fresh connection at once, no backoff
    assert {i: r.status for i, r in outcome.responses.items()} == {"1": 200, "2": 200}


def test_a_batch_with_a_write_whose_connection_dropped_is_not_sent_again() -> None:
    endpoint = BatchEndpoint(lambda item: ok_item())
    requests = [
        BatchRequest("1", "GET", "/users/room1@contoso.com/events"),
        BatchRequest("2", "POST", "/users/a@contoso.com/events", body={"subject": "Standup"}),
    ]

    with pytest.raises(GraphConnectionError):
        send_batch(make_graph(_dropping_the_first_connection(endpoint)), requests)

    assert endpoint.posts == []
