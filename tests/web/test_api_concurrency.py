"""No double booking when requests race: many clients, one slot, exactly one winner.

Each thread has its own HTTP connection to the real server, and all are released together
by a barrier, so the requests overlap inside the server and the database.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

import httpx

from roomsync.platform.db import Database
from roomsync.platform.services.bookings import list_bookings
from tests.web.tenants import Tenant, booking_json

RACERS = 8


def race(
    base_url: str, requests: list[tuple[str, str, dict[str, Any]]], headers: dict[str, str]
) -> list[int]:
    barrier = threading.Barrier(len(requests))

    def send(request: tuple[str, str, dict[str, Any]]) -> int:
        method, path, body = request
        with httpx.Client(base_url=base_url, headers=headers, timeout=120) as client:
            client.get("/healthz")  # open the connection before the start signal
            barrier.wait()
            return client.request(method, path, json=body).status_code

    with ThreadPoolExecutor(max_workers=len(requests)) as pool:
        return list(pool.map(send, requests))


def test_racing_requests_for_one_slot_book_it_exactly_once(
    api_base_url: str, database: Database, tenant: Tenant
) -> None:
    bodies = [
        booking_json(tenant.room_id, f"2030-01-07T09:{n:02d}:00Z", f"2030-01-07T10:{n:02d}:00Z")
        for n in range(RACERS)
    ]
    statuses = race(
        api_base_url, [("POST", "/api/v1/bookings", b) for b in bodies], tenant.occupant
    )
    assert sorted(statuses) == [201] + [409] * (RACERS - 1)
    with database.session() as session:
        assert len(list_bookings(session, resource_id=tenant.room_id).items) == 1


def test_racing_moves_into_one_free_slot_move_exactly_one_booking(
    api_base_url: str, api: httpx.Client, database: Database, tenant: Tenant
) -> None:
    ids = [
        api.post(
            "bookings",
            json=booking_json(
                tenant.room_id, f"2030-01-{day:02d}T09:00:00Z", f"2030-01-{day:02d}T10:00:00Z"
            ),
            headers=tenant.admin,
        ).json()["id"]
        for day in range(1, RACERS + 1)
    ]
    target = {"start": "2030-02-01T09:00:00Z", "end": "2030-02-01T10:00:00Z"}
    statuses = race(
        api_base_url, [("PATCH", f"/api/v1/bookings/{i}", target) for i in ids], tenant.admin
    )
    assert sorted(statuses) == [200] + [409] * (RACERS - 1)
    with database.session() as session:
        in_target = list_bookings(
            session,
            resource_id=tenant.room_id,
            start=datetime.fromisoformat(target["start"]),
            end=datetime.fromisoformat(target["end"]),
        )
    assert len(in_target.items) == 1
