"""roomsync split across processes on PostgreSQL and Redis (docs/architecture.md#processes):
``roomsync api`` plus workers, against graphsim over HTTPS.

Every room is pulled exactly once per round however many workers and queued requests
there are; every booking is pushed exactly once; and a worker killed with SIGKILL in the
middle of a pull round or of pushes, then replaced, loses nothing and duplicates nothing.
"""

from __future__ import annotations

import secrets
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import psycopg
import pytest
from huey import RedisHuey
from sqlalchemy.engine import make_url

from graphsim import ServerHandle, SimOptions, Simulator, serve
from tests.distributed.cluster import Cluster, cluster_env
from tests.polling import eventually

pytestmark = pytest.mark.slow
ZONE = "Europe/Paris"
LEASE_SECONDS = 5  # cluster_env's ROOMSYNC_LEASE_SECONDS


@pytest.fixture
def fresh_postgres(postgres_server_url: str) -> Iterator[str]:
    """A database of this test's own, on the PostgreSQL server."""
    name = f"roomsync_cluster_{secrets.token_hex(5)}"
    admin = make_url(postgres_server_url).set(drivername="postgresql").render_as_string(False)
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(postgres_server_url).set(database=name).render_as_string(False)
    finally:
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def queue_name(redis_url: str) -> Iterator[str]:
    name = f"roomsync-test-{secrets.token_hex(4)}"
    yield name
    queue = RedisHuey(name, url=redis_url)
    queue.flush()
    queue.storage.close()


ROOMS: list[str] = []


def tenant(rooms: int, events_per_room: int) -> Simulator:
    sim = Simulator(seed=5, options=SimOptions(seed=5, room_processing_delay=0.1))
    ROOMS[:] = sim.seed(
        rooms=rooms,
        room_lists=2,
        users=4,
        events_per_room=events_per_room,
        recurring_series=0,
        private_meetings=0,
    ).rooms
    return sim


@pytest.fixture
def cluster_for(
    fresh_postgres: str, redis_url: str, queue_name: str, tmp_path: Path
) -> Iterator[Any]:
    started: list[tuple[Cluster, Simulator, Any]] = []

    def build(sim: Simulator) -> tuple[Cluster, ServerHandle]:
        server = serve(sim)
        graph = server.__enter__()
        env = cluster_env(
            database_url=fresh_postgres, redis_url=redis_url, queue_name=queue_name, graph=graph
        )
        cluster = Cluster(env, tmp_path)
        env["ROOMSYNC_PUBLIC_URL"] = cluster.api_url
        started.append((cluster, sim, server))
        return cluster, graph

    yield build
    for cluster, sim, server in started:
        cluster.stop_all()
        server.__exit__(None, None, None)
        sim.close()


def connect(cluster: Cluster, sim: Simulator, *, mode: str = "polling") -> str:
    with cluster.api() as api:
        organization = api.post("organizations", json={"name": "Contoso"}).raise_for_status()
        body = {
            "organization_id": organization.json()["id"],
            "tenant_id": sim.tenant_id,
            "client_id": sim.credentials.client_id,
            "client_secret": sim.credentials.client_secret,
            "service_account": sim.service_account,
            "time_zone": ZONE,
            "mode": mode,
        }
        integration = api.post("integrations", json=body).raise_for_status().json()["id"]
        imported = api.post(f"integrations/{integration}/sync/rooms").raise_for_status().json()
        assert imported["counts"]["created"] > 0
        return str(integration)


def delta_requests_per_room(sim: Simulator) -> Counter[str]:
    entries = sim.requests.entries(path_contains="calendarView/delta")
    return Counter(entry.mailbox for entry in entries if entry.mailbox)


def finished_pulls(cluster: Cluster, integration: str) -> list[dict[str, Any]]:
    with cluster.api() as api:
        status = api.get(f"integrations/{integration}/status").raise_for_status().json()
    return [run for run in status["runs"]["bookings"] if run["outcome"] != "running"]


def book(api: httpx.Client, resource_id: str, organizer: str, start: datetime) -> str:
    body = {
        "resource_id": resource_id,
        "organizer_email": organizer,
        "title": f"Pushed {start:%H:%M}",
        "start": start.isoformat(),
        "end": (start + timedelta(minutes=30)).isoformat(),
    }
    return str(api.post("bookings", json=body).raise_for_status().json()["id"])


