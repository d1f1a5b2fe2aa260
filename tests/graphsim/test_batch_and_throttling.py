"""JSON batching and Outlook throttling per app + mailbox."""

from __future__ import annotations

import threading
from typing import Any

import httpx
import pytest

from graphsim import Simulator, ThrottleLimits
from tests.graphsim.graphsim_testkit import (
    Graph,
    fast_options,
    meeting,
    rooms,
    token_for,
    tomorrow_at,
    users,
)


def _get(item_id: str, url: str, **extra: Any) -> dict[str, Any]:
    return {"id": item_id, "method": "GET", "url": url, **extra}


def test_batch_answers_each_item(graph: Graph, sim: Simulator) -> None:
    requests = [_get(str(n), f"/users/{room}/events") for n, room in enumerate(rooms(sim))]
    requests.append(_get("places", "/places/microsoft.graph.room?$top=2"))
    response = graph.post("/$batch", json={"requests": requests})
    assert response.status_code == 200
    answers = {r["id"]: r for r in response.json()["responses"]}
    assert set(answers) == {r["id"] for r in requests}
    assert all(a["status"] == 200 for a in answers.values())
    assert len(answers["places"]["body"]["value"]) == 2
    assert sim.requests.count(path_contains="/events", include_batch_items=True) == 4


def test_batch_of_more_than_20_is_400(graph: Graph, sim: Simulator) -> None:
    requests = [_get(str(n), f"/users/{rooms(sim)[0]}/events") for n in range(21)]
    assert graph.post("/$batch", json={"requests": requests}).status_code == 400


def test_batch_ids_must_be_unique(graph: Graph, sim: Simulator) -> None:
    requests = [
        _get("A", "/places/microsoft.graph.room"),
        _get("a", "/places/microsoft.graph.room"),
    ]
    assert graph.post("/$batch", json={"requests": requests}).status_code == 400


def test_batch_urls_must_be_relative(graph: Graph) -> None:
    requests = [_get("1", "https://graph.microsoft.com/v1.0/places/microsoft.graph.room")]
    assert graph.post("/$batch", json={"requests": requests}).status_code == 400


def test_depends_on_runs_in_order_and_fails_dependents_with_424(
    graph: Graph, sim: Simulator
) -> None:
    organizer, room = users(sim)[0], rooms(sim)[0]
    requests = [
        {
            "id": "1",
            "method": "POST",
            "url": f"/users/{organizer}/events",
            "headers": {"Content-Type": "application/json"},
            "body": meeting(room, tomorrow_at(9)),
        },
        _get("2", f"/users/{organizer}/events", dependsOn=["1"]),
        _get("3", "/users/nobody@contoso.onmicrosoft.com/events", dependsOn=["2"]),
        _get("4", f"/users/{organizer}/events", dependsOn=["3"]),
    ]
    answers = graph.post("/$batch", json={"requests": requests}).json()["responses"]
    assert [(a["id"], a["status"]) for a in answers] == [
        ("1", 201),
        ("2", 200),
        ("3", 404),
        ("4", 424),
    ]
    assert len(answers[1]["body"]["value"]) == 1


def _throttled_sim(**limits: Any) -> Simulator:
    sim = Simulator(options=fast_options(throttle=ThrottleLimits(**limits)))
    sim.seed(rooms=2, users=1, events_per_room=0, recurring_series=0, private_meetings=0)
    return sim


def test_request_limit_gives_429_with_retry_after_per_mailbox() -> None:
    sim = _throttled_sim(requests=3, window_seconds=600)
    try:
        with httpx.Client(transport=sim.transport()) as http:
            graph = Graph(http, token_for(sim, http))
            first, second = rooms(sim)
            statuses = [graph.get(f"/users/{first}/events").status_code for _ in range(4)]
            assert statuses == [200, 200, 200, 429]
            throttled = graph.get(f"/users/{first}/events")
            assert int(throttled.headers["Retry-After"]) > 0
            error = throttled.json()["error"]
            assert error["code"] == "TooManyRequests"
            assert error["innerError"]["status"] == "429"
            assert graph.get(f"/users/{second}/events").status_code == 200
    finally:
        sim.close()


def test_fifth_concurrent_request_to_one_mailbox_is_429() -> None:
    sim = _throttled_sim(concurrent=4)
    sim.inject_latency(300, path_contains="/events")
    try:
        with httpx.Client(transport=sim.transport()) as http:
            graph = Graph(http, token_for(sim, http))
            statuses: list[int] = []
            lock = threading.Lock()

            def call() -> None:
                status = graph.get(f"/users/{rooms(sim)[0]}/events").status_code
                with lock:
                    statuses.append(status)

            threads = [threading.Thread(target=call) for _ in range(8)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            assert statuses.count(200) >= 4
            assert 429 in statuses
    finally:
        sim.close()


def test_throttled_batch_items_are_429_inside_a_200_batch() -> None:
    sim = _throttled_sim(requests=2)
    try:
        with httpx.Client(transport=sim.transport()) as http:
            graph = Graph(http, token_for(sim, http))
            room = rooms(sim)[0]
            requests = [_get(str(n), f"/users/{room}/events") for n in range(5)]
            response = graph.post("/$batch", json={"requests": requests})
            assert response.status_code == 200
            answers = response.json()["responses"]
            throttled = [a for a in answers if a["status"] == 429]
            assert len(throttled) == 3
            assert all(int(a["headers"]["Retry-After"]) > 0 for a in throttled)
            assert throttled[0]["body"]["error"]["code"] == "TooManyRequests"
    finally:
        sim.close()


def test_unordered_batch_runs_four_items_at_a_time() -> None:
    sim = _throttled_sim(concurrent=4)
    sim.inject_latency(100, path_contains="/events")
    try:
        with httpx.Client(transport=sim.transport()) as http:
            graph = Graph(http, token_for(sim, http))
            requests = [_get(str(n), f"/users/{rooms(sim)[0]}/events") for n in range(12)]
            answers = graph.post("/$batch", json={"requests": requests}).json()["responses"]
            assert {a["status"] for a in answers} == {200}
    finally:
        sim.close()


@pytest.mark.parametrize("status", [500, 503])
def test_injected_failures_hit_the_next_requests(graph: Graph, sim: Simulator, status: int) -> None:
    sim.fail_next(2, status, path_contains="/events", retry_after=3)
    path = f"/users/{rooms(sim)[0]}/events"
    first = graph.get(path)
    assert first.status_code == status
    assert first.headers["Retry-After"] == "3"
    assert graph.get(path).status_code == status
    assert graph.get(path).status_code == 200
    assert graph.get("/places/microsoft.graph.room").status_code == 200


def test_request_log_counts_per_path_and_mailbox(graph: Graph, sim: Simulator) -> None:
    room = rooms(sim)[0]
    graph.get(f"/users/{room}/events")
    graph.get(f"/users/{room}/events")
    graph.get(f"/users/{rooms(sim)[1]}/events")
    assert sim.requests.count(path=f"/users/{room}/events") == 2
    assert sim.requests.count(mailbox=room, method="GET") == 2
    assert sim.requests.count(path_contains="oauth2/v2.0/token") == 1
