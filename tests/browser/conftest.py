"""Pages in a real browser: Playwright for Python driving Debian's Chromium.

Playwright's own browser download does not reach the internet from here, so the tests use
the system's ``/usr/bin/chromium`` (``apt-get install chromium``; ``.ci/run`` installs it)
and are skipped, with the reason, where it is missing — as PostgreSQL and Redis tests are.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import sync_playwright

from tests.polling import eventually
from tests.web.signin_testkit import free_port_pair

CHROMIUM = Path(os.environ.get("ROOMSYNC_TEST_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


@pytest.fixture
def screenshots(tmp_path: Path) -> Path:
    """Where a test saves what it saw: ``ROOMSYNC_TEST_SCREENSHOTS`` when set (the README's
    come from ``ROOMSYNC_TEST_SCREENSHOTS=docs/screenshots``), else the test's own folder."""
    chosen = os.environ.get("ROOMSYNC_TEST_SCREENSHOTS")
    return Path(chosen) if chosen else tmp_path


@pytest.fixture(scope="session")
def chromium() -> Iterator[object]:
    if not CHROMIUM.exists():
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@dataclass(frozen=True)
class Demo:
    url: str
    admin: tuple[str, str]
    occupant: tuple[str, str]
    token: str = ""
    """The admin API token the demo printed."""
    tenant_url: str = ""
    """The emulated tenant (its ``/_sim`` control surface steers Microsoft 365)."""
    booking: str = ""
    """The JSON body of the try-out booking the demo suggests."""
    data: Path | None = None
    """The demo's data directory (its SQLite database), for tests that make tokens."""


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    """``roomsync demo`` as a person starts it, in its own process; its printed sign-in
    people are what the browser signs in as."""
    port = free_port_pair()
    data = tmp_path_factory.mktemp("demo")
    log = data / "demo.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "roomsync", "demo", "--port", str(port),
             "--data-dir", str(data), "--activity", "0"],
            stdout=out, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
    try:
        assert eventually(lambda: "Press Ctrl-C" in log.read_text(), timeout=120), log.read_text()
        found = re.findall(r"as (admin|occupant): (\S+)\s+password (\S+)", log.read_text())
        people = {role: (email, password) for role, email, password in found}
        url = f"http://127.0.0.1:{port}"
        assert httpx.get(f"{url}/healthz").status_code == 200
        yield Demo(url, people["admin"], people["occupant"], *_printed(log.read_text()), data=data)
    finally:
        process.terminate()
        process.wait(timeout=30)


def _printed(text: str) -> tuple[str, str, str]:
    """The admin token, the tenant's address and the suggested booking the demo printed."""
    token = re.search(r"Admin token \(shown once\): (\S+)", text)
    tenant = re.search(r"emulated tenant (http\S+)", text)
    booking = re.search(r"/bookings .* -d '(\{.*\})'", text)
    return tuple(m.group(1) if m else "" for m in (token, tenant, booking))  # type: ignore[return-value]
