"""Workflow 3, the worker side: keeping every room subscribed, and lifecycle events.

- :func:`renew_subscriptions` is the sweep the runtime schedules: one listing of the app's
  subscriptions, then per room create (new room, listener mode switched on), renew (well
  before expiry), recreate (Graph no longer has it, ``ROOMSYNC_PUBLIC_URL`` changed, or
  its clientState cannot be decrypted) or delete (room retired, mode switched to
  polling, integration disabled). Rooms whose subscription was created or recreated are
  pulled at once: a subscription hears only later changes, so whatever changed since the
  room's last pull (or while it had none) would otherwise wait for the safety-net round.
  The runtime runs a sweep right after each room import of a listening integration, so
  a newly known room is subscribed within seconds.
- :func:`handle_lifecycle` answers Graph's lifecycle notifications
  (change-notifications-lifecycle-events.md): ``reauthorizationRequired`` → renew (a
  PATCH of the expiry also reauthorizes), ``subscriptionRemoved`` → recreate, then pull,
  ``missed`` → pull.

Both hold the integration's subscription lease, so a sweep and a lifecycle event never
create two subscriptions for one room. Pulls are asked for through a
:class:`PullRequester` (the runtime's coalesced room pull; sync never imports runtime).
"""

from __future__ import annotations

import logging
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from typing import Protocol

from sqlalchemy import ColumnElement, Select, and_, or_, select
from sqlalchemy.orm import Session

from roomsync.logs import register_client_state
from roomsync.m365.notification_models import LifecycleEvent, Subscription
from roomsync.m365.subscriptions import list_subscriptions
from roomsync.platform.crypto import SecretBox, SecretUnreadableError
from roomsync.platform.enums import IntegrationMode
from roomsync.platform.models import Integration, Resource, RoomSyncState
from roomsync.sync.context import SyncContext
from roomsync.sync.exceptions import IntegrationUnavailableError
from roomsync.sync.integration.connection import graph_for
from roomsync.sync.leases import HeldLease, kept_lease, lease_ttl
from roomsync.sync.listener.subscriptions import (
    DEFAULT_POLICY,
    RecordedSubscription,
    RoomOutcome,
    RoomTarget,
    SubscriptionAction,
    SubscriptionKeeper,
    SubscriptionPolicy,
    WebhookUrls,
    plan_subscription,
)
from roomsync.sync.room_states import ensure_room_states

logger = logging.getLogger(__name__)
# Graph calls in flight per sweep: each create waits for Graph's validation handshake.
_CONCURRENT_CALLS = 4


class PullRequester(Protocol):
    """Queues a coalesced pull of one room; True if a new pull was queued."""

    def __call__(self, integration_id: uuid.UUID, resource_id: uuid.UUID) -> bool: ...


@dataclass(frozen=True)
class LifecycleNotice:
    """A verified lifecycle notification, ready to be handled off the request path."""

    integration_id: uuid.UUID
    resource_id: uuid.UUID
    subscription_id: str
    event: LifecycleEvent


@dataclass
class SweepReport:
    """What a sweep did: a count per action, and the rooms' errors."""

    counts: Counter[str] = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)


def subscriptions_lease(integration_id: uuid.UUID) -> str:
    return f"subscriptions:{integration_id}"


def renew_subscriptions(
    ctx: SyncContext,
    integration_id: uuid.UUID,
    *,
    request_pull: PullRequester | None = None,
    policy: SubscriptionPolicy = DEFAULT_POLICY,
) -> SweepReport:
    """Bring every room's subscription in line with the integration's mode (module doc)."""
    name = subscriptions_lease(integration_id)
    with kept_lease(ctx.database, name, ttl=lease_ttl(ctx.settings), clock=ctx.clock) as held:
        return _Sweep(ctx, integration_id, policy, held).run(request_pull)


def is_listening(ctx: SyncContext, integration_id: uuid.UUID) -> bool:
    """Whether the integration's rooms want subscriptions (listener mode, running)."""
    with ctx.database.session() as session:
        integration = session.get(Integration, integration_id)
        return integration is not None and _wanted(integration)


