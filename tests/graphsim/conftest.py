"""Fixtures for graphsim's tests: a fast simulator seeded with a few rooms and users, an
in-process webhook receiver, and Graph clients authenticated through msal."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from graphsim import Simulator
from tests.graphsim.graphsim_testkit import Graph, Receiver, fast_options, token_for


@pytest.fixture
def receiver() -> Receiver:
    return Receiver()


@pytest.fixture
def sim(receiver: Receiver) -> Iterator[Simulator]:
    simulator = Simulator(
        options=fast_options(), notification_transport=httpx.ASGITransport(app=receiver.app())
    )
    simulator.seed(
        rooms=4, room_lists=2, users=3, events_per_room=0, recurring_series=0, private_meetings=0
    )
    yield simulator
    simulator.close()


@pytest.fixture
def http(sim: Simulator) -> Iterator[httpx.Client]:
    with httpx.Client(transport=sim.transport()) as client:
        yield client


@pytest.fixture
def graph(sim: Simulator, http: httpx.Client) -> Graph:
    return Graph(http, token_for(sim, http))


@pytest.fixture
def beta(sim: Simulator, http: httpx.Client) -> Graph:
    return Graph(http, token_for(sim, http), "beta")