def statuses(api: httpx.Client, booking_ids: list[str]) -> list[str]:
    return [api.get(f"bookings/{booking}").json()["status"] for booking in booking_ids]


def rooms_of(api: httpx.Client) -> list[dict[str, Any]]:
    return [r for r in api.get("resources", params={"limit": 200}).json()["items"] if r["email"]]


def organizer_copies(sim: Simulator, organizer: str) -> Counter[str]:
    """Events in the organizer's calendar, by the booking id roomsync's push tagged them with."""
    return Counter(
        str(event.get("transactionId"))
        for event in sim.events(organizer)
        if event.get("transactionId")
    )


def free_day() -> datetime:
    return datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=20)


def test_api_and_two_workers_pull_every_room_once_per_round_and_push_once(
    cluster_for: Any,
) -> None:
    sim = tenant(rooms=200, events_per_room=2)
    cluster, _ = cluster_for(sim)
    cluster.start_api()
    cluster.start_worker("worker-a")
    cluster.start_worker("worker-b")
    integration = connect(cluster, sim)
    sim.requests.clear()

    with cluster.api() as api:
        for _ in range(3):  # three requests for a round; the lease lets one run at a time
            assert (
                api.post(f"integrations/{integration}/sync/bookings?wait=false").status_code == 202
            )
    assert eventually(lambda: _settled(cluster, integration), timeout=180, every=0.25), (
        "Timed out waiting for the rounds to end."
    )

    rounds = [run for run in finished_pulls(cluster, integration) if run["outcome"] == "succeeded"]
    per_room = delta_requests_per_room(sim)
    assert len(per_room) == 200
    assert set(per_room.values()) == {len(rounds)}, "each round pulls each room exactly once"
    with cluster.api() as api:
        assert api.get("bookings", params={"limit": 1}).json()["items"], "bookings were pulled"
        rooms = rooms_of(api)
        organizer = next(u.mail for u in sim.tenant.users.values() if u.mail.startswith("user"))
        day = free_day()
        booked = [book(api, rooms[n]["id"], organizer, day + timedelta(hours=n)) for n in range(10)]
        assert eventually(
            lambda: set(statuses(api, booked)) == {"confirmed"}, timeout=90, every=0.25
        ), "Timed out waiting for the room answers."
    copies = organizer_copies(sim, organizer)
    assert all(copies[f"roomsync-{booking}"] == 1 for booking in booked), copies


def _settled(cluster: Cluster, integration: str) -> bool:
    """A round has ended, none is running, and no request for one is still queued."""
    with cluster.api() as api:
        runs = api.get(f"integrations/{integration}/status").json()["runs"]["bookings"]
    if not runs or any(run["outcome"] == "running" for run in runs):
        return False
    queue = RedisHuey(cluster.env["ROOMSYNC_QUEUE_NAME"], url=cluster.env["ROOMSYNC_QUEUE_URL"])
    try:
        return not queue.pending_count()
    finally:
        queue.storage.close()


