"""Workflow 3, the request side: what a POST of notifications to our webhook does.

Graph counts a notification delivered only when answered with a 2xx within 3 seconds, and
slows or drops an endpoint that is often late (concepts/change-notifications-delivery-webhooks.md),
so this path does
no Graph call and, once warm, no database work: subscription id → (integration, room,
clientState) comes from an in-memory :class:`SubscriptionDirectory`, which reads every
subscription of ``room_sync_state`` in one query, and an id it does not know alone, within
a budget of such reads. Each notification's ``clientState`` is compared with the subscription's in
constant time (``hmac.compare_digest``); an unknown subscription or a wrong clientState
means the notification is not from Graph, and it is counted and ignored, never acted on
(change-notifications-delivery-webhooks.md, "Processing").

The notifications of a POST are screened as parsed JSON, before any model is built: an
unknown subscription id costs one dictionary look-up, so a flood of forged notifications
costs little more than reading its JSON, and a string of any content or length (a lone
surrogate, megabytes) is compared or refused without raising.

What a verified notification asks for is queued: a change → one coalesced pull of its
room (several notifications of one room in a batch ask once); a lifecycle event → a
:class:`LifecycleNotice` for a worker.
"""

from __future__ import annotations

import hmac
import logging
import re
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

from sqlalchemy import select

from roomsync.logs import register_client_state
from roomsync.m365.notification_models import NotificationBatch
from roomsync.platform.crypto import SecretBox, SecretUnreadableError
from roomsync.platform.db import Database
from roomsync.platform.models import RoomSyncState
from roomsync.sync.listener.workflow import LifecycleNotice, PullRequester

logger = logging.getLogger(__name__)
_GUID = re.compile(r"\{?[0-9A-Fa-f]{8}-?(?:[0-9A-Fa-f]{4}-?){3}[0-9A-Fa-f]{12}\}?")
# changenotification.md: "The maximum length is 255 characters"; a longer one is not Graph's
CLIENT_STATE_MAX_LENGTH = 255


