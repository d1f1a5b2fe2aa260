"""From outside, as a new user would: ``graphsim serve --seed demo --tenants 2`` and
``roomsync run`` as processes of their own, two organizations connected through the REST
API, and people of both tenants signing in with a browser-like client (it follows
redirects, fills the forms by their labels and submits them, sending the ``Origin`` and
``Sec-Fetch-Site`` a browser sends). Each person's ``/api/v1/me`` names them with the role
their app role gives, and each organization's people see nothing of the other's."""

from __future__ import annotations

import contextlib
import json
import os
import ssl
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urljoin, urlsplit

import httpx
import pytest

from tests.distributed.cluster import free_port
from tests.graphsim.signin_testkit import PageReader
from tests.polling import eventually

pytestmark = pytest.mark.slow

ADMIN_TOKEN = "outside-test-admin-token-0123456789abcdef"
SECRET_KEY = "outside-test-secret-key-0123456789-abcdef-ghij"


@dataclass(frozen=True)
class Organization:
    id: str
    tenant: dict[str, Any]
    integration_id: str

    def person(self, *, admin: bool) -> dict[str, Any]:
        return next(
            u
            for u in self.tenant["users"]
            if u["admin"] == admin and not u["email"].startswith("svc-")
        )


@dataclass(frozen=True)
class Outside:
    site: str
    ca_bundle: str
    organizations: list[Organization]

    def api(self) -> httpx.Client:
        return httpx.Client(
            base_url=f"{self.site}/api/v1/",
            headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
            timeout=300,
        )


class Browser:
    """Cookies, redirects and forms, the way a browser handles them."""

    def __init__(self, ca_bundle: str) -> None:
        trusted = ssl.create_default_context(cafile=ca_bundle)
        self.http = httpx.Client(follow_redirects=True, verify=trusted, timeout=60)

    def open(self, url: str) -> httpx.Response:
        return self.http.get(url)

    def submit(
        self, page: httpx.Response, fields: dict[str, str] | None = None, button: str | None = None
    ) -> httpx.Response:
        """Fill the page's first form by its labels and submit it."""
        assert page.status_code == 200, page.text
        reader = PageReader(page.text)
        form = reader.forms[0]
        if button is not None:
            assert button in form.buttons, form.buttons
        data = form.hidden()
        for label, value in (fields or {}).items():
            data[reader.labelled(label)["name"]] = value
        action = urljoin(str(page.url), form.action or str(page.url))
        if form.method.lower() == "get":
            return self.http.get(f"{action.split('?')[0]}?{urlencode(data)}")
        origin = _origin(str(page.url))
        same = origin == _origin(action)
        headers = {"Origin": origin, "Sec-Fetch-Site": "same-origin" if same else "cross-site"}
        return self.http.post(action, data=data, headers=headers)

    def sign_in(self, site: str, email: str, password: str) -> httpx.Response:
        """roomsync's sign-in page, then the tenant's, then back: where it lands."""
        asked = self.open(f"{site}/auth/login?next=/api/v1/me")
        tenant_page = self.submit(asked, {"Work email": email}, "Continue with Microsoft")
        answer = self.submit(tenant_page, {"Email": email, "Password": password}, "Sign in")
        return self.submit(answer)  # graphsim's form_post page, which a browser posts at once

    def get(self, url: str) -> httpx.Response:
        return self.http.get(url)

    def close(self) -> None:
        self.http.close()


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _started(process: subprocess.Popen[bytes], log: Path, ready: Any, what: str) -> None:
    def up() -> bool:
        assert process.poll() is None, f"{what} exited: {log.read_text()}"
        return bool(ready())

    assert eventually(up, timeout=90, every=0.2), f"{what} did not start: {log.read_text()}"


def _serving(url: str) -> bool:
    try:
        return httpx.get(f"{url}/readyz", timeout=5).status_code == 200
    except httpx.HTTPError:
        return False


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


@pytest.fixture(scope="module")
def outside(tmp_path_factory: pytest.TempPathFactory, empty_database_url: str) -> Iterator[Outside]:
    work = tmp_path_factory.mktemp("outside")
    port = free_port()
    site = f"http://127.0.0.1:{port}"
    config_path = work / "graphsim.json"
    graphsim_log, roomsync_log = work / "graphsim.log", work / "roomsync.log"
    logs = contextlib.ExitStack()
    graphsim = subprocess.Popen(
        [
            *(sys.executable, "-m", "graphsim", "serve", "--seed", "demo", "--tenants", "2"),
            *("--config-out", str(config_path), "--port", "0"),
            *("--redirect-uri", f"{site}/auth/callback"),
        ],
        cwd=work,
        stdout=logs.enter_context(graphsim_log.open("w")),
        stderr=subprocess.STDOUT,
    )
    processes = [graphsim]
    try:
        _started(
            graphsim,
            graphsim_log,
            lambda: config_path.exists() and config_path.read_text(),
            "graphsim serve",
        )
        config = json.loads(config_path.read_text())
        env = {
            **os.environ,
            "ROOMSYNC_DATABASE_URL": empty_database_url,
            "ROOMSYNC_QUEUE_URL": f"sqlite:///{work / 'queue.db'}",
            "ROOMSYNC_SECRET_KEY": SECRET_KEY,
            "ROOMSYNC_ADMIN_TOKEN": ADMIN_TOKEN,
            "ROOMSYNC_PUBLIC_URL": site,
            "ROOMSYNC_LOGIN_URL": config["login_url"],
            "ROOMSYNC_GRAPH_URL": config["graph_url"],
            "ROOMSYNC_CA_BUNDLE": config["ca_bundle"],
        }
        roomsync = subprocess.Popen(
            [sys.executable, "-m", "roomsync", "run", "--port", str(port)],
            cwd=work,
            env=env,
            stdout=logs.enter_context(roomsync_log.open("w")),
            stderr=subprocess.STDOUT,
        )
        processes.append(roomsync)
        _started(roomsync, roomsync_log, lambda: _serving(site), "roomsync run")
        world = Outside(site, config["ca_bundle"], [])
        with world.api() as api:
            for tenant in config["tenants"]:
                world.organizations.append(_connect(api, tenant))
        yield world
    finally:
        for process in reversed(processes):
            _stop(process)
        logs.close()


