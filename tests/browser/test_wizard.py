"""A new administrator in Chromium, against ``roomsync demo --setup`` (an emulated tenant
and an organization not yet connected): the set-up wizard walked end to end with no
command line, and the connection check naming a permission the app lacks."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.polling import eventually
from tests.web.signin_testkit import free_port_pair

pytestmark = pytest.mark.slow

TWO_LISTS = {"Old Mill": "Lyon campus", "Northgate": "Berlin office"}
# The plain demo's unconnected organization is on its second tenant, Fabrikam; both lists'
# mailboxes are in W. Europe Standard Time, as Northgate's are.
FABRIKAM_LISTS = {"Canal Works": "Rotterdam office", "Lindenhof": "Zurich office"}


@dataclass(frozen=True)
class SetupDemo:
    url: str
    tenant_url: str
    admin_token: str
    app: dict[str, str]
    lists: dict[str, str]
    control: str
    """graphsim's control surface for the tenant being connected."""


@pytest.fixture
def setup_demo(tmp_path: Path) -> Iterator[SetupDemo]:
    """``roomsync demo --setup`` as a person starts it; what it prints is what they type."""
    yield from _demo(tmp_path, setup=True)


def _demo(tmp_path: Path, *, setup: bool) -> Iterator[SetupDemo]:
    """The demo with ``--setup`` (its organization unconnected), or plain (``make demo``:
    Fabrikam, on the second emulated tenant, unconnected)."""
    port = free_port_pair()
    log = tmp_path / "demo.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "roomsync", "demo", *(["--setup"] if setup else []),
             "--port", str(port), "--data-dir", str(tmp_path / "data"), "--activity", "0"],
            stdout=out, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
    try:
        assert eventually(lambda: "Press Ctrl-C" in log.read_text(), timeout=120), log.read_text()
        printed = log.read_text()
        token = re.search(r"\(ROOMSYNC_ADMIN_TOKEN\): (\S+)", printed)
        app = dict(re.findall(r"^\s+(Application \(client\) ID|Directory \(tenant\) ID|Client "
                              r"secret \(Value\)|Client secret expires|Service account)\s+(\S+)$",
                              printed, re.M))  # fmt: skip
        assert token, printed
        assert len(app) == 5, printed
        tenant_url = f"http://127.0.0.1:{port + 1}"
        tenant = app["Directory (tenant) ID"]
        yield SetupDemo(
            f"http://127.0.0.1:{port}", tenant_url, token.group(1), app,
            TWO_LISTS if setup else FABRIKAM_LISTS,
            f"{tenant_url}/_sim" if setup else f"{tenant_url}/_sim/tenants/{tenant}",
        )  # fmt: skip
    finally:
        process.terminate()
        process.wait(timeout=30)


def _sign_in(page: Any, demo: SetupDemo) -> None:
    page.goto(f"{demo.url}/admin/setup")
    page.get_by_label("Admin token").fill(demo.admin_token)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="Connect to Microsoft 365").wait_for()


def _fill_connection(page: Any, demo: SetupDemo, *, client_id: str | None = None) -> None:
    page.get_by_label("Application (client) ID").fill(
        client_id or demo.app["Application (client) ID"]
    )
    page.get_by_label("Directory (tenant) ID").fill(demo.app["Directory (tenant) ID"])
    page.get_by_label("Client secret", exact=True).fill(demo.app["Client secret (Value)"])
    page.get_by_label("Client secret expiration date").fill(demo.app["Client secret expires"])
    page.get_by_label("Service account email address").fill(demo.app["Service account"])


@pytest.fixture(params=["demo --setup", "make demo"])
def any_demo(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SetupDemo]:
    yield from _demo(tmp_path, setup=request.param == "demo --setup")


