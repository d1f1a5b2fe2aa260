"""Listener mode for the convergence machine: Graph's notifications held, then delivered,
dropped, duplicated or reordered into roomsync's real webhook code.

graphsim's notifier posts over an httpx transport (its seam); here that transport is an
:class:`Inbox` that answers the validation handshake as roomsync's webhook does (200, the
token as plain text) and holds every notification POST it is sent, answering 202. The
machine then decides what Graph's delivery does with them: hand them in order or out of
order to roomsync's :class:`NotificationReceiver` (the webhook's request side: directory
look-up, clientState check, coalesced pull requests), lose them, or send one twice. The
pulls the receiver asks for run as the runtime's notification pull does, for those rooms.

Subscriptions are made by roomsync's own sweep (``renew_subscriptions``), whose catch-up
pulls run the same way. A real deployment's safety net is the periodic full pull, which
the world's ``settle`` already does.
"""

from __future__ import annotations

import dataclasses
import json
import threading
import uuid
from typing import Any

import httpx

from graphsim.notifications.notifier import Notifier
from roomsync.platform.enums import IntegrationMode, SyncRunTrigger
from roomsync.platform.models import Integration
from roomsync.sync.listener.notifications import NotificationReceiver, SubscriptionDirectory
from roomsync.sync.listener.workflow import LifecycleNotice, handle_lifecycle, renew_subscriptions
from roomsync.sync.pull.workflow import pull_bookings
from tests.sync.harness import Tenant

PUBLIC_URL = "https://roomsync.example.test"


class Inbox(httpx.AsyncBaseTransport):
    """The webhook endpoint as Graph sees it: validates, and keeps what it is sent."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.held: list[dict[str, Any]] = []
        """Notifications received and not yet handed to roomsync, oldest first."""

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        token = request.url.params.get("validationToken")
        if token is not None:
            return httpx.Response(200, text=token, headers={"Content-Type": "text/plain"})
        body = json.loads(await request.aread())
        with self._lock:
            self.held.extend(body.get("value") or [])
        return httpx.Response(202)

    def take(self, count: int) -> list[dict[str, Any]]:
        with self._lock:
            taken, self.held = self.held[:count], self.held[count:]
        return taken

    def put_back(self, items: list[dict[str, Any]]) -> None:
        with self._lock:
            self.held.extend(items)


class Listener:
    """roomsync's listener for one world: subscriptions, the webhook and its pulls."""

    def __init__(self, tenant: Tenant) -> None:
        self.tenant = tenant
        self.inbox = Inbox()
        sim = tenant.sim
        sim.core.subscriptions.use_notifier(
            Notifier(sim.core.background, sim.options.notifications, self.inbox)
        )
        settings = tenant.ctx.settings.model_copy(update={"public_url": PUBLIC_URL})
        tenant.ctx = dataclasses.replace(tenant.ctx, settings=settings)
        with tenant.database.session() as session:
            session.get_one(Integration, tenant.integration_id).mode = IntegrationMode.LISTENER
        self.asked: dict[uuid.UUID, uuid.UUID] = {}
        """Rooms a notification or a catch-up asked to pull, not pulled yet."""
        self.lifecycle: list[LifecycleNotice] = []
        self.receiver = NotificationReceiver(
            SubscriptionDirectory(tenant.database, tenant.ctx.secrets),
            request_pull=self.request_pull,
            queue_lifecycle=self.queue_lifecycle,
        )
        self.renew()

    def queue_lifecycle(self, notice: LifecycleNotice) -> None:
        self.lifecycle.append(notice)

    def request_pull(self, integration_id: uuid.UUID, resource_id: uuid.UUID) -> bool:
        queued = resource_id not in self.asked
        self.asked[resource_id] = integration_id
        return queued

    def renew(self) -> None:
        """The runtime's subscription sweep, then the catch-up pulls it asked for."""
        renew_subscriptions(
            self.tenant.ctx, self.tenant.integration_id, request_pull=self.request_pull
        )
        self.run_pulls()

    def run_pulls(self) -> None:
        """The queued notification pulls (the runtime's worker), then lifecycle notices."""
        while self.lifecycle:
            notice = self.lifecycle.pop(0)
            handle_lifecycle(self.tenant.ctx, notice, request_pull=self.request_pull)
        if self.asked:
            rooms, self.asked = sorted(self.asked), {}
            pull_bookings(
                self.tenant.ctx,
                self.tenant.integration_id,
                trigger=SyncRunTrigger.NOTIFICATION,
                resource_ids=rooms,
            )

    # -- what Graph's delivery does with the notifications it holds ----------------------

    def deliver(self, count: int, *, reverse: bool = False) -> None:
        """The next ``count`` notifications reach the webhook in one POST, then their pulls run."""
        self.tenant.sim.settle()
        items = self.inbox.take(count)
        if items:
            self.receiver.receive_items(items[::-1] if reverse else items)
            self.run_pulls()

    def drop(self, count: int) -> None:
        self.tenant.sim.settle()
        self.inbox.take(count)

    def duplicate(self, index: int) -> None:
        """One held notification is sent again (Graph resends what it thinks was lost)."""
        self.tenant.sim.settle()
        if self.inbox.held:
            self.inbox.put_back([dict(self.inbox.held[index % len(self.inbox.held)])])

    def delay(self, count: int) -> None:
        """The next ``count`` notifications are overtaken by everything after them."""
        self.tenant.sim.settle()
        self.inbox.put_back(self.inbox.take(count))

    def flush(self) -> None:
        """Everything held is delivered: what Graph's retries end with."""
        self.deliver(len(self.inbox.held) + 1)
