"""JSON batching: ``POST /$batch`` (json-batching.md, throttling.md).

- At most 20 requests, ids unique (case-insensitively), urls relative; otherwise the
  whole batch is 400.
- Each item runs through the normal pipeline (faults, throttling, logging), so it counts
  against its mailbox's limits and a throttled item comes back as a 429 item with its
  own ``Retry-After`` inside a 200 batch.
- Without ``dependsOn``, up to four items run at a time: "Microsoft Graph sends the
  Outlook service up to four individual requests from the batch at a time"
  (includes/throttling-outlook.md); with ``dependsOn`` the items run one at a time in
  order, and an item whose dependency failed is 424 without running. Items may come back
  in any order.
- Timing: the batch saves the items' round trips ("combining … requests into a single
  batch request can save the application significant network latency",
  concepts/json-batching.md), so the envelope itself is charged no injected latency
  except latency aimed at ``$batch`` by path; each item is charged its own. With latency
  L per request, a batch of n unordered items takes ceil(n / 4) x L (1 item: L, 20: 5 L)
  and an ordered one n x L.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from graphsim.errors import bad_request
from graphsim.graph import Ctx, GraphRequest, GraphResponse, Route, route

MAX_REQUESTS = 20
_HIDDEN_HEADERS = frozenset({"request-id", "client-request-id"})


def _validated(payload: Any) -> list[dict[str, Any]]:
    items = payload.get("requests") if isinstance(payload, dict) else None
    if not isinstance(items, list) or not items:
        raise bad_request("A batch needs a non-empty 'requests' array.")
    if len(items) > MAX_REQUESTS:
        raise bad_request(
            f"The batch has {len(items)} requests; at most {MAX_REQUESTS} are allowed."
        )
    seen: set[str] = set()
    for item in items:
        _check_item(item, seen)
    return items


def _check_item(item: Any, seen: set[str]) -> None:
    if not isinstance(item, dict) or not all(
        isinstance(item.get(k), str) for k in ("id", "method", "url")
    ):
        raise bad_request("Every batch request needs string id, method and url.")
    if item["id"].lower() in seen:
        raise bad_request(f"The batch request id '{item['id']}' is used more than once.")
    if urlsplit(item["url"]).scheme:
        raise bad_request("Batch request urls must be relative, e.g. '/users/{id}/events'.")
    if "body" in item and "content-type" not in {k.lower() for k in item.get("headers") or {}}:
        raise bad_request("A batch request with a body needs a Content-Type header.")
    for dependency in item.get("dependsOn") or []:
        if str(dependency).lower() not in seen:
            raise bad_request(f"dependsOn names '{dependency}', which is not an earlier request.")
    seen.add(item["id"].lower())


def _sub_request(outer: GraphRequest, item: dict[str, Any]) -> GraphRequest:
    parts = urlsplit(item["url"] if item["url"].startswith("/") else "/" + item["url"])
    headers = {k.lower(): str(v) for k, v in (item.get("headers") or {}).items()}
    if "authorization" in outer.headers:
        headers.setdefault("authorization", outer.headers["authorization"])
    body = item.get("body")
    raw = (
        b""
        if body is None
        else (body.encode() if isinstance(body, str) else json.dumps(body).encode())
    )
    return GraphRequest(
        item["method"].upper(),
        outer.version,
        parts.path,
        dict(parse_qsl(parts.query, keep_blank_values=True)),
        headers,
        raw,
        outer.base_url,
        in_batch=True,
    )


def _item_json(item_id: str, response: GraphResponse) -> dict[str, Any]:
    headers = {k: v for k, v in response.headers.items() if k.lower() not in _HIDDEN_HEADERS}
    result: dict[str, Any] = {"id": item_id, "status": response.status}
    if response.body is not None:
        headers.setdefault(
            "Content-Type",
            "application/json; odata.metadata=minimal; "
            "odata.streaming=true; IEEE754Compatible=false; charset=utf-8",
        )
        result["body"] = response.body
    result["headers"] = headers
    return result


def _failed_dependency(item_id: str) -> dict[str, Any]:
    return {
        "id": item_id,
        "status": 424,
        "headers": {"Content-Type": "application/json"},
        "body": {
            "error": {
                "code": "FailedDependency",
                "message": "The request this one depends on failed.",
            }
        },
    }


async def run_batch(ctx: Ctx) -> GraphResponse:
    items = _validated(ctx.request.json())
    pipeline = ctx.core.pipeline
    if any(item.get("dependsOn") for item in items):
        responses = await _sequential(ctx, items)
    else:
        gate = asyncio.Semaphore(ctx.core.options.batch_concurrency)
        responses = []

        async def one(item: dict[str, Any]) -> None:
            async with gate:
                answer = await pipeline.handle(_sub_request(ctx.request, item))
            responses.append(_item_json(item["id"], answer))

        await asyncio.gather(*(one(item) for item in items))
    return GraphResponse(200, {"responses": responses})


async def _sequential(ctx: Ctx, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    statuses: dict[str, int] = {}
    responses = []
    for item in items:
        failed = [d for d in item.get("dependsOn") or [] if statuses.get(str(d).lower(), 0) >= 400]
        if failed:
            statuses[item["id"].lower()] = 424
            responses.append(_failed_dependency(item["id"]))
            continue
        answer = await ctx.core.pipeline.handle(_sub_request(ctx.request, item))
        statuses[item["id"].lower()] = answer.status
        responses.append(_item_json(item["id"], answer))
    return responses


def routes() -> list[Route]:
    return [route("POST", r"/\$batch", run_batch, envelope=True)]
