"""A person at a workspace company, in Chromium, against ``roomsync demo``: sign in with
Microsoft (the emulated tenant's page) and read the admin console's sync health."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import Demo

pytestmark = pytest.mark.slow


def sign_in(page: Any, demo: Demo, email: str, password: str, target: str) -> None:
    page.goto(f"{demo.url}{target}")
    # The demo also has a super-admin token (for the set-up wizard), so the console first
    # offers its form, with Microsoft's sign-in a link away.
    if target.startswith("/admin"):
        page.get_by_role("link", name="Sign in with Microsoft").click()
    page.get_by_label("Work email").fill(email)
    page.get_by_role("button", name="Continue with Microsoft").click()
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def test_the_demo_admin_signs_in_and_sees_the_integration_healthy(
    chromium: Any, demo: Demo, screenshots: Path
) -> None:
    page = chromium.new_page(viewport={"width": 1280, "height": 1000})
    try:
        sign_in(page, demo, *demo.admin, target="/admin")

        page.wait_for_url(f"{demo.url}/admin**")
        page.get_by_role("heading", name="Sync health").wait_for()
        assert page.get_by_text("Active", exact=True).first.is_visible()
        assert demo.admin[0] in page.content()
        shot = screenshots / "admin-dashboard.png"
        page.screenshot(path=str(shot))
        assert shot.stat().st_size > 10_000
    finally:
        page.close()


def test_an_occupant_is_refused_the_admin_console_with_a_page_saying_why(
    chromium: Any, demo: Demo
) -> None:
    page = chromium.new_page()
    try:
        sign_in(page, demo, *demo.occupant, target="/admin")

        page.wait_for_load_state("networkidle")
        assert "you are signed in as occupant" in page.content()
    finally:
        page.close()
