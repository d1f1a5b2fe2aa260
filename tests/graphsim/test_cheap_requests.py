"""What graphsim does to cost less per request must not change what it answers: the
direct Graph path answers as Starlette's router does, a verified token kept by its text
still expires on time, and delta tokens read the same."""

from __future__ import annotations

import asyncio
from dataclasses import asdict

import httpx
import pytest
from starlette.applications import Starlette
from starlette.types import Receive, Scope, Send

from graphsim import ManualClock, Simulator
from graphsim.calendar.delta import DeltaState, TokenCodec, _fields
from graphsim.errors import GraphApiError
from tests.graphsim.graphsim_testkit import Graph, fast_options, rooms, token_for

_VARYING = {"request-id"}


async def _both(sim: Simulator, token: str, path: str, method: str = "GET") -> list[httpx.Response]:
    """The same call through the direct path and through Starlette's own router."""

    async def routed(scope: Scope, receive: Receive, send: Send) -> None:
        await Starlette.__call__(sim.app, scope, receive, send)

    headers = {"Authorization": f"Bearer {token}", "client-request-id": "fixed"}
    answers = []
    for app in (sim.app, routed):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="https://graph.test") as http:
            answers.append(await http.request(method, f"/v1.0{path}", headers=headers))
    return answers


def _without_ids(body: dict[str, object]) -> dict[str, object]:
    """An error body names its own request id and time; nothing else may differ."""
    error = body.get("error")
    if isinstance(error, dict):
        return {**body, "error": {**error, "innerError": None}}
    return body


@pytest.mark.parametrize(
    "path",
    [
        "/places/microsoft.graph.room?$top=2",
        "/users/{room}/calendarView/delta?startDateTime=2030-01-01T00:00:00Z"
        "&endDateTime=2030-01-08T00:00:00Z",
        "/users/{room}/nothing-here",
        "/users/nobody@contoso.onmicrosoft.com/events",
    ],
)
def test_graph_call_answers_alike_directly_and_through_the_router(
    sim: Simulator, http: httpx.Client, path: str
) -> None:
    token = token_for(sim, http)
    direct, routed = asyncio.run(_both(sim, token, path.format(room=rooms(sim)[0])))
    assert direct.status_code == routed.status_code
    assert _without_ids(direct.json()) == _without_ids(routed.json())
    assert [(k, v) for k, v in direct.headers.multi_items() if k not in _VARYING] == [
        (k, v) for k, v in routed.headers.multi_items() if k not in _VARYING
    ]


@pytest.mark.parametrize("method", ["HEAD", "OPTIONS"])
def test_methods_graph_does_not_route_answer_as_the_router_does(
    sim: Simulator, http: httpx.Client, method: str
) -> None:
    direct, routed = asyncio.run(
        _both(sim, token_for(sim, http), "/places/microsoft.graph.room", method)
    )
    assert direct.status_code == routed.status_code != 200
    assert direct.content == routed.content


@pytest.mark.parametrize("lapse", ["lifetime over", "expire_access_tokens"])
def test_a_token_already_verified_is_refused_once_it_lapses(lapse: str) -> None:
    clock = ManualClock()
    sim = Simulator(seed=3, clock=clock, options=fast_options(access_token_lifetime=600))
    try:
        with httpx.Client(transport=sim.transport()) as http:
            graph = Graph(http, token_for(sim, http))
            assert graph.get("/places/microsoft.graph.room").status_code == 200
            if lapse == "expire_access_tokens":
                sim.expire_access_tokens()
            clock.advance(601 if lapse == "lifetime over" else 2)
            response = graph.get("/places/microsoft.graph.room")
            assert response.status_code == 401
            assert "expired" in response.json()["error"]["message"]
    finally:
        sim.close()


def test_a_tampered_token_is_rejected_after_the_genuine_one_was_verified(
    sim: Simulator, http: httpx.Client
) -> None:
    token = token_for(sim, http)
    assert Graph(http, token).get("/places/microsoft.graph.room").status_code == 200
    head, payload, signature = token.split(".")
    forged = f"{head}.{payload}.{signature[:-4]}AAAA"
    assert Graph(http, forged).get("/places/microsoft.graph.room").status_code == 401


def test_delta_token_fields_are_every_field_of_the_state() -> None:
    state = DeltaState("room@x", 2, 1.5, 9.5, "initial", 3, 4, (5, 6.5), 7)
    assert _fields(state) == asdict(state)


def test_a_remembered_delta_token_reads_back_and_a_changed_one_is_still_refused() -> None:
    codec = TokenCodec(b"k" * 32, capacity=2)
    states = [DeltaState(f"room{n}@x", 1, 1.5, 9.5, "delta", after=n) for n in range(3)]
    tokens = [codec.encode(state) for state in states]
    assert [codec.decode(token) for token in tokens] == states
    assert TokenCodec(b"k" * 32).decode(tokens[0]) == states[0]
    with pytest.raises(GraphApiError):
        codec.decode(tokens[1][:-2] + ("AA" if not tokens[1].endswith("AA") else "BB"))
