"""The plain peer of the steady-round benchmark, against a served graphsim: it brings every
room up to date, follows nextLinks and deltaLinks, and waits out a 429's Retry-After."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from bench.peer_client import PeerCredentials, PeerResult, run_peer_round

from graphsim import Simulator
from graphsim.server import ServerHandle, serve
from tests.graphsim.graphsim_testkit import fast_options

pytestmark = pytest.mark.slow

EVENTS_PER_ROOM = 5


@pytest.fixture(scope="module")
def served() -> Iterator[ServerHandle]:
    sim = Simulator(options=fast_options())
    sim.seed(rooms=4, events_per_room=EVENTS_PER_ROOM, recurring_series=0, private_meetings=0)
    with serve(sim) as handle:
        yield handle
    sim.close()


def _rooms(handle: ServerHandle) -> list[str]:
    return sorted(handle.simulator.tenant.rooms)


def _round(handle: ServerHandle, links: dict[str, str], **options: int) -> PeerResult:
    sim = handle.simulator
    credentials = PeerCredentials(
        sim.tenant_id, sim.credentials.client_id, sim.credentials.client_secret
    )
    rooms = _rooms(handle)
    # Its own thread, as a benchmark's main thread has it: a test process may hold another
    # event loop in this one (Playwright's sync API does, for the browser tests).
    with ThreadPoolExecutor(max_workers=1) as runner:
        return runner.submit(
            asyncio.run,
            run_peer_round(
                handle.base_url, credentials, rooms, links, ca_bundle=handle.ca_path, **options
            ),
        ).result()


def test_initial_round_follows_next_links_to_every_rooms_delta_link(served: ServerHandle) -> None:
    sim = served.simulator
    before = sim.requests.count(path_contains="calendarView/delta")
    result = _round(served, {}, page_size=2)
    assert set(result.delta_links) == set(_rooms(served))
    assert all("$deltatoken=" in link for link in result.delta_links.values())
    assert result.items == EVENTS_PER_ROOM * len(_rooms(served))
    pages_per_room = -(-EVENTS_PER_ROOM // 2)
    assert result.requests == pages_per_room * len(_rooms(served))
    assert sim.requests.count(path_contains="calendarView/delta") - before == result.requests
    assert sim.requests.count(path_contains="calendarView/delta", status=200) >= result.requests


def test_steady_round_sends_one_request_per_room_from_its_delta_link(served: ServerHandle) -> None:
    links = _round(served, {}).delta_links
    sim = served.simulator
    sim.requests.clear()
    result = _round(served, links)
    assert (result.requests, result.items, result.throttled) == (len(links), 0, 0)
    sent = sim.requests.entries(path_contains="calendarView/delta")
    assert sorted(e.mailbox or "" for e in sent) == sorted(links)
    assert all("$deltatoken=" in e.query for e in sent)


def test_a_429_is_sent_again_after_its_retry_after(served: ServerHandle) -> None:
    links = _round(served, {}).delta_links
    sim, room = served.simulator, _rooms(served)[0]
    sim.requests.clear()
    sim.fail_next(2, 429, path_contains="calendarView/delta", mailbox=room, retry_after=1)
    result = _round(served, links)
    assert result.throttled == 2
    assert result.requests == len(links) + 2
    assert set(result.delta_links) == set(links)
    answers = sim.requests.entries(mailbox=room, path_contains="calendarView/delta")
    assert [e.status for e in answers] == [429, 429, 200]
    gaps = [(b.at - a.at).total_seconds() for a, b in itertools.pairwise(answers)]
    assert min(gaps) >= 0.95
