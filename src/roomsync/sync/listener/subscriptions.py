"""One change-notification subscription per room calendar, as roomsync keeps them.

Graph facts applied here (api-reference/v1.0/api/subscription-post-subscriptions.md,
api-reference/v1.0/api/subscription-update.md, concepts/change-notifications-lifecycle-events.md):

- a subscription is on ``/users/{room}/events`` (calendarView cannot be subscribed to),
  for created, updated and deleted items, with ``notificationUrl`` and
  ``lifecycleNotificationUrl`` under ``ROOMSYNC_PUBLIC_URL`` (``/webhooks/microsoft365``
  and ``/webhooks/microsoft365/lifecycle``); the
  lifecycle URL can only be set at creation, so a changed public URL means recreating;
- Outlook subscriptions live at most 10,080 minutes and Graph deletes one not renewed in
  time, so each is renewed well before it expires (``SubscriptionPolicy``);
- the same app, resource, change types and URL again is 409 Conflict: the leftover of a
  create whose answer was lost is deleted and the create retried once;
- every subscription gets its own random ``clientState``, stored only encrypted, which
  every notification must carry.

The planner (:func:`plan_subscription`) is pure; :class:`SubscriptionKeeper` performs an
action against Graph (no database transaction open meanwhile: Graph's validation
handshake calls back into this service) and records the result on ``room_sync_state``.
"""

from __future__ import annotations

import contextlib
import logging
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import select

from roomsync.logs import register_client_state
from roomsync.m365.exceptions import BadRequest, Conflict, GraphError, NotFound
from roomsync.m365.graph import GraphClient
from roomsync.m365.notification_models import Subscription
from roomsync.m365.subscriptions import (
    MAX_EVENT_SUBSCRIPTION_MINUTES,
    create_subscription,
    delete_subscription,
    list_subscriptions,
    renew_subscription,
    room_events_resource,
    subscription_expiry,
)
from roomsync.platform.crypto import SecretBox
from roomsync.platform.db import Database
from roomsync.platform.models import RoomSyncState
from roomsync.sync.context import Clock

logger = logging.getLogger(__name__)

NOTIFICATION_PATH = "/webhooks/microsoft365"
LIFECYCLE_PATH = "/webhooks/microsoft365/lifecycle"
_CLIENT_STATE_BYTES = 48  # 64 URL-safe characters; Graph allows 128


class SubscriptionState(StrEnum):
    """``room_sync_state.subscription_state``."""

    ACTIVE = "active"
    FAILED = "failed"  # the last create or renewal failed: see subscription_error


class SubscriptionAction(StrEnum):
    KEEP = "keep"
    CREATE = "create"
    RENEW = "renew"
    RECREATE = "recreate"  # gone from Graph, unreadable, or pointing elsewhere
    DELETE = "delete"
    FORGET = "forget"  # no longer wanted and already gone from Graph


@dataclass(frozen=True)
class WebhookUrls:
    notification: str
    lifecycle: str

    @classmethod
    def under(cls, public_url: str) -> WebhookUrls:
        base = public_url.rstrip("/")
        return cls(notification=base + NOTIFICATION_PATH, lifecycle=base + LIFECYCLE_PATH)


@dataclass(frozen=True)
class SubscriptionPolicy:
    """How long subscriptions are asked to live, and how early they are renewed.

    Renewing once less than ``renew_before`` remains leaves days of sweeps to retry in
    if Graph or this service is briefly unavailable.
    """

    lifetime_minutes: int = MAX_EVENT_SUBSCRIPTION_MINUTES
    renew_before: timedelta = timedelta(days=3)


DEFAULT_POLICY = SubscriptionPolicy()


@dataclass(frozen=True)
class RecordedSubscription:
    """What ``room_sync_state`` says about a room's subscription."""

    subscription_id: str | None
    client_state_readable: bool


def plan_subscription(
    *,
    wanted: bool,
    recorded: RecordedSubscription,
    live: Subscription | None,
    urls: WebhookUrls,
    now: datetime,
    policy: SubscriptionPolicy,
) -> SubscriptionAction:
    """What to do about one room's subscription, given what we recorded and what Graph has."""
    if not wanted:
        if recorded.subscription_id is None:
            return SubscriptionAction.KEEP
        return SubscriptionAction.DELETE if live is not None else SubscriptionAction.FORGET
    if recorded.subscription_id is None:
        return SubscriptionAction.CREATE
    if (
        live is None
        or not recorded.client_state_readable
        or live.notification_url != urls.notification
    ):
        return SubscriptionAction.RECREATE
    if live.expiration_date_time - now <= policy.renew_before:
        return SubscriptionAction.RENEW
    return SubscriptionAction.KEEP


@dataclass(frozen=True)
class RoomTarget:
    resource_id: uuid.UUID
    room_email: str


@dataclass(frozen=True)
class RoomOutcome:
    """What performing an action did; ``client_state`` is set only for a new subscription."""

    room: RoomTarget
    action: SubscriptionAction
    subscription: Subscription | None = None
    client_state: str | None = None
    error: str | None = None

    @property
    def needs_catch_up(self) -> bool:
        """A subscription hears only what changes after it exists: a new one (or one
        recreated after the room went without) is followed by a pull of the room, so a
        change made since the last pull is not left for the safety-net round."""
        return self.error is None and self.action in _STARTS_LISTENING