class InvalidNotificationError(ValueError):
    """A POST whose notifications are not Graph's notification objects (the caller's 400)."""


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
        if client_state is None or len(client_state) > CLIENT_STATE_MAX_LENGTH:
            return False
        # surrogatepass: a lone surrogate from the wire is compared (and differs), not raised
        offered = client_state.encode("utf-8", "surrogatepass")
        return hmac.compare_digest(self.client_state.encode(), offered)


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
    room. An id not in the cache is read alone — a subscription another process has just
    recorded is found at once — but such reads are budgeted: ``miss_burst`` at once, then
    ``miss_reads_per_second``. A flood of forged ids spends the budget in its first
    notifications; the rest are refused from memory, one dictionary look-up each. (While
    a flood lasts, a subscription recorded during it is found at the next full read.)
    """

    def __init__(
        self,
        database: Database,
        secrets_box: SecretBox,
        *,
        ttl: float = 300.0,
        miss_reads_per_second: float = 5.0,
        miss_burst: int = 20,
        max_entries: int = 100_000,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.database, self.secrets = database, secrets_box
        self.ttl, self.max_entries, self.monotonic = ttl, max_entries, monotonic
        self.misses = _Budget(miss_reads_per_second, miss_burst, monotonic)
        self._entries: dict[str, _Entry] = {}
        self._read_at: float | None = None
        self._reading = threading.Lock()

    def lookup(self, subscription_id: str) -> KnownSubscription | None:
        now = self.monotonic()
        if self._read_at is None or now - self._read_at >= self.ttl:
            self._read_all(now)
        entry = self._entries.get(subscription_id)
        # Graph's subscription ids are GUIDs: anything else is not worth a read
        if entry is None and _GUID.fullmatch(subscription_id) and self.misses.spend():
            entry = self._read_one(subscription_id)
        return self._known(subscription_id, entry) if entry is not None else None

    def _read_all(self, now: float) -> None:
        with self._reading:  # one thread reads; the others then find the cache fresh
            if self._read_at is not None and now - self._read_at < self.ttl:
                return
            with self.database.session() as session:
                rows = session.execute(_SUBSCRIPTIONS.limit(self.max_entries)).all()
            previous = self._entries
            self._entries = {
                id_: _entry(previous.get(id_), integration_id, resource_id, state)
                for id_, integration_id, resource_id, state in rows
                if id_ and state
            }
            self._read_at = now

    def _read_one(self, subscription_id: str) -> _Entry | None:
        with self.database.session() as session:
            row = session.execute(
                _SUBSCRIPTIONS.where(RoomSyncState.subscription_id == subscription_id)
            ).first()
        if row is None or not row[3] or len(self._entries) >= self.max_entries:
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
            register_client_state(client_state)
            entry.known = KnownSubscription(entry.integration_id, entry.resource_id, client_state)
        return entry.known


class _Budget:
    """A token bucket: ``burst`` spends at once, refilled at ``per_second``."""

    def __init__(self, per_second: float, burst: int, monotonic: Callable[[], float]) -> None:
        self.per_second, self.burst, self.monotonic = per_second, burst, monotonic
        self._tokens, self._at = float(burst), monotonic()
        self._lock = threading.Lock()

    def spend(self) -> bool:
        if self._tokens < 1 and self.monotonic() - self._at < 1 / self.per_second:
            return False  # spent, and not a token's worth of time since: no lock needed
        with self._lock:
            now = self.monotonic()
            self._tokens = min(self.burst, self._tokens + (now - self._at) * self.per_second)
            self._at = now
            if self._tokens < 1:
                return False
            self._tokens -= 1
            return True


def _entry(
    previous: _Entry | None, integration_id: uuid.UUID, resource_id: uuid.UUID, encrypted: str
) -> _Entry:
    """The entry as read now, keeping the decrypted clientState of an unchanged one."""
    if previous is not None and (previous.client_state_encrypted, previous.resource_id) == (
        encrypted,
        resource_id,
    ):
        return previous
    return _Entry(integration_id, resource_id, encrypted)


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
        self._unlogged: Counter[str] = Counter()  # ignored since the last warning
        self._logged_at: float | None = None
        self._lock = threading.Lock()

    def receive_items(self, items: Sequence[object]) -> Receipt:
        """Verifies the parsed ``value`` of a POST: each item is screened from memory by
        subscription id and clientState, and only the genuine ones are read as models.

        Raises :class:`InvalidNotificationError` if an item is not a notification object
        with a ``subscriptionId`` string, or a genuine one is not a valid notification."""
        objects = [item for item in items if isinstance(item, Mapping)]
        if len(objects) != len(items):
            raise InvalidNotificationError("Each notification in value is a JSON object.")
        counts: Counter[str] = Counter()
        genuine = [item for item in objects if self._screened(item, counts)]
        try:
            batch = NotificationBatch.from_body({"value": genuine})
        except ValueError as error:  # pydantic's ValidationError is a ValueError
            raise InvalidNotificationError(
                "A notification of a known subscription is not a valid change or lifecycle "
                "notification."
            ) from error
        return self._process(batch, counts)

    def receive(self, batch: NotificationBatch) -> Receipt:
        return self._process(batch, Counter())

    def _screened(self, item: Mapping[str, object], counts: Counter[str]) -> bool:
        subscription_id, client_state = item.get("subscriptionId"), item.get("clientState")
        if not isinstance(subscription_id, str):
            raise InvalidNotificationError("Each notification has a subscriptionId string.")
        known = self.directory.lookup(subscription_id)
        if known is None:
            counts[NotificationOutcome.UNKNOWN_SUBSCRIPTION] += 1
            return False
        if not known.accepts(client_state if isinstance(client_state, str) else None):
            counts[NotificationOutcome.CLIENT_STATE_MISMATCH] += 1
            return False
        return True

    def _process(self, batch: NotificationBatch, counts: Counter[str]) -> Receipt:
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
        ignored = counts[_UNKNOWN] + counts[_MISMATCH]
        with self._lock:
            self._counts.update(counts)
            report = self._due_report(counts)
        if report:
            logger.warning(
                "Ignored %d notifications not from Microsoft Graph (unknown subscription: %d, "
                "wrong clientState: %d)",
                report[_UNKNOWN] + report[_MISMATCH],
                report[_UNKNOWN],
                report[_MISMATCH],
            )
        return Receipt(
            accepted=counts[NotificationOutcome.ACCEPTED],
            ignored=ignored,
            pulls_requested=counts[NotificationOutcome.PULLS_REQUESTED],
            lifecycle_queued=counts[NotificationOutcome.LIFECYCLE_QUEUED],
        )

    def _due_report(self, counts: Counter[str]) -> Counter[str] | None:
        """The ignored counts to warn about now: at most one warning per
        ``IGNORED_WARNING_SECONDS``, so a flood of forged POSTs is not a flood of lines."""
        self._unlogged.update({_UNKNOWN: counts[_UNKNOWN], _MISMATCH: counts[_MISMATCH]})
        now = time.monotonic()
        pending = self._unlogged[_UNKNOWN] + self._unlogged[_MISMATCH]
        if not pending or (
            self._logged_at is not None and now - self._logged_at < IGNORED_WARNING_SECONDS
        ):
            return None
        report, self._unlogged, self._logged_at = self._unlogged, Counter(), now
        return report


_UNKNOWN = NotificationOutcome.UNKNOWN_SUBSCRIPTION
_MISMATCH = NotificationOutcome.CLIENT_STATE_MISMATCH
IGNORED_WARNING_SECONDS = 10.0
