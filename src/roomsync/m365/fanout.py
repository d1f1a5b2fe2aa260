"""Many mailboxes at once: requests packed into ``$batch`` calls on a bounded thread pool.

Outlook limits each app to 4 concurrent requests per mailbox and counts every request of a
batch against its own mailbox (includes/throttling-outlook.md); going over is a 429
("Application is over its MailboxConcurrency limit"). So the fan-out:

- packs requests tagged with their mailbox into batches of up to 20,
- keeps several batches in flight on a thread pool, but never more than 4 requests of one
  mailbox in flight in the process (the slots of :mod:`roomsync.m365.mailbox_slots`,
  which every other caller of Graph shares),
- starts with many batches in flight (:data:`BATCHES_IN_FLIGHT`) and adapts: halves them
  when Graph throttles, takes a quarter off when its answers slow down (a batch's time per
  wave of 4 items grows past :data:`SLOW_WAVE_FACTOR` times the fastest seen: the service,
  or this process, is queueing), and adds one back after a run of calm, fast batches,
- hands every item's result to a callback *on the calling thread* as its batch completes
  (so a callback may use a database session), and queues the follow-up requests it returns
  (the next page of a delta round) ahead of new work for that mailbox;
- tells an optional second callback when all items of a batch were delivered, so a caller
  can commit a batch's worth of results in one transaction.

Nothing accumulates: results are streamed; a callback that raises is recorded against its
item and the run goes on.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from queue import SimpleQueue
from typing import Any, Generic, TypeVar

from roomsync.m365.batch import MAX_BATCH_SIZE, BatchRequest, send_batch
from roomsync.m365.exceptions import GraphError
from roomsync.m365.graph import ApiVersion, GraphClient
from roomsync.m365.mailbox_slots import PROCESS_SLOTS, MailboxSlots

_log = logging.getLogger(__name__)
C = TypeVar("C")

BATCHES_IN_FLIGHT = 64
"""Where the limit starts: 64 batches of 20 keep 1,280 requests moving (4 per batch at a
time, as Outlook runs them), which a steady round of thousands of rooms needs to be done
in a few round trips; throttling and slow answers bring it down (docs/performance.md)."""
SLOW_WAVE_FACTOR = 2.5
_OUTLOOK_ITEMS_AT_A_TIME = 4


@dataclass(frozen=True)
class MailboxRequest(Generic[C]):
    """One Graph request against one mailbox; ``context`` is the caller's own (a room id)."""

    mailbox: str
    method: str
    url: str
    context: C
    headers: Mapping[str, str] = field(default_factory=dict)
    body: Any = None


@dataclass(frozen=True)
class BatchItemResult(Generic[C]):
    request: MailboxRequest[C]
    status: int
    headers: Mapping[str, str]
    body: Any
    error: GraphError | None

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass(frozen=True)
class CallbackFailure(Generic[C]):
    request: MailboxRequest[C]
    error: Exception


@dataclass
class FanOutReport(Generic[C]):
    batches: int = 0
    requests: int = 0
    succeeded: int = 0
    failed: int = 0
    throttled: int = 0
    concurrency_limits: list[int] = field(default_factory=list)
    """The batches-in-flight limit: where it started, then every change."""
    callback_failures: list[CallbackFailure[C]] = field(default_factory=list)
    stopped: bool = False
    """True when a stop request left requests unsent."""


ResultCallback = Callable[[BatchItemResult[C]], Iterable[MailboxRequest[C]] | None]


