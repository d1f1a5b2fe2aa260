"""A person at a workspace company, in Chromium, against ``roomsync demo``: find a free room
for six people tomorrow at 10:00, book it and watch the room confirm it without reloading;
book a slot someone took in Outlook a moment ago and watch it decline with the reason and
rooms free instead; move and cancel a booking and see the room's Outlook calendar follow.

Outlook's side is reached as any Graph client would: an app token from the emulated
tenant's Entra ID, then ``/v1.0/users/{mailbox}/...``.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import httpx
import pytest
from axe_playwright_python.sync_playwright import Axe

from tests.browser.conftest import Demo
from tests.browser.test_sign_in_and_dashboard import sign_in
from tests.polling import eventually

pytestmark = pytest.mark.slow

ZONE = ZoneInfo("Europe/Paris")  # the demo's buildings
PHONE = {"width": 390, "height": 844}


class Tenant:
    """The demo's emulated tenant: its control surface and its Graph API."""

    def __init__(self, demo: Demo) -> None:
        port = urlsplit(demo.url).port or 0
        self.url = f"http://127.0.0.1:{port + 1}"  # `roomsync demo` serves graphsim next door
        self.config: dict[str, Any] = httpx.get(f"{self.url}/_sim/config").json()
        token = httpx.post(
            f"{self.config['login_url']}/{self.config['tenant_id']}/oauth2/v2.0/token",
            data={
                "grant_type": "client_credentials",
                "client_id": self.config["client_id"],
                "client_secret": self.config["client_secret"],
                "scope": "https://graph.microsoft.com/.default",
            },
        ).json()["access_token"]
        self.graph = httpx.Client(
            base_url=f"{self.config['graph_url']}/v1.0",
            headers={"Authorization": f"Bearer {token}", "Prefer": 'outlook.timezone="UTC"'},
        )

    def room_email(self, name: str) -> str:
        return str(next(room["email"] for room in self.config["rooms"] if room["name"] == name))

    def someone_else(self, *not_them: str) -> str:
        return str(next(u["email"] for u in self.config["users"] if u["email"] not in not_them))

    def book_in_outlook(self, organizer: str, room: str, start: datetime, end: datetime) -> None:
        body = {
            "subject": "Taken in Outlook",
            "start": {"dateTime": _graph_time(start), "timeZone": "UTC"},
            "end": {"dateTime": _graph_time(end), "timeZone": "UTC"},
            "location": {"displayName": room, "locationEmailAddress": room},
            "attendees": [{"emailAddress": {"address": room}, "type": "resource"}],
        }
        answer = self.graph.post(f"/users/{organizer}/events", json=body)
        assert answer.status_code == 201, answer.text

    def room_starts(self, room: str, day: date) -> list[datetime]:
        """The starts of the meetings the room's calendar holds that day (UTC)."""
        start = datetime.combine(day, time(), ZONE).astimezone(UTC)
        answer = self.graph.get(
            f"/users/{room}/calendarView",
            params={"startDateTime": _graph_time(start),
                    "endDateTime": _graph_time(start + timedelta(days=1))},
        )  # fmt: skip
        assert answer.status_code == 200, answer.text
        return [
            datetime.fromisoformat(item["start"]["dateTime"][:19]).replace(tzinfo=UTC)
            for item in answer.json()["value"]
            if not item.get("isCancelled")
        ]

    def faults(self, **body: Any) -> None:
        assert httpx.post(f"{self.url}/_sim/faults", json=body).status_code == 200


def check_page(page: Any) -> None:
    """No accessibility violation axe-core finds, and under 100 KB of HTML."""
    found = Axe().run(page)
    assert found.violations_count == 0, found.generate_report()
    size = page.evaluate("document.documentElement.outerHTML.length")
    assert size < 100_000, f"{page.url} is {size} characters"


def _graph_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")


