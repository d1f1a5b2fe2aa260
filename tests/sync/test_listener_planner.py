"""What the subscription sweep decides for one room, from what roomsync recorded and what
Graph lists (the pure planner behind renew_subscriptions)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from roomsync.m365.notification_models import Subscription
from roomsync.sync.listener.subscriptions import (
    RecordedSubscription,
    SubscriptionAction,
    SubscriptionPolicy,
    WebhookUrls,
    plan_subscription,
)

NOW = datetime(2030, 1, 7, 9, 0, tzinfo=UTC)
URLS = WebhookUrls.under("https://rooms.example.com/")
POLICY = SubscriptionPolicy(renew_before=timedelta(days=3))
RECORDED = RecordedSubscription("sub-1", client_state_readable=True)
NOTHING_RECORDED = RecordedSubscription(None, client_state_readable=True)


def live(
    *, expires_in: timedelta = timedelta(days=6), url: str = URLS.notification
) -> Subscription:
    return Subscription(id="sub-1", notification_url=url, expiration_date_time=NOW + expires_in)


def plan(
    *, wanted: bool = True, recorded: RecordedSubscription = RECORDED, found: Subscription | None
) -> SubscriptionAction:
    return plan_subscription(
        wanted=wanted, recorded=recorded, live=found, urls=URLS, now=NOW, policy=POLICY
    )


def test_webhook_urls_sit_under_the_public_url() -> None:
    assert URLS.notification == "https://rooms.example.com/webhooks/microsoft365"
    assert URLS.lifecycle == "https://rooms.example.com/webhooks/microsoft365/lifecycle"


def test_a_room_without_a_subscription_gets_one() -> None:
    assert plan(recorded=NOTHING_RECORDED, found=None) is SubscriptionAction.CREATE


def test_a_fresh_subscription_is_kept() -> None:
    assert plan(found=live()) is SubscriptionAction.KEEP


@pytest.mark.parametrize("expires_in", [timedelta(days=3), timedelta(hours=1), timedelta(0)])
def test_a_subscription_within_the_renewal_margin_is_renewed(expires_in: timedelta) -> None:
    assert plan(found=live(expires_in=expires_in)) is SubscriptionAction.RENEW


def test_a_subscription_graph_no_longer_lists_is_recreated() -> None:
    assert plan(found=None) is SubscriptionAction.RECREATE


def test_a_subscription_sending_to_an_old_public_url_is_recreated() -> None:
    moved = live(url="https://old.example.com/webhooks/microsoft365")
    assert plan(found=moved) is SubscriptionAction.RECREATE


def test_a_subscription_whose_client_state_cannot_be_decrypted_is_recreated() -> None:
    unreadable = RecordedSubscription("sub-1", client_state_readable=False)
    assert plan(recorded=unreadable, found=live()) is SubscriptionAction.RECREATE


def test_a_room_that_no_longer_listens_has_its_subscription_deleted() -> None:
    assert plan(wanted=False, found=live()) is SubscriptionAction.DELETE


def test_a_room_that_no_longer_listens_forgets_a_subscription_graph_dropped() -> None:
    assert plan(wanted=False, found=None) is SubscriptionAction.FORGET


def test_a_room_that_does_not_listen_and_holds_nothing_is_left_alone() -> None:
    assert plan(wanted=False, recorded=NOTHING_RECORDED, found=None) is SubscriptionAction.KEEP
