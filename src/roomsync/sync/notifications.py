"""Workflow 3, the request side: what a POST of notifications to our webhook does.

Graph counts a notification delivered only when answered with a 2xx within 3 seconds, and
slows or drops an endpoint that is often late (graph-wire-facts §5d), so this path does
no Graph call and, once warm, no database work: subscription id → (integration, room,
clientState) comes from an in-memory :class:`SubscriptionDirectory`, which reads every
subscription of ``room_sync_state`` in one query on a miss. Each notification's
``clientState`` is compared with the subscription's in constant time
(``hmac.compare_digest``); an unknown subscription or a wrong clientState means the
notification is not from Graph, and it is counted and ignored, never acted on
(change-notifications-delivery-webhooks.md, "Processing").

What a verified notification asks for is queued: a change → one coalesced pull of its
room (several notifications of one room in a batch ask once); a lifecycle event → a
:class:`LifecycleNotice` for a worker.
"""

from __future__ import annotations

import hmac
import logging
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

from sqlalchemy import select

from roomsync.m365.notification_models import NotificationBatch
from roomsync.platform.crypto import SecretBox, SecretUnreadableError
from roomsync.platform.db import Database
from roomsync.platform.models import RoomSyncState
from roomsync.sync.listener import LifecycleNotice, PullRequester

logger = logging.getLogger(__name__)


class LifecycleQueue(Protocol):
    """Queues a verified lifecycle notification for a worker."""

    def __call__(self, notice: LifecycleNotice) -> None: ...


class NotificationOutcome(StrEnum):
    """The counters a receiver keeps."""

    ACCEPTED = "accepted"
    UNKNOWN_SUBSCRIPTION = "unknown_subscription"
    CLIENT_STATE_MISMATCH = "client_state_mismatch"
    PULLS_REQUESTED = "pulls_requested"
    PULLS_COALESCED = "pulls_coalesced"
    LIFECYCLE_QUEUED = "lifecycle_queued"


@dataclass(frozen=True)
class KnownSubscription:
    integration_id: uuid.UUID
    resource_id: uuid.UUID
    client_state: str = field(repr=False)

    def accepts(self, client_state: str | None) -> bool:
        """True if ``client_state`` is this subscription's, compared in constant time."""
        if client_state is None:
            return False
        # surrogatepass: a forged clientState may hold a lone surrogate (JSON's "\ud800"),
        # which plain UTF-8 cannot encode; it then simply does not match.
        given = client_state.encode("utf-8", "surrogatepass")
        return hmac.compare_digest(self.client_state.encode(), given)


@dataclass
class _Entry:
    """A recorded subscription as read; its clientState is decrypted on first use."""

    integration_id: uuid.UUID
    resource_id: uuid.UUID
    client_state_encrypted: str = field(repr=False)
    known: KnownSubscription | None = None


