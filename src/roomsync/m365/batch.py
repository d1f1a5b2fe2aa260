"""JSON batching: up to 20 Graph requests in one ``POST /$batch`` (concepts/json-batching.md).

Wire rules it follows:

- ``{"requests": [{id, method, url, headers?, body?, dependsOn?}]}``, at most 20; ids are
  unique ignoring case; ``url`` is relative to the version root (``/users/...``), so the
  absolute ``@odata.nextLink``/``deltaLink`` URLs Graph hands out are cut down first; a
  ``body`` needs a ``Content-Type`` header.
- The batch answers 200 whenever it parses; each item has its own ``status``, ``headers``
  and ``body``, in any order. A throttled item is a 429 with a ``retry-after`` header of
  its own (throttling.md "Throttling and batching"): it is resent alone after *its* wait,
  and 5xx items after a backoff, a bounded number of times.
- An item whose ``dependsOn`` prerequisite failed answers 424; when the prerequisite is
  resent, the dependent goes with it. A prerequisite that already succeeded is dropped
  from the resent item's ``dependsOn`` (it is no longer in the batch).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from roomsync.m365.error_mapping import error_from_graph
from roomsync.m365.exceptions import GraphError, InvalidResponse
from roomsync.m365.graph import ApiVersion, GraphClient
from roomsync.m365.retry import RETRYABLE_STATUSES, parse_retry_after
from roomsync.telemetry import GRAPH_REQUESTS

MAX_BATCH_SIZE = 20
_FAILED_DEPENDENCY = 424


@dataclass(frozen=True)
class BatchRequest:
    id: str
    method: str
    url: str
    headers: Mapping[str, str] = field(default_factory=dict)
    body: Any = None
    depends_on: tuple[str, ...] = ()


@dataclass(frozen=True)
class BatchResponse:
    """One item's answer; ``headers`` names are lower-cased."""

    id: str
    status: int
    headers: Mapping[str, str]
    body: Any

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    def error(self, request: BatchRequest, graph_url: str) -> GraphError:
        """This failed item as an exception, through the one Graph error mapping."""
        return error_from_graph(
            method=request.method,
            url=f"{graph_url}{request.url}",
            status=self.status,
            headers=self.headers,
            body=self.body,
        )


@dataclass(frozen=True)
class BatchOutcome:
    responses: Mapping[str, BatchResponse]
    throttled: int
    """How many 429 item answers were seen, retried or not (the fan-out adapts to it)."""
    rounds: int = 1
    """How many POSTs it took (more when items were resent)."""


def relative_url(url: str, *, graph_url: str, api_version: ApiVersion = ApiVersion.V1) -> str:
    """``https://graph.microsoft.com/v1.0/users/x?$skiptoken=..`` → ``/users/x?$skiptoken=..``."""
    if not url.startswith(("https://", "http://")):
        return url if url.startswith("/") else f"/{url}"
    root = f"{graph_url.rstrip('/')}/{api_version}/"
    parts, root_parts = urlsplit(url), urlsplit(root)
    same_origin = parts.netloc.lower() == root_parts.netloc.lower()
    if not same_origin or not parts.path.startswith(root_parts.path):
        raise InvalidResponse(
            f"{parts.scheme}://{parts.netloc}{parts.path} is not under {root} and cannot go "
            "into a $batch sent there."
        )
    relative = "/" + parts.path[len(root_parts.path) :]
    return f"{relative}?{parts.query}" if parts.query else relative


def send_batch(
    graph: GraphClient,
    requests: Sequence[BatchRequest],
    *,
    api_version: ApiVersion = ApiVersion.V1,
) -> BatchOutcome:
    """Sends up to 20 requests as one batch, resending throttled and failed items as told."""
    _check_batch(requests)
    return _BatchRun(graph, {r.id: r for r in requests}, api_version).run()


def _check_batch(requests: Sequence[BatchRequest]) -> None:
    ids = [request.id.lower() for request in requests]
    if not 0 < len(requests) <= MAX_BATCH_SIZE:
        raise ValueError(f"a $batch holds 1 to {MAX_BATCH_SIZE} requests, not {len(requests)}")
    if len(set(ids)) != len(ids):
        raise ValueError("request ids in a $batch must be unique, ignoring case")
    unknown = {dep.lower() for r in requests for dep in r.depends_on} - set(ids)
    if unknown:
        raise ValueError(f"dependsOn names ids that are not in the batch: {sorted(unknown)}")


