"""``roomsync demo --once``: the demo's round trip, checked from the outside.

Rooms imported, bookings pulled, a subscription per room; then a booking made through the
REST API reaches the room's calendar and the room's acceptance comes back, and a meeting
booked and then moved in Outlook arrives on the platform. Each check says what it saw and
how long it took; the demo exits 0 only if every one held.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from roomsync.runtime.demo import SLOT, Connected, Demo

WAIT_SECONDS = 30.0


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    seconds: float = 0.0


def round_trip(demo: Demo, connected: Connected) -> list[Check]:
    checks = _setup_checks(demo, connected)
    with httpx.Client(
        base_url=f"{demo.base_url}/api/v1",
        headers={"Authorization": f"Bearer {connected.admin_token}"},
        timeout=30,
    ) as api:
        checks.append(_push_is_accepted(demo, api))
        checks.append(_outlook_change_arrives(demo, api))
    return checks


def _setup_checks(demo: Demo, connected: Connected) -> list[Check]:
    rooms = connected.report["rooms"].counts.get("created", 0)
    bookings = connected.report["bookings"].counts.get("create_booking", 0)
    subscriptions = demo.subscribe(connected)
    return [
        Check("rooms imported", rooms > 0, f"{rooms} rooms"),
        Check("bookings pulled", bookings > 0, f"{bookings} bookings made in Outlook"),
        Check(
            "subscriptions",
            subscriptions == len(demo.tenant.rooms),
            f"{subscriptions} of {len(demo.tenant.rooms)} rooms listened to",
        ),
    ]


def _push_is_accepted(demo: Demo, api: httpx.Client) -> Check:
    room = demo.tenant.rooms[0]
    resource = _resource_id(api, room)
    start = demo.free_slot(room, days_ahead=1)
    started = time.monotonic()
    answer = api.post(
        "bookings",
        json={
            "resource_id": resource,
            "organizer_email": demo.tenant.users[0],
            "title": "Booked from the demo",
            "start": start.isoformat(),
            "end": (start + SLOT).isoformat(),
        },
    )
    if answer.status_code != 201:
        return Check("platform → Outlook", False, f"the API answered {answer.status_code}")
    path = f"bookings/{answer.json()['id']}"
    _wait(lambda: api.get(path).json()["status"] != "pending")
    status = api.get(path).json()["status"]
    detail = f"booked {room} through the API; the room's answer: {status}"
    return Check("platform → Outlook", status == "confirmed", detail, time.monotonic() - started)


def _outlook_change_arrives(demo: Demo, api: httpx.Client) -> Check:
    room, organizer = demo.tenant.rooms[-1], demo.tenant.users[1]
    resource = _resource_id(api, room)
    start = demo.free_slot(room, days_ahead=2)
    started = time.monotonic()
    event = demo.sim.outlook.create_meeting(
        organizer, room, "Booked in Outlook", start, start + SLOT
    )
    arrived = _wait(lambda: _booking_at(api, resource, start) is not None)
    moved = start + timedelta(hours=1)
    demo.sim.outlook.move_meeting(organizer, event, moved, moved + SLOT)
    followed = arrived and _wait(lambda: _booking_at(api, resource, moved) is not None)
    seen = "booked, then moved: both arrived" if followed else "did not arrive in time"
    return Check("Outlook → platform", followed, f"{room} {seen}", time.monotonic() - started)


def _resource_id(api: httpx.Client, email: str) -> str:
    cursor: str | None = None
    while True:
        params: dict[str, str | int] = {"limit": 200} | ({"cursor": cursor} if cursor else {})
        page = api.get("resources", params=params).raise_for_status().json()
        for item in page["items"]:
            if (item.get("email") or "").lower() == email.lower():
                return str(item["id"])
        cursor = page["next_cursor"]
        if cursor is None:
            raise LookupError(f"The room {email} was not imported.")


def _booking_at(api: httpx.Client, resource: str, start: datetime) -> dict[str, Any] | None:
    window = {
        "resource_id": resource,
        "start": start.isoformat(),
        "end": (start + SLOT).isoformat(),
    }
    for booking in api.get("bookings", params=window).json()["items"]:
        if booking["status"] != "cancelled" and booking["start"] == _api_time(start):
            found: dict[str, Any] = booking
            return found
    return None


def _api_time(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _wait(condition: Callable[[], bool], timeout: float = WAIT_SECONDS) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return condition()
