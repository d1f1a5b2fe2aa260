"""Queue tasks of workflow 4: pushing bookings to Outlook and reading the rooms' answers.

A booking change's commit queues a push (``Runtime._after_commit``) naming one of its
bookings and its organization, unless one for that organization is queued and not yet
started (a flag in the queue's key-value store, set if empty, cleared when the push
starts, disregarded after ``STALE_REQUEST_SECONDS``). The push claims the due rows of up
to 20 bookings of the organization; when more may be due it queues the next push at
once, so several workers share a burst. A failed push queues itself again for its next
attempt time; a push that leaves bookings waiting for their rooms queues one read of
their answers, asked again at growing intervals until the rooms answer or the
integration's timeout declines them.
Every ``SWEEP_SECONDS`` the outbox sweep and a check of every waiting booking catch
whatever a lost message left behind, and a booking whose push has not got through within
its integration's ``room_answer_timeout_seconds`` is declined (``sync.push_failure``).
Huey's periodic tasks tick once a minute, so the minute's sweep queues the others of that
minute with a delay.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Mapping
from typing import cast

from huey import Huey, crontab

from roomsync.runtime.queue import QueueTask, task
from roomsync.sync.context import SyncContext
from roomsync.sync.push.failure import end_overdue_pushes
from roomsync.sync.push.room_answers import check_answers_of, check_room_answers
from roomsync.sync.push.workflow import push_due, sweep_outbox

logger = logging.getLogger(__name__)
FIRST_ANSWER_CHECK_SECONDS = 1.0
"""The first read of the rooms' answers (then after as long again as it waited: 1, 2, 4 s
… up to a minute). A room mailbox usually answers within seconds; an early first read
confirms most bookings at once and costs a slow room one read more."""
STALE_REQUEST_SECONDS = 30.0
"""A queued push not started after this long no longer holds back new ones."""
ANSWER_PRIORITY = 10
"""Reading a room's answer goes before queued pushes: a booking is confirmed seconds after
its room answered, not after a burst drained."""
SWEEP_SECONDS = 15
"""How often the outbox is swept: a push whose queue message was lost still leaves within
seconds; one cheap query when nothing is due."""


class PushTasks:
    def __init__(self, huey: Huey, ctx: SyncContext) -> None:
        @task(huey, "roomsync.push_booking")
        def push(booking_id: str, organization_id: str = "") -> None:
            if organization_id:  # from now on, a commit in this organization queues a push
                huey.get(_pending_key(organization_id))

            def claimed(more: bool) -> None:
                if more and organization_id:  # another worker starts on the rest meanwhile
                    self._request(booking_id, organization_id)

            outcomes = push_due(ctx, uuid.UUID(booking_id), on_claimed=claimed)
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
            end_overdue_pushes(ctx)
            check_room_answers(ctx)

        self.huey = huey
        self.push = push
        self.check_answer = check_answer
        self.sweep = task(huey, "roomsync.sweep_outbox")(sweep_now)

        @_every_minute(huey, "roomsync.sweep_outbox_every_minute")
        def sweep_this_minute() -> None:  # Huey's periodic tasks tick once a minute
            sweep_now()
            for delay in range(SWEEP_SECONDS, 60, SWEEP_SECONDS):
                self.sweep.schedule((), delay=delay)

        self.sweep_this_minute = sweep_this_minute

    def request_pushes(self, written: Mapping[uuid.UUID, uuid.UUID]) -> None:
        """Queue the pushes of these bookings (by id, each with its organization; called
        after the commit that wrote their rows): one message per organization, none while
        one is queued and not yet started — it will claim them."""
        firsts: dict[uuid.UUID, uuid.UUID] = {}
        for booking_id, organization_id in written.items():
            firsts.setdefault(organization_id, booking_id)
        for organization_id, booking_id in firsts.items():
            self._request(str(booking_id), str(organization_id))

    def _request(self, booking_id: str, organization_id: str) -> None:
        key = _pending_key(organization_id)
        now = time.time()
        if not self.huey.put_if_empty(key, now):
            queued_at = self.huey.get(key, peek=True)
            if isinstance(queued_at, float) and now - queued_at < STALE_REQUEST_SECONDS:
                return
            self.huey.put(key, now)  # that message is late or lost: queue another
        self.push(booking_id, organization_id)


def _pending_key(organization_id: str) -> str:
    return f"push-pending:{organization_id}"


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
