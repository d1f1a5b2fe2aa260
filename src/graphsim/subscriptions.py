"""Change-notification subscriptions on ``/users/{id}/events`` and what they send.

- A change in a mailbox (created, updated, deleted item) produces, for every matching
  subscription, ``{"value": [{subscriptionId, subscriptionExpirationDateTime, tenantId,
  changeType, resource, resourceData{@odata.type, @odata.id, @odata.etag, id},
  clientState}]}`` (changenotification.md; event resources use ``Users/{id}/Events/{id}``
  and ``#Microsoft.Graph.Event``, like the documented message examples).
- Lifecycle events go to ``lifecycleNotificationUrl`` only (lifecycle-events.md):
  ``reauthorizationRequired``, ``subscriptionRemoved`` (the subscription is gone),
  ``missed``.
- Expired subscriptions are removed, as Graph deletes subscriptions not renewed in time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from graphsim.calendar.model import EventItem
from graphsim.calendar.store import Change, Mailbox
from graphsim.errors import NotFoundError
from graphsim.notifier import Delivery, Notifier
from graphsim.timezones import iso_offset, iso_utc

if TYPE_CHECKING:
    from graphsim.core import Core


class LifecycleEvent(StrEnum):
    """CSDL ``lifecycleEventType``."""

    MISSED = "missed"
    SUBSCRIPTION_REMOVED = "subscriptionRemoved"
    REAUTHORIZATION_REQUIRED = "reauthorizationRequired"


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
        self.notifier: Notifier = Notifier(core.background, core.options.notifications)

    def add(self, subscription: Subscription) -> None:
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
            elif change.kind.value in sub.change_types:
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
        for _ in range(self.core.faults.notification_copies()):
            self.notifier.send(sub.notification_url, {"value": [notification]})

    def send_lifecycle(self, subscription_id: str, event: LifecycleEvent) -> Delivery | None:
        """Send a lifecycle event (None when the subscription has no lifecycle URL)."""
        sub = self.get(subscription_id)
        if sub is None:
            raise NotFoundError(f"There is no subscription {subscription_id}.")
        if event is LifecycleEvent.SUBSCRIPTION_REMOVED:
            self.remove(subscription_id)
        if event is LifecycleEvent.REAUTHORIZATION_REQUIRED:
            sub.needs_reauthorization = True
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
