"""The plain peer: the best client a team could write in a few dozen lines, for the
steady-round benchmark to measure roomsync against on the same graphsim process.

asyncio with aiohttp; one ``calendarView/delta`` GET at a time per room, following
``@odata.nextLink`` until ``@odata.deltaLink`` (event-delta.md); up to 256 requests in
flight and at most 4 per mailbox (Outlook's concurrency limit, throttling-outlook.md); a
429 or 503 waits its ``Retry-After`` and is sent again; the app-only token comes once from
a plain client-credentials POST (auth-v2-service.md). No ``$batch``, no SDK.

    result = asyncio.run(run_peer_round(base_url, credentials, rooms, links, ca_bundle=ca))
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import aiohttp

IN_FLIGHT = 256
PER_MAILBOX = 4
PAGE_SIZE = 50


@dataclass(frozen=True)
class PeerCredentials:
    """An app registration's client secret, exchanged once for an app-only token."""

    tenant_id: str
    client_id: str
    client_secret: str


@dataclass(frozen=True)
class PeerResult:
    """One round: wall time, requests sent (retries included), 429s met, the peer's own
    CPU (this process, while the round ran), events seen and each room's new deltaLink."""

    seconds: float
    requests: int
    throttled: int
    cpu_seconds: float
    items: int
    delta_links: dict[str, str] = field(repr=False)

    @property
    def cpu_ms_per_request(self) -> float:
        return 1000 * self.cpu_seconds / max(1, self.requests)


@dataclass
class _Tally:
    requests: int = 0
    throttled: int = 0
    items: int = 0


def peer_session(ca_bundle: str | None, in_flight: int = IN_FLIGHT) -> aiohttp.ClientSession:
    """A session holding up to ``in_flight`` connections, trusting ``ca_bundle``."""
    tls = ssl.create_default_context(cafile=ca_bundle) if ca_bundle else True
    # Idle connections are dropped before the server's keep-alive ends (uvicorn: 5 s), so
    # a request is not sent on a connection the server is closing.
    connector = aiohttp.TCPConnector(limit=in_flight, ssl=tls, keepalive_timeout=3)
    return aiohttp.ClientSession(connector=connector)


async def fetch_token(
    session: aiohttp.ClientSession, base_url: str, credentials: PeerCredentials
) -> str:
    form = {
        "grant_type": "client_credentials",
        "client_id": credentials.client_id,
        "client_secret": credentials.client_secret,
        "scope": "https://graph.microsoft.com/.default",
    }
    url = f"{base_url}/{credentials.tenant_id}/oauth2/v2.0/token"
    async with session.post(url, data=form) as response:
        response.raise_for_status()
        return str((await response.json())["access_token"])


def initial_link(base_url: str, room: str, start: datetime, end: datetime) -> str:
    """Where a room's delta sync starts: the window, no token."""
    window = f"startDateTime={quote(start.isoformat())}&endDateTime={quote(end.isoformat())}"
    return f"{base_url}/v1.0/users/{quote(room)}/calendarView/delta?{window}"


async def run_peer_round(
    base_url: str,
    token_or_credentials: str | PeerCredentials,
    rooms: Sequence[str],
    delta_links: Mapping[str, str],
    *,
    ca_bundle: str | None = None,
    in_flight: int = IN_FLIGHT,
    per_mailbox: int = PER_MAILBOX,
    window_days: tuple[int, int] = (7, 180),
    page_size: int = PAGE_SIZE,
    session: aiohttp.ClientSession | None = None,
) -> PeerResult:
    """Bring every room up to date from its saved deltaLink (a room without one starts
    an initial sync over ``window_days`` before and after now) and return the new links.
    A ``session`` from :func:`peer_session` keeps its connections from round to round, as
    a long-running client would; without one the round opens its own."""
    now = datetime.now(UTC).replace(microsecond=0)
    start, end = now - timedelta(days=window_days[0]), now + timedelta(days=window_days[1])
    tally, links = _Tally(), dict(delta_links)
    cpu, started = time.process_time(), time.perf_counter()
    async with contextlib.AsyncExitStack() as stack:
        client = session or await stack.enter_async_context(peer_session(ca_bundle, in_flight))
        token = token_or_credentials
        if isinstance(token, PeerCredentials):
            token = await fetch_token(client, base_url, token)
        headers = {
            "Authorization": f"Bearer {token}",
            "Prefer": f'outlook.timezone="UTC", odata.maxpagesize={page_size}',
        }
        gate = asyncio.Semaphore(in_flight)
        mailboxes = {room.lower(): asyncio.Semaphore(per_mailbox) for room in rooms}

        async def sync_room(room: str) -> None:
            url = links.get(room) or initial_link(base_url, room, start, end)
            while True:
                async with gate, mailboxes[room.lower()]:
                    page, wait = await _get(client, url, headers, tally)
                if page is None:  # throttled: wait without holding a slot
                    await asyncio.sleep(wait)
                    continue
                tally.items += len(page.get("value", []))
                if "@odata.nextLink" not in page:
                    links[room] = page["@odata.deltaLink"]
                    return
                url = page["@odata.nextLink"]

        await asyncio.gather(*(sync_room(room) for room in rooms))
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    return PeerResult(seconds, tally.requests, tally.throttled, cpu, tally.items, links)


async def _get(
    session: aiohttp.ClientSession, url: str, headers: dict[str, str], tally: _Tally
) -> tuple[dict[str, Any] | None, float]:
    """One page, or None and the seconds a 429 or 503 asks to wait (``Retry-After``); a
    connection the server closed under a request is a retry at once."""
    tally.requests += 1
    try:
        return await _page(session, url, headers, tally)
    except aiohttp.ServerDisconnectedError:
        return None, 0.0


async def _page(
    session: aiohttp.ClientSession, url: str, headers: dict[str, str], tally: _Tally
) -> tuple[dict[str, Any] | None, float]:
    async with session.get(url, headers=headers) as response:
        if response.status in (429, 503):
            tally.throttled += response.status == 429
            return None, float(response.headers.get("Retry-After", "1"))
        response.raise_for_status()
        return dict(await response.json(content_type=None)), 0.0
