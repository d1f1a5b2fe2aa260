"""Fidelity: query options as Microsoft's pages write them, refused delta options, and what a
``$batch`` costs in time.

- api-reference/v1.0/api/event-delta.md: its example request writes
  ``?startdatetime=…&enddatetime=…`` in lower case; ``$select`` cannot be used and
  ``$expand``, ``$filter``, ``$orderby`` and ``$search`` are not supported (graphsim also
  refuses ``$top``, whose place is ``Prefer: odata.maxpagesize``).
- concepts/json-batching.md and includes/throttling-outlook.md: a batch saves round trips
  and Graph sends Outlook "up to four individual requests from the batch at a time".
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta

import pytest

from graphsim import Simulator
from tests.graphsim.graphsim_testkit import Graph, rooms, tomorrow_at, users

WINDOW = "startdatetime=2030-01-01T00:00:00Z&enddatetime=2030-01-08T00:00:00Z"


def test_delta_accepts_the_lower_case_window_of_the_doc_example(
    graph: Graph, sim: Simulator
) -> None:
    start = tomorrow_at(9)
    sim.outlook.create_meeting(
        users(sim)[0], rooms(sim)[0], "Planning", start, start + timedelta(hours=1)
    )
    sim.settle()
    low, high = _iso(start - timedelta(days=1)), _iso(start + timedelta(days=1))
    window = f"startdatetime={low}&enddatetime={high}"
    response = graph.get(f"/users/{rooms(sim)[0]}/calendarView/delta?{window}")
    assert response.status_code == 200
    assert len(response.json()["value"]) == 1
    assert "@odata.deltaLink" in response.json()


def test_calendar_view_window_names_ignore_case(graph: Graph, sim: Simulator) -> None:
    response = graph.get(
        f"/users/{rooms(sim)[0]}/calendarView?STARTDATETIME=2030-01-01T00:00:00Z"
        "&EndDateTime=2030-01-02T00:00:00Z"
    )
    assert response.status_code == 200


@pytest.mark.parametrize(
    "option",
    [
        "$select=subject",
        "$filter=subject eq 'x'",
        "$orderby=start/dateTime",
        '$search="x"',
        "$expand=attachments",
        "$top=5",
        "$SELECT=subject",
    ],
)
def test_delta_refuses_unsupported_options(graph: Graph, sim: Simulator, option: str) -> None:
    response = graph.get(f"/users/{rooms(sim)[0]}/calendarView/delta?{WINDOW}&{option}")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "ErrorInvalidUrlQuery"
    name = option.split("=", maxsplit=1)[0].lower()
    assert error["message"] == (
        "The following parameters are not supported with change tracking over the "
        f"'CalendarView' resource: '{name}'."
    )


def test_delta_refusal_names_every_unsupported_option(graph: Graph, sim: Simulator) -> None:
    path = f"/users/{rooms(sim)[0]}/calendarView/delta?{WINDOW}&$select=id&$orderby=id"
    message = graph.get(path).json()["error"]["message"]
    assert message.endswith("resource: '$orderby, $select'.")


def _batch_seconds(graph: Graph, sim: Simulator, count: int, ordered: bool = False) -> float:
    requests = [
        {"id": str(n), "method": "GET", "url": f"/users/{rooms(sim)[n % 4]}/events"}
        for n in range(count)
    ]
    if ordered:
        for n, item in enumerate(requests[1:]):
            item["dependsOn"] = [str(n)]
    started = time.monotonic()
    response = graph.post("/$batch", json={"requests": requests})
    elapsed = time.monotonic() - started
    assert {r["status"] for r in response.json()["responses"]} == {200}
    return elapsed


def test_a_batch_costs_its_items_four_at_a_time_and_nothing_more(
    graph: Graph, sim: Simulator
) -> None:
    sim.inject_latency(400)
    one, twenty = _batch_seconds(graph, sim, 1), _batch_seconds(graph, sim, 20)
    assert 0.4 <= one < 0.7  # one latency, not two (0.8 s)
    assert 2.0 <= twenty < 2.3  # ceil(20 / 4) = 5 latencies, not 6 (2.4 s)


def test_an_ordered_batch_costs_one_latency_per_item(graph: Graph, sim: Simulator) -> None:
    sim.inject_latency(200)
    assert 1.0 <= _batch_seconds(graph, sim, 5, ordered=True) < 1.15  # 6 would be 1.2 s


def test_latency_aimed_at_batch_still_charges_the_envelope(graph: Graph, sim: Simulator) -> None:
    sim.inject_latency(300, path_contains="$batch")
    assert 0.3 <= _batch_seconds(graph, sim, 1) < 0.55


def _iso(instant: datetime) -> str:
    return instant.strftime("%Y-%m-%dT%H:%M:%SZ")
