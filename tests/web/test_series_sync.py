"""End to end over real HTTP (the REST API under uvicorn, a runtime worker, graphsim over
HTTPS): a weekly series made through the API is one series in Outlook, every occurrence
confirmed; moving one occurrence, cancelling one and changing "this and following" show
in the room's calendar exactly so."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.polling import eventually
from tests.sync.push_support import meetings, span
from tests.web.test_booking_sync import Stack, stack  # noqa: F401 - the fixture

pytestmark = pytest.mark.slow
WEEKS = 10


def _next_monday_at(hour: int) -> datetime:
    today = datetime.now(UTC).date()
    monday = today + timedelta(days=7 - today.weekday())
    return datetime(monday.year, monday.month, monday.day, hour, tzinfo=UTC)


def _book_series(api_stack: Stack, start: datetime) -> list[dict[str, Any]]:
    body = {
        "resource_id": str(api_stack.tenant.rooms[api_stack.room]),
        "organizer_email": api_stack.tenant.users[0],
        "title": "Weekly sync",
        "start": start.isoformat(),
        "end": (start + timedelta(hours=1)).isoformat(),
        "recurrence": {
            "pattern": {"type": "weekly", "interval": 1, "daysOfWeek": ["monday"]},
            "range": {"type": "numbered", "numberOfOccurrences": WEEKS},
        },
    }
    response = api_stack.api.post("bookings", json=body)
    assert response.status_code == 201, response.text
    return list(response.json()["occurrences"])


def _room_series(api_stack: Stack) -> list[tuple[datetime, datetime]]:
    """The room's occurrences of series over the next weeks, by start."""
    view = api_stack.tenant.room_calendar(api_stack.room, days=7 * WEEKS + 14)
    return sorted(span(v) for v in view if v.get("seriesMasterId") and not v.get("isCancelled"))


def _all_settled(api_stack: Stack, occurrences: list[dict[str, Any]], status: str) -> bool:
    return all(api_stack.settled(item, status) for item in occurrences)


def test_a_weekly_series_from_the_api_is_one_outlook_series_and_follows_each_edit(
    stack: Stack,  # noqa: F811 - the fixture imported above
) -> None:
    start = _next_monday_at(8)
    occurrences = _book_series(stack, start)
    hour = timedelta(hours=1)

    assert eventually(lambda: _all_settled(stack, occurrences, "confirmed"), timeout=60)
    [master] = meetings(stack.tenant.sim, stack.tenant.users[0])
    assert master["type"] == "seriesMaster"
    expected = [
        (start + timedelta(weeks=n), start + timedelta(weeks=n) + hour) for n in range(WEEKS)
    ]
    assert _room_series(stack) == expected

    moved = start + timedelta(weeks=2, hours=4)
    response = stack.api.patch(
        f"bookings/{occurrences[2]['id']}",
        json={"start": moved.isoformat(), "end": (moved + hour).isoformat()},
    )
    assert response.status_code == 200, response.text
    assert stack.api.delete(f"bookings/{occurrences[5]['id']}").status_code == 200
    later = start + timedelta(weeks=7, hours=2)
    response = stack.api.patch(
        f"bookings/{occurrences[7]['id']}?scope=following",
        json={"start": later.isoformat(), "end": (later + hour).isoformat()},
    )
    assert response.status_code == 200, response.text

    expected[2] = (moved, moved + hour)
    for n in (7, 8, 9):
        expected[n] = (expected[n][0] + 2 * hour, expected[n][1] + 2 * hour)
    del expected[5]
    assert eventually(lambda: _room_series(stack) == expected, timeout=60)
    live = [o for n, o in enumerate(occurrences) if n != 5]
    assert eventually(lambda: _all_settled(stack, live, "confirmed"), timeout=60)
    assert stack.settled(occurrences[5], "cancelled")
    assert len(meetings(stack.tenant.sim, stack.tenant.users[0])) == 1