_STARTS_LISTENING = frozenset({SubscriptionAction.CREATE, SubscriptionAction.RECREATE})


def new_client_state() -> str:
    client_state = secrets.token_urlsafe(_CLIENT_STATE_BYTES)
    register_client_state(client_state)  # whoever reads it could forge notifications
    return client_state


class SubscriptionKeeper:
    """Performs planned actions for one integration's rooms and records what happened."""

    def __init__(
        self,
        graph: GraphClient,
        *,
        database: Database,
        secrets_box: SecretBox,
        urls: WebhookUrls,
        policy: SubscriptionPolicy,
        clock: Clock,
    ) -> None:
        self.graph, self.database, self.secrets = graph, database, secrets_box
        self.urls, self.policy, self.clock = urls, policy, clock

    def perform(
        self, room: RoomTarget, action: SubscriptionAction, live_id: str | None
    ) -> RoomOutcome:
        """Carry out ``action`` against Graph; a Graph failure becomes the outcome's error."""
        try:
            return self._perform(room, action, live_id)
        except GraphError as exc:
            logger.warning("Subscription %s for %s failed: %s", action, room.room_email, exc)
            return RoomOutcome(room, action, error=self._explain(action, exc))

    def _perform(
        self, room: RoomTarget, action: SubscriptionAction, live_id: str | None
    ) -> RoomOutcome:
        if action in (SubscriptionAction.DELETE, SubscriptionAction.RECREATE) and live_id:
            self._delete(live_id)
        if action in (SubscriptionAction.CREATE, SubscriptionAction.RECREATE):
            return self._subscribe(room, action)
        if action is SubscriptionAction.RENEW and live_id:
            expires_at = subscription_expiry(self.clock(), minutes=self.policy.lifetime_minutes)
            try:
                renewed = renew_subscription(self.graph, live_id, expires_at=expires_at)
            except NotFound:  # Graph removed it meanwhile: notifications were lost
                return self._subscribe(room, SubscriptionAction.RECREATE)
            return RoomOutcome(room, action, subscription=renewed)
        return RoomOutcome(room, action)

    def _subscribe(self, room: RoomTarget, action: SubscriptionAction) -> RoomOutcome:
        client_state = new_client_state()
        try:
            created = self._create(room, client_state)
        except Conflict:
            self._delete_leftovers(room)
            created = self._create(room, client_state)
        return RoomOutcome(room, action, subscription=created, client_state=client_state)

    def _create(self, room: RoomTarget, client_state: str) -> Subscription:
        return create_subscription(
            self.graph,
            resource=room_events_resource(room.room_email),
            notification_url=self.urls.notification,
            lifecycle_notification_url=self.urls.lifecycle,
            client_state=client_state,
            expires_at=subscription_expiry(self.clock(), minutes=self.policy.lifetime_minutes),
        )

    def _delete_leftovers(self, room: RoomTarget) -> None:
        resource = room_events_resource(room.room_email).strip("/").lower()
        for found in list_subscriptions(self.graph):
            if (found.resource or "").strip("/").lower() == resource and (
                found.notification_url == self.urls.notification
            ):
                self._delete(found.id)

    def _delete(self, subscription_id: str) -> None:
        with contextlib.suppress(NotFound):  # already gone is what we wanted
            delete_subscription(self.graph, subscription_id)

    def _explain(self, action: SubscriptionAction, exc: GraphError) -> str:
        message = f"Could not {action} the room's subscription: {exc.message}"
        if isinstance(exc, BadRequest) and not isinstance(exc, Conflict):
            message += (
                f" Microsoft Graph must reach {self.urls.notification} and "
                f"{self.urls.lifecycle} (ROOMSYNC_PUBLIC_URL, HTTPS from the internet) and "
                "get the validation token back within 10 seconds."
            )
        return message

    def record(self, outcome: RoomOutcome) -> None:
        """Save the outcome on the room's ``room_sync_state`` row in one transaction."""
        with self.database.session() as session:
            state = session.scalars(
                select(RoomSyncState)
                .where(RoomSyncState.resource_id == outcome.room.resource_id)
                .with_for_update()
            ).one_or_none()
            if state is not None:
                apply_outcome(state, outcome, self.secrets)


def apply_outcome(state: RoomSyncState, outcome: RoomOutcome, secrets_box: SecretBox) -> None:
    if outcome.error is not None:
        state.subscription_state, state.subscription_error = SubscriptionState.FAILED, outcome.error
        if outcome.action in (SubscriptionAction.RECREATE, SubscriptionAction.CREATE):
            forget(state)  # the old one is deleted or unusable: create again next sweep
        return
    if outcome.action in (SubscriptionAction.DELETE, SubscriptionAction.FORGET):
        forget(state)
        state.subscription_state = state.subscription_error = None
        return
    subscription = outcome.subscription
    if subscription is None:
        return
    if outcome.client_state is not None:
        state.subscription_id = subscription.id
        state.subscription_client_state_encrypted = secrets_box.encrypt(outcome.client_state)
    state.subscription_expires_at = subscription.expiration_date_time
    state.subscription_state, state.subscription_error = SubscriptionState.ACTIVE, None


def forget(state: RoomSyncState) -> None:
    state.subscription_id = None
    state.subscription_expires_at = None
    state.subscription_client_state_encrypted = None
