"""Queue tasks of workflow 2 and 3: pulling bookings, all rooms or the notified ones.

A change notification asks for a pull of its room; notifications that arrive while that
pull is still queued add nothing (a flag in the queue's key-value store, set if empty,
cleared when the pull task starts), and one that arrives while the pull runs queues one
more.

A worker does not pull a notified room alone: the task hands its room to this process's
:class:`WaitingRooms` and returns, and a few drain threads (``DRAINS``) pull the rooms
waiting, each a share of them in one multi-room pull (rooms share ``$batch`` requests,
a lease and a run record), again and again until none waits. Under a stream of
notifications each pull takes rooms notified during the previous ones, so a room waits
about one pull's duration however many rooms are notified, where one task per room
queued them behind each other. A drain's rooms live only in this process, like a task a
worker has taken from the queue: a process killed meanwhile leaves them to the polling
safety net; one stopped gracefully queues them again.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

from huey import Huey

from roomsync.platform.enums import SyncRunTrigger
from roomsync.runtime.queue import QueueTask, task
from roomsync.sync.context import SyncContext
from roomsync.sync.exceptions import LeaseHeldError
from roomsync.sync.pull.workflow import pull_bookings
from roomsync.telemetry import NOTIFICATION_TO_COMMIT

logger = logging.getLogger(__name__)
LEASE_RETRY_SECONDS = 1.0
DRAINS = 8
"""Notification pulls in flight per process: a pull applies its rooms' pages one after
the other (with the Graph lookups they need), so several pulls of a few rooms each keep
the latency of one room near one pull's duration."""
MAX_ROOMS_PER_PULL = 20  # one $batch
AskedAt = float | None
"""When a notification first asked for the room's pull (``time.time()``), if known."""


def _pending_key(resource_id: str) -> str:
    return f"pull-pending:{resource_id}"


class WaitingRooms:
    """Rooms of each integration waiting for a notification pull in this process, and how
    many drains pull them (at most ``max_drains`` per integration)."""

    def __init__(self, max_drains: int) -> None:
        self.max_drains = max_drains
        self._lock = threading.Lock()
        self._waiting: dict[uuid.UUID, dict[uuid.UUID, AskedAt]] = {}
        self._drains: Counter[uuid.UUID] = Counter()

    def add(self, integration_id: uuid.UUID, resource_id: uuid.UUID, asked_at: AskedAt) -> bool:
        """Let the room wait; True if the caller must start one more drain."""
        with self._lock:
            rooms = self._waiting.setdefault(integration_id, {})
            rooms[resource_id] = _earliest(rooms.get(resource_id), asked_at)
            if self._drains[integration_id] >= self.max_drains:
                return False
            self._drains[integration_id] += 1
            return True

    def take(self, integration_id: uuid.UUID) -> dict[uuid.UUID, AskedAt]:
        """The drain's share of the waiting rooms, longest waiting first (at most
        ``MAX_ROOMS_PER_PULL``); none means the drain is over."""
        with self._lock:
            rooms = self._waiting.get(integration_id, {})
            if not rooms:
                self._end(integration_id)
                return {}
            share = min(MAX_ROOMS_PER_PULL, -(-len(rooms) // self._drains[integration_id]))
            taken = dict(itertools.islice(rooms.items(), share))
            for resource_id in taken:
                del rooms[resource_id]
            return taken

    def abandon(self, integration_id: uuid.UUID) -> None:
        """A drain ended early: rooms still waiting go to the next drain started."""
        with self._lock:
            self._end(integration_id)

    def _end(self, integration_id: uuid.UUID) -> None:
        self._drains[integration_id] -= 1
        if self._drains[integration_id] <= 0:
            del self._drains[integration_id]
            if not self._waiting.get(integration_id):
                self._waiting.pop(integration_id, None)


def _earliest(first: AskedAt, second: AskedAt) -> AskedAt:
    known = [at for at in (first, second) if at is not None]
    return min(known) if known else None


class PullTasks:
    def __init__(self, huey: Huey, ctx: SyncContext, *, drains: int = DRAINS) -> None:
        self.huey, self.ctx = huey, ctx
        self.waiting = WaitingRooms(drains)
        self._drains = ThreadPoolExecutor(drains, thread_name_prefix="roomsync-notified-pulls")

        @task(huey, "roomsync.pull_integration")
        def pull_integration(integration_id: str, trigger: str) -> None:
            try:
                pull_bookings(ctx, uuid.UUID(integration_id), trigger=SyncRunTrigger(trigger))
            except LeaseHeldError:
                logger.info("A pull of integration %s is already running", integration_id)

        @task(huey, "roomsync.pull_room")
        def pull_room(integration_id: str, resource_id: str) -> None:
            # Popping the flag first lets a notification arriving from now on queue a new pull.
            asked_at = huey.get(_pending_key(resource_id))
            target = uuid.UUID(integration_id)
            known = asked_at if isinstance(asked_at, float) else None
            if self.waiting.add(target, uuid.UUID(resource_id), known):
                self._start_drain(target)

        self.pull_integration = pull_integration
        self.pull_room: QueueTask = pull_room

    def request_room_pull(self, integration_id: uuid.UUID, resource_id: uuid.UUID) -> bool:
        if not self.huey.put_if_empty(_pending_key(str(resource_id)), time.time()):
            return False
        self.pull_room(str(integration_id), str(resource_id))
        return True

    def _start_drain(self, integration_id: uuid.UUID) -> None:
        try:
            self._drains.submit(self.drain, integration_id)
        except RuntimeError:  # closing: drain on this worker's thread
            self.drain(integration_id)

    def close(self) -> None:
        """Wait for the drains running (each ends when no room waits)."""
        self._drains.shutdown(wait=True)

    def drain(self, integration_id: uuid.UUID) -> None:
        """Pull the integration's waiting rooms, a share at a time, until none waits (on
        shutdown, they are queued again for a later worker)."""
        try:
            while rooms := self.waiting.take(integration_id):
                if self.ctx.stopping.is_set():
                    self._pull_later(integration_id, rooms)
                else:
                    self._pull(integration_id, rooms)
        except BaseException:
            self.waiting.abandon(integration_id)  # the next room added starts a new drain
            raise

    def _pull(self, integration_id: uuid.UUID, rooms: dict[uuid.UUID, AskedAt]) -> None:
        try:
            pull_bookings(
                self.ctx,
                integration_id,
                trigger=SyncRunTrigger.NOTIFICATION,
                resource_ids=sorted(rooms),
            )
        except LeaseHeldError:  # those rooms are being pulled: pull again after that
            self._pull_later(integration_id, rooms)
            return
        except Exception:  # recorded on the run; the next notification or round retries
            logger.exception("A notification pull of %d rooms failed", len(rooms))
            return
        committed = time.time()
        for asked_at in rooms.values():
            if asked_at is not None:
                NOTIFICATION_TO_COMMIT.observe(committed - asked_at)

    def _pull_later(self, integration_id: uuid.UUID, rooms: dict[uuid.UUID, AskedAt]) -> None:
        for resource_id, asked_at in rooms.items():
            key = _pending_key(str(resource_id))
            if self.huey.put_if_empty(key, asked_at or time.time()):
                self.pull_room.schedule(
                    (str(integration_id), str(resource_id)), delay=LEASE_RETRY_SECONDS
                )
