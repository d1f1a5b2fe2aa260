"""What the sign-in tests share: an emulated tenant with an organization connected to it,
roomsync served on a port known before the app is built (its public URL is the redirect
URI graphsim checks), and a browser-like client that reaches both."""

from __future__ import annotations

import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urljoin

import httpx
from pydantic import SecretStr

from graphsim import Simulator
from roomsync.platform.db import Database
from roomsync.sync.context import SyncContext
from roomsync.web.app import create_app
from roomsync.web.server import serving_in_background
from tests.graphsim.signin_testkit import PageReader, submit
from tests.sync.rooms_testkit import LOGIN_URL, settings
from tests.web.tenants import ADMIN_TOKEN

COOKIE = "roomsync_session"


@dataclass(frozen=True)
class Site:
    url: str
    organization_id: uuid.UUID


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def free_port_pair() -> int:
    """A free port whose next one is free too (``roomsync demo`` serves graphsim on it)."""
    while True:
        port = free_port()
        if port < 65535:
            with socket.socket() as probe:
                try:
                    probe.bind(("127.0.0.1", port + 1))
                except OSError:
                    continue
            return port


@contextmanager
def serving(
    database: Database, ctx: SyncContext, *, port: int | None = None, **changes: Any
) -> Iterator[str]:
    """roomsync on 127.0.0.1 with ``ROOMSYNC_PUBLIC_URL`` its own address (unless changed)."""
    port = port or free_port()
    url = f"http://127.0.0.1:{port}"
    values = {"admin_token": SecretStr(ADMIN_TOKEN), "public_url": url} | changes
    app_settings = settings(**values)
    with serving_in_background(create_app(app_settings, database, sync_context=ctx), port=port):
        yield url


def browser(sim: Simulator) -> httpx.Client:
    """A client that reaches graphsim's sign-in host in-process and roomsync over HTTP,
    following no redirect by itself (the tests look at each)."""
    mounts = {LOGIN_URL.replace("https", "all"): sim.transport(), "all://": httpx.HTTPTransport()}
    return httpx.Client(mounts=mounts, timeout=60)


def login(client: httpx.Client, site: str, **query: str) -> httpx.Response:
    return client.get(f"{site}/auth/login?{urlencode(query)}")


def answer_form(response: httpx.Response) -> tuple[str, dict[str, str]]:
    """The action and fields of graphsim's auto-submitting form_post page."""
    assert response.status_code == 200, response.text
    form = PageReader(response.text).forms[0]
    return form.action, form.hidden()


def sign_in(
    client: httpx.Client, site: str, email: str, password: str, **query: str
) -> httpx.Response:
    """The whole walk, as a browser: login → sign-in page → form_post → callback."""
    started = login(client, site, login_hint=email, **query)
    assert started.status_code == 302, started.text
    auth_uri = started.headers["location"]
    action, fields = answer_form(submit(client, auth_uri, email, password))
    return client.post(urljoin(auth_uri, action), data=fields)


def alert(response: httpx.Response) -> str:
    """The message of roomsync's sign-in error page."""
    alerts = PageReader(response.text).alerts
    assert alerts, response.text
    return alerts[0]