def test_a_new_admin_connects_the_tenant_through_the_wizard_and_sees_rooms_arrive(
    chromium: Any, any_demo: SetupDemo, screenshots: Path
) -> None:
    setup_demo = any_demo
    page = chromium.new_page(viewport={"width": 1280, "height": 1000})
    try:
        _sign_in(page, setup_demo)
        # A typo first: the message sits next to the field and the rest stays as typed.
        _fill_connection(page, setup_demo, client_id="not-a-guid")
        page.get_by_role("button", name="Save and continue").click()
        page.get_by_role("heading", name="There is a problem").wait_for()
        assert "must be a GUID" in page.locator("#client_id-error").inner_text()
        page.screenshot(path=str(screenshots / "wizard-connection-error.png"), full_page=True)
        assert (
            page.get_by_label("Directory (tenant) ID").input_value()
            == (setup_demo.app["Directory (tenant) ID"])
        )
        page.get_by_label("Application (client) ID").fill(setup_demo.app["Application (client) ID"])
        page.get_by_role("button", name="Save and check connection").click()
        page.get_by_role("heading", name=re.compile("Connection check")).wait_for()
        assert "everything needed works" in page.locator("#doctor").inner_text()
        page.get_by_role("link", name="Continue to rooms").click()

        page.get_by_label("Selected room lists").check()
        for name, building in setup_demo.lists.items():
            page.get_by_label(name, exact=True).check()
            page.get_by_label(f"Building name for {name}").fill(building)
        page.get_by_role("button", name="Preview the rooms").click()
        page.get_by_role("heading", name="20 rooms would be imported").wait_for()
        page.screenshot(path=str(screenshots / "wizard-rooms.png"), full_page=True)
        page.get_by_role("button", name="Save and continue").click()

        page.get_by_role("heading", name="Fields to import").wait_for()
        page.get_by_label("to occupants, row 2").uncheck()  # capacity
        page.locator("#field-preview").get_by_text("hidden").wait_for()
        page.screenshot(path=str(screenshots / "wizard-fields.png"), full_page=True)
        page.get_by_role("button", name="Save and continue").click()

        page.get_by_role("heading", name="Time zone and mode").wait_for()
        assert page.get_by_label("Time zone of your Microsoft 365 account").input_value() == (
            "Europe/Berlin"  # Northgate's mailboxes: W. Europe Standard Time
        )
        assert "reachable" in page.locator(".webhook").inner_text()
        page.get_by_label("Listener").check()
        page.get_by_role("button", name="Save and continue").click()

        page.get_by_role("heading", name="Import the rooms").wait_for()
        httpx.post(f"{setup_demo.control}/faults",
                   json={"latency_ms": 150, "path_contains": "calendarView"})  # fmt: skip
        page.get_by_role("button", name="Start the import").click()
        seen = _progress_values(page, screenshots)
        assert any(0 < value < 100 for value in seen), seen
        assert seen == sorted(seen), seen
        page.wait_for_url(re.compile(r".*/admin/integrations/[0-9a-f-]{36}$"), timeout=30_000)
        page.get_by_role("heading", name="Sync health").wait_for()
        assert page.get_by_text("Active", exact=True).first.is_visible()
        assert "20" in page.locator("#h-counts").locator("..").inner_text()
    finally:
        page.close()


def _progress_values(page: Any, screenshots: Path) -> list[int]:
    """The progress bar's value, read every 50 ms until the page leaves for the dashboard."""
    seen: list[int] = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and "/admin/integrations/" not in page.url:
        try:
            value = int(page.evaluate("document.getElementById('import-progress').value"))
        except Exception:
            time.sleep(0.05)
            continue
        if value and (not seen or seen[-1] != value):
            seen.append(value)
            if 0 < value < 100 and len(seen) == 2:
                page.screenshot(path=str(screenshots / "wizard-import.png"))
        time.sleep(0.05)
    return seen


def test_the_connection_check_names_the_missing_permission_and_the_click_path_to_fix_it(
    chromium: Any, setup_demo: SetupDemo, screenshots: Path
) -> None:
    granted = ["Calendars.ReadWrite", "User.Read.All", "MailboxSettings.Read"]  # no Place.Read.All
    assert httpx.post(f"{setup_demo.control}/apps/roles", json={"roles": granted}).is_success
    page = chromium.new_page(viewport={"width": 1280, "height": 1100})
    try:
        _sign_in(page, setup_demo)
        _fill_connection(page, setup_demo)
        page.get_by_role("button", name="Save and check connection").click()
        doctor = page.locator("#doctor")
        doctor.wait_for()
        row = doctor.locator("tr", has_text="Place.Read.All")
        assert "missing" in row.inner_text()
        fix = row.locator(".fix").inner_text()
        assert (
            "API permissions → Add a permission → Microsoft Graph → Application permissions" in fix
        )
        assert "Place.Read.All" in fix
        assert "Grant admin consent" in fix
        assert "something needs fixing" in doctor.inner_text()
        assert "Calendars.ReadWrite" in doctor.inner_text()  # the token's roles
        assert "days left" in doctor.inner_text()
        doctor.screenshot(path=str(screenshots / "wizard-doctor.png"))
    finally:
        page.close()


def test_a_session_that_ends_mid_wizard_signs_in_again_and_returns_to_the_step(
    chromium: Any, setup_demo: SetupDemo, screenshots: Path
) -> None:
    context = chromium.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    page = context.new_page()
    try:
        _sign_in(page, setup_demo)
        _fill_connection(page, setup_demo)
        page.get_by_role("button", name="Save and continue").click()
        page.get_by_role("heading", name="Which rooms to import").wait_for()
        step = page.url
        page.screenshot(path=str(screenshots / "wizard-phone.png"))
        context.clear_cookies()  # the session expired while the page was open
        page.get_by_label("Selected room lists").check()
        page.get_by_role("button", name="Save and continue").click()
        page.get_by_label("Admin token").fill(setup_demo.admin_token)
        page.get_by_role("button", name="Sign in").click()
        page.get_by_role("heading", name="Which rooms to import").wait_for()
        assert page.url == step
    finally:
        context.close()