class FanOut:
    """Runs mailbox requests through ``$batch`` with bounded, adaptive concurrency."""

    def __init__(
        self,
        graph: GraphClient,
        *,
        max_batches_in_flight: int = BATCHES_IN_FLIGHT,
        slots: MailboxSlots = PROCESS_SLOTS,
        batch_size: int = MAX_BATCH_SIZE,
        grow_after: int = 4,
        slow_wave_factor: float | None = SLOW_WAVE_FACTOR,
        api_version: ApiVersion = ApiVersion.V1,
    ) -> None:
        """``slow_wave_factor``: how much slower than the fastest a batch's waves may grow
        before fewer batches are sent (None: throttling alone adapts the limit)."""
        if not 0 < batch_size <= MAX_BATCH_SIZE or max_batches_in_flight < 1:
            raise ValueError("batch_size must be 1..20 and max_batches_in_flight at least 1")
        self.graph = graph
        self.max_batches_in_flight = max_batches_in_flight
        self.slots = slots
        self.batch_size = batch_size
        self.grow_after = grow_after
        self.slow_wave_factor = slow_wave_factor
        self.api_version = api_version

    def run(
        self,
        requests: Iterable[MailboxRequest[C]],
        on_result: ResultCallback[C],
        on_batch_done: Callable[[], None] | None = None,
        stop: threading.Event | None = None,
    ) -> FanOutReport[C]:
        """Sends everything (and every follow-up), calling ``on_result`` once per item and
        ``on_batch_done`` after the last item of each batch. Once ``stop`` is set no new
        batch is sent; those in flight are delivered, then the run returns (``stopped``)."""
        queues: _MailboxQueues[C] = _MailboxQueues(self.slots)
        for request in requests:
            queues.push(request)
        limit = _AdaptiveLimit(self.max_batches_in_flight, self.grow_after, self.slow_wave_factor)
        report: FanOutReport[C] = FanOutReport(concurrency_limits=limit.history)
        in_flight: dict[Future[_BatchDone[C]], list[MailboxRequest[C]]] = {}
        # Batches report here as they finish: waiting on one queue costs the same with
        # 64 batches in flight as with one.
        finished: SimpleQueue[Future[_BatchDone[C]]] = SimpleQueue()
        try:
            with ThreadPoolExecutor(self.max_batches_in_flight, "roomsync-batch") as pool:
                while True:
                    if stop is not None and stop.is_set():
                        report.stopped = bool(queues.pending)
                        queues.pending.clear()
                    while len(in_flight) < limit.current and (
                        batch := queues.take(self.batch_size)
                    ):
                        future = pool.submit(self._send, batch)
                        in_flight[future] = batch
                        future.add_done_callback(finished.put)
                        report.batches += 1
                    if not in_flight:
                        return report
                    future = finished.get()
                    result = future.result()  # raises only for a bug: slots freed below
                    del in_flight[future]
                    self._deliver(result, queues, limit, on_result, report)
                    if on_batch_done is not None:
                        on_batch_done()
        finally:
            # The slots are the process's: a run that ends by an exception gives back
            # those its batches still hold, or the mailboxes would stay full for good.
            for batch in in_flight.values():
                queues.release(batch)

    def _send(self, batch: list[MailboxRequest[C]]) -> _BatchDone[C]:
        """On a pool thread: one batch, its items' retries included."""
        wire = [
            BatchRequest(str(n), r.method, r.url, r.headers, r.body) for n, r in enumerate(batch, 1)
        ]
        started = time.monotonic()
        try:
            outcome = send_batch(self.graph, wire, api_version=self.api_version)
        except GraphError as exc:
            _log.warning("A $batch of %d mailbox requests failed: %s", len(batch), exc)
            failed = [BatchItemResult(r, exc.status or 0, {}, None, exc) for r in batch]
            return _BatchDone(batch, failed, throttled=exc.status == 429)
        waves = math.ceil(len(batch) / _OUTLOOK_ITEMS_AT_A_TIME)
        seconds_per_wave = (time.monotonic() - started) / waves
        results = []
        for item, request in zip(wire, batch, strict=True):
            response = outcome.responses[item.id]
            error = None if response.ok else response.error(item, self.graph.graph_url)
            results.append(
                BatchItemResult(request, response.status, response.headers, response.body, error)
            )
        # A batch with retried items waited for Retry-After, not for a slow service.
        timed = seconds_per_wave if outcome.throttled == 0 and outcome.rounds == 1 else None
        return _BatchDone(batch, results, throttled=outcome.throttled > 0, seconds_per_wave=timed)

    def _deliver(
        self,
        done: _BatchDone[C],
        queues: _MailboxQueues[C],
        limit: _AdaptiveLimit,
        on_result: ResultCallback[C],
        report: FanOutReport[C],
    ) -> None:
        """On the calling thread: free the mailboxes' slots, then stream the results."""
        queues.release(done.batch)
        limit.observe(throttled=done.throttled, seconds_per_wave=done.seconds_per_wave)
        report.throttled += int(done.throttled)
        for result in done.results:
            report.requests += 1
            report.succeeded += int(result.ok)
            report.failed += int(not result.ok)
            try:
                follow_ups = on_result(result) or ()
                for request in reversed(list(follow_ups)):
                    queues.push(request, first=True)
            except Exception as exc:  # one item's callback must not end the run
                _log.exception("Handling the result of %s %s failed", result.request.method,
                               result.request.mailbox)  # fmt: skip
                report.callback_failures.append(CallbackFailure(result.request, exc))


