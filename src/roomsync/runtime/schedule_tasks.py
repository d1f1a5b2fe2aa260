"""The scheduler: every minute, queue what is due for each enabled integration.

``runtime.schedule.due_jobs`` decides (rooms, then users, every 30 minutes, bookings every 2,
the midnight reconciliation, subscription renewal, the daily credential check); when each job
was last dispatched is kept in the queue's own key-value store, so every scheduler process
sees the same memory. A job dispatched twice is harmless: each workflow holds a lease.
Each tick first marks ``interrupted`` the runs whose process died, and queues their work
again at once.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from datetime import datetime

from huey import Huey
from sqlalchemy import select

from roomsync.errors import RoomsyncError
from roomsync.platform.enums import SyncRunTrigger
from roomsync.platform.models import Integration
from roomsync.runtime.listener_tasks import ListenerTasks
from roomsync.runtime.pull_tasks import PullTasks
from roomsync.runtime.queue import QueueTask, every_minute, task
from roomsync.runtime.schedule import JOB_OF_RUN, IntegrationSchedule, Job, due_jobs
from roomsync.sync.context import SyncContext
from roomsync.sync.integration.secret_expiry import check_secret_expiries
from roomsync.sync.leases import lease_ttl
from roomsync.sync.listener.workflow import is_listening
from roomsync.sync.options import IntegrationOptions
from roomsync.sync.rooms.reconcile import reconcile_rooms
from roomsync.sync.rooms.workflow import sync_rooms
from roomsync.sync.runs import interrupted_kinds, mark_interrupted_runs
from roomsync.sync.users.workflow import sync_users

logger = logging.getLogger(__name__)


class ScheduleTasks:
    def __init__(
        self, huey: Huey, ctx: SyncContext, *, pulls: PullTasks, listener: ListenerTasks
    ) -> None:
        self.huey, self.ctx = huey, ctx

        @task(huey, "roomsync.sync_rooms")
        def rooms(integration_id: str, trigger: str = _SCHEDULE.value) -> None:
            run, target = SyncRunTrigger(trigger), uuid.UUID(integration_id)
            _logged(lambda: sync_rooms(ctx, target, trigger=run))
            # The users who book follow the directory on the rooms' 30-minute rhythm.
            _logged(lambda: sync_users(ctx, target, trigger=run))
            self.subscribe_if_listening(target)

        @task(huey, "roomsync.reconcile_rooms")
        def reconcile(integration_id: str, force: str = "False") -> None:
            forced = force == "True"  # an operator's --force; the schedule never forces
            run = SyncRunTrigger.MANUAL if forced else _SCHEDULE
            _logged(
                lambda: reconcile_rooms(ctx, uuid.UUID(integration_id), trigger=run, force=forced)
            )

        @task(huey, "roomsync.check_secret_expiries")
        def credentials() -> None:
            check_secret_expiries(ctx)

        @every_minute(huey, "roomsync.dispatch_due_work")
        def dispatch() -> None:
            self.dispatch()

        self.queue: dict[Job, Callable[[str], object]] = {
            Job.SYNC_ROOMS: rooms,
            Job.RECONCILE_ROOMS: reconcile,
            Job.PULL_BOOKINGS: lambda i: pulls.pull_integration(i, _SCHEDULE.value),
            Job.RENEW_SUBSCRIPTIONS: listener.renew_subscriptions,
            Job.CHECK_CREDENTIALS: lambda _: credentials(),
        }
        self.check_credentials: QueueTask = credentials
        self.sync_rooms: QueueTask = rooms
        self.reconcile_rooms: QueueTask = reconcile
        self.listener = listener

    def subscribe_if_listening(self, integration_id: uuid.UUID) -> None:
        """After a room import: subscribe the rooms it made known now, not at the next
        minute's tick (the sweep pulls each newly subscribed room to catch up)."""
        if is_listening(self.ctx, integration_id):
            self.listener.renew_subscriptions(str(integration_id))

    def dispatch(self) -> list[tuple[uuid.UUID, Job]]:
        """Queue every job due now; returns what was queued."""
        now = self.ctx.clock()
        mark_interrupted_runs(self.ctx.database, now=now, liveness=lease_ttl(self.ctx.settings))
        queued = []
        for schedule in self._schedules():
            for job in due_jobs(schedule, now):
                self.queue[job](str(schedule.integration_id))
                self.huey.put(_key(schedule.integration_id, job), now.isoformat())
                queued.append((schedule.integration_id, job))
        return queued

    def _schedules(self) -> list[IntegrationSchedule]:
        with self.ctx.database.session() as session:
            integrations = session.scalars(
                select(Integration).where(
                    Integration.enabled.is_(True), Integration.stopped_reason.is_(None)
                )
            ).all()
            return [
                IntegrationSchedule(
                    integration_id=i.id,
                    mode=i.mode,
                    time_zone=i.time_zone,
                    options=IntegrationOptions.from_stored(i.options),
                    last_started=self._last_dispatched(i.id),
                    interrupted=frozenset(
                        JOB_OF_RUN[kind] for kind in interrupted_kinds(session, i.id, JOB_OF_RUN)
                    ),
                )
                for i in integrations
            ]

    def _last_dispatched(self, integration_id: uuid.UUID) -> dict[Job, datetime]:
        last = {}
        for job in Job:
            stamp = self.huey.get(_key(integration_id, job), peek=True)
            if stamp:
                last[job] = datetime.fromisoformat(stamp)
        return last


_SCHEDULE = SyncRunTrigger.SCHEDULE


def _key(integration_id: uuid.UUID, job: Job) -> str:
    return f"schedule:{integration_id}:{job}"


def _logged(run: Callable[[], object]) -> None:
    """A scheduled run that cannot go ahead (stopped, already running) is a log line, not a
    task failure: it is recorded in its run history when it got that far."""
    try:
        run()
    except RoomsyncError as exc:
        logger.info("Scheduled run skipped or failed: %s", exc.message)
