"""Queue tasks of workflow 3 (listener mode): keeping rooms subscribed, lifecycle events.

``renew_subscriptions`` is one sweep (create, renew, recreate, delete as each room needs);
run it when an integration enters or leaves listener mode and on a schedule well inside
the renewal margin. Lifecycle notifications are answered 202 by the webhook and handled
here, off the request path.
"""

from __future__ import annotations

import logging
import uuid

from huey import Huey

from roomsync.m365.notification_models import LifecycleEvent
from roomsync.runtime.queue import task
from roomsync.sync.context import SyncContext
from roomsync.sync.exceptions import LeaseHeldError
from roomsync.sync.listener.workflow import (
    LifecycleNotice,
    PullRequester,
    handle_lifecycle,
    renew_subscriptions,
)

logger = logging.getLogger(__name__)
LEASE_RETRY_SECONDS = 2.0


class ListenerTasks:
    def __init__(self, huey: Huey, ctx: SyncContext, *, request_pull: PullRequester) -> None:
        @task(huey, "roomsync.renew_subscriptions")
        def renew(integration_id: str) -> None:
            try:
                report = renew_subscriptions(
                    ctx, uuid.UUID(integration_id), request_pull=request_pull
                )
            except LeaseHeldError:
                logger.info("Subscriptions of integration %s are being renewed", integration_id)
                return
            logger.info("Subscriptions of integration %s: %s", integration_id, dict(report.counts))

        @task(huey, "roomsync.subscription_lifecycle")
        def lifecycle(
            integration_id: str, resource_id: str, subscription_id: str, event: str
        ) -> None:
            notice = LifecycleNotice(
                uuid.UUID(integration_id), uuid.UUID(resource_id), subscription_id,
                LifecycleEvent(event),
            )  # fmt: skip
            try:
                handle_lifecycle(ctx, notice, request_pull=request_pull)
            except LeaseHeldError:  # a sweep holds the room's subscriptions: answer after it
                args = (integration_id, resource_id, subscription_id, event)
                lifecycle.schedule(args, delay=LEASE_RETRY_SECONDS)

        self.renew_subscriptions = renew
        self.lifecycle = lifecycle

    def queue_lifecycle(self, notice: LifecycleNotice) -> None:
        self.lifecycle(
            str(notice.integration_id), str(notice.resource_id), notice.subscription_id,
            notice.event.value,
        )  # fmt: skip
