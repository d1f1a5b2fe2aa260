"""``/subscriptions`` over HTTP (subscription-post-subscriptions.md, subscription.md).

- POST: resource ``/users/{id}/events`` (``me`` needs a delegated token), changeType of
  created/updated/deleted, ``notificationUrl`` over https (http only on loopback), expiry
  at most 10,080 minutes ahead and raised to 45 minutes when shorter, ``clientState`` at
  most 128 characters. The validation handshake runs against ``notificationUrl`` and
  ``lifecycleNotificationUrl``; a failed handshake is 400 and nothing is created. The
  same app + resource + changeType + notificationUrl again is 409. Success is 201.
- GET lists the calling app's subscriptions; PATCH renews (200) and may change
  ``notificationUrl`` (validated again); DELETE is 204; ``/reauthorize`` is 204. Both
  PATCH and ``/reauthorize`` answer a ``reauthorizationRequired`` challenge and resume
  paused delivery (concepts/change-notifications-lifecycle-events.md).
"""

from __future__ import annotations

import ipaddress
import re
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from graphsim.errors import GraphApiError, bad_request
from graphsim.graph import Ctx, GraphResponse, Route, route
from graphsim.identity.authz import CALENDARS_READ, require_mail
from graphsim.notifications.subscriptions import Subscription
from graphsim.timezones import parse_instant

MAX_MINUTES = 10_080
MIN_MINUTES = 45
_RESOURCE = re.compile(r"^/?(?:users/(?P<user>[^/]+)|(?P<me>me))/events/?$", re.IGNORECASE)
_CHANGE_TYPES = frozenset({"created", "updated", "deleted"})
_LOOPBACK_NAMES = frozenset({"localhost"})


def _extension_error(reason: str, status: int = 400) -> GraphApiError:
    return GraphApiError(
        status,
        "ExtensionError",
        f"Operation: Create; Exception: [Status Code: BadRequest; Reason: {reason}]",
    )


def check_url(url: Any, field: str) -> str:
    """An https URL, or http on a loopback address (127.0.0.0/8, ::1, localhost)."""
    if not isinstance(url, str) or not url:
        raise bad_request(f"The property '{field}' is required.", "InvalidRequest")
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return url
    if parts.scheme == "http" and parts.hostname and _is_loopback(parts.hostname):
        return url
    raise bad_request(
        f"The {field} must use https (http is accepted only on loopback addresses).",
        "InvalidRequest",
    )


def _is_loopback(host: str) -> bool:
    if host.lower() in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _expiration(value: Any, now: datetime) -> datetime:
    expires = parse_instant(value, "expirationDateTime")
    if expires <= now:
        raise _extension_error("Subscription expiration can only be in the future.")
    if expires > now + timedelta(minutes=MAX_MINUTES):
        raise _extension_error(
            f"Subscription expiration can only be {MAX_MINUTES} minutes in the future."
        )
    return max(expires, now + timedelta(minutes=MIN_MINUTES))


def _change_types(value: Any) -> tuple[str, ...]:
    if not isinstance(value, str) or not value:
        raise bad_request("The property 'changeType' is required.", "InvalidRequest")
    kinds = tuple(k.strip() for k in value.split(","))
    if not set(kinds) <= _CHANGE_TYPES:
        raise bad_request(f"'{value}' is not a valid changeType for events.", "InvalidRequest")
    return kinds


def _validation_failed() -> GraphApiError:
    return bad_request(
        "Subscription validation request failed. Notification endpoint must "
        "respond with 200 OK to validation request.",
        "InvalidRequest",
    )


def _mailbox_of(ctx: Ctx, resource: Any) -> str:
    match = _RESOURCE.match(resource) if isinstance(resource, str) else None
    if match is None:
        raise bad_request(
            f"The resource '{resource}' is not supported; graphsim supports /users/{{id}}/events.",
            "InvalidRequest",
        )
    if match.group("me"):
        raise bad_request("/me request is only valid with delegated authentication flow.")
    user = ctx.core.tenant.find_user(match.group("user"))
    if user is None or not user.has_mailbox:
        raise _extension_error(f"The requested user '{match.group('user')}' is invalid.")
    return user.mail.lower()


def _body(ctx: Ctx) -> dict[str, Any]:
    payload = ctx.request.json()
    if not isinstance(payload, dict):
        raise bad_request("The request body must be a JSON object.", "InvalidRequest")
    return payload


def _response(ctx: Ctx, sub: Subscription, status: int) -> GraphResponse:
    context = f"{ctx.request.root}/$metadata#subscriptions/$entity"
    return GraphResponse(status, {"@odata.context": context, **sub.json()})


