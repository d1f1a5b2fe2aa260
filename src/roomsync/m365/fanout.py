"""Many mailboxes at once: requests packed into ``$batch`` calls on a bounded thread pool.

Outlook limits each app to 4 concurrent requests per mailbox and counts every request of a
batch against its own mailbox (includes/throttling-outlook.md); going over is a 429
("Application is over its MailboxConcurrency limit"). So the fan-out:

- packs requests tagged with their mailbox into batches of up to 20,
- keeps several batches in flight on a thread pool, but never more than 4 requests of one
  mailbox in flight in the process (the slots of :mod:`roomsync.m365.mailbox_slots`,
  which every other caller of Graph shares),
- halves the number of batches in flight when Graph throttles, and adds one back after a
  run of unthrottled batches,
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
import threading
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from roomsync.m365.batch import MAX_BATCH_SIZE, BatchRequest, send_batch
from roomsync.m365.exceptions import GraphError
from roomsync.m365.graph import ApiVersion, GraphClient
from roomsync.m365.mailbox_slots import PROCESS_SLOTS, MailboxSlots

_log = logging.getLogger(__name__)
C = TypeVar("C")


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
        max_batches_in_flight: int = 8,
        slots: MailboxSlots = PROCESS_SLOTS,
        batch_size: int = MAX_BATCH_SIZE,
        grow_after: int = 4,
        api_version: ApiVersion = ApiVersion.V1,
    ) -> None:
        if not 0 < batch_size <= MAX_BATCH_SIZE or max_batches_in_flight < 1:
            raise ValueError("batch_size must be 1..20 and max_batches_in_flight at least 1")
        self.graph = graph
        self.max_batches_in_flight = max_batches_in_flight
        self.slots = slots
        self.batch_size = batch_size
        self.grow_after = grow_after
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
        limit = _AdaptiveLimit(self.max_batches_in_flight, self.grow_after)
        report: FanOutReport[C] = FanOutReport(concurrency_limits=limit.history)
        in_flight: dict[Future[_BatchDone[C]], list[MailboxRequest[C]]] = {}
        try:
            with ThreadPoolExecutor(self.max_batches_in_flight, "roomsync-batch") as pool:
                while True:
                    if stop is not None and stop.is_set():
                        report.stopped = bool(queues.pending)
                        queues.pending.clear()
                    while len(in_flight) < limit.current and (
                        batch := queues.take(self.batch_size)
                    ):
                        in_flight[pool.submit(self._send, batch)] = batch
                        report.batches += 1
                    if not in_flight:
                        return report
                    done, _ = wait(in_flight, return_when=FIRST_COMPLETED)
                    for future in done:
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
        try:
            outcome = send_batch(self.graph, wire, api_version=self.api_version)
        except GraphError as exc:
            _log.warning("A $batch of %d mailbox requests failed: %s", len(batch), exc)
            failed = [BatchItemResult(r, exc.status or 0, {}, None, exc) for r in batch]
            return _BatchDone(batch, failed, throttled=exc.status == 429)
        results = []
        for item, request in zip(wire, batch, strict=True):
            response = outcome.responses[item.id]
            error = None if response.ok else response.error(item, self.graph.graph_url)
            results.append(
                BatchItemResult(request, response.status, response.headers, response.body, error)
            )
        return _BatchDone(batch, results, throttled=outcome.throttled > 0)

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
        limit.observe(throttled=done.throttled)
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
        for mailbox, queue in list(self.pending.items()):
            taken = self.slots.take_up_to(mailbox, min(len(queue), size - len(batch)))
            batch.extend(queue.popleft() for _ in range(taken))
            if not queue:
                del self.pending[mailbox]
            if len(batch) == size:
                break
        return batch

    def release(self, batch: list[MailboxRequest[C]]) -> None:
        for request in batch:
            self.slots.give_back(request.mailbox)


class _AdaptiveLimit:
    """Batches in flight: halved on throttling, grown by one after a calm streak."""

    def __init__(self, maximum: int, grow_after: int) -> None:
        self.maximum = maximum
        self.grow_after = grow_after
        self.current = maximum
        self.calm = 0
        self.history = [maximum]

    def observe(self, *, throttled: bool) -> None:
        if throttled:
            self.calm = 0
            self._set(max(1, self.current // 2))
            return
        self.calm += 1
        if self.calm >= self.grow_after and self.current < self.maximum:
            self.calm = 0
            self._set(self.current + 1)

    def _set(self, value: int) -> None:
        if value != self.current:
            self.current = value
            self.history.append(value)
