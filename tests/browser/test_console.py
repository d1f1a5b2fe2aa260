"""The admin console in Chromium against ``roomsync demo``: a push Microsoft 365 refused
shows on the dashboard with Graph's message and its Retry button sends it again; a room
excluded in its page stays excluded after the next import; an API token is created (shown
once) and revoked. Saves the dashboard's and a room page's screenshots."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.browser.conftest import Demo
from tests.browser.test_sign_in_and_dashboard import sign_in
from tests.polling import eventually

pytestmark = pytest.mark.slow


@pytest.fixture
def admin_page(chromium: Any, demo: Demo) -> Iterator[Any]:
    page = chromium.new_page(viewport={"width": 1280, "height": 1000})
    page.on("dialog", lambda dialog: dialog.accept())  # the console's "are you sure?"
    try:
        sign_in(page, demo, *demo.admin, target="/admin")
        page.get_by_role("heading", name="Sync health").wait_for()
        yield page
    finally:
        page.close()


def api(demo: Demo, token: str | None = None) -> httpx.Client:
    bearer = {"Authorization": f"Bearer {token or demo.token}"}
    return httpx.Client(base_url=f"{demo.url}/api/v1", headers=bearer, timeout=30)


def sync_state(demo: Demo, booking_id: str) -> str:
    with api(demo) as client:
        state: str = client.get(f"bookings/{booking_id}").json()["sync"]["state"]
        return state


def test_a_failed_push_shows_on_the_dashboard_and_retry_sends_it_again(
    admin_page: Any, demo: Demo, screenshots: Path
) -> None:
    body = json.loads(demo.booking)
    with httpx.Client(base_url=demo.tenant_url, timeout=30) as tenant:
        refused = {"fail_next": 1, "status": 400, "path_contains": "/events",
                   "mailbox": body["organizer_email"]}  # fmt: skip
        assert tenant.post("/_sim/faults", json=refused).status_code == 200
    with api(demo) as client:
        made = client.post("bookings", json=body)
    assert made.status_code == 201, made.text
    booking_id = made.json()["id"]
    assert eventually(lambda: sync_state(demo, booking_id) == "failed", timeout=60)

    page = admin_page
    retry = page.get_by_role("button", name=f"Retry booking {booking_id}")
    retry.wait_for(timeout=30_000)  # the dashboard refreshes itself
    row = page.locator("tr", has=retry)
    assert "400" in row.inner_text()
    retry.scroll_into_view_if_needed()
    assert retry.is_visible()
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(screenshots / "admin-dashboard.png"))
    retry.click()

    page.get_by_text("will be sent to Microsoft 365 again").wait_for()
    assert eventually(lambda: sync_state(demo, booking_id) == "synced", timeout=60)
    page.get_by_role("button", name=f"Retry booking {booking_id}").wait_for(
        state="detached", timeout=30_000
    )


def test_a_room_excluded_in_its_page_stays_excluded_after_the_next_import(
    admin_page: Any, demo: Demo, screenshots: Path
) -> None:
    page = admin_page
    page.get_by_role("link", name="Buildings & rooms").click()
    page.get_by_role("link", name="All rooms").click()
    first_room = page.locator("table a.strong").nth(3)
    name = first_room.inner_text()
    page.get_by_label("Find a room by name or email").fill(name)
    page.get_by_role("button", name="Search").click()
    page.get_by_role("link", name=name, exact=True).click()
    page.get_by_role("heading", name="Fields").wait_for()
    page.screenshot(path=str(screenshots / "admin-room.png"))
    room_id = page.url.rsplit("/", 1)[-1].split("?")[0]

    page.get_by_role("button", name="Exclude from import").click()
    page.get_by_role("status").filter(has_text="Excluded from the import").wait_for()
    with api(demo) as client:
        integration = client.get("integrations").json()["items"][0]["id"]
        report = client.post(f"integrations/{integration}/sync/rooms")
        assert report.status_code == 200, report.text
        assert report.json()["counts"]["excluded"] == 1
        room = client.get(f"resources/{room_id}").json()
    assert (room["excluded_from_import"], room["active"]) == (True, False)
    page.reload()
    assert page.get_by_role("button", name="Include in the import again").is_visible()


def test_an_api_token_is_created_shown_once_and_revoked(admin_page: Any, demo: Demo) -> None:
    page = admin_page
    page.get_by_role("link", name="Tokens").click()
    page.get_by_label("Name").fill("Lobby screen tool")
    page.get_by_label("What it may do").select_option("admin")
    page.get_by_role("button", name="Create token").click()
    secret = page.locator("#new-token").inner_text().strip()
    assert secret.startswith("rs_")
    with api(demo, secret) as client:
        assert client.get("me").status_code == 200

    page.reload()  # shown once: not on the page any more, and not made a second time
    assert secret not in page.content()
    assert page.get_by_role("button", name="Revoke token Lobby screen tool").count() == 1
    page.get_by_role("button", name="Revoke token Lobby screen tool").click()
    page.get_by_text("is revoked").wait_for()
    with api(demo, secret) as client:
        assert client.get("me").status_code == 401


def test_the_room_table_sorts_and_filters_in_place_without_a_reload(admin_page: Any) -> None:
    page = admin_page
    page.evaluate("window.stillTheSamePage = true")
    page.get_by_role("link", name="Errors", exact=True).click()
    page.wait_for_url("**rooms_sort=errors**")
    page.wait_for_function(
        "document.querySelector('#room-health th[aria-sort]').textContent.trim()"
        ".startsWith('Errors')"
    )

    page.get_by_label("Filter").fill("northgate")
    page.wait_for_url("**rooms_q=northgate**")
    rows = page.locator("#room-health tbody tr")
    page.wait_for_function("document.querySelectorAll('#room-health tbody tr').length === 10")
    assert all("Northgate" in text for text in rows.all_inner_texts())
    assert page.evaluate("window.stillTheSamePage") is True
    assert page.get_by_label("Filter").input_value() == "northgate"
