"""The mailbox fan-out: batches on a thread pool, per-mailbox limit, adaptation, follow-ups."""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from roomsync.m365.calendar import DeltaWindow, delta_request_url, parse_delta_page
from roomsync.m365.exceptions import BadRequest
from roomsync.m365.fanout import BatchItemResult, FanOut, MailboxRequest
from roomsync.m365.mailbox_slots import MailboxSlots
from tests.m365.m365_fakes import (
    GRAPH_URL,
    BatchEndpoint,
    ItemAnswer,
    SleepRecorder,
    graph_error,
    make_graph,
    ok_item,
    throttled_item,
)


def _mailbox_of(item: dict[str, Any]) -> str:
    return item["url"].split("/")[2].lower()


class ConcurrencyProbe:
    """Wraps a $batch endpoint; counts requests per mailbox and batches inside it at once."""

    def __init__(self, endpoint: BatchEndpoint, *, hold_seconds: float = 0.005) -> None:
        self.endpoint = endpoint
        self.hold_seconds = hold_seconds
        self.lock = threading.Lock()
        self.per_mailbox: Counter[str] = Counter()
        self.peak_per_mailbox = 0
        self.batches = 0
        self.peak_batches = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        mailboxes = [_mailbox_of(item) for item in json.loads(request.content)["requests"]]
        with self.lock:
            self.batches += 1
            self.peak_batches = max(self.peak_batches, self.batches)
            self.per_mailbox.update(mailboxes)
            self.peak_per_mailbox = max(self.peak_per_mailbox, *self.per_mailbox.values())
        try:
            time.sleep(self.hold_seconds)  # keep the batch "at Graph" so others overlap it
            return self.endpoint(request)
        finally:
            with self.lock:
                self.batches -= 1
                self.per_mailbox.subtract(mailboxes)


def _requests(mailboxes: int, each: int) -> list[MailboxRequest[str]]:
    return [
        MailboxRequest(f"room{m}@contoso.com", "GET", f"/users/room{m}@contoso.com/events?n={n}",
                       context=f"room{m}")
        for n in range(each)
        for m in range(mailboxes)
    ]  # fmt: skip


def test_no_mailbox_ever_has_more_than_four_requests_in_flight() -> None:
    probe = ConcurrencyProbe(BatchEndpoint(lambda item: ok_item()))
    fan_out = FanOut(make_graph(probe), max_batches_in_flight=8)
    results: list[BatchItemResult[str]] = []

    report = fan_out.run(_requests(mailboxes=3, each=40), results.append)

    assert len(results) == 120
    assert report.succeeded == 120
    assert probe.peak_per_mailbox == 4
    assert all(len(post) <= 20 for post in probe.endpoint.posts)


def test_many_mailboxes_fill_batches_of_twenty_within_the_batch_limit() -> None:
    probe = ConcurrencyProbe(BatchEndpoint(lambda item: ok_item()))
    fan_out = FanOut(make_graph(probe), max_batches_in_flight=3)

    report = fan_out.run(_requests(mailboxes=200, each=1), lambda result: None)

    assert report.batches == 10
    assert [len(post) for post in probe.endpoint.posts] == [20] * 10
    assert probe.peak_batches <= 3


def test_throttling_halves_the_batches_in_flight_and_calm_grows_them_back(
    sleeps: SleepRecorder,
) -> None:
    first_answered = threading.Event()
    answered: Counter[str] = Counter()

    def answer(item: dict[str, Any]) -> ItemAnswer:
        answered[item["url"]] += 1
        if item["url"].startswith("/users/room0@") and answered[item["url"]] == 1:
            return throttled_item("1")
        return ok_item()

    endpoint = BatchEndpoint(answer)

    def handler(request: httpx.Request) -> httpx.Response:
        if b"room0@" in request.content:
            response = endpoint(request)
            if b"/users/room0@" in request.content and len(endpoint.posts) > 1:
                first_answered.set()
            return response
        first_answered.wait(timeout=10)  # the throttled batch is answered first
        return endpoint(request)

    fan_out = FanOut(
        make_graph(handler, sleep=sleeps),
        max_batches_in_flight=8,
        grow_after=2,
        slow_wave_factor=None,  # the batches held back by the handler are not Graph slowing
    )

    report = fan_out.run(_requests(mailboxes=800, each=1), lambda result: None)

    assert report.throttled == 1
    assert report.succeeded == 800
    assert report.concurrency_limits == [8, 4, 5, 6, 7, 8]
    assert 1 <= sleeps.total <= 1.2


def test_answers_that_slow_down_take_batches_off_but_never_below_a_quarter() -> None:
    answered = itertools.count()
    endpoint = BatchEndpoint(lambda item: ok_item())

    def handler(request: httpx.Request) -> httpx.Response:
        time.sleep(0.002 if next(answered) < 16 else 0.03)  # the service starts queueing
        return endpoint(request)

    fan_out = FanOut(make_graph(handler), max_batches_in_flight=16)

    report = fan_out.run(_requests(mailboxes=2000, each=1), lambda result: None)

    assert report.succeeded == 2000
    assert report.throttled == 0
    assert report.concurrency_limits[:2] == [16, 12]
    assert min(report.concurrency_limits) == 4


