"""Microsoft Graph's webhooks (README, "API overview"): change notifications at
``POST /webhooks/microsoft365``, lifecycle notifications at
``POST /webhooks/microsoft365/lifecycle``. No bearer token: each notification is
authenticated by its subscription's clientState (roomsync.sync.listener.notifications).

- Validation handshake (concepts/change-notifications-delivery-webhooks.md, "Notification
  endpoint validation"): ``?validationToken=…`` on either URL is
  answered 200, ``text/plain``, with the URL-decoded token (``nosniff``, so a browser
  never renders it as anything but text).
- Notifications: verified, what they ask for queued, answered 202 — within Graph's 3
  seconds (change-notifications-delivery-webhooks.md): no Graph call, and no database
  work once the subscription is cached. Forged or stale notifications are answered 202
  too, so a caller learns nothing; each costs one look-up in memory.
- Bounds, so that no one makes the server work for nothing without a credential: a body
  over ``MAX_BODY_BYTES`` or a ``value`` of more than ``MAX_NOTIFICATIONS`` is 413
  (Microsoft documents no batch size; a notification of an event is under 1 KB, and
  Graph's batches are small).
- A body that is not a notification collection is 400.
"""

from __future__ import annotations

import json
import threading
from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, Query, Request
from fastapi.responses import PlainTextResponse, Response
from starlette.concurrency import run_in_threadpool

from roomsync.sync.listener.notifications import (
    InvalidNotificationError,
    NotificationReceiver,
    SubscriptionDirectory,
)
from roomsync.sync.listener.subscriptions import LIFECYCLE_PATH, NOTIFICATION_PATH
from roomsync.telemetry import NOTIFICATIONS
from roomsync.web.deps import runtime_of
from roomsync.web.errors import error_response

router = APIRouter(tags=["webhooks"])
ValidationToken = Annotated[
    str | None,
    Query(alias="validationToken", description="Sent by Graph to validate the URL."),
]
_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": "The validation token, as plain text", "content": {"text/plain": {}}},
    202: {"description": "Accepted: verified notifications are queued"},
    400: {"description": "The body is not a notification collection"},
    413: {"description": "The body or its number of notifications is over the limit"},
}
MAX_BODY_BYTES = 1_048_576
MAX_NOTIFICATIONS = 1_000
_NOT_A_COLLECTION = 'A notification POST carries {"value": [notification, ...]} as JSON.'
_BUILD_LOCK = threading.RLock()


async def receive(request: Request, validation_token: ValidationToken = None) -> Response:
    """Answers Graph's validation handshake (``?validationToken=``), or verifies a batch of
    notifications by clientState and queues what the genuine ones ask for (202)."""
    if validation_token is not None:
        return PlainTextResponse(validation_token, headers={"X-Content-Type-Options": "nosniff"})
    body = await _bounded_body(request)
    if body is None:
        return error_response(
            413,
            "payload_too_large",
            f"A notification POST carries at most {MAX_BODY_BYTES:,} bytes.",
            {"max_bytes": MAX_BODY_BYTES},
        )
    items = _items(body)
    if items is None:
        return error_response(400, "invalid_notification", _NOT_A_COLLECTION)
    if len(items) > MAX_NOTIFICATIONS:
        return error_response(
            413,
            "too_many_notifications",
            f"A notification POST carries at most {MAX_NOTIFICATIONS:,} notifications in "
            f"value; this one has {len(items):,}.",
            {"field": "value", "max_items": MAX_NOTIFICATIONS},
        )
    receiver = notification_receiver(request.app)
    try:
        receipt = await run_in_threadpool(receiver.receive_items, items)
    except InvalidNotificationError as error:
        return error_response(400, "invalid_notification", str(error), {"field": "value"})
    NOTIFICATIONS.labels("accepted").inc(receipt.accepted)
    NOTIFICATIONS.labels("ignored").inc(receipt.ignored)
    return Response(status_code=202)


for _path, _kind in ((NOTIFICATION_PATH, "Change"), (LIFECYCLE_PATH, "Lifecycle")):
    router.add_api_route(
        _path,
        receive,
        methods=["POST"],
        status_code=202,
        response_class=Response,
        responses=_RESPONSES,
        summary=f"{_kind} notifications from Microsoft Graph, and its validation handshake",
        operation_id=f"{_kind.lower()}_notifications",
    )


async def _bounded_body(request: Request) -> bytes | None:
    """The body, or None once it is over ``MAX_BODY_BYTES`` (read no further than that)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and (len(declared) > 12 or int(declared) > MAX_BODY_BYTES):
        return None
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def _items(body: bytes) -> list[object] | None:
    """The ``value`` list of a JSON object, or None if the body is anything else."""
    try:
        payload = json.loads(body)
    except (ValueError, RecursionError):  # not JSON (or not UTF-8), or nested past reading
        return None
    items = payload.get("value") if isinstance(payload, dict) else None
    return items if isinstance(items, list) else None


def notification_receiver(app: FastAPI) -> NotificationReceiver:
    """The app's receiver, built on first use around the app's runtime."""
    receiver: NotificationReceiver | None = getattr(app.state, "notification_receiver", None)
    if receiver is not None:
        return receiver
    with _BUILD_LOCK:
        if getattr(app.state, "notification_receiver", None) is None:
            runtime = runtime_of(app)
            directory = SubscriptionDirectory(runtime.database, runtime.ctx.secrets)
            app.state.notification_receiver = NotificationReceiver(
                directory,
                request_pull=runtime.request_room_pull,
                queue_lifecycle=runtime.listener.queue_lifecycle,
            )
        built: NotificationReceiver = app.state.notification_receiver
        return built
