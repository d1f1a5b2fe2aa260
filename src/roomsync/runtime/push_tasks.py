"""Queue tasks of workflow 4: pushing bookings to Outlook and reading the rooms' answers.

A booking change's commit queues a push of that booking (``Runtime._after_commit``), which
also takes other bookings of its organization that are due (a burst goes out in fewer
claims; their own messages then find nothing to do); a failed push queues itself again
for its next attempt time; a push that leaves the booking waiting for its room queues a
read of the room's answer, asked again at growing intervals until the room answers or the
integration's timeout declines it. Once a minute the outbox
sweep and a check of every waiting booking catch whatever a lost message left behind.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterable
from typing import cast

from huey import Huey, crontab

from roomsync.runtime.queue import task
from roomsync.sync.context import SyncContext
from roomsync.sync.push import push_due, sweep_outbox
from roomsync.sync.room_answers import check_room_answer, check_room_answers

logger = logging.getLogger(__name__)
FIRST_ANSWER_CHECK_SECONDS = 2.0


class PushTasks:
    def __init__(self, huey: Huey, ctx: SyncContext) -> None:
        @task(huey, "roomsync.push_booking")
        def push(booking_id: str) -> None:
            for pushed, outcome in push_due(ctx, uuid.UUID(booking_id)).items():
                if (delay := outcome.retry_in(ctx.clock())) is not None:
                    push.schedule((str(pushed),), delay=delay)
                if outcome.awaiting_room:
                    check_answer.schedule((str(pushed),), delay=FIRST_ANSWER_CHECK_SECONDS)

        @task(huey, "roomsync.check_room_answer")
        def check_answer(booking_id: str) -> None:
            outcome = check_room_answer(ctx, uuid.UUID(booking_id))
            if outcome.check_again_in is not None:
                check_answer.schedule((booking_id,), delay=outcome.check_again_in)

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


def _every_minute(huey: Huey, name: str) -> Callable[[Callable[[], None]], object]:
    """``huey.periodic_task`` every minute, typed (huey ships no type hints)."""
    return cast(Callable[[Callable[[], None]], object], huey.periodic_task(crontab(), name=name))
