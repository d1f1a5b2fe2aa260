"""What graphsim's tests share: fast options, an msal-authenticated Graph client, an
in-process webhook receiver (reached through the notifier's transport seam) and
request-body builders."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import msal
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from graphsim import NotificationTimings, SimOptions, Simulator

GRAPH = "https://graph.microsoft.com"
LOGIN = "https://login.microsoftonline.com"
SCOPE = ["https://graph.microsoft.com/.default"]

FAST_NOTIFICATIONS = NotificationTimings(
    validation_timeout=2.0,
    ack_timeout=0.5,
    retry_timeout=0.5,
    first_retry_delay=0.05,
    retry_for=1.0,
)


def fast_options(**changes: Any) -> SimOptions:
    base: dict[str, Any] = {
        "seed": 7,
        "room_processing_delay": 0.0,
        "notifications": FAST_NOTIFICATIONS,
    }
    return SimOptions(**{**base, **changes})


@dataclass
class Receiver:
    """A webhook endpoint: echoes validation tokens, records notifications, can misbehave."""

    received: list[dict[str, Any]] = field(default_factory=list)
    validations: list[str] = field(default_factory=list)
    fail_next: int = 0
    slow_next: int = 0
    slow_seconds: float = 1.0
    echo_validation: bool = True
    validation_delay: float = 0.0

    def app(self) -> Starlette:
        async def hook(request: Request) -> Response:
            token = request.query_params.get("validationToken")
            if token is not None:
                await asyncio.sleep(self.validation_delay)
                self.validations.append(token)
                if not self.echo_validation:
                    return PlainTextResponse("nope", 200)
                return PlainTextResponse(token)
            if self.slow_next > 0:
                self.slow_next -= 1
                await asyncio.sleep(self.slow_seconds)
            if self.fail_next > 0:
                self.fail_next -= 1
                return Response(status_code=503)
            self.received.append(json.loads(await request.body()))
            return Response(status_code=202)

        return Starlette(routes=[Route("/{path:path}", hook, methods=["POST"])])

    def notifications(self) -> list[dict[str, Any]]:
        return [n for body in self.received for n in body["value"]]

    def lifecycle(self, event: str | None = None) -> list[dict[str, Any]]:
        """The lifecycle notifications received (of one ``event`` when given)."""
        found = [n for n in self.notifications() if "lifecycleEvent" in n]
        return [n for n in found if event is None or n["lifecycleEvent"] == event]

    def changes(self) -> list[dict[str, Any]]:
        return [n for n in self.notifications() if "lifecycleEvent" not in n]


class Graph:
    """A tiny Graph client for tests: bearer token, JSON in and out."""

    def __init__(self, http: httpx.Client, token: str, version: str = "v1.0") -> None:
        self.http, self.token, self.version = http, token, version

    def url(self, path: str) -> str:
        return path if path.startswith("http") else f"{GRAPH}/{self.version}{path}"

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.token}", **kwargs.pop("headers", {})}
        return self.http.request(method, self.url(path), headers=headers, **kwargs)

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", path, **kwargs)

    def patch(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("PATCH", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("DELETE", path, **kwargs)


class MsalHttpClient:
    """An ``httpx.Client`` shaped for msal's ``http_client``, decoding bytes form values.

    msal passes the certificate ``client_assertion`` as bytes; httpx form-encodes bytes
    as their repr (``b'eyJ…'``), which Entra ID (and graphsim) reject as malformed.
    """

    def __init__(self, http: httpx.Client) -> None:
        self.http = http

    def post(
        self, url: str, params: Any = None, data: Any = None, headers: Any = None, **kwargs: Any
    ) -> httpx.Response:
        if isinstance(data, dict):
            data = {k: v.decode() if isinstance(v, bytes) else v for k, v in data.items()}
        return self.http.post(url, params=params, data=data, headers=headers, **kwargs)

    def get(
        self, url: str, params: Any = None, headers: Any = None, **kwargs: Any
    ) -> httpx.Response:
        return self.http.get(url, params=params, headers=headers, **kwargs)

    def close(self) -> None:
        self.http.close()


def msal_app(
    sim: Simulator, http: httpx.Client, credential: Any = None, client_id: str | None = None
) -> msal.ConfidentialClientApplication:
    return msal.ConfidentialClientApplication(
        client_id or sim.credentials.client_id,
        client_credential=credential or sim.credentials.client_secret,
        authority=f"{LOGIN}/{sim.tenant_id}",
        http_client=http,
        instance_discovery=False,
    )


def token_for(sim: Simulator, http: Any, **kwargs: Any) -> str:
    result = msal_app(sim, http, **kwargs).acquire_token_for_client(SCOPE)
    assert "access_token" in result, result
    return str(result["access_token"])


def when(instant: datetime) -> dict[str, str]:
    return {"dateTime": instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S"), "timeZone": "UTC"}


def tomorrow_at(hour: int, minute: int = 0) -> datetime:
    base = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return base + timedelta(days=1, hours=hour, minutes=minute)


def meeting(room: str, start: datetime, minutes: int = 60, **extra: Any) -> dict[str, Any]:
    """A create-event body booking ``room`` the way user-post-events.md describes."""
    return {
        "subject": "Project sync",
        "body": {"contentType": "HTML", "content": "<p>Agenda</p>"},
        "start": when(start),
        "end": when(start + timedelta(minutes=minutes)),
        "location": {"displayName": room, "locationEmailAddress": room},
        "attendees": [{"emailAddress": {"address": room, "name": room}, "type": "resource"}],
        **extra,
    }


def rooms(sim: Simulator) -> list[str]:
    return sorted(sim.tenant.rooms)


def users(sim: Simulator) -> list[str]:
    return sorted(u.mail for u in sim.tenant.users.values() if u.has_mailbox and not u.is_room)
