"""Delivering to webhook endpoints (change-notifications-delivery-webhooks.md).

- Validation: ``POST {url}?validationToken=…`` with ``Content-Type: text/plain``; the
  endpoint must answer 200 with the token as plain text within 10 s.
- Notifications: a 2xx within 3 s is delivered; otherwise retried with exponential
  backoff (10 s timeout per retry) for up to 4 hours, then dropped. All timings scale
  through :class:`graphsim.core.NotificationTimings` so tests run fast.
- Everything runs on the background loop, counted as pending work until it ends.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import httpx

if TYPE_CHECKING:
    from graphsim.core import NotificationTimings
    from graphsim.loops import BackgroundLoop


@dataclass
class Delivery:
    """One notification POST and how it went."""

    url: str
    payload: dict[str, Any]
    attempts: list[str] = field(default_factory=list)
    delivered: bool = False


class Notifier:
    """Sends validation requests and notifications over httpx."""

    def __init__(
        self,
        background: BackgroundLoop,
        timings: NotificationTimings,
        transport: httpx.AsyncBaseTransport | None = None,
        verify: bool | str = True,
    ) -> None:
        self.background, self.timings = background, timings
        self._transport, self._verify = transport, verify
        self._client: httpx.AsyncClient | None = None
        self._lock = threading.Lock()
        self.deliveries: list[Delivery] = []

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(
                transport=self._transport, verify=self._verify, follow_redirects=False
            )
        return self._client

    async def validate(self, url: str) -> bool:
        """Run the validation handshake against ``url``."""
        return await self.background.run_here(self._validate(url))

    async def _validate(self, url: str) -> bool:
        token = (
            "Validation: Testing client application reachability for subscription "
            f"Request-Id: {secrets.token_hex(8)}"
        )
        try:
            response = await asyncio.wait_for(
                self._http().post(
                    url,
                    params={"validationToken": token},
                    headers={"Content-Type": "text/plain; charset=utf-8"},
                ),
                self.timings.validation_timeout,
            )
        except (httpx.HTTPError, TimeoutError):
            return False
        content_type = response.headers.get("content-type", "")
        return (
            response.status_code == 200
            and content_type.startswith("text/plain")
            and response.text == token
        )

    def send(self, url: str, payload: dict[str, Any]) -> Delivery:
        """Queue a POST of ``payload`` to ``url`` with Graph's retry behaviour."""
        delivery = Delivery(url, payload)
        with self._lock:
            self.deliveries.append(delivery)
        self.background.spawn(lambda: self._deliver(delivery))
        return delivery

    async def _deliver(self, delivery: Delivery) -> None:
        started, delay = time.monotonic(), self.timings.first_retry_delay
        timeout = self.timings.ack_timeout
        while True:
            if await self._attempt(delivery, timeout):
                delivery.delivered = True
                return
            if time.monotonic() - started + delay > self.timings.retry_for:
                delivery.attempts.append("dropped")
                return
            await asyncio.sleep(delay)
            delay, timeout = delay * 2, self.timings.retry_timeout

    async def _attempt(self, delivery: Delivery, timeout: float) -> bool:
        body = json.dumps(delivery.payload).encode()
        try:
            # Graph's limit is on the whole answer, so it is enforced here, not by httpx.
            response = await asyncio.wait_for(
                self._http().post(
                    delivery.url,
                    content=body,
                    headers={"Content-Type": "application/json; charset=utf-8"},
                ),
                timeout,
            )
        except (httpx.TimeoutException, TimeoutError):
            delivery.attempts.append("timeout")
            return False
        except httpx.HTTPError as exc:
            delivery.attempts.append(f"error: {type(exc).__name__}")
            return False
        delivery.attempts.append(str(response.status_code))
        return 200 <= response.status_code < 300

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
