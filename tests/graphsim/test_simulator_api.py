"""The Python API and the /_sim control surface: determinism, snapshots, threads."""

from __future__ import annotations

import asyncio
import threading
from datetime import timedelta

import httpx

from graphsim import SeedSpec, Simulator
from tests.graphsim.graphsim_testkit import GRAPH, Graph, rooms, token_for, tomorrow_at, users


def test_same_seed_gives_the_same_tenant_and_ids() -> None:
    first, second = Simulator(seed=11), Simulator(seed=11)
    try:
        for sim in (first, second):
            sim.seed(SeedSpec(rooms=3, users=2, events_per_room=2))
        assert first.tenant_id == second.tenant_id
        assert first.credentials == second.credentials
        room = sorted(first.tenant.rooms)[0]
        assert [e["id"] for e in first.events(room)] == [e["id"] for e in second.events(room)]
    finally:
        first.close()
        second.close()


def test_different_seeds_differ() -> None:
    first, second = Simulator(seed=1), Simulator(seed=2)
    try:
        assert first.tenant_id != second.tenant_id
    finally:
        first.close()
        second.close()


def test_snapshot_round_trips_tenant_and_events() -> None:
    sim = Simulator(seed=4)
    sim.seed(rooms=2, users=2, events_per_room=2, recurring_series=1)
    try:
        copy = Simulator.from_snapshot(sim.snapshot())
        try:
            room = sorted(sim.tenant.rooms)[0]
            assert copy.tenant_id == sim.tenant_id
            assert copy.events(room) == sim.events(room)
            assert copy.snapshot()["tenant"] == sim.snapshot()["tenant"]
        finally:
            copy.close()
    finally:
        sim.close()


def test_demo_seed_is_realistic() -> None:
    sim = Simulator(seed=1)
    try:
        result = sim.seed_demo()
        assert 3 <= len(result.room_lists) <= 4
        assert 35 <= len(result.rooms) <= 45
        assert 25 <= len(result.users) <= 35
        every_event = [e for r in result.rooms for e in sim.events(r)]
        assert any(e["type"] == "seriesMaster" for e in every_event)
        organizer_events = [e for u in result.users for e in sim.events(u)]
        assert any(e["sensitivity"] == "private" for e in organizer_events)
    finally:
        sim.close()


def test_sync_transport_serves_many_threads_at_once(graph: Graph, sim: Simulator) -> None:
    failures: list[int] = []

    def worker(room: str) -> None:
        for _ in range(10):
            status = graph.get(f"/users/{room}/events").status_code
            if status != 200:
                failures.append(status)

    threads = [threading.Thread(target=worker, args=(r,)) for r in rooms(sim) * 2]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert sim.requests.count(path_contains="/events") == 80


def test_async_transport(sim: Simulator) -> None:
    async def call() -> int:
        async with httpx.AsyncClient(transport=sim.async_transport()) as http:
            response = await http.get(f"{GRAPH}/v1.0/places/microsoft.graph.room")
            return response.status_code

    assert asyncio.run(call()) == 401


def test_control_surface_over_http(sim: Simulator, http: httpx.Client) -> None:
    base = "https://graph.microsoft.com/_sim"
    config = http.get(f"{base}/config").json()
    assert config["tenant_id"] == sim.tenant_id
    assert {"client_id", "client_secret", "service_account", "rooms", "room_lists", "users"} <= set(
        config
    )
    start = tomorrow_at(9)
    created = http.post(
        f"{base}/outlook/meetings",
        json={
            "organizer": users(sim)[0],
            "rooms": [rooms(sim)[0]],
            "subject": "From control",
            "start": start.isoformat(),
            "end": (start + timedelta(hours=1)).isoformat(),
        },
    ).json()
    assert http.post(f"{base}/settle").status_code == 200
    events = http.get(f"{base}/mailboxes/{rooms(sim)[0]}/events").json()["value"]
    assert len(events) == 1
    moved = http.post(
        f"{base}/outlook/meetings/{created['id']}/move",
        json={
            "organizer": users(sim)[0],
            "start": (start + timedelta(hours=2)).isoformat(),
            "end": (start + timedelta(hours=3)).isoformat(),
        },
    )
    assert moved.status_code == 200
    assert http.post(f"{base}/delta/{rooms(sim)[0]}/reset").status_code == 200
    assert sim.core.store.get(rooms(sim)[0]).reset_pending  # type: ignore[union-attr]
    assert http.post(f"{base}/faults", json={"fail_next": 1, "status": 503}).status_code == 200
    graph = Graph(http, token_for(sim, http))
    assert graph.get("/places/microsoft.graph.room").status_code == 503
    counted = http.get(f"{base}/requests", params={"path_contains": "places"}).json()
    assert counted["count"] == 1


def test_control_surface_reports_bad_input(http: httpx.Client) -> None:
    response = http.post("https://graph.microsoft.com/_sim/outlook/meetings", json={})
    assert response.status_code == 400