async def create(ctx: Ctx) -> GraphResponse:
    require_mail(ctx.principal, CALENDARS_READ)
    body, core = _body(ctx), ctx.core
    client_state = body.get("clientState")
    if client_state is not None and (not isinstance(client_state, str) or len(client_state) > 128):
        raise bad_request(
            "clientState must be a string of at most 128 characters.", "InvalidRequest"
        )
    with core.lock:
        mailbox = _mailbox_of(ctx, body.get("resource"))
        kinds = _change_types(body.get("changeType"))
        url = check_url(body.get("notificationUrl"), "notificationUrl")
        lifecycle = body.get("lifecycleNotificationUrl")
        lifecycle = check_url(lifecycle, "lifecycleNotificationUrl") if lifecycle else None
        expires = _expiration(body.get("expirationDateTime"), core.clock.now())
        _refuse_duplicate(ctx, mailbox, kinds, url)
    for target in filter(None, (url, lifecycle)):
        if not await core.subscriptions.notifier.validate(target):
            raise _validation_failed()
    with core.lock:
        _refuse_duplicate(ctx, mailbox, kinds, url)
        sub = Subscription(
            core.ids.guid(),
            body["resource"],
            mailbox,
            kinds,
            url,
            expires,
            ctx.principal.client_id,
            core.ids.guid(),
            client_state,
            lifecycle,
            body.get("latestSupportedTlsVersion") or "v1_2",
        )
        core.subscriptions.add(sub)
    return _response(ctx, sub, 201)


def _refuse_duplicate(ctx: Ctx, mailbox: str, kinds: tuple[str, ...], url: str) -> None:
    now = ctx.core.clock.now()
    for sub in ctx.core.subscriptions.for_mailbox(mailbox):
        if sub.expiration > now and (
            sub.app_id == ctx.principal.client_id
            and set(sub.change_types) == set(kinds)
            and sub.notification_url == url
        ):
            raise GraphApiError(
                409,
                "Conflict",
                f"Subscription Id {sub.id} already exists for the requested combination",
            )


def _own(ctx: Ctx) -> Subscription:
    sub = ctx.core.subscriptions.get(ctx.params["sid"])
    if sub is None or sub.app_id != ctx.principal.client_id:
        raise GraphApiError(404, "ResourceNotFound", "The object was not found.")
    return sub


async def list_all(ctx: Ctx) -> GraphResponse:
    require_mail(ctx.principal, CALENDARS_READ)
    with ctx.core.lock:
        ctx.core.subscriptions.sweep()
        subs = [
            s.json()
            for s in ctx.core.subscriptions.by_id.values()
            if s.app_id == ctx.principal.client_id
        ]
    return GraphResponse(
        200, {"@odata.context": f"{ctx.request.root}/$metadata#subscriptions", "value": subs}
    )


async def get_one(ctx: Ctx) -> GraphResponse:
    require_mail(ctx.principal, CALENDARS_READ)
    with ctx.core.lock:
        return _response(ctx, _own(ctx), 200)


async def update(ctx: Ctx) -> GraphResponse:
    require_mail(ctx.principal, CALENDARS_READ)
    body = _body(ctx)
    unknown = set(body) - {"expirationDateTime", "notificationUrl"}
    if unknown:
        raise bad_request(
            f"Only expirationDateTime and notificationUrl can be updated, not {sorted(unknown)}.",
            "InvalidRequest",
        )
    new_url = (
        check_url(body["notificationUrl"], "notificationUrl") if "notificationUrl" in body else None
    )
    if new_url and not await ctx.core.subscriptions.notifier.validate(new_url):
        raise _validation_failed()
    with ctx.core.lock:
        sub = _own(ctx)
        if "expirationDateTime" in body:
            sub.expiration = _expiration(body["expirationDateTime"], ctx.core.clock.now())
            # "renewing your subscription also reauthorizes your endpoint"
            # (concepts/change-notifications-lifecycle-events.md)
            ctx.core.subscriptions.reauthorize(sub)
        if new_url:
            sub.notification_url = new_url
        return _response(ctx, sub, 200)


async def delete(ctx: Ctx) -> GraphResponse:
    require_mail(ctx.principal, CALENDARS_READ)
    with ctx.core.lock:
        ctx.core.subscriptions.remove(_own(ctx).id)
    return GraphResponse(204)


async def reauthorize(ctx: Ctx) -> GraphResponse:
    require_mail(ctx.principal, CALENDARS_READ)
    with ctx.core.lock:
        ctx.core.subscriptions.reauthorize(_own(ctx))
    return GraphResponse(204)


def routes() -> list[Route]:
    return [
        route("POST", "/subscriptions", create),
        route("GET", "/subscriptions", list_all),
        route("POST", "/subscriptions/{sid}/reauthorize", reauthorize),
        route("GET", "/subscriptions/{sid}", get_one),
        route("PATCH", "/subscriptions/{sid}", update),
        route("DELETE", "/subscriptions/{sid}", delete),
    ]
