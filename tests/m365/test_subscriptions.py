"""Subscriptions on room calendars: create, renew, reauthorize, delete, list."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from roomsync.m365.exceptions import Conflict, NotFound
from roomsync.m365.notification_models import Subscription
from roomsync.m365.subscriptions import (
    MAX_EVENT_SUBSCRIPTION_MINUTES,
    create_subscription,
    delete_subscription,
    list_subscriptions,
    reauthorize_subscription,
    renew_subscription,
    room_events_resource,
    subscription_expiry,
)
from tests.m365.m365_fakes import GraphRoutes, graph_error, graph_json, make_graph

SUBSCRIPTION_ID = "7f105c7d-2dc5-4530-97cd-4e7ae6534c07"
NOW = datetime(2025, 3, 13, 10, 0, tzinfo=UTC)


def _subscription_echo(request: httpx.Request, status: int = 201) -> httpx.Response:
    sent = json.loads(request.content)
    body = {
        "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#subscriptions/$entity",
        "id": SUBSCRIPTION_ID,
        "applicationId": "24d3b144-21ae-4080-943f-7067b395b913",
        "creatorId": "8ee44408-0679-472c-bc2a-692812af3437",
        "latestSupportedTlsVersion": "v1_2",
        "resource": "/users/cf100@contoso.com/events",
        "changeType": "created,updated,deleted",
        "notificationUrl": "https://roomsync.example/webhooks/microsoft365",
        "expirationDateTime": "2025-03-20T09:59:00Z",
        **sent,
    }
    return graph_json(body, status=status)


def _create(routes: GraphRoutes, *, client_state: str = "s3cr3t-state") -> Subscription:
    return create_subscription(
        make_graph(routes),
        resource=room_events_resource("cf100@contoso.com"),
        notification_url="https://roomsync.example/webhooks/microsoft365",
        lifecycle_notification_url="https://roomsync.example/webhooks/microsoft365/lifecycle",
        client_state=client_state,
        expires_at=subscription_expiry(NOW),
    )


def test_create_subscribes_to_the_rooms_events_with_both_urls_and_client_state() -> None:
    routes = GraphRoutes()
    routes.add("POST", "/v1.0/subscriptions", _subscription_echo)

    subscription = _create(routes)

    sent = routes.json_sent()
    assert sent == {
        "changeType": "created,updated,deleted",
        "notificationUrl": "https://roomsync.example/webhooks/microsoft365",
        "lifecycleNotificationUrl": "https://roomsync.example/webhooks/microsoft365/lifecycle",
        "resource": "/users/cf100@contoso.com/events",
        "expirationDateTime": "2025-03-20T09:59:00.000000Z",
        "clientState": "s3cr3t-state",
    }
    assert 'IdType="ImmutableId"' in routes.requests[0].headers["Prefer"]
    assert subscription.id == SUBSCRIPTION_ID
    assert subscription.expiration_date_time == datetime(2025, 3, 20, 9, 59, tzinfo=UTC)


def test_expiry_stays_within_outlooks_limits() -> None:
    assert subscription_expiry(NOW) - NOW < timedelta(minutes=MAX_EVENT_SUBSCRIPTION_MINUTES)
    assert subscription_expiry(NOW, minutes=5) - NOW == timedelta(minutes=45)


def test_a_client_state_longer_than_graph_allows_is_refused() -> None:
    with pytest.raises(ValueError, match="128"):
        _create(GraphRoutes(), client_state="x" * 129)


def test_a_duplicate_subscription_is_a_conflict() -> None:
    routes = GraphRoutes()
    routes.add(
        "POST",
        "/v1.0/subscriptions",
        lambda r: graph_error(409, "ExtensionError", "Subscription Id <> already exists for the "
                              "requested combination"),
    )  # fmt: skip

    with pytest.raises(Conflict):
        _create(routes)


def test_renew_patches_only_the_expiry() -> None:
    routes = GraphRoutes()
    routes.add(
        "PATCH", f"/v1.0/subscriptions/{SUBSCRIPTION_ID}", lambda r: _subscription_echo(r, 200)
    )

    renewed = renew_subscription(
        make_graph(routes), SUBSCRIPTION_ID, expires_at=NOW + timedelta(days=3)
    )

    assert routes.json_sent() == {"expirationDateTime": "2025-03-16T10:00:00.000000Z"}
    assert renewed.expiration_date_time == NOW + timedelta(days=3)


def test_renewing_a_subscription_graph_removed_is_not_found() -> None:
    with pytest.raises(NotFound):
        renew_subscription(make_graph(GraphRoutes()), SUBSCRIPTION_ID, expires_at=NOW)


def test_reauthorize_and_delete_call_their_endpoints() -> None:
    routes = GraphRoutes()
    routes.add(
        "POST", f"/v1.0/subscriptions/{SUBSCRIPTION_ID}/reauthorize", lambda r: httpx.Response(200)
    )
    routes.add("DELETE", f"/v1.0/subscriptions/{SUBSCRIPTION_ID}", lambda r: httpx.Response(204))
    graph = make_graph(routes)

    reauthorize_subscription(graph, SUBSCRIPTION_ID)
    delete_subscription(graph, SUBSCRIPTION_ID)

    assert [(r.method, r.url.path) for r in routes.requests] == [
        ("POST", f"/v1.0/subscriptions/{SUBSCRIPTION_ID}/reauthorize"),
        ("DELETE", f"/v1.0/subscriptions/{SUBSCRIPTION_ID}"),
    ]


def test_list_reads_every_subscription() -> None:
    routes = GraphRoutes()
    item = {"id": SUBSCRIPTION_ID, "expirationDateTime": "2025-03-20T09:59:00Z",
            "resource": "/users/cf100@contoso.com/events"}  # fmt: skip
    routes.add("GET", "/v1.0/subscriptions", lambda r: graph_json({"value": [item]}))

    (subscription,) = list_subscriptions(make_graph(routes))

    assert subscription.resource == "/users/cf100@contoso.com/events"
