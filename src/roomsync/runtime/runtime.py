"""One process's runtime: the queue, the sync context, and the tasks it can run.

Every roomsync process (``run``, ``api``, ``worker``, ``demo``) builds one
:class:`Runtime` from its settings: the API side to enqueue work, the worker side to run
it. Both register the same tasks under the same names, so any process can enqueue what any
worker runs. After each commit that wrote outbox rows, their pushes are queued at once;
the periodic sweep is the safety net for a queue message lost on the way.
"""

from __future__ import annotations

import logging
import uuid

import httpx
from huey import Huey
from huey.consumer import Consumer
from sqlalchemy.orm import Session

from roomsync.platform.db import Database
from roomsync.platform.enums import SyncRunKind, SyncRunTrigger
from roomsync.platform.services.outbox import take_written_outbox
from roomsync.runtime.checkin_tasks import CheckinTasks
from roomsync.runtime.listener_tasks import ListenerTasks
from roomsync.runtime.pull_tasks import PullTasks
from roomsync.runtime.push_tasks import PushTasks
from roomsync.runtime.queue import build_huey, close_queue
from roomsync.runtime.schedule_tasks import ScheduleTasks
from roomsync.settings import Settings
from roomsync.sync.context import Clock, SyncContext

logger = logging.getLogger(__name__)
QUEUE_POLL_SECONDS = (0.02, 0.1)
"""A worker thread with nothing to do polls the queue after 20 ms, backing off to 100 ms
(Huey's default grows to 10 s; Redis queues block instead of polling). A notification's
pull waits this long at most before a worker takes it; an idle poll costs one indexed
read of the queue."""


class EmbeddedConsumer(Consumer):  # type: ignore[misc]  # huey ships no type hints
    """A Huey consumer that leaves signal handling to the process hosting it (uvicorn,
    the demo, a test runner); its host stops it."""

    def _set_signal_handlers(self) -> None:
        return None


class Runtime:
    def __init__(
        self,
        settings: Settings,
        database: Database,
        *,
        transport: httpx.BaseTransport | None = None,
        huey: Huey | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.settings = settings
        self.database = database
        self.huey = huey or build_huey(settings.queue_url, name=settings.queue_name)
        self.ctx = SyncContext.build(settings, database, transport=transport, clock=clock)
        self.pulls = PullTasks(self.huey, self.ctx)
        self.listener = ListenerTasks(self.huey, self.ctx, request_pull=self.request_room_pull)
        self.pushes = PushTasks(self.huey, self.ctx)
        self.schedule = ScheduleTasks(self.huey, self.ctx, pulls=self.pulls, listener=self.listener)
        self.checkin = CheckinTasks(self.huey, self.ctx)
        database.after_commit(self._after_commit)
        database.after_rollback(_forget_outbox_writes)

    def request_room_pull(self, integration_id: uuid.UUID, resource_id: uuid.UUID) -> bool:
        """Queue a pull of one room unless one is already queued (notifications coalesce)."""
        return self.pulls.request_room_pull(integration_id, resource_id)

    def queue_run(
        self, integration_id: uuid.UUID, kind: SyncRunKind, *, force: bool = False
    ) -> None:
        """Hand an operator's "run now" to the workers (the API answers at once)."""
        target = str(integration_id)
        if kind is SyncRunKind.BOOKINGS:
            self.pulls.pull_integration(target, SyncRunTrigger.MANUAL.value)
        elif kind is SyncRunKind.RECONCILE:
            self.schedule.reconcile_rooms(target, str(force))
        elif kind is SyncRunKind.ROOMS:
            self.schedule.sync_rooms(target)
        else:
            raise ValueError(f"A {kind} run cannot be queued.")

    def after_room_import(self, integration_id: uuid.UUID) -> None:
        """A room import ran outside the queue (the API's "run now"): subscribe its rooms."""
        self.schedule.subscribe_if_listening(integration_id)

    def start_listening(self, integration_id: uuid.UUID) -> None:
        """An integration was created in, or switched to, listener mode: import its rooms
        now, which subscribes them, instead of at the scheduler's next tick."""
        self.schedule.sync_rooms(str(integration_id), SyncRunTrigger.SCHEDULE.value)

    def start_workers(self, *, workers: int = 2, periodic: bool = True) -> EmbeddedConsumer:
        """Run this runtime's tasks on worker threads of this process (stop them with
        ``.stop(graceful=True)``)."""
        consumer = EmbeddedConsumer(
            self.huey, workers=workers, worker_type="thread", periodic=periodic,
            initial_delay=QUEUE_POLL_SECONDS[0], max_delay=QUEUE_POLL_SECONDS[1],
            check_worker_health=False,
        )  # fmt: skip
        consumer.start()
        return consumer

    def close(self) -> None:
        self.pulls.close()
        self.ctx.close()
        close_queue(self.huey)

    def _after_commit(self, session: Session) -> None:
        self.pushes.request_pushes(take_written_outbox(session))


def _forget_outbox_writes(session: Session) -> None:
    take_written_outbox(session)  # rolled back: those rows do not exist
