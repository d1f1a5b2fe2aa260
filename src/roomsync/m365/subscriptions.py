"""Change-notification subscriptions on room calendars (subscription-post-subscriptions.md).

- Create: ``POST /subscriptions`` with ``changeType``, ``notificationUrl``, ``resource``
  (``/users/{room}/events``; calendarView cannot be subscribed to), ``expirationDateTime``,
  ``clientState`` (at most 128 characters) and ``lifecycleNotificationUrl``, which can only
  be set now, not added later. Graph first validates both URLs (the handshake) and
  answers 201; a duplicate is 409, a failed validation 400.
- Lifetime: at most 10,080 minutes for Outlook events; less than 45 minutes is raised to
  45. Renew with ``PATCH /subscriptions/{id}`` and a new ``expirationDateTime`` (200),
  which also reauthorizes; ``POST /subscriptions/{id}/reauthorize`` only reauthorizes.
  Delete answers 204. Sent with ``Prefer: IdType="ImmutableId"``, notifications name
  immutable event ids.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from roomsync.m365.graph import GraphClient, Preferences, path_segment
from roomsync.m365.notification_models import ChangeType, Subscription
from roomsync.m365.wire import parse_wire

MAX_EVENT_SUBSCRIPTION_MINUTES = 10_080
MIN_SUBSCRIPTION_MINUTES = 45
MAX_CLIENT_STATE_LENGTH = 128
ALL_CHANGES = (ChangeType.CREATED, ChangeType.UPDATED, ChangeType.DELETED)
_IMMUTABLE_IDS = Preferences(immutable_ids=True)


def room_events_resource(mailbox: str) -> str:
    return f"/users/{path_segment(mailbox)}/events"


def subscription_expiry(
    now: datetime, *, minutes: int = MAX_EVENT_SUBSCRIPTION_MINUTES
) -> datetime:
    """An expiration Graph accepts: within Outlook's maximum, a minute of margin kept."""
    bounded = min(max(minutes, MIN_SUBSCRIPTION_MINUTES), MAX_EVENT_SUBSCRIPTION_MINUTES - 1)
    return now.astimezone(UTC) + timedelta(minutes=bounded)


def create_subscription(
    graph: GraphClient,
    *,
    resource: str,
    notification_url: str,
    lifecycle_notification_url: str,
    client_state: str,
    expires_at: datetime,
    change_types: Sequence[ChangeType] = ALL_CHANGES,
) -> Subscription:
    if not 0 < len(client_state) <= MAX_CLIENT_STATE_LENGTH:
        raise ValueError(f"a clientState has 1 to {MAX_CLIENT_STATE_LENGTH} characters")
    body = {
        "changeType": ",".join(change_types),
        "notificationUrl": notification_url,
        "lifecycleNotificationUrl": lifecycle_notification_url,
        "resource": resource,
        "expirationDateTime": _graph_instant(expires_at),
        "clientState": client_state,
    }
    response = graph.request("POST", "/subscriptions", json=body, headers=_IMMUTABLE_IDS.headers())
    return parse_wire(Subscription, response.body, source="POST /subscriptions")


def renew_subscription(
    graph: GraphClient, subscription_id: str, *, expires_at: datetime
) -> Subscription:
    """Moves the expiry (and reauthorizes); NotFound when Graph already removed it."""
    path = f"/subscriptions/{path_segment(subscription_id)}"
    response = graph.request("PATCH", path, json={"expirationDateTime": _graph_instant(expires_at)})
    return parse_wire(Subscription, response.body, source=f"PATCH {path}")


def reauthorize_subscription(graph: GraphClient, subscription_id: str) -> None:
    graph.request("POST", f"/subscriptions/{path_segment(subscription_id)}/reauthorize")


def delete_subscription(graph: GraphClient, subscription_id: str) -> None:
    graph.request("DELETE", f"/subscriptions/{path_segment(subscription_id)}")


def list_subscriptions(graph: GraphClient) -> list[Subscription]:
    """The subscriptions this application owns in the tenant."""
    return [
        parse_wire(Subscription, item, source="GET /subscriptions")
        for item in graph.iter_values("/subscriptions")
    ]


def _graph_instant(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("subscription expiries need aware datetimes")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
