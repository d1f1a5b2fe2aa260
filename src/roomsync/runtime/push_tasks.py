"""Queue tasks of workflow 4: pushing bookings to Outlook and reading the rooms' answers.

A booking change's commit queues a push of that booking (``Runtime._after_commit``), which
also takes other bookings of its organization that are due (a burst goes out in fewer
claims; their own messages then find nothing to do); a failed push queues itself again
for its next attempt time; a push that leaves the booking waiting for its room queues a
read of the room's answer (one message for the bookings one push task sent), asked again
at growing intervals until the room answers or the integration's timeout declines it.
Once a minute the outbox sweep and a check of every waiting booking catch whatever a lost
message left behind.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterable
from typing import cast

from huey import Huey, crontab

from roomsync.runtime.queue import QueueTask, task
from roomsync.sync.context import SyncContext
from roomsync.sync.push import push_due, sweep_outbox
from roomsync.sync.room_answers import check_answers_of, check_room_answers

logger = logging.getLogger(__name__)
FIRST_ANSWER_CHECK_SECONDS = 2.0
ANSWER_PRIORITY = 10
"""Reading a room's answer goes before queued pushes (a burst queues one push message per
booking, most of which find their booking already sent by a batch-mate): a booking is
confirmed seconds after its room answered, not after the burst drained."""


class PushTasks:
    def __init__(self, huey: Huey, ctx: SyncContext) -> None:
        @task(huey, "roomsync.push_booking")
        def push(booking_id: str) -> None:
            outcomes = push_due(ctx, uuid.UUID(booking_id))
            for pushed, outcome in outcomes.items():
                if (delay := outcome.retry_in(ctx.clock())) is not None:
                    push.schedule((str(pushed),), delay=delay)
            awaiting = tuple(str(b) for b, outcome in outcomes.items() if outcome.awaiting_room)
            if awaiting:
                check_answer.schedule(awaiting, delay=FIRST_ANSWER_CHECK_SECONDS)

        @_task(huey, "roomsync.check_room_answer", priority=_answer_priority(huey))
        def check_answer(*booking_ids: str) -> None:
            outcomes = check_answers_of(ctx, [uuid.UUID(b) for b in booking_ids])
            again = {str(b): o.check_again_in for b, o in outcomes.items() if o.check_again_in}
            if again:
                check_answer.schedule(tuple(again), delay=min(again.values()))

        def sweep_now() -> None:
            sweep_outbox(ctx)
            check_room_answers(ctx)

        self.push = push
        self.check_answer = check_answer
        self.sweep = task(huey, "roomsync.sweep_outbox")(sweep_now)
        _every_minute(huey, "roomsync.sweep_outbox_every_minute")(sweep_now)

    def request_pushes(self, booking_ids: Iterable[uuid.UUID]) -> None:
        """Queue a push of each booking (called after the commit that wrote their rows)."""
        for booking_id in booking_ids:
            self.push(str(booking_id))


def _answer_priority(huey: Huey) -> int | None:
    """``ANSWER_PRIORITY`` where the queue orders by priority (SQLite, PostgreSQL); plain
    Redis lists cannot, and refuse one."""
    return ANSWER_PRIORITY if getattr(huey.storage, "priority", False) else None


def _task(
    huey: Huey, name: str, *, priority: int | None
) -> Callable[[Callable[..., None]], QueueTask]:
    """``huey.task`` with a stable name and a priority, typed (huey ships no type hints)."""
    return cast(Callable[[Callable[..., None]], QueueTask], huey.task(name=name, priority=priority))


def _every_minute(huey: Huey, name: str) -> Callable[[Callable[[], None]], object]:
    """``huey.periodic_task`` every minute, typed (huey ships no type hints)."""
    return cast(Callable[[Callable[[], None]], object], huey.periodic_task(crontab(), name=name))