class SubscriptionDirectory:
    """Subscription id → :class:`KnownSubscription`, cached in memory.

    Every recorded subscription is read in one query when the cache is empty or older
    than ``ttl`` seconds (a recreated subscription's old id stops being honoured), so a
    burst of notifications for many rooms after a start costs one query, not one per
    room. An id not in the cache is read alone, and a miss is remembered for
    ``unknown_ttl`` seconds: a subscription created by another process is found at
    once, while a flood of forged ids costs one query per id and second at most.
    """

    def __init__(
        self,
        database: Database,
        secrets_box: SecretBox,
        *,
        ttl: float = 300.0,
        unknown_ttl: float = 1.0,
        max_entries: int = 100_000,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.database, self.secrets = database, secrets_box
        self.ttl, self.unknown_ttl, self.max_entries = ttl, unknown_ttl, max_entries
        self.monotonic = monotonic
        self._entries: dict[str, _Entry] = {}
        self._misses: dict[str, float] = {}
        self._read_at: float | None = None
        self._reading = threading.Lock()

    def lookup(self, subscription_id: str) -> KnownSubscription | None:
        if not _is_guid(subscription_id):  # Graph's subscription ids are GUIDs
            return None
        now = self.monotonic()
        if self._read_at is None or now - self._read_at >= self.ttl:
            self._read_all(now)
        entry = self._entries.get(subscription_id) or self._read_one(subscription_id, now)
        return self._known(subscription_id, entry) if entry is not None else None

    def _read_all(self, now: float) -> None:
        with self._reading:  # one thread reads; the others then find the cache fresh
            if self._read_at is not None and now - self._read_at < self.ttl:
                return
            with self.database.session() as session:
                rows = session.execute(_SUBSCRIPTIONS.limit(self.max_entries)).all()
            self._entries = {id_: _Entry(i, r, state) for id_, i, r, state in rows if id_ and state}
            self._misses, self._read_at = {}, now

    def _read_one(self, subscription_id: str, now: float) -> _Entry | None:
        missed_at = self._misses.get(subscription_id)
        if missed_at is not None and now - missed_at < self.unknown_ttl:
            return None
        with self.database.session() as session:
            row = session.execute(
                _SUBSCRIPTIONS.where(RoomSyncState.subscription_id == subscription_id)
            ).first()
        if row is None or not row[3]:
            if len(self._misses) >= self.max_entries:
                self._misses.clear()
            self._misses[subscription_id] = now
            return None
        entry = self._entries[subscription_id] = _Entry(row[1], row[2], row[3])
        return entry

    def _known(self, subscription_id: str, entry: _Entry) -> KnownSubscription | None:
        if entry.known is None:
            try:
                client_state = self.secrets.decrypt(entry.client_state_encrypted)
            except SecretUnreadableError:
                logger.warning(
                    "The clientState of subscription %s cannot be decrypted", subscription_id
                )
                return None  # the sweep recreates it
            entry.known = KnownSubscription(entry.integration_id, entry.resource_id, client_state)
        return entry.known


_SUBSCRIPTIONS = select(
    RoomSyncState.subscription_id,
    RoomSyncState.integration_id,
    RoomSyncState.resource_id,
    RoomSyncState.subscription_client_state_encrypted,
).where(RoomSyncState.subscription_client_state_encrypted.is_not(None))


@dataclass(frozen=True)
class Receipt:
    """What one POST of notifications led to."""

    accepted: int
    ignored: int
    pulls_requested: int
    lifecycle_queued: int


class NotificationReceiver:
    """Verifies a batch of notifications and queues what the genuine ones ask for."""

    def __init__(
        self,
        directory: SubscriptionDirectory,
        *,
        request_pull: PullRequester,
        queue_lifecycle: LifecycleQueue,
    ) -> None:
        self.directory = directory
        self.request_pull, self.queue_lifecycle = request_pull, queue_lifecycle
        self._counts: Counter[str] = Counter()
        self._lock = threading.Lock()

    def receive(self, batch: NotificationBatch) -> Receipt:
        counts: Counter[str] = Counter()
        rooms: dict[uuid.UUID, uuid.UUID] = {}
        for change in batch.changes:
            if known := self._verified(change.subscription_id, change.client_state, counts):
                rooms[known.resource_id] = known.integration_id
        for resource_id, integration_id in rooms.items():
            queued = self.request_pull(integration_id, resource_id)
            outcome = (
                NotificationOutcome.PULLS_REQUESTED
                if queued
                else NotificationOutcome.PULLS_COALESCED
            )
            counts[outcome] += 1
        for event in batch.lifecycle:
            if known := self._verified(event.subscription_id, event.client_state, counts):
                self.queue_lifecycle(
                    LifecycleNotice(
                        known.integration_id, known.resource_id, event.subscription_id,
                        event.lifecycle_event,
                    )
                )  # fmt: skip
                counts[NotificationOutcome.LIFECYCLE_QUEUED] += 1
        return self._settle(counts)

    def counts(self) -> dict[str, int]:
        """Totals since this receiver was built, by :class:`NotificationOutcome`."""
        with self._lock:
            return {outcome: self._counts[outcome] for outcome in NotificationOutcome}

    def _verified(
        self, subscription_id: str, client_state: str | None, counts: Counter[str]
    ) -> KnownSubscription | None:
        known = self.directory.lookup(subscription_id)
        if known is None:
            counts[NotificationOutcome.UNKNOWN_SUBSCRIPTION] += 1
            return None
        if not known.accepts(client_state):
            counts[NotificationOutcome.CLIENT_STATE_MISMATCH] += 1
            return None
        counts[NotificationOutcome.ACCEPTED] += 1
        return known

    def _settle(self, counts: Counter[str]) -> Receipt:
        with self._lock:
            self._counts.update(counts)
        ignored = (
            counts[NotificationOutcome.UNKNOWN_SUBSCRIPTION]
            + counts[NotificationOutcome.CLIENT_STATE_MISMATCH]
        )
        if ignored:
            logger.warning(
                "Ignored %d notifications not from Microsoft Graph (unknown subscription: %d, "
                "wrong clientState: %d)",
                ignored,
                counts[NotificationOutcome.UNKNOWN_SUBSCRIPTION],
                counts[NotificationOutcome.CLIENT_STATE_MISMATCH],
            )
        return Receipt(
            accepted=counts[NotificationOutcome.ACCEPTED],
            ignored=ignored,
            pulls_requested=counts[NotificationOutcome.PULLS_REQUESTED],
            lifecycle_queued=counts[NotificationOutcome.LIFECYCLE_QUEUED],
        )


def _is_guid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return len(value) <= 38
