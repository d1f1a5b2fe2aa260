"""Delivering to webhook endpoints (concepts/change-notifications-delivery-webhooks.md).

- Validation (concepts/includes/change-notifications-delivery-notificationurl-validation.md):
  ``POST {url}?validationToken=…`` with ``Content-Type: text/plain``; the endpoint must
  answer 200 with the token as plain text "within 10 seconds". Only that limit applies:
  the httpx client has no timeout of its own (its default of 5 s would cut in first).
- Notifications: a 2xx within 3 s is delivered; otherwise retried with exponential
  backoff (10 s per retry) for up to 4 hours, then dropped. Notifications due for one URL
  within ``batch_window`` travel in one POST ("Microsoft Graph may send multiple
  notifications that correspond to different subscriptions in the same POST request").
- Slow and dropping endpoints: see :mod:`graphsim.notifications.endpoints`. A slow endpoint's
  notifications wait ``throttled_delay`` (10 minutes) before every attempt; a dropping
  endpoint's are dropped. Listeners hear of every dropped delivery (Graph then sends
  ``missed``, concepts/change-notifications-lifecycle-events.md).
- All timings scale through :class:`graphsim.core.NotificationTimings`; everything runs on
  the background loop, counted as pending work until it ends.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import httpx

from graphsim.clock import Clock, SystemClock
from graphsim.notifications.endpoints import EndpointHealth, EndpointState

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
    dropped: bool = False

    @property
    def size(self) -> int:
        return len(self.payload.get("value") or [])


class Notifier:
    """Sends validation requests and notifications over httpx."""

    def __init__(
        self,
        background: BackgroundLoop,
        timings: NotificationTimings,
        transport: httpx.AsyncBaseTransport | None = None,
        verify: bool | str = True,
        clock: Clock | None = None,
    ) -> None:
        self.background, self.timings = background, timings
        self._transport, self._verify = transport, verify
        self._client: httpx.AsyncClient | None = None
        self._lock = threading.Lock()
        self._queued: dict[str, list[dict[str, Any]]] = {}
        self.deliveries: list[Delivery] = []
        self.health = EndpointHealth(timings, clock or SystemClock())
        self.dropped_listeners: list[Callable[[Delivery], None]] = []

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            # No httpx timeout: Graph's limits are on the whole answer, enforced below.
            self._client = httpx.AsyncClient(
                transport=self._transport,
                verify=self._verify,
                follow_redirects=False,
                timeout=httpx.Timeout(None),
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

    def enqueue(self, url: str, notification: dict[str, Any]) -> None:
        """Send ``notification`` to ``url`` with whatever else falls due for it meanwhile."""
        with self._lock:
            queue = self._queued.setdefault(url, [])
            queue.append(notification)
            first = len(queue) == 1
        if first:
            self.background.call_later(self.timings.batch_window, lambda: self._flush(url))

    def _flush(self, url: str) -> None:
        with self._lock:
            items = self._queued.pop(url, [])
        if items:
            self.send(url, {"value": items})

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
            state = self.health.state(delivery.url)
            if state is EndpointState.DROP:
                return self._drop(delivery)
            if state is EndpointState.SLOW:
                delivery.attempts.append("throttled")
                await asyncio.sleep(self.timings.throttled_delay)
            if await self._attempt(delivery, timeout):
                delivery.delivered = True
                return None
            wait = 0.0 if self.health.state(delivery.url) is EndpointState.SLOW else delay
            if time.monotonic() - started + wait > self.timings.retry_for:
                return self._drop(delivery)
            await asyncio.sleep(wait)
            delay, timeout = delay * 2, self.timings.retry_timeout

    def _drop(self, delivery: Delivery) -> None:
        delivery.attempts.append("dropped")
        delivery.dropped = True
        for listener in list(self.dropped_listeners):
            listener(delivery)

    async def _attempt(self, delivery: Delivery, timeout: float) -> bool:
        body = json.dumps(delivery.payload).encode()
        began = time.monotonic()
        try:
            response = await asyncio.wait_for(
                self._http().post(
                    delivery.url,
                    content=body,
                    headers={"Content-Type": "application/json; charset=utf-8"},
                ),
                timeout,
            )
        except TimeoutError:
            self.health.record(delivery.url, delivery.size, None)
            delivery.attempts.append("timeout")
            return False
        except httpx.HTTPError as exc:
            self.health.record(delivery.url, delivery.size, time.monotonic() - began)
            delivery.attempts.append(f"error: {type(exc).__name__}")
            return False
        self.health.record(delivery.url, delivery.size, time.monotonic() - began)
        delivery.attempts.append(str(response.status_code))
        return 200 <= response.status_code < 300

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
