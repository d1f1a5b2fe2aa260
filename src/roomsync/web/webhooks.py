"""Microsoft Graph's webhooks (CONTRACT "Webhooks"): change notifications at
``POST /webhooks/microsoft365``, lifecycle notifications at
``POST /webhooks/microsoft365/lifecycle``. No bearer token: each notification is
authenticated by its subscription's clientState (roomsync.sync.notifications).

- Validation handshake (graph-wire-facts §5b): ``?validationToken=…`` on either URL is
  answered 200, ``text/plain``, with the URL-decoded token (``nosniff``, so a browser
  never renders it as anything but text).
- Notifications: verified, what they ask for queued, answered 202 — within Graph's 3
  seconds (§5d): no Graph call, and no database work once the subscription is cached.
  Forged or stale notifications are answered 202 too, so a caller learns nothing.
- A body that is not a notification collection is 400.
"""

from __future__ import annotations

import json
import threading
from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, Query, Request
from fastapi.responses import PlainTextResponse, Response
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from roomsync.m365.notification_models import NotificationBatch
from roomsync.sync.notifications import NotificationReceiver, SubscriptionDirectory
from roomsync.sync.subscriptions import LIFECYCLE_PATH, NOTIFICATION_PATH
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
}
_BUILD_LOCK = threading.RLock()


async def receive(request: Request, validation_token: ValidationToken = None) -> Response:
    """Answers Graph's validation handshake (``?validationToken=``), or verifies a batch of
    notifications by clientState and queues what the genuine ones ask for (202)."""
    if validation_token is not None:
        return PlainTextResponse(validation_token, headers={"X-Content-Type-Options": "nosniff"})
    batch = _batch(await request.body())
    if batch is None:
        return error_response(
            400,
            "invalid_notification",
            'A notification POST carries {"value": [notification, ...]} as JSON.',
        )
    receipt = await run_in_threadpool(lambda: notification_receiver(request.app).receive(batch))
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


def _batch(body: bytes) -> NotificationBatch | None:
    try:
        payload = json.loads(body)
        return NotificationBatch.from_body(payload) if isinstance(payload, dict) else None
    except (ValueError, ValidationError):  # JSON syntax, or not notifications
        return None


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