class _BatchRun:
    """The rounds of one batch: send what is due, keep what is final, wait for the rest."""

    def __init__(
        self, graph: GraphClient, requests: dict[str, BatchRequest], api_version: ApiVersion
    ) -> None:
        self.graph = graph
        self.requests = requests
        self.api_version = api_version
        self.final: dict[str, BatchResponse] = {}
        self.attempts = dict.fromkeys(requests, 0)
        self.waiting: dict[str, float] = {}
        self.throttled = 0
        self.rounds = 0

    def run(self) -> BatchOutcome:
        due = list(self.requests)
        while due:
            self.rounds += 1
            for response in self._post(due):
                self._settle(response)
            self._follow_prerequisites()
            self._fail_orphans()
            due = self._wait_for_next()
        return BatchOutcome(self.final, self.throttled, self.rounds)

    def _post(self, ids: list[str]) -> list[BatchResponse]:
        wire = [self._wire(self.requests[i], set(ids)) for i in ids]
        page = self.graph.request(
            "POST", "/$batch", json={"requests": wire}, api_version=self.api_version,
            idempotent=all(item["method"] == "GET" for item in wire),
        )  # fmt: skip
        responses = {r.id.lower(): r for r in _parse_responses(page.body)}
        missing = [i for i in ids if i.lower() not in responses]
        if missing:
            raise InvalidResponse(
                f"Microsoft Graph answered a $batch without responses for {missing} "
                f"(request-id {page.request_id})."
            )
        for i in ids:
            self.attempts[i] += 1
        return [_renamed(responses[i.lower()], i) for i in ids]

    def _wire(self, request: BatchRequest, sent: set[str]) -> dict[str, Any]:
        item: dict[str, Any] = {
            "id": request.id,
            "method": request.method,
            "url": relative_url(
                request.url, graph_url=self.graph.graph_url, api_version=self.api_version
            ),
        }
        headers = dict(request.headers)
        if request.body is not None:
            headers.setdefault("Content-Type", "application/json")
            item["body"] = request.body
        if headers:
            item["headers"] = headers
        depends_on = [d for d in request.depends_on if d in sent]
        if depends_on:
            item["dependsOn"] = depends_on
        return item

    def _settle(self, response: BatchResponse) -> None:
        GRAPH_REQUESTS.labels(str(response.status), "true").inc()
        if response.status == 429:
            self.throttled += 1
        delay = None
        if response.status in RETRYABLE_STATUSES:
            retry_after = _retry_after(response)
            delay = self.graph.retry.delay(self.attempts[response.id], retry_after)
        if delay is None:
            self.final[response.id] = response
        else:
            self.final.pop(response.id, None)
            self.waiting[response.id] = delay

    def _follow_prerequisites(self) -> None:
        """A 424 item goes again once the prerequisites it waits for are resent."""
        for request_id, response in list(self.final.items()):
            if response.status != _FAILED_DEPENDENCY:
                continue
            blocking = [d for d in self.requests[request_id].depends_on if d in self.waiting]
            if blocking:
                del self.final[request_id]
                self.waiting[request_id] = max(self.waiting[d] for d in blocking)

    def _fail_orphans(self) -> None:
        """A waiting item whose prerequisite failed for good fails too, as Graph would."""
        while orphans := {
            i: failed
            for i in self.waiting
            if (failed := [d for d in self.requests[i].depends_on if self._failed(d)])
        }:
            for i, failed in orphans.items():
                del self.waiting[i]
                self.final[i] = _failed_dependency(i, failed)

    def _failed(self, request_id: str) -> bool:
        response = self.final.get(request_id)
        return response is not None and not response.ok

    def _wait_for_next(self) -> list[str]:
        """Sleeps until the earliest item is due; returns what is due, prerequisites first."""
        if not self.waiting:
            return []
        delay = min(self.waiting.values())
        self.graph.sleep(delay)
        self.waiting = {i: remaining - delay for i, remaining in self.waiting.items()}
        due = {i for i, remaining in self.waiting.items() if remaining <= 0}
        while held := {i for i in due if self._prerequisites_waiting(i, due)}:
            for i in held:
                self.waiting[i] = max(self.waiting[d] for d in self._prerequisites_waiting(i, due))
            due -= held
        for i in due:
            del self.waiting[i]
        return [i for i in self.requests if i in due]

    def _prerequisites_waiting(self, request_id: str, due: set[str]) -> list[str]:
        return [
            d for d in self.requests[request_id].depends_on if d in self.waiting and d not in due
        ]


def _parse_responses(body: Mapping[str, Any]) -> list[BatchResponse]:
    items = body.get("responses")
    if not isinstance(items, list):
        raise InvalidResponse("Microsoft Graph answered a $batch without a responses array.")
    return [_parse_item(item) for item in items if isinstance(item, dict)]


def _parse_item(item: Mapping[str, Any]) -> BatchResponse:
    headers = item.get("headers")
    lowered = (
        {str(k).lower(): str(v) for k, v in headers.items()} if isinstance(headers, dict) else {}
    )
    return BatchResponse(str(item.get("id")), int(item.get("status", 0)), lowered, item.get("body"))


def _failed_dependency(request_id: str, prerequisites: list[str]) -> BatchResponse:
    """What Graph answers for a request whose prerequisite failed (json-batching.md)."""
    message = f"The requests it depends on failed: {', '.join(prerequisites)}."
    body = {"error": {"code": "FailedDependency", "message": message}}
    return BatchResponse(request_id, _FAILED_DEPENDENCY, {}, body)


def _renamed(response: BatchResponse, request_id: str) -> BatchResponse:
    """Ids match ignoring case; keep the caller's spelling."""
    if response.id == request_id:
        return response
    return BatchResponse(request_id, response.status, response.headers, response.body)


def _retry_after(response: BatchResponse) -> float | None:
    return parse_retry_after(response.headers.get("retry-after"))