@pytest.fixture(scope="module")
def tenant(demo: Demo) -> Iterator[Tenant]:
    found = Tenant(demo)
    yield found
    found.graph.close()


@pytest.fixture(scope="module")
def page(chromium: Any, demo: Demo) -> Iterator[Any]:
    """One signed-in occupant for the module (the sign-in itself is tested elsewhere)."""
    context = chromium.new_context(viewport={"width": 1280, "height": 1000})
    signed_in = context.new_page()
    sign_in(signed_in, demo, *demo.occupant, target="/")
    signed_in.wait_for_url(f"{demo.url}/**")
    yield signed_in
    context.close()


def search(page: Any, demo: Demo, day: date, *, start: str, people: int, building: str) -> None:
    page.goto(f"{demo.url}/")
    page.get_by_label("Date").fill(day.isoformat())
    page.get_by_label("Start").fill(start)
    page.get_by_label("People").fill(str(people))
    page.get_by_label("Building").select_option(label=building)
    page.get_by_role("button", name="Find rooms").click()
    page.get_by_role("heading", name="The day in these rooms").wait_for()


def first_room(page: Any) -> str:
    name: str = page.locator(".room-card h3").first.inner_text()
    return name.strip()


def book_first(page: Any, demo: Demo) -> None:
    page.locator(".room-card").first.get_by_role("button", name="Book").click()
    page.wait_for_url(f"{demo.url}/bookings/**")


def local_day(days_ahead: int) -> date:
    return (datetime.now(ZONE) + timedelta(days=days_ahead)).date()


def at(day: date, clock: str) -> datetime:
    return datetime.combine(day, time.fromisoformat(clock), ZONE)


def test_a_room_for_six_tomorrow_at_ten_is_booked_and_turns_confirmed_without_reloading(
    page: Any, demo: Demo, tenant: Tenant, screenshots: Path
) -> None:
    search(page, demo, local_day(1), start="10:00", people=6, building="Northgate")
    assert "Times in Europe/Paris" in page.content()
    check_page(page)
    room = tenant.room_email(first_room(page))
    # Outlook slowed down, so that the page is surely there before the room answers.
    tenant.faults(latency_ms=1500, path_contains="/events")
    try:
        book_first(page, demo)
        page.get_by_text(
            "Waiting for the room\N{RIGHT SINGLE QUOTATION MARK}s answer"
        ).first.wait_for()
        page.screenshot(path=str(screenshots / "occupant-booking-waiting.png"))
        page.evaluate("window.notReloaded = true")
        page.get_by_text("Confirmed by the room").first.wait_for(timeout=20_000)
    finally:
        tenant.faults(clear=True)
    outlook = page.get_by_role("link", name="Open in Outlook on the web")
    outlook.wait_for(timeout=10_000)  # the organizer's copy, as the push's create answered it
    assert (outlook.get_attribute("href") or "").startswith("https://outlook.")
    assert page.evaluate("window.notReloaded") is True
    check_page(page)
    page.screenshot(path=str(screenshots / "occupant-booking-confirmed.png"))
    assert at(local_day(1), "10:00").astimezone(UTC) in tenant.room_starts(room, local_day(1))


def test_a_slot_taken_in_outlook_but_not_yet_pulled_is_declined_with_the_reason_and_alternatives(
    page: Any, demo: Demo, tenant: Tenant, screenshots: Path
) -> None:
    day = local_day(2)
    search(page, demo, day, start="14:00", people=6, building="Northgate")
    room = tenant.room_email(first_room(page))
    tenant.faults(drop_notifications=20)  # roomsync does not hear of it before the click
    try:
        someone = tenant.someone_else(demo.occupant[0], demo.admin[0])
        tenant.book_in_outlook(someone, room, at(day, "14:00"), at(day, "15:00"))
        assert eventually(lambda: at(day, "14:00") in tenant.room_starts(room, day), timeout=10)
        book_first(page, demo)
        page.get_by_text("Declined by the room").wait_for(timeout=20_000)
    finally:
        tenant.faults(drop_notifications=0)
    assert page.locator(".reason").inner_text().strip()
    assert page.get_by_role("link", name="Find another room at the same time").is_visible()
    assert page.get_by_role("heading", name="Free at the same time").is_visible()
    page.screenshot(path=str(screenshots / "occupant-booking-declined.png"), full_page=True)
    check_page(page)