def _connect(api: httpx.Client, tenant: dict[str, Any]) -> Organization:
    """What an organization's admin does: the organization, its integration, its rooms
    and their bookings."""
    created = api.post("organizations", json={"name": tenant["name"]})
    assert created.status_code == 201, created.text
    organization_id = created.json()["id"]
    integration = api.post(
        "integrations",
        json={
            "organization_id": organization_id,
            "tenant_id": tenant["tenant_id"],
            "client_id": tenant["client_id"],
            "client_secret": tenant["client_secret"],
            "service_account": tenant["service_account"],
            "time_zone": "Europe/Amsterdam",
        },
    )
    assert integration.status_code == 201, integration.text
    integration_id = integration.json()["id"]
    for workflow in ("rooms", "bookings"):
        run = api.post(f"integrations/{integration_id}/sync/{workflow}")
        assert run.status_code == 200, run.text
        assert run.json()["outcome"] == "succeeded", run.text
    return Organization(organization_id, tenant, integration_id)


@pytest.fixture
def browser(outside: Outside) -> Iterator[Browser]:
    client = Browser(outside.ca_bundle)
    yield client
    client.close()


def _items(browser: Browser, site: str, path: str, **query: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        params = {"limit": "100", **query, **({"cursor": cursor} if cursor else {})}
        page = browser.get(f"{site}/api/v1/{path}?{urlencode(params)}")
        assert page.status_code == 200, page.text
        body = page.json()
        found += body["items"]
        cursor = body.get("next_cursor")
        if not cursor:
            return found


def test_the_demo_admin_signs_in_through_graphsims_page_and_is_an_admin(
    outside: Outside, browser: Browser
) -> None:
    first = outside.organizations[0]
    admin = first.person(admin=True)
    landed = browser.sign_in(outside.site, admin["email"], admin["password"])
    assert landed.status_code == 200, landed.text
    assert landed.url.path == "/api/v1/me"
    me = browser.get(f"{outside.site}/api/v1/me").json()
    assert me == {
        "email": admin["email"],
        "name": admin["name"],
        "organization_id": first.id,
        "role": "admin",
        "via": "session",
    }
    assert "roomsync_session" in browser.http.cookies


def test_the_other_demo_people_are_occupants(outside: Outside, browser: Browser) -> None:
    first = outside.organizations[0]
    person = first.person(admin=False)
    browser.sign_in(outside.site, person["email"], person["password"])
    me = browser.get(f"{outside.site}/api/v1/me").json()
    assert (me["email"], me["name"]) == (person["email"], person["name"])
    assert (me["organization_id"], me["role"], me["via"]) == (first.id, "occupant", "session")


@pytest.mark.parametrize("admin", [True, False], ids=["admin", "occupant"])
def test_the_second_tenants_people_sign_in_to_their_own_organization(
    outside: Outside, browser: Browser, admin: bool
) -> None:
    first, second = outside.organizations
    person = second.person(admin=admin)
    assert person["email"].split("@")[1] != first.person(admin=admin)["email"].split("@")[1]
    browser.sign_in(outside.site, person["email"], person["password"])
    me = browser.get(f"{outside.site}/api/v1/me").json()
    assert (me["email"], me["organization_id"]) == (person["email"], second.id)
    assert me["role"] == ("admin" if admin else "occupant")


def test_each_organization_sees_none_of_the_others_data(outside: Outside) -> None:
    seen: dict[str, dict[str, set[str]]] = {}
    browsers: dict[str, Browser] = {}
    try:
        for organization in outside.organizations:
            browser = browsers[organization.id] = Browser(outside.ca_bundle)
            person = organization.person(admin=False)
            browser.sign_in(outside.site, person["email"], person["password"])
            seen[organization.id] = _visible(browser, outside.site)
        first, second = outside.organizations
        for own, other in ((first, second), (second, first)):
            mine, theirs = seen[own.id], seen[other.id]
            domain = own.tenant["service_account"].split("@")[1]
            assert mine["resources"], "the organization's rooms were imported"
            assert mine["bookings"], "the organization's bookings were pulled"
            assert all(email.endswith(f"@{domain}") for email in mine["room_emails"])
            for kind in ("buildings", "resources", "bookings"):
                assert not mine[kind] & theirs[kind], kind
            browser = browsers[own.id]
            for kind in ("buildings", "resources", "bookings"):
                foreign = sorted(theirs[kind])[0]
                answer = browser.get(f"{outside.site}/api/v1/{kind}/{foreign}")
                assert answer.status_code in (403, 404), (kind, answer.text)
    finally:
        for browser in browsers.values():
            browser.close()


def _visible(browser: Browser, site: str) -> dict[str, set[str]]:
    buildings = _items(browser, site, "buildings")
    resources = _items(browser, site, "resources")
    bookings = [
        booking
        for room in resources[:5]
        for booking in _items(
            browser,
            site,
            "bookings",
            resource_id=room["id"],
            start="2000-01-01T00:00:00Z",
            end="2100-01-01T00:00:00Z",
        )
    ]
    return {
        "buildings": {b["id"] for b in buildings},
        "resources": {r["id"] for r in resources},
        "room_emails": {r["email"] for r in resources},
        "bookings": {b["id"] for b in bookings},
    }
