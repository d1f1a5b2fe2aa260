"""Lifecycle events that happen by themselves (concepts/change-notifications-lifecycle-events.md).

- ``reauthorizationRequired`` is sent "when the access token is about to expire" and "when
  a subscription is about to expire", and "when an administrator has revoked your app's
  permissions". graphsim's deadline is the earlier of the subscription's expiry and the
  end of the access it was last authorized with (an access token's lifetime after
  create, renew or ``/reauthorize``); a revoked calendar permission ends that access at
  once. The challenges follow the page's illustrative code, where ``x`` is a quarter of
  the time left ``T``: none while ``T`` > 12 h (``x`` > 180 min); while 4 h < ``T`` ≤ 12 h
  one, and the next after ``x/2``; while ``T`` ≤ 4 h one every 15 minutes; none after.
- Delivery then pauses if the challenge is ignored (:meth:`Subscription.paused`).
- ``subscriptionRemoved``: "the service detects that a subscription needs to be removed";
  graphsim removes a subscription whose mailbox is gone (user or mailbox deleted).
- ``missed`` is sent when notifications are dropped (:meth:`Subscriptions.on_dropped`).

It is all evaluated on graphsim's clock: every ``lifecycle_tick`` real seconds on the
background loop, whenever a :class:`~graphsim.clock.ManualClock` moves, and on settle, so
a test advances its clock instead of sleeping.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING

from graphsim.identity.authz import CALENDARS_READ

if TYPE_CHECKING:
    from graphsim.core import Core
    from graphsim.notifications.subscriptions import Subscription


class LifecycleEvent(StrEnum):
    """CSDL ``lifecycleEventType``."""

    MISSED = "missed"
    SUBSCRIPTION_REMOVED = "subscriptionRemoved"
    REAUTHORIZATION_REQUIRED = "reauthorizationRequired"


_FAR = timedelta(hours=12)
_NEAR = timedelta(hours=4)
_EVERY = timedelta(minutes=15)


def next_challenge(now: datetime, deadline: datetime) -> datetime | None:
    """When the next ``reauthorizationRequired`` falls due, given the deadline."""
    left = deadline - now
    if left > _FAR:
        return deadline - _FAR
    if left > _NEAR:
        return now + left / 8
    return now + _EVERY if now + _EVERY < deadline else None


def deadline_of(sub: Subscription) -> datetime:
    return min(sub.expiration, sub.authorized_until or sub.expiration)


def sweep(core: Core) -> None:
    """Send every lifecycle event that is due now; remove what Graph would remove."""
    with core.lock:
        subs = core.subscriptions
        subs.sweep()
        now = core.clock.now()
        for sub in list(subs.by_id.values()):
            if _mailbox_gone(core, sub.mailbox):
                subs.send_lifecycle(sub.id, LifecycleEvent.SUBSCRIPTION_REMOVED)
                continue
            if _revoked(core, sub.app_id) and (sub.authorized_until or now) > now:
                sub.authorized_until, sub.next_challenge = now, now
            if sub.next_challenge is not None and now >= sub.next_challenge:
                subs.send_lifecycle(sub.id, LifecycleEvent.REAUTHORIZATION_REQUIRED)
                sub.next_challenge = next_challenge(now, deadline_of(sub))


def _mailbox_gone(core: Core, mailbox: str) -> bool:
    user = core.tenant.find_user(mailbox)
    return user is None or not user.has_mailbox


def _revoked(core: Core, app_id: str) -> bool:
    app = core.tenant.apps.get(app_id)
    return app is None or not app.roles & CALENDARS_READ


class LifecycleTicker:
    """Runs :func:`sweep` on the background loop every ``interval`` seconds (not counted
    as pending work: it never ends) and whenever a manual clock moves."""

    def __init__(self, core: Core, interval: float) -> None:
        self.core, self.interval = core, interval
        self._stopped = False
        listeners = getattr(core.clock, "listeners", None)
        if isinstance(listeners, list):
            listeners.append(self.on_clock_moved)
        core.background.loop.call_soon_threadsafe(self._schedule)

    def _schedule(self) -> None:
        if not self._stopped:
            self.core.background.loop.call_later(self.interval, self._tick)

    def _tick(self) -> None:
        try:
            sweep(self.core)
        except Exception as exc:
            self.core.background.errors.append(exc)
        self._schedule()

    def on_clock_moved(self) -> None:
        if not self._stopped:
            sweep(self.core)

    def stop(self) -> None:
        self._stopped = True
        listeners = getattr(self.core.clock, "listeners", None)
        if isinstance(listeners, list) and self.on_clock_moved in listeners:
            listeners.remove(self.on_clock_moved)