def test_a_worker_killed_during_pushes_loses_and_duplicates_nothing(cluster_for: Any) -> None:
    sim = tenant(rooms=10, events_per_room=0)
    sim.inject_latency(150, path_contains="/events")
    cluster, _ = cluster_for(sim)
    cluster.start_api()
    cluster.start_worker("doomed", workers=2)
    connect(cluster, sim)
    organizer = next(u.mail for u in sim.tenant.users.values() if u.mail.startswith("user"))
    with cluster.api() as api:
        rooms, day = rooms_of(api), free_day()
        booked = [
            book(api, rooms[n % 10]["id"], organizer, day + timedelta(hours=n // 10))
            for n in range(40)
        ]
        assert eventually(
            lambda: sum(organizer_copies(sim, organizer).values()) >= 8, timeout=60, every=0.25
        ), "Timed out waiting for pushes."
        cluster.kill("doomed")
        cluster.start_worker("replacement", scheduler=True, workers=2)
        assert eventually(
            lambda: set(statuses(api, booked)) == {"confirmed"}, timeout=180, every=0.25
        ), "Timed out waiting for every push."
    copies = organizer_copies(sim, organizer)
    assert [copies[f"roomsync-{booking}"] for booking in booked] == [1] * 40


def test_a_worker_killed_during_a_pull_round_loses_and_duplicates_nothing(
    cluster_for: Any,
) -> None:
    sim = tenant(rooms=60, events_per_room=40)  # three pages of 16 per room
    sim.inject_latency(250, path_contains="calendarView")
    cluster, _ = cluster_for(sim)
    cluster.start_api()
    cluster.start_worker("doomed")
    integration = connect(cluster, sim)

    with cluster.api() as api:
        api.post(f"integrations/{integration}/sync/bookings?wait=false").raise_for_status()
        assert eventually(lambda: _bookings(api) > 0, timeout=60, every=0.25), (
            "Timed out waiting for the first pages."
        )
        cluster.kill("doomed")
        cut_short = _bookings(api)
        cluster.start_worker("replacement")
        time.sleep(LEASE_SECONDS + 1)  # the killed worker's lease lapses, as it would in production
        api.post(f"integrations/{integration}/sync/bookings?wait=false").raise_for_status()
        assert eventually(
            lambda: any(r["outcome"] == "succeeded" for r in finished_pulls(cluster, integration)),
            timeout=180,
            every=0.25,
        ), "Timed out waiting for a complete round."
        total = _bookings(api)
    expected = sum(len(sim.calendar_view(room, *_window())) for room in ROOMS)
    assert cut_short < total
    assert total == expected, "every meeting is one booking: none lost, none twice"


def _bookings(api: httpx.Client) -> int:
    count, cursor = 0, None
    while True:
        page = api.get(
            "bookings", params={"limit": 200, **({"cursor": cursor} if cursor else {})}
        ).json()
        count += sum(1 for b in page["items"] if b["status"] != "cancelled")
        cursor = page["next_cursor"]
        if cursor is None:
            return count


def _window() -> tuple[datetime, datetime]:
    """The pull's window: from the start of yesterday to 90 days ahead, in the zone."""
    zone = ZoneInfo(ZONE)
    today = datetime.now(zone).date()
    start = datetime.combine(today - timedelta(days=1), clock_time(), tzinfo=zone)
    end = datetime.combine(today + timedelta(days=90), clock_time(), tzinfo=zone)
    return start.astimezone(UTC), end.astimezone(UTC)


def test_a_worker_never_hands_one_organizations_tokens_to_another_on_the_same_app(
    cluster_for: Any,
) -> None:
    sim = tenant(rooms=5, events_per_room=0)
    cluster, _ = cluster_for(sim)
    cluster.start_api()
    cluster.start_worker("shared", workers=1)
    right = _integration(cluster, sim, "Contoso", sim.credentials.client_secret)
    _import_rooms_on_the_worker(cluster, right)
    wrong = _integration(cluster, sim, "Fabrikam", "not-the-secret")
    _import_rooms_on_the_worker(cluster, wrong)

    with cluster.api() as api:
        runs = api.get(f"integrations/{wrong}/status").json()["runs"]["rooms"]
        resources = api.get("resources", params={"limit": 200}).json()["items"]
    imported = [room for room in resources if room["email"]]
    assert runs[0]["outcome"] == "failed"
    assert "AADSTS7000215" in " ".join(runs[0]["errors"])
    assert len(imported) == 5, "only the organization with the right secret imports its rooms"


def _integration(cluster: Cluster, sim: Simulator, name: str, secret: str) -> str:
    with cluster.api() as api:
        organization = api.post("organizations", json={"name": name}).raise_for_status()
        body = {
            "organization_id": organization.json()["id"],
            "tenant_id": sim.tenant_id,
            "client_id": sim.credentials.client_id,
            "client_secret": secret,
            "time_zone": ZONE,
        }
        return str(api.post("integrations", json=body).raise_for_status().json()["id"])


def _import_rooms_on_the_worker(cluster: Cluster, integration: str) -> None:
    with cluster.api() as api:
        api.post(f"integrations/{integration}/sync/rooms?wait=false").raise_for_status()

        def ended() -> bool:
            runs = api.get(f"integrations/{integration}/status").json()["runs"]["rooms"]
            return bool(runs) and runs[0]["outcome"] != "running"

        assert eventually(ended, timeout=60, every=0.25), (
            "Timed out waiting for the worker's room import."
        )