@dataclass(frozen=True)
class _BatchDone(Generic[C]):
    batch: list[MailboxRequest[C]]
    results: list[BatchItemResult[C]]
    throttled: bool
    seconds_per_wave: float | None = None


class _MailboxQueues(Generic[C]):
    """Pending requests per mailbox; slots of the process's count for those in flight."""

    def __init__(self, slots: MailboxSlots) -> None:
        self.slots = slots
        self.pending: dict[str, deque[MailboxRequest[C]]] = {}

    def push(self, request: MailboxRequest[C], *, first: bool = False) -> None:
        queue = self.pending.setdefault(request.mailbox.lower(), deque())
        if first:
            queue.appendleft(request)
        else:
            queue.append(request)

    def take(self, size: int) -> list[MailboxRequest[C]]:
        """Up to ``size`` requests, none taking a mailbox past its concurrency limit."""
        batch: list[MailboxRequest[C]] = []
        emptied = []
        for mailbox, queue in self.pending.items():  # from the front, not a copy of all
            taken = self.slots.take_up_to(mailbox, min(len(queue), size - len(batch)))
            batch.extend(queue.popleft() for _ in range(taken))
            if not queue:
                emptied.append(mailbox)
            if len(batch) == size:
                break
        for mailbox in emptied:
            del self.pending[mailbox]
        return batch

    def release(self, batch: list[MailboxRequest[C]]) -> None:
        self.slots.give_back_each(request.mailbox for request in batch)


class _AdaptiveLimit:
    """Batches in flight: halved on throttling, a quarter off when batches slow down,
    grown by one after a streak of calm batches that were not slow."""

    def __init__(self, maximum: int, grow_after: int, slow_factor: float | None) -> None:
        self.maximum = maximum
        self.grow_after = grow_after
        self.slow_factor = slow_factor
        self.slow_floor = max(1, maximum // 4)
        self.current = maximum
        self.calm = 0
        self.history = [maximum]
        self.recent: float | None = None
        """Seconds per wave of the last batches, smoothed (a moving average)."""
        self.fastest: float | None = None
        """The lowest ``recent`` seen: one quick outlier does not set the bar."""
        self.hold = 0
        """Batches to see before slowness may cut again: those sent before the last cut."""

    def observe(self, *, throttled: bool, seconds_per_wave: float | None = None) -> None:
        if throttled:
            self.calm = 0
            self._set(max(1, self.current // 2))
            return
        slow = seconds_per_wave is not None and self._slow(seconds_per_wave)
        self.hold = max(0, self.hold - 1)
        if slow and not self.hold and self.current > self.slow_floor:
            # Never below a quarter of the start: a service that stays slow however
            # little it is sent would otherwise shrink the round to one batch at a time.
            self.calm = 0
            self._set(max(self.slow_floor, self.current - max(1, self.current // 4)))
            self.hold = self.current
            return
        self.calm = 0 if slow else self.calm + 1
        if self.calm >= self.grow_after and self.current < self.maximum:
            self.calm = 0
            self._set(self.current + 1)

    def _slow(self, seconds: float) -> bool:
        if self.slow_factor is None:
            return False
        self.recent = seconds if self.recent is None else 0.8 * self.recent + 0.2 * seconds
        self.fastest = self.recent if self.fastest is None else min(self.fastest, self.recent)
        return self.recent > self.slow_factor * self.fastest

    def _set(self, value: int) -> None:
        if value != self.current:
            self.current = value
            self.history.append(value)
