"""The release of bookings nobody checked in to, every minute.

One indexed query finds what is due (``platform.services.checkin``); each release commits
with its outbox row, and that commit queues the push as any booking change does, so the
Microsoft 365 side is told by the push machinery, once. Run by every scheduler at once, a
booking is still released once: the release re-checks it under its row locks.
"""

from __future__ import annotations

import logging
import uuid

from huey import Huey

from roomsync.platform.services.checkin import release_due_bookings
from roomsync.runtime.queue import every_minute
from roomsync.sync.context import SyncContext

logger = logging.getLogger(__name__)


class CheckinTasks:
    def __init__(self, huey: Huey, ctx: SyncContext) -> None:
        self.ctx = ctx

        @every_minute(huey, "roomsync.release_unattended_bookings")
        def release() -> None:
            self.release()

    def release(self) -> list[uuid.UUID]:
        """Release what is due now; the ids released."""
        with self.ctx.database.session() as session:
            released = release_due_bookings(session, at=self.ctx.clock())
        if released:
            logger.info("Released %d bookings nobody checked in to.", len(released))
        return released
