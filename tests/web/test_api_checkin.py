"""Check-in over real HTTP: the policy API, checking in (who may, and when), ending early,
and the release job on a clock the test moves (no real waits)."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from roomsync.platform.db import Database
from roomsync.platform.enums import Role
from roomsync.platform.services.checkin import release_due_bookings
from roomsync.platform.services.tokens import create_api_token
from roomsync.settings import Settings
from roomsync.web.app import create_app
from roomsync.web.server import serving_in_background
from tests.web.tenants import ADMIN_TOKEN, Tenant, bearer, booking_json, make_tenant

START = datetime(2030, 1, 7, 9, 0, tzinfo=UTC)


class MovableClock:
    def __init__(self) -> None:
        self.now = START - timedelta(hours=1)

    def __call__(self) -> datetime:
        return self.now


CLOCK = MovableClock()


@pytest.fixture(scope="module")
def clocked_url(database_url: str) -> Iterator[str]:
    settings = Settings(
        _env_file=None,
        database_url=database_url,
        admin_token=SecretStr(ADMIN_TOKEN),
        max_booking_hours=12,
    )
    database = Database(database_url, clock=CLOCK)
    try:
        with serving_in_background(create_app(settings, database)) as url:
            yield url
    finally:
        database.dispose()


@pytest.fixture
def api(clocked_url: str, database: Database) -> Iterator[httpx.Client]:
    CLOCK.now = START - timedelta(hours=1)
    with httpx.Client(base_url=f"{clocked_url}/api/v1/", timeout=60) as client:
        yield client


@pytest.fixture
def tenant(factory: Any) -> Tenant:
    return make_tenant(factory, "Acme")


def _display(database: Database, tenant: Tenant, room_id: uuid.UUID) -> dict[str, str]:
    with database.session() as session:
        issued = create_api_token(
            session,
            organization_id=tenant.organization_id,
            role=Role.DISPLAY,
            name="lobby tablet",
            resource_id=room_id,
        )
        return bearer(issued.secret)


def _require_checkin(api: httpx.Client, tenant: Tenant, **policy: Any) -> None:
    answer = api.put(
        f"buildings/{tenant.building_id}/checkin-policy",
        json={"required": True, **policy},
        headers=tenant.admin,
    )
    assert answer.status_code == 200, answer.text


def _book(api: httpx.Client, tenant: Tenant, hours: float = 1) -> dict[str, Any]:
    end = START + timedelta(hours=hours)
    body = booking_json(tenant.room_id, start=START.isoformat(), end=end.isoformat())
    answer = api.post("bookings", json=body, headers=tenant.occupant)
    assert answer.status_code == 201, answer.text
    return dict(answer.json())


def _release_now(database: Database) -> list[uuid.UUID]:
    with database.session() as session:
        return release_due_bookings(session, at=CLOCK.now)


def test_a_building_policy_is_stored_with_defaults_filled_in(
    api: httpx.Client, tenant: Tenant
) -> None:
    answer = api.put(
        f"buildings/{tenant.building_id}/checkin-policy",
        json={"required": True, "release_after_minutes": 15},
        headers=tenant.admin,
    )

    assert answer.status_code == 200, answer.text
    assert answer.json()["effective"] == {
        "required": True,
        "opens_minutes_before": 5,
        "release_after_minutes": 15,
        "exempt_longer_than_hours": 8,
        "exempt": False,
    }
    room = api.get(f"resources/{tenant.room_id}/checkin-policy", headers=tenant.occupant)
    assert room.json()["effective"]["release_after_minutes"] == 15


@pytest.mark.parametrize(
    ("policy", "field"),
    [
        ({"opens_minutes_before": -5}, "checkin_policy.opens_minutes_before"),
        ({"release_after_minutes": 0}, "checkin_policy.release_after_minutes"),
        ({"release_after_minutes": -1}, "checkin_policy.release_after_minutes"),
        ({"release_minutes": 3}, "checkin_policy.release_minutes"),
        ({"required": "yes"}, "checkin_policy.required"),
    ],
)
def test_a_bad_policy_is_422_naming_the_field(
    api: httpx.Client, tenant: Tenant, policy: dict[str, Any], field: str
) -> None:
    answer = api.put(
        f"buildings/{tenant.building_id}/checkin-policy", json=policy, headers=tenant.admin
    )

    assert answer.status_code == 422, answer.text
    assert answer.json()["error"]["details"][0]["field"] == field


def test_an_occupant_may_not_set_a_policy(api: httpx.Client, tenant: Tenant) -> None:
    answer = api.put(
        f"resources/{tenant.room_id}/checkin-policy", json={"exempt": True}, headers=tenant.occupant
    )

    assert answer.status_code == 403


def test_check_in_too_early_says_when_it_opens(api: httpx.Client, tenant: Tenant) -> None:
    _require_checkin(api, tenant)
    booking = _book(api, tenant)
    CLOCK.now = START - timedelta(minutes=6)

    answer = api.post(f"bookings/{booking['id']}/check-in", headers=tenant.occupant)

    assert answer.status_code == 409
    assert answer.json()["error"]["details"]["opens_at"] == "2030-01-07T08:55:00Z"


def test_the_organizer_checks_in_and_the_booking_shows_it(
    api: httpx.Client, tenant: Tenant, database: Database
) -> None:
    _require_checkin(api, tenant)
    booking = _book(api, tenant)
    CLOCK.now = START + timedelta(minutes=2)

    answer = api.post(f"bookings/{booking['id']}/check-in", headers=tenant.occupant)
    CLOCK.now = START + timedelta(minutes=30)

    assert answer.status_code == 200, answer.text
    assert answer.json()["checked_in_at"] == "2030-01-07T09:02:00Z"
    assert _release_now(database) == []
    kept = api.get(f"bookings/{booking['id']}", headers=tenant.occupant).json()
    assert (kept["status"], kept["checked_in_at"]) == ("confirmed", "2030-01-07T09:02:00Z")


def test_an_occupant_may_not_check_in_to_a_colleagues_booking(
    api: httpx.Client, tenant: Tenant
) -> None:
    booking = _book(api, tenant)
    CLOCK.now = START

    answer = api.post(f"bookings/{booking['id']}/check-in", headers=tenant.colleague)

    assert answer.status_code == 403


def test_a_display_token_checks_in_only_at_its_own_room(
    api: httpx.Client, tenant: Tenant, factory: Any, database: Database
) -> None:
    booking = _book(api, tenant)
    other_room = factory.room(tenant.building_id, name="Other room")
    CLOCK.now = START

    elsewhere = api.post(
        f"bookings/{booking['id']}/check-in", headers=_display(database, tenant, other_room)
    )
    here = api.post(
        f"bookings/{booking['id']}/check-in", headers=_display(database, tenant, tenant.room_id)
    )

    assert elsewhere.status_code == 403
    assert here.status_code == 200, here.text
    assert here.json()["title"] == "Planning"


def test_a_booking_nobody_checks_in_to_is_released_after_ten_minutes(
    api: httpx.Client, tenant: Tenant, database: Database
) -> None:
    _require_checkin(api, tenant)
    booking = _book(api, tenant)
    CLOCK.now = START + timedelta(minutes=9, seconds=59)
    assert _release_now(database) == []

    CLOCK.now = START + timedelta(minutes=10)
    released = _release_now(database)
    again = _release_now(database)

    assert released == [uuid.UUID(booking["id"])]
    assert again == []
    stored = api.get(f"bookings/{booking['id']}", headers=tenant.occupant).json()
    assert stored["status"] == "released"
    assert "10 minutes" in stored["status_reason"]
    late = api.post(f"bookings/{booking['id']}/check-in", headers=tenant.occupant)
    assert late.status_code == 409
    assert "released" in late.json()["error"]["message"]


def test_a_released_slot_can_be_booked_again(
    api: httpx.Client, tenant: Tenant, database: Database
) -> None:
    _require_checkin(api, tenant)
    _book(api, tenant)
    CLOCK.now = START + timedelta(minutes=10)
    _release_now(database)

    again = _book(api, tenant)

    assert again["status"] == "confirmed"


def test_a_booking_longer_than_eight_hours_is_exempt(
    api: httpx.Client, tenant: Tenant, database: Database
) -> None:
    _require_checkin(api, tenant)
    booking = _book(api, tenant, hours=9)
    CLOCK.now = START + timedelta(minutes=30)

    assert _release_now(database) == []
    assert api.get(f"bookings/{booking['id']}", headers=tenant.admin).json()["status"] == (
        "confirmed"
    )


def test_an_exempt_room_keeps_its_bookings(
    api: httpx.Client, tenant: Tenant, database: Database
) -> None:
    _require_checkin(api, tenant)
    booking = _book(api, tenant)
    answer = api.put(
        f"resources/{tenant.room_id}/checkin-policy", json={"exempt": True}, headers=tenant.admin
    )
    CLOCK.now = START + timedelta(minutes=30)

    assert answer.json()["effective"]["exempt"] is True
    assert _release_now(database) == []
    assert api.get(f"bookings/{booking['id']}", headers=tenant.admin).json()["status"] == (
        "confirmed"
    )


def test_a_policy_set_after_booking_applies_to_it(
    api: httpx.Client, tenant: Tenant, database: Database
) -> None:
    booking = _book(api, tenant)
    _require_checkin(api, tenant, release_after_minutes=20)
    CLOCK.now = START + timedelta(minutes=15)
    assert _release_now(database) == []

    CLOCK.now = START + timedelta(minutes=20)

    assert _release_now(database) == [uuid.UUID(booking["id"])]


def test_ending_early_frees_the_rest_of_the_slot(api: httpx.Client, tenant: Tenant) -> None:
    booking = _book(api, tenant)
    CLOCK.now = START + timedelta(minutes=25, seconds=30, microseconds=5)

    ended = api.post(f"bookings/{booking['id']}/end", headers=tenant.occupant)

    assert ended.status_code == 200, ended.text
    assert ended.json()["end"] == "2030-01-07T09:25:30Z"
    free = api.get(
        "availability",
        params={"start": "2030-01-07T09:30:00Z", "end": "2030-01-07T10:00:00Z"},
        headers=tenant.occupant,
    )
    assert str(tenant.room_id) in {item["resource"]["id"] for item in free.json()["items"]}


def test_extending_adds_fifteen_minutes_while_the_room_is_free_after(
    api: httpx.Client, tenant: Tenant
) -> None:
    booking = _book(api, tenant)
    after = booking_json(
        tenant.room_id,
        start=(START + timedelta(hours=1, minutes=20)).isoformat(),
        end=(START + timedelta(hours=2)).isoformat(),
    )
    assert api.post("bookings", json=after, headers=tenant.admin).status_code == 201
    CLOCK.now = START + timedelta(minutes=50)

    first = api.post(f"bookings/{booking['id']}/extend", headers=tenant.occupant)
    second = api.post(f"bookings/{booking['id']}/extend", headers=tenant.occupant)

    assert first.status_code == 200, first.text
    assert first.json()["end"] == "2030-01-07T10:15:00Z"
    assert second.status_code == 409
    assert second.json()["error"]["details"]["start"] == "2030-01-07T10:20:00Z"


def test_a_meeting_not_yet_begun_cannot_be_ended(api: httpx.Client, tenant: Tenant) -> None:
    booking = _book(api, tenant)

    answer = api.post(f"bookings/{booking['id']}/end", headers=tenant.occupant)

    assert answer.status_code == 409
    assert "cancel" in answer.json()["error"]["message"]


def test_a_display_token_may_not_book_through_the_api(
    api: httpx.Client, tenant: Tenant, database: Database
) -> None:
    answer = api.post(
        "bookings",
        json=booking_json(tenant.room_id),
        headers=_display(database, tenant, tenant.room_id),
    )

    assert answer.status_code == 403


# --- The room display's page and actions -----------------------------------------------------


@contextlib.contextmanager
def _open_display(
    clocked_url: str, database: Database, tenant: Tenant, room_id: uuid.UUID
) -> Iterator[httpx.Client]:
    """A browser-like client that opened the display once with its token (now a cookie)."""
    secret = _display(database, tenant, room_id)["Authorization"].removeprefix("Bearer ")
    headers = {"X-Roomsync-Display": "1"}
    with httpx.Client(base_url=clocked_url, timeout=60, headers=headers) as client:
        opened = client.get(f"/display/{room_id}", params={"token": secret})
        assert opened.status_code == 303
        assert opened.headers["location"] == f"/display/{room_id}"
        yield client


def test_the_display_token_becomes_a_cookie_and_the_page_shows_the_room(
    clocked_url: str, api: httpx.Client, tenant: Tenant, database: Database
) -> None:
    with _open_display(clocked_url, database, tenant, tenant.room_id) as display:
        page = display.get(f"/display/{tenant.room_id}")
        state = display.get(f"/display/{tenant.room_id}/state").json()

    assert page.status_code == 200
    assert "Acme room" in page.text
    assert len(page.content) < 100_000
    assert (state["busy"], state["book_now"]) == (False, [15, 30, 60])


def test_the_display_never_shows_a_private_title(
    clocked_url: str, api: httpx.Client, tenant: Tenant, database: Database
) -> None:
    body = booking_json(
        tenant.room_id, start=START.isoformat(), end=(START + timedelta(hours=1)).isoformat()
    )
    api.post(
        "bookings", json=body | {"title": "Secret merger", "private": True}, headers=tenant.occupant
    )
    CLOCK.now = START + timedelta(minutes=1)

    with _open_display(clocked_url, database, tenant, tenant.room_id) as display:
        page = display.get(f"/display/{tenant.room_id}")
        state = display.get(f"/display/{tenant.room_id}/state").json()

    assert "Secret merger" not in page.text
    assert state["current"]["title"] == "Private booking"
    assert state["busy"] is True


def test_book_now_over_the_next_booking_is_409_with_the_longest_possible(
    clocked_url: str, api: httpx.Client, tenant: Tenant, database: Database
) -> None:
    _book(api, tenant)
    CLOCK.now = START - timedelta(minutes=20)

    with _open_display(clocked_url, database, tenant, tenant.room_id) as display:
        state = display.get(f"/display/{tenant.room_id}/state").json()
        refused = display.post(f"/display/{tenant.room_id}/book", json={"minutes": 30})
        booked = display.post(f"/display/{tenant.room_id}/book", json={"minutes": 15})

    assert state["book_now"] == [15]
    assert refused.status_code == 409
    assert refused.json()["error"]["details"]["longest_minutes"] == 20
    assert booked.status_code == 201, booked.text
    assert booked.json()["current"]["checked_in"] is True


def test_a_display_token_for_one_room_cannot_act_on_another(
    clocked_url: str, api: httpx.Client, tenant: Tenant, database: Database, factory: Any
) -> None:
    other_room = factory.room(tenant.building_id, name="Other room")
    booking = _book(api, tenant)
    CLOCK.now = START
    secret = _display(database, tenant, other_room)["Authorization"].removeprefix("Bearer ")

    with httpx.Client(base_url=clocked_url, timeout=60) as browser:
        opened = browser.get(f"/display/{tenant.room_id}", params={"token": secret})
    with _open_display(clocked_url, database, tenant, other_room) as display:
        state = display.get(f"/display/{tenant.room_id}/state")
        check_in = display.post(
            f"/display/{other_room}/check-in", json={"booking_id": booking["id"]}
        )

    assert opened.status_code == 403
    assert state.status_code == 401  # its cookie belongs to the other display's path
    assert check_in.status_code == 403
