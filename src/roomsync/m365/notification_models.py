"""Pydantic models of Graph's subscriptions and of the change and lifecycle notifications
it POSTs to a webhook (concepts/change-notifications-delivery-webhooks.md,
api-reference/v1.0/resources/changenotification.md)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from pydantic import Field

from roomsync.m365.wire import EvolvableEnum, WireModel


class ChangeType(EvolvableEnum):
    UNKNOWN = "unknown"
    CREATED = "created"
    UPDATED = "updated"
    DELETED = "deleted"


class LifecycleEvent(EvolvableEnum):
    UNKNOWN = "unknown"
    MISSED = "missed"
    SUBSCRIPTION_REMOVED = "subscriptionRemoved"
    REAUTHORIZATION_REQUIRED = "reauthorizationRequired"


class Subscription(WireModel):
    id: str
    resource: str | None = None
    change_type: str | None = None
    notification_url: str | None = None
    lifecycle_notification_url: str | None = None
    client_state: str | None = Field(default=None, repr=False)
    expiration_date_time: datetime
    application_id: str | None = None
    creator_id: str | None = None
    latest_supported_tls_version: str | None = None


class ResourceData(WireModel):
    id: str | None = None
    odata_type: str | None = Field(default=None, alias="@odata.type")
    odata_id: str | None = Field(default=None, alias="@odata.id")
    odata_etag: str | None = Field(default=None, alias="@odata.etag")


class ChangeNotification(WireModel):
    subscription_id: str
    change_type: ChangeType
    resource: str
    id: str | None = None
    subscription_expiration_date_time: datetime | None = None
    tenant_id: str | None = None
    client_state: str | None = Field(default=None, repr=False)
    resource_data: ResourceData | None = None


class LifecycleNotification(WireModel):
    subscription_id: str
    lifecycle_event: LifecycleEvent
    subscription_expiration_date_time: datetime | None = None
    tenant_id: str | None = None
    client_state: str | None = Field(default=None, repr=False)


class NotificationBatch(WireModel):
    """One POST to a webhook: change and lifecycle notifications, told apart."""

    changes: list[ChangeNotification] = Field(default_factory=list)
    lifecycle: list[LifecycleNotification] = Field(default_factory=list)

    @classmethod
    def from_body(cls, body: Mapping[str, Any]) -> NotificationBatch:
        """Splits ``{"value": [...]}`` by ``lifecycleEvent``; raises ValueError if malformed."""
        items = body.get("value")
        if not isinstance(items, list) or not all(isinstance(i, Mapping) for i in items):
            raise ValueError('a notification body is {"value": [{...}, ...]}')
        return cls.model_validate(
            {
                "changes": [item for item in items if "lifecycleEvent" not in item],
                "lifecycle": [item for item in items if "lifecycleEvent" in item],
            }
        )
