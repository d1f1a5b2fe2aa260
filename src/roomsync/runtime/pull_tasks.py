"""Queue tasks of workflow 2 and 3: pulling bookings, all rooms or one room.

A change notification asks for a pull of its room; notifications that arrive while that
pull is still queued add nothing (a flag in the queue's key-value store, set if empty,
cleared when the pull starts), and one that arrives while the pull runs queues one more.
"""

from __future__ import annotations

import logging
import time
import uuid

from huey import Huey

from roomsync.platform.enums import SyncRunTrigger
from roomsync.runtime.queue import task
from roomsync.sync.context import SyncContext
from roomsync.sync.exceptions import LeaseHeldError
from roomsync.sync.pull import pull_bookings
from roomsync.telemetry import NOTIFICATION_TO_COMMIT

logger = logging.getLogger(__name__)
LEASE_RETRY_SECONDS = 1.0


def _pending_key(resource_id: str) -> str:
    return f"pull-pending:{resource_id}"


class PullTasks:
    def __init__(self, huey: Huey, ctx: SyncContext) -> None:
        self.huey = huey

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
            try:
                pull_bookings(
                    ctx,
                    uuid.UUID(integration_id),
                    trigger=SyncRunTrigger.NOTIFICATION,
                    resource_ids=[uuid.UUID(resource_id)],
                )
            except LeaseHeldError:  # the room is being pulled: pull again after it
                if huey.put_if_empty(_pending_key(resource_id), asked_at or time.time()):
                    pull_room.schedule((integration_id, resource_id), delay=LEASE_RETRY_SECONDS)
                return
            if isinstance(asked_at, float):
                NOTIFICATION_TO_COMMIT.observe(time.time() - asked_at)

        self.pull_integration = pull_integration
        self.pull_room = pull_room

    def request_room_pull(self, integration_id: uuid.UUID, resource_id: uuid.UUID) -> bool:
        if not self.huey.put_if_empty(_pending_key(str(resource_id)), time.time()):
            return False
        self.pull_room(str(integration_id), str(resource_id))
        return True
