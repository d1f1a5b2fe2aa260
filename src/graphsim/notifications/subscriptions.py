"""Change-notification subscriptions on ``/users/{id}/events`` and what they send.

- A change in a mailbox (created, updated, deleted item) produces, for every matching
  subscription, ``{"value": [{subscriptionId, subscriptionExpirationDateTime, tenantId,
  changeType, resource, resourceData{@odata.type, @odata.id, @odata.etag, id},
  clientState}]}`` (changenotification.md; event resources use ``Users/{id}/Events/{id}``
  and ``#Microsoft.Graph.Event``, like the documented message examples).
- Notifications due for one URL together travel in one POST
  (:mod:`graphsim.notifications.notifier`).
- Lifecycle events go to ``lifecycleNotificationUrl`` only
  (concepts/change-notifications-lifecycle-events.md): ``reauthorizationRequired``,
  ``subscriptionRemoved`` (the subscription is gone), ``missed``. They also happen by
  themselves (:mod:`graphsim.notifications.lifecycle`); ``missed`` whenever graphsim gives up on a
  notification (retries exhausted, or the endpoint is in the "drop" state). A
  notification lost to an injected fault stays silent: Graph never knew of the loss.
- While a subscription's reauthorization is overdue its notifications are not sent, and
  are lost ("any notifications about resource changes that happen when the change
  notification delivery pauses … are lost").
- Expired subscriptions are removed, as Graph deletes subscriptions not renewed in time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from graphsim.calendar.model import EventItem
from graphsim.calendar.store import Change, Mailbox
from graphsim.errors import NotFoundError
from graphsim.notifications.lifecycle import LifecycleEvent, deadline_of, next_challenge
from graphsim.notifications.notifier import Delivery, Notifier
from graphsim.timezones import iso_offset, iso_utc

if TYPE_CHECKING:
    from graphsim.core import Core


REAUTHORIZATION_GRACE = timedelta(minutes=15)


@dataclass
class Subscription:
    """One subscription as Graph keeps it."""

    id: str
    resource: str
    mailbox: str
    change_types: tuple[str, ...]
    notification_url: str
    expiration: datetime
    app_id: str
    creator_id: str
    client_state: str | None = None
    lifecycle_url: str | None = None
    tls_version: str = "v1_2"
    needs_reauthorization: bool = False
    extra: dict[str, Any] = field(default_factory=dict)
    authorized_until: datetime | None = None
    next_challenge: datetime | None = None
    challenged_since: datetime | None = None

    def paused(self, now: datetime) -> bool:
        """Delivery pauses once a challenge went unanswered past the authorization's end
        (and past a grace of :data:`REAUTHORIZATION_GRACE`, the "while" notifications
        "may continue … giving you extra time to respond"). A subscription without a
        lifecycle URL cannot be challenged, so graphsim never pauses it (Microsoft does
        not say what happens to one)."""
        if self.lifecycle_url is None:
            return False
        if self.challenged_since is None or self.authorized_until is None:
            return False
        return now >= max(self.authorized_until, self.challenged_since + REAUTHORIZATION_GRACE)

    def json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "resource": self.resource,
            "applicationId": self.app_id,
            "changeType": ",".join(self.change_types),
            "clientState": self.client_state,
            "notificationUrl": self.notification_url,
            "notificationQueryOptions": None,
            "lifecycleNotificationUrl": self.lifecycle_url,
            "expirationDateTime": iso_utc(self.expiration),
            "creatorId": self.creator_id,
            "includeResourceData": False,
            "latestSupportedTlsVersion": self.tls_version,
            "encryptionCertificate": None,
            "encryptionCertificateId": None,
            "notificationUrlAppId": None,
        }


class Subscriptions:
    """All subscriptions; callers hold the core lock."""

    def __init__(self, core: Core) -> None:
        self.core = core
        self.by_id: dict[str, Subscription] = {}
        self._by_mailbox: dict[str, dict[str, Subscription]] = {}
        self.notifier: Notifier = Notifier(
            core.background, core.options.notifications, clock=core.clock
        )
        self.notifier.dropped_listeners.append(self.on_dropped)

    def use_notifier(self, notifier: Notifier) -> None:
        """Deliver through ``notifier`` from now on (its transport is the test's seam)."""
        self.notifier = notifier
        notifier.dropped_listeners.append(self.on_dropped)

    def add(self, subscription: Subscription) -> None:
        if subscription.authorized_until is None:
            subscription.authorized_until = self.authorized_until()
            subscription.next_challenge = next_challenge(
                self.core.clock.now(), deadline_of(subscription)
            )
        self.by_id[subscription.id] = subscription
        self._by_mailbox.setdefault(subscription.mailbox, {})[subscription.id] = subscription

    def remove(self, subscription_id: str) -> Subscription | None:
        sub = self.by_id.pop(subscription_id, None)
        if sub is not None:
            self._by_mailbox.get(sub.mailbox, {}).pop(subscription_id, None)
        return sub

    def get(self, subscription_id: str) -> Subscription | None:
        """A live subscription (an expired one is removed first, as Graph deletes it)."""
        sub = self.by_id.get(subscription_id)
        if sub is not None and sub.expiration <= self.core.clock.now():
            self.remove(sub.id)
            return None
        return sub

    def sweep(self) -> list[str]:
        """Remove every expired subscription; their ids."""
        now = self.core.clock.now()
        gone = [s.id for s in self.by_id.values() if s.expiration <= now]
        for subscription_id in gone:
            self.remove(subscription_id)
        return gone

    def authorized_until(self) -> datetime:
        """When access granted now runs out: the lifetime of the access token Graph saw."""
        return self.core.clock.now() + timedelta(seconds=self.core.options.access_token_lifetime)

    def reauthorize(self, sub: Subscription) -> None:
        sub.needs_reauthorization = False
        sub.authorized_until = self.authorized_until()
        sub.challenged_since = None
        sub.next_challenge = next_challenge(self.core.clock.now(), deadline_of(sub))

    def for_mailbox(self, email: str) -> list[Subscription]:
        return list(self._by_mailbox.get(email, {}).values())

    def on_change(self, box: Mailbox, change: Change, item: EventItem | None) -> None:
        """Store listener: queue a notification per matching subscription."""
        if not self.by_id:
            return
        now = self.core.clock.now()
        for sub in self.for_mailbox(box.email):
            if sub.expiration <= now:
                self.remove(sub.id)
            elif change.kind.value in sub.change_types and not sub.paused(now):
                self._notify(sub, box, change, item or change.previous)

    def _notify(
        self, sub: Subscription, box: Mailbox, change: Change, item: EventItem | None
    ) -> None:
        resource = f"Users/{box.user_id}/Events/{change.item_id}"
        resource_data: dict[str, Any] = {
            "@odata.type": "#Microsoft.Graph.Event",
            "@odata.id": resource,
            "id": change.item_id,
        }
        if item is not None:
            resource_data["@odata.etag"] = f'W/"{item.change_key}"'
        notification: dict[str, Any] = {
            "subscriptionId": sub.id,
            "subscriptionExpirationDateTime": iso_offset(sub.expiration),
            "changeType": change.kind.value,
            "resource": resource,
            "resourceData": resource_data,
            "clientState": sub.client_state,
            "tenantId": self.core.tenant.tenant_id,
        }
        copies = self.core.faults.notification_copies()
        if copies:
            self.notifier.enqueue(sub.notification_url, notification)
        for _ in range(copies - 1):  # an injected duplicate is a resend: a POST of its own
            self.notifier.send(sub.notification_url, {"value": [notification]})

    def on_dropped(self, delivery: Delivery) -> None:
        """Notifier listener: a dropped change notification becomes ``missed``."""
        ids = {n.get("subscriptionId") for n in delivery.payload.get("value") or []}
        if any("lifecycleEvent" in n for n in delivery.payload.get("value") or []):
            return
        with self.core.lock:
            for subscription_id in sorted(i for i in ids if isinstance(i, str)):
                if self.get(subscription_id) is not None:
                    self.send_lifecycle(subscription_id, LifecycleEvent.MISSED)

    def send_lifecycle(self, subscription_id: str, event: LifecycleEvent) -> Delivery | None:
        """Send a lifecycle event (None when the subscription has no lifecycle URL)."""
        sub = self.get(subscription_id)
        if sub is None:
            raise NotFoundError(f"There is no subscription {subscription_id}.")
        if event is LifecycleEvent.SUBSCRIPTION_REMOVED:
            self.remove(subscription_id)
        if event is LifecycleEvent.REAUTHORIZATION_REQUIRED:
            sub.needs_reauthorization = True
            sub.challenged_since = sub.challenged_since or self.core.clock.now()
        if sub.lifecycle_url is None:
            return None
        payload = {
            "value": [
                {
                    "subscriptionId": sub.id,
                    "subscriptionExpirationDateTime": iso_offset(sub.expiration),
                    "tenantId": self.core.tenant.tenant_id,
                    "clientState": sub.client_state,
                    "lifecycleEvent": event.value,
                }
            ]
        }
        return self.notifier.send(sub.lifecycle_url, payload)