def test_moving_and_cancelling_a_booking_is_followed_by_the_rooms_outlook_calendar(
    page: Any, demo: Demo, tenant: Tenant, screenshots: Path
) -> None:
    day = local_day(3)
    search(page, demo, day, start="08:00", people=4, building="Riverside Tower")
    room = tenant.room_email(first_room(page))
    book_first(page, demo)
    page.get_by_text("Confirmed by the room").first.wait_for(timeout=20_000)

    page.get_by_role("link", name="Move").click()
    check_page(page)
    page.get_by_label("Start").fill("08:30")
    page.get_by_role("button", name="Move booking").click()
    page.wait_for_url(f"{demo.url}/bookings/**")
    page.get_by_text("Confirmed by the room").first.wait_for(timeout=20_000)
    moved = at(day, "08:30").astimezone(UTC)
    assert eventually(lambda: moved in tenant.room_starts(room, day), timeout=20)
    assert at(day, "08:00").astimezone(UTC) not in tenant.room_starts(room, day)

    page.goto(f"{demo.url}/my")
    page.screenshot(path=str(screenshots / "occupant-my-bookings.png"), full_page=True)
    check_page(page)
    page.once("dialog", lambda dialog: dialog.accept())
    row = page.locator(".booking-row", has_text=f"{day:%a %-d %b %Y}, 08:30")
    row.get_by_role("button", name="Cancel").click()
    page.get_by_text("is cancelled").wait_for()
    assert eventually(lambda: moved not in tenant.room_starts(room, day), timeout=20)


def test_the_finder_works_on_a_phone_and_says_what_is_wrong_next_to_the_field(
    chromium: Any, page: Any, demo: Demo, screenshots: Path
) -> None:
    phone = page.context.new_page()
    try:
        phone.set_viewport_size(PHONE)
        phone.goto(f"{demo.url}/?date={local_day(1)}&start=10:00&people=0&duration=60")
        assert "At least 1 person" in phone.locator("#people-error").inner_text()
        assert phone.locator("#people").get_attribute("aria-invalid") == "true"
        phone.goto(f"{demo.url}/?date={local_day(1)}&start=10:00&people=6&duration=60")
        phone.get_by_role("heading", name="The day in these rooms").wait_for()
        width = phone.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], f"the page scrolls sideways on a phone ({width}px)"
        phone.screenshot(path=str(screenshots / "occupant-finder-phone.png"))
        check_page(phone)
    finally:
        phone.close()


def test_a_rooms_page_shows_its_week_and_books_it(page: Any, demo: Demo, screenshots: Path) -> None:
    weekday = next(local_day(n) for n in range(4, 11) if local_day(n).weekday() < 5)
    search(page, demo, weekday, start="10:00", people=6, building="Northgate")
    page.screenshot(path=str(screenshots / "occupant-finder.png"), full_page=True)
    search(page, demo, local_day(4), start="16:00", people=2, building="Old Mill")
    page.locator(".room-card h3 a").first.click()
    page.get_by_role("heading", name="The next seven days").wait_for()
    check_page(page)
    page.screenshot(path=str(screenshots / "occupant-room.png"), full_page=True)
    page.get_by_label("Date").fill(local_day(4).isoformat())
    page.get_by_label("Start").fill("16:00")
    page.get_by_label("Title").fill("Design review")
    page.get_by_role("button", name="Book ").click()
    page.wait_for_url(f"{demo.url}/bookings/**")
    page.get_by_text("Confirmed by the room").first.wait_for(timeout=20_000)
