"""The simulator's state and parts, shared by the HTTP app, the control surface and the
Python API. One re-entrant lock guards tenant and mailbox state; it is never held across
an ``await``."""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass, field

from graphsim.calendar.delta import TokenCodec
from graphsim.calendar.rooms import RoomProcessor
from graphsim.calendar.service import EventService, RoomJob
from graphsim.calendar.store import CalendarStore
from graphsim.clock import Clock, SystemClock
from graphsim.control.faults import Faults
from graphsim.directory.changes import DirectoryChanges
from graphsim.directory.tenant import Tenant
from graphsim.graph import GraphPipeline
from graphsim.identity.tokens import Identity
from graphsim.ids import IdFactory
from graphsim.loops import BackgroundLoop
from graphsim.notifications.lifecycle import LifecycleTicker
from graphsim.notifications.subscriptions import Subscriptions
from graphsim.requestlog import RequestLog
from graphsim.signin.service import SignIn
from graphsim.throttling import Throttle, ThrottleLimits


@dataclass(frozen=True)
class NotificationTimings:
    """Webhook delivery timings, scalable so tests run fast. The defaults are Microsoft's:

    - ``validation_timeout``: the endpoint answers the handshake "within 10 seconds"
      (concepts/includes/change-notifications-delivery-notificationurl-validation.md);
    - ``ack_timeout``, ``retry_for``: a 2xx "within 3 seconds", resent "for up to 4 hours";
      ``slow_response`` 2,900 ms, ``health_sample`` 100 notifications, ``slow_share`` 10 %,
      ``drop_share`` 15 %, ``health_window`` and ``throttled_delay`` 10 minutes
      (concepts/change-notifications-delivery-webhooks.md);
    - ``retry_timeout``, ``first_retry_delay``: graphsim's choice (Microsoft documents no
      per-retry timeout or backoff start);
    - ``batch_window``: how long graphsim gathers notifications due for one URL into one
      POST ("may send multiple notifications … in the same POST request", same page).
    """

    validation_timeout: float = 10.0
    ack_timeout: float = 3.0
    retry_timeout: float = 10.0
    first_retry_delay: float = 60.0
    retry_for: float = 4 * 3600.0
    slow_response: float = 2.9
    health_sample: int = 100
    slow_share: float = 0.10
    drop_share: float = 0.15
    health_window: float = 600.0
    throttled_delay: float = 600.0
    batch_window: float = 0.05
    lifecycle_tick: float = 1.0


@dataclass(frozen=True)
class SimOptions:
    """Everything about the simulator's behaviour that tests may want to change."""

    seed: int = 1
    access_token_lifetime: int = 3599
    room_processing_delay: float = 0.2
    throttle: ThrottleLimits = field(default_factory=ThrottleLimits)
    notifications: NotificationTimings = field(default_factory=NotificationTimings)
    delta_page_size: int = 10
    change_log_size: int = 50_000
    request_log_size: int = 500_000
    batch_concurrency: int = 4


class Core:
    """All the simulator's parts, wired together."""

    def __init__(self, tenant: Tenant, options: SimOptions, clock: Clock | None = None) -> None:
        self.options = options
        self.tenant = tenant
        self.directory_changes = DirectoryChanges()
        self.clock: Clock = clock or SystemClock()
        self.lock = threading.RLock()
        self.ids = IdFactory(options.seed)
        self.background = BackgroundLoop()
        self.store = CalendarStore(options.change_log_size)
        self.identity = Identity(tenant, self.clock, self.ids, options.access_token_lifetime)
        self.signin = SignIn(self)
        self.faults = Faults(options.seed)
        self.throttle = Throttle(options.throttle, self.clock)
        self.log = RequestLog(options.request_log_size)
        self.codec = TokenCodec(hashlib.sha256(f"graphsim-{options.seed}".encode()).digest())
        self.events = EventService(self.store, tenant, self.ids, self.clock, self.schedule_room)
        self.rooms = RoomProcessor(self.store, tenant, self.ids, self.clock)
        self.subscriptions = Subscriptions(self)
        self.store.listeners.append(self.subscriptions.on_change)
        self.room_delay = options.room_processing_delay
        self.inline_rooms = False
        self.pipeline: GraphPipeline = GraphPipeline(self, [])
        self.lifecycle = LifecycleTicker(self, options.notifications.lifecycle_tick)

    def schedule_room(self, job: RoomJob) -> None:
        """Let the room mailbox answer after the configured delay, on the background loop
        (seeding runs it inline: seeded meetings are already answered)."""
        if self.inline_rooms:
            self.rooms.run(job)
            return
        self.background.call_later(self.room_delay, lambda: self.run_room_job(job))

    def run_room_job(self, job: RoomJob) -> None:
        with self.lock:
            self.rooms.run(job)

    def close(self) -> None:
        self.lifecycle.stop()
        self.background.close()
