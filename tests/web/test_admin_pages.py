"""The admin console's pages over real HTTP: the super-admin's sign-in by pasting
ROOMSYNC_ADMIN_TOKEN, the session guard (sign in first, come back; 403 for another
role), CSRF tokens and Origin on every form, and /docs served without any CDN."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from graphsim import Simulator
from roomsync.platform.db import Database
from roomsync.web.pages.guard import same_origin_path
from tests.sync.rooms_testkit import connect, context, tenant
from tests.web.signin_testkit import COOKIE, serving
from tests.web.tenants import ADMIN_TOKEN

pytestmark = pytest.mark.slow


@dataclass(frozen=True)
class Console:
    url: str
    integration_id: uuid.UUID


@pytest.fixture
def site(database: Database, factory: Any) -> Iterator[Console]:
    sim: Simulator = tenant(rooms=3, room_lists=1)
    organization_id = factory.organization("Acme")
    ctx = context(database, sim)
    integration_id = connect(ctx, sim, organization_id)
    try:
        with serving(database, ctx) as url:
            yield Console(url, integration_id)
    finally:
        ctx.close()


@contextmanager
def signed_in(site: Console) -> Iterator[httpx.Client]:
    """A browser-like client (it sends Origin) holding the super-admin's session."""
    with httpx.Client(base_url=site.url, timeout=30, headers={"Origin": site.url}) as client:
        answer = client.post("/admin/sign-in", data={"admin_token": ADMIN_TOKEN, "next": "/admin"})
        assert answer.status_code == 303, answer.text
        assert answer.headers["location"] == "/admin"
        yield client


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([0-9a-f]{64})"', html)
    assert found, html
    return found.group(1)


def test_a_page_without_a_session_sends_to_sign_in_and_back(site: Console) -> None:
    with httpx.Client(base_url=site.url, timeout=30) as client:
        answer = client.get(f"/admin/integrations/{site.integration_id}?x=1")
        assert answer.status_code == 303
        assert answer.headers["location"] == (
            f"/admin/sign-in?next=/admin/integrations/{site.integration_id}%3Fx%3D1"
        )
        form = client.get(answer.headers["location"])
        assert form.status_code == 200
        assert "Admin token" in form.text
        assert 'type="password"' in form.text


def test_a_wrong_admin_token_is_refused_next_to_the_field(site: Console) -> None:
    with httpx.Client(base_url=site.url, timeout=30) as client:
        answer = client.post("/admin/sign-in", data={"admin_token": "nope", "next": "/admin"})
        assert answer.status_code == 401
        assert 'id="admin_token-error"' in answer.text
        assert COOKIE not in answer.cookies


def test_the_super_admin_sees_the_dashboard_of_the_one_integration(site: Console) -> None:
    with signed_in(site) as client:
        page = client.get("/admin")
        assert page.status_code == 200, page.text
        assert "Sync health" in page.text
        assert "Super-admin" in page.text
        assert 'action="/auth/logout"' in page.text
        assert len(page.content) < 100_000
        live = client.get(f"/admin/integrations/{site.integration_id}/live")
        assert live.status_code == 200
        assert "<html" not in live.text
        assert "Outbox" in live.text


def test_a_form_without_this_sessions_csrf_token_is_refused(site: Console) -> None:
    with signed_in(site) as client:
        page = client.get("/admin")
        token = csrf_of(page.text)
        path = f"/admin/integrations/{site.integration_id}/run"
        refused = client.post(path, data={"action": "bogus", "csrf": "0" * 64})
        assert refused.status_code == 403
        assert "not sent from a roomsync page" in refused.text
        accepted = client.post(path, data={"action": "bogus", "csrf": token})
        assert accepted.status_code == 303
        assert "Unknown+action" in accepted.headers["location"]


def test_a_cross_site_post_is_refused(site: Console) -> None:
    with signed_in(site) as client:
        token = csrf_of(client.get("/admin").text)
        answer = client.post(
            f"/admin/integrations/{site.integration_id}/run",
            data={"action": "rooms", "csrf": token},
            headers={"Origin": "https://evil.example"},
        )
        assert answer.status_code == 403
        assert answer.json()["error"]["code"] == "cross_site_request"


def test_retrying_a_booking_that_is_not_there_says_so(site: Console) -> None:
    with signed_in(site) as client:
        token = csrf_of(client.get("/admin").text)
        gone = "0190c7a4-0000-7000-8000-000000000000"
        answer = client.post(
            f"/admin/integrations/{site.integration_id}/retry/{gone}", data={"csrf": token}
        )
        assert answer.status_code == 303
        follow = client.get(answer.headers["location"])
        assert 'role="status"' in follow.text


def test_an_unknown_integration_is_a_404_page_not_json(site: Console) -> None:
    with signed_in(site) as client:
        answer = client.get("/admin/integrations/0190c7a4-0000-7000-8000-000000000000")
        assert answer.status_code == 404
        assert answer.headers["content-type"].startswith("text/html")


def test_docs_and_static_files_are_served_by_roomsync_itself(site: Console) -> None:
    with httpx.Client(base_url=site.url, timeout=30) as client:
        docs = client.get("/docs")
        assert docs.status_code == 200
        assert "cdn." not in docs.text
        assert "/static/vendor/swagger-ui/swagger-ui-bundle.js" in docs.text
        for path in (
            "/static/vendor/swagger-ui/swagger-ui-bundle.js",
            "/static/vendor/swagger-ui/swagger-ui.css",
            "/static/roomsync.css",
            "/static/roomsync.js",
        ):
            assert client.get(path).status_code == 200, path


@pytest.mark.parametrize(
    ("candidate", "expected"),
    [
        ("/admin/x?y=1", "/admin/x?y=1"),
        ("//evil.example/", "/admin"),
        ("https://evil.example/", "/admin"),
        ("/\\evil.example", "/admin"),
        ("admin", "/admin"),
        (None, "/admin"),
    ],
)
def test_next_is_a_path_of_this_site_only(candidate: str | None, expected: str) -> None:
    assert same_origin_path(candidate, "/admin") == expected
