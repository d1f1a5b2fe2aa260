"""What the set-up wizard's page tests share: an emulated tenant with four room lists, an
organization not yet connected, roomsync serving it, and a super-admin's browser-like
client."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from html import unescape

import httpx

from graphsim import Simulator
from roomsync.platform.db import Database
from roomsync.sync.context import SyncContext
from tests.sync.rooms_testkit import context, tenant
from tests.web.signin_testkit import serving
from tests.web.tenants import ADMIN_TOKEN

SECRET_EXPIRY = "2031-06-30"


@dataclass(frozen=True)
class Site:
    url: str
    sim: Simulator
    ctx: SyncContext
    organization_id: uuid.UUID


@contextmanager
def wizard_site(database: Database, organization_id: uuid.UUID) -> Iterator[Site]:
    sim: Simulator = tenant(rooms=8, room_lists=4)
    ctx = context(database, sim)
    try:
        with serving(database, ctx) as url:
            yield Site(url, sim, ctx, organization_id)
    finally:
        ctx.close()
        sim.close()


@contextmanager
def signed_in(site: Site) -> Iterator[httpx.Client]:
    """A client that sends Origin as a browser does, holding the super-admin's session."""
    with httpx.Client(base_url=site.url, timeout=60, headers={"Origin": site.url}) as client:
        answer = client.post("/admin/sign-in", data={"admin_token": ADMIN_TOKEN, "next": "/admin"})
        assert answer.status_code == 303, answer.text
        yield client


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([0-9a-f]{64})"', html)
    assert found, html
    return unescape(found.group(1))


def connection_form(site: Site, csrf: str, **changes: str) -> dict[str, str]:
    form = {
        "csrf": csrf,
        "organization_id": str(site.organization_id),
        "client_id": site.sim.credentials.client_id,
        "tenant_id": site.sim.tenant_id,
        "credential": "secret",
        "client_secret": site.sim.credentials.client_secret,
        "client_secret_expires_at": SECRET_EXPIRY,
        "service_account": site.sim.service_account,
        "action": "save",
    }
    return form | changes


def connect(client: httpx.Client, site: Site) -> uuid.UUID:
    """The connection step sent as typed; the id of the integration it made."""
    csrf = csrf_of(client.get("/admin/setup").text)
    answer = client.post("/admin/setup/connection", data=connection_form(site, csrf))
    assert answer.status_code == 303, answer.text
    found = re.match(r"/admin/setup/([0-9a-f-]{36})/rooms", answer.headers["location"])
    assert found, answer.headers["location"]
    return uuid.UUID(found.group(1))


def error_next_to(page: str, field_id: str) -> str:
    """The message shown next to the field whose id is ``field_id``."""
    found = re.search(
        rf'id="{re.escape(field_id)}-error"><span class="sr-only">Error:</span> ([^<]*)<', page
    )
    assert found, f"no message next to {field_id}"
    return unescape(found.group(1))
