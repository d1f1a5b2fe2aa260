"""What the sign-in tests share: a reader for graphsim's HTML forms, a browser-like walk
through the sign-in page (open the authorize URL, post the form, read the answer sent to
the redirect URI), and msal apps set up for the authorization code flow."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qsl, urljoin, urlsplit

import httpx
import msal

from graphsim import Simulator
from tests.graphsim.graphsim_testkit import LOGIN

REDIRECT = "http://localhost:8000/auth/callback"


@dataclass
class Form:
    action: str
    method: str
    inputs: list[dict[str, str]] = field(default_factory=list)
    buttons: list[str] = field(default_factory=list)

    def hidden(self) -> dict[str, str]:
        return {i["name"]: i.get("value", "") for i in self.inputs if i.get("type") == "hidden"}


class PageReader(HTMLParser):
    """The forms, labels (``for`` → text) and alerts of a page."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.forms: list[Form] = []
        self.labels: dict[str, str] = {}
        self.alerts: list[str] = []
        self._open: tuple[str, dict[str, str]] | None = None
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append(Form(values.get("action", ""), values.get("method", "get")))
        elif tag == "input" and self.forms:
            self.forms[-1].inputs.append(values)
        elif tag in ("label", "button") or values.get("role") == "alert":
            self._open = (tag if values.get("role") != "alert" else "alert", values)

    def handle_data(self, data: str) -> None:
        if self._open is None:
            return
        kind, values = self._open
        if kind == "label":
            self.labels[values.get("for", "")] = data.strip()
        elif kind == "button" and self.forms:
            self.forms[-1].buttons.append(data.strip())
        elif kind == "alert":
            self.alerts.append(data.strip())
        self._open = None

    def labelled(self, label: str) -> dict[str, str]:
        """The input the label with this text is tied to (``<label for>`` → ``id``)."""
        target = next(k for k, v in self.labels.items() if v == label)
        return next(i for f in self.forms for i in f.inputs if i.get("id") == target)


def open_sign_in(http: httpx.Client, auth_uri: str) -> PageReader:
    page = http.get(auth_uri)
    assert page.status_code == 200, page.text
    return PageReader(page.text)


def submit(http: httpx.Client, auth_uri: str, email: str, password: str) -> httpx.Response:
    """Open the sign-in page and post its form with these credentials, as a browser does."""
    reader = open_sign_in(http, auth_uri)
    form = reader.forms[0]
    data = {reader.labelled("Email")["name"]: email, reader.labelled("Password")["name"]: password}
    return http.post(urljoin(auth_uri, form.action), data=data)


def answer(response: httpx.Response) -> dict[str, str]:
    """What graphsim sent to the redirect URI: the query of a redirect, or the fields of
    the ``form_post`` page."""
    if response.status_code == 302:
        return dict(parse_qsl(urlsplit(response.headers["location"]).query))
    assert response.status_code == 200, response.text
    form = PageReader(response.text).forms[0]
    assert form.method == "post", response.text
    return form.hidden()


def sign_in(http: httpx.Client, auth_uri: str, email: str, password: str) -> dict[str, str]:
    return answer(submit(http, auth_uri, email, password))


def web_app(
    sim: Simulator,
    http: Any,
    tenant: str | None = None,
    client_id: str | None = None,
    credential: Any = None,
) -> msal.ConfidentialClientApplication:
    return msal.ConfidentialClientApplication(
        client_id or sim.credentials.client_id,
        client_credential=credential or sim.credentials.client_secret,
        authority=f"{LOGIN}/{tenant or sim.tenant_id}",
        http_client=http,
        instance_discovery=False,
    )


def person(sim: Simulator) -> tuple[str, str]:
    """A seeded person's email and password."""
    email = sorted(u["email"] for u in sim.config(LOGIN)["users"] if u["email"].startswith("user"))[
        0
    ]
    return email, sim.signin.password(email)