def handle_lifecycle(
    ctx: SyncContext,
    notice: LifecycleNotice,
    *,
    request_pull: PullRequester,
    policy: SubscriptionPolicy = DEFAULT_POLICY,
) -> SubscriptionAction | None:
    """Act on one lifecycle event; the action taken on the subscription, if any."""
    if notice.event is LifecycleEvent.MISSED:
        request_pull(notice.integration_id, notice.resource_id)
        return None
    if notice.event is LifecycleEvent.UNKNOWN:
        logger.info("Ignoring an unknown lifecycle event for %s", notice.subscription_id)
        return None
    name = subscriptions_lease(notice.integration_id)
    with kept_lease(ctx.database, name, ttl=lease_ttl(ctx.settings), clock=ctx.clock):
        outcome = _answer_lifecycle(ctx, notice, policy)
    if outcome is not None and (
        outcome.needs_catch_up or notice.event is LifecycleEvent.SUBSCRIPTION_REMOVED
    ):
        request_pull(notice.integration_id, notice.resource_id)
    return outcome.action if outcome is not None else None


def _answer_lifecycle(
    ctx: SyncContext, notice: LifecycleNotice, policy: SubscriptionPolicy
) -> RoomOutcome | None:
    with ctx.database.session() as session:
        integration = _integration(session, notice.integration_id)
        row = session.execute(
            select(RoomSyncState, Resource)
            .join(Resource, Resource.id == RoomSyncState.resource_id)
            .where(RoomSyncState.resource_id == notice.resource_id)
        ).one_or_none()
    if row is None or row[0].subscription_id != notice.subscription_id:
        logger.info("Lifecycle event for a replaced subscription %s", notice.subscription_id)
        return None
    state, resource = row
    room = RoomTarget(resource.id, resource.email or "")
    action = _lifecycle_action(notice.event, wanted=_wanted(integration) and resource.active)
    removed = notice.event is LifecycleEvent.SUBSCRIPTION_REMOVED
    live_id = None if removed else state.subscription_id
    keeper = _keeper(ctx, integration, policy)
    outcome = keeper.perform(room, action, live_id)
    keeper.record(outcome)
    return outcome


def _lifecycle_action(event: LifecycleEvent, *, wanted: bool) -> SubscriptionAction:
    if event is LifecycleEvent.SUBSCRIPTION_REMOVED:
        return SubscriptionAction.RECREATE if wanted else SubscriptionAction.FORGET
    return SubscriptionAction.RENEW if wanted else SubscriptionAction.DELETE