def test_follow_up_requests_from_the_callback_walk_a_delta_round_to_its_end() -> None:
    window = DeltaWindow(start=_utc("2025-03-01T00:00:00"), end=_utc("2025-03-08T00:00:00"))

    def answer(item: dict[str, Any]) -> ItemAnswer:
        mailbox = _mailbox_of(item)
        page = int(item["url"].split("page=")[1]) if "page=" in item["url"] else 1
        base = f"{GRAPH_URL}/v1.0/users/{mailbox}/calendarView/delta"
        link = (
            {"@odata.nextLink": f"{base}?$skiptoken=x&page={page + 1}"}
            if page < 3
            else {"@odata.deltaLink": f"{base}?$deltatoken=done"}
        )
        return ok_item({"value": [{"id": f"{mailbox}-{page}"}], **link})

    endpoint = BatchEndpoint(answer)
    pages: Counter[str] = Counter()
    finished: list[str] = []
    main_thread = threading.current_thread()

    def on_result(result: BatchItemResult[str]) -> list[MailboxRequest[str]]:
        assert threading.current_thread() is main_thread
        page = parse_delta_page(result.body, mailbox=result.request.mailbox)
        pages[result.request.context] += 1
        if page.next_link:
            return [MailboxRequest(result.request.mailbox, "GET", page.next_link,
                                   context=result.request.context)]  # fmt: skip
        finished.append(result.request.context)
        return []

    rooms = [f"room{n}@contoso.com" for n in range(30)]
    first = [MailboxRequest(r, "GET", delta_request_url(r, window), context=r) for r in rooms]

    report = FanOut(make_graph(endpoint)).run(first, on_result)

    assert sorted(finished) == sorted(rooms)
    assert set(pages.values()) == {3}
    assert report.requests == 90
    sent_urls = [item["url"] for post in endpoint.posts for item in post]
    assert all(url.startswith("/users/") for url in sent_urls)


def test_a_failing_callback_is_recorded_for_its_item_and_the_run_goes_on() -> None:
    seen: list[str] = []

    def on_result(result: BatchItemResult[str]) -> None:
        if result.request.context == "room1":
            raise RuntimeError("cannot store this page")
        seen.append(result.request.context)

    report = FanOut(make_graph(BatchEndpoint(lambda item: ok_item()))).run(
        _requests(mailboxes=3, each=1), on_result
    )

    assert sorted(seen) == ["room0", "room2"]
    (failure,) = report.callback_failures
    assert failure.request.context == "room1"
    assert str(failure.error) == "cannot store this page"


def test_a_batch_graph_refuses_whole_fails_each_of_its_items() -> None:
    graph = make_graph(lambda request: graph_error(400, "BadRequest", "Invalid batch payload."))
    results: list[BatchItemResult[str]] = []

    report = FanOut(graph).run(_requests(mailboxes=2, each=1), results.append)

    assert report.failed == 2
    assert all(isinstance(result.error, BadRequest) for result in results)


def test_an_item_error_reaches_the_callback_mapped() -> None:
    def answer(item: dict[str, Any]) -> ItemAnswer:
        body = {"error": {"code": "ErrorItemNotFound", "message": "Not found."}}
        return 404, {"request-id": "nf-1"}, body

    results: list[BatchItemResult[str]] = []
    FanOut(make_graph(BatchEndpoint(answer))).run(_requests(1, 1), results.append)

    (result,) = results
    assert not result.ok
    assert result.error is not None
    assert result.error.request_id == "nf-1"


def test_fan_out_refuses_batches_bigger_than_graph_allows() -> None:
    with pytest.raises(ValueError, match=r"1\.\.20"):
        FanOut(make_graph(BatchEndpoint(lambda item: ok_item())), batch_size=21)


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_batch_done_follows_the_last_item_of_every_batch() -> None:
    endpoint = BatchEndpoint(lambda item: ok_item())
    fan_out = FanOut(make_graph(endpoint), max_batches_in_flight=2)
    delivered: list[str] = []

    fan_out.run(
        _requests(mailboxes=45, each=1),
        lambda result: delivered.append("item"),
        on_batch_done=lambda: delivered.append("done"),
    )

    assert delivered[-1] == "done"
    segments = "".join("i" if x == "item" else "|" for x in delivered).split("|")[:-1]
    assert sorted(len(segment) for segment in segments) == sorted(
        len(post) for post in endpoint.posts
    )
    assert sorted(len(post) for post in endpoint.posts) == [5, 20, 20]


def test_a_stop_request_sends_no_new_batch_and_delivers_those_in_flight() -> None:
    endpoint = BatchEndpoint(lambda item: ok_item())
    fan_out = FanOut(make_graph(endpoint), max_batches_in_flight=1)
    stop = threading.Event()
    delivered: list[BatchItemResult[str]] = []

    def deliver(result: BatchItemResult[str]) -> None:
        delivered.append(result)
        stop.set()  # a shutdown arrives while the first batch is being handled

    report = fan_out.run(_requests(mailboxes=60, each=1), deliver, stop=stop)

    assert len(endpoint.posts) == 1
    assert len(delivered) == 20
    assert report.stopped


def test_a_run_ended_by_an_exception_gives_back_its_mailbox_slots() -> None:
    slots = MailboxSlots()

    def stop_after_first_batch() -> None:
        raise RuntimeError("the caller's commit failed")

    endpoint = ConcurrencyProbe(BatchEndpoint(lambda item: ok_item()), hold_seconds=0.05)
    fan_out = FanOut(make_graph(endpoint), slots=slots, batch_size=4)
    with pytest.raises(RuntimeError):
        fan_out.run(_requests(mailboxes=3, each=8), lambda result: None, stop_after_first_batch)

    assert [slots.in_flight(f"room{m}@contoso.com") for m in range(3)] == [0, 0, 0]