class _Sweep:
    def __init__(
        self,
        ctx: SyncContext,
        integration_id: uuid.UUID,
        policy: SubscriptionPolicy,
        held: HeldLease,
    ) -> None:
        self.ctx, self.policy, self.held = ctx, policy, held
        with ctx.database.session() as session:
            self.integration = _integration(session, integration_id)
        self.urls = WebhookUrls.under(ctx.settings.public_url)
        self.report = SweepReport()
        self.renewed_at = ctx.clock()

    def run(self, request_pull: PullRequester | None) -> SweepReport:
        rooms = self._rooms()
        if not rooms:
            return self.report
        keeper = _keeper(self.ctx, self.integration, self.policy)
        live = {found.id: found for found in list_subscriptions(keeper.graph)}
        plans = list(self._plans(rooms, live))
        for outcome in self._perform_all(keeper, plans):
            keeper.record(outcome)
            self._count(outcome)
            if request_pull is not None and outcome.needs_catch_up:
                request_pull(self.integration.id, outcome.room.resource_id)
            self._keep_lease()
        return self.report

    def _rooms(self) -> list[tuple[RoomSyncState, Resource, bool]]:
        """Rooms that want a subscription, and rooms that hold one: (state, room, wanted)."""
        wanted = _wanted(self.integration)
        holds_one = RoomSyncState.subscription_id.is_not(None)
        if wanted:
            with self.ctx.database.session() as session:
                ids = list(session.scalars(_listener_room_ids(self.integration)))
            ensure_room_states(
                self.ctx.database, integration_id=self.integration.id, resource_ids=ids
            )
        with self.ctx.database.session() as session:
            rows = session.execute(
                select(RoomSyncState, Resource)
                .join(Resource, Resource.id == RoomSyncState.resource_id)
                .where(RoomSyncState.integration_id == self.integration.id)
                .where(or_(holds_one, _is_listener_room()) if wanted else holds_one)
                .order_by(Resource.id)
            ).all()
        return [(state, room, wanted and _is_listening(room)) for state, room in rows]

    def _plans(
        self, rooms: list[tuple[RoomSyncState, Resource, bool]], live: dict[str, Subscription]
    ) -> Iterator[tuple[RoomTarget, SubscriptionAction, str | None]]:
        now = self.ctx.clock()
        for state, room, wanted in rooms:
            found = live.get(state.subscription_id or "")
            action = plan_subscription(
                wanted=wanted,
                recorded=_recorded(state, self.ctx.secrets),
                live=found,
                urls=self.urls,
                now=now,
                policy=self.policy,
            )
            if action is SubscriptionAction.KEEP:
                self.report.counts[action] += 1
            else:
                yield RoomTarget(room.id, room.email or ""), action, found.id if found else None

    def _perform_all(
        self,
        keeper: SubscriptionKeeper,
        plans: list[tuple[RoomTarget, SubscriptionAction, str | None]],
    ) -> Iterator[RoomOutcome]:
        with ThreadPoolExecutor(_CONCURRENT_CALLS, thread_name_prefix="subscriptions") as pool:
            futures = [pool.submit(keeper.perform, *plan) for plan in plans]
            for future in as_completed(futures):
                yield future.result()

    def _keep_lease(self) -> None:
        if self.ctx.clock() - self.renewed_at > self.held.ttl / 3:
            self.held.renew()
            self.renewed_at = self.ctx.clock()

    def _count(self, outcome: RoomOutcome) -> None:
        if outcome.error is not None:
            self.report.counts["failed"] += 1
            self.report.errors.append(f"{outcome.room.room_email}: {outcome.error}")
        else:
            self.report.counts[outcome.action] += 1


def _recorded(state: RoomSyncState, secrets_box: SecretBox) -> RecordedSubscription:
    readable = True
    if state.subscription_client_state_encrypted is not None:
        try:
            register_client_state(secrets_box.decrypt(state.subscription_client_state_encrypted))
        except SecretUnreadableError:
            readable = False
    return RecordedSubscription(state.subscription_id, client_state_readable=readable)


def _keeper(
    ctx: SyncContext, integration: Integration, policy: SubscriptionPolicy
) -> SubscriptionKeeper:
    return SubscriptionKeeper(
        graph_for(ctx, integration),
        database=ctx.database,
        secrets_box=ctx.secrets,
        urls=WebhookUrls.under(ctx.settings.public_url),
        policy=policy,
        clock=ctx.clock,
    )


def _integration(session: Session, integration_id: uuid.UUID) -> Integration:
    integration = session.get(Integration, integration_id)
    if integration is None:
        raise IntegrationUnavailableError(f"There is no integration with the id {integration_id}.")
    return integration


def _wanted(integration: Integration) -> bool:
    """Listener mode on an enabled, running integration: its rooms want subscriptions."""
    return (
        integration.mode is IntegrationMode.LISTENER
        and integration.enabled
        and not integration.stopped_reason
    )


def _listener_room_ids(integration: Integration) -> Select[uuid.UUID]:
    return select(Resource.id).where(
        Resource.organization_id == integration.organization_id, _is_listener_room()
    )


def _is_listener_room() -> ColumnElement[bool]:
    return and_(Resource.email.is_not(None), Resource.active.is_(True))


def _is_listening(room: Resource) -> bool:
    return room.active and room.email is not None
