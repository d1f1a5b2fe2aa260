"""A mailbox's settings: ``GET /users/{id | userPrincipalName}/mailboxSettings`` and one
setting of it, ``…/mailboxSettings/{setting}`` (api-reference/v1.0/api/user-get-mailboxsettings.md).

- Permission: MailboxSettings.Read or MailboxSettings.ReadWrite (application); otherwise
  403 ``ErrorAccessDenied``, as Exchange-backed data answers.
- A user without a mailbox (a service account): 404 ``MailboxNotEnabledForRESTAPI``.
- ``timeZone`` comes back in the format the administrator set it up in, Windows by
  default ("Romance Standard Time"); graphsim keeps Windows names. A single setting is
  answered as OData answers a property: ``{"@odata.context", "value"}`` for a string,
  the object itself for a complex one.
- Where the page is silent, graphsim answers the documented shape with Exchange Online's
  defaults (automatic replies disabled, working hours Monday to Friday 08:00 to 17:00 in
  the mailbox's zone, locale en-US, user purpose ``room`` for room mailboxes).
"""

from __future__ import annotations

from typing import Any

from graphsim.calendar.service import raise_if_missing
from graphsim.directory.tenant import User
from graphsim.errors import GraphApiError
from graphsim.graph import Ctx, GraphResponse, Route, route
from graphsim.identity.authz import MAILBOX_SETTINGS_READ, require_mail

_STRING_SETTINGS = frozenset(
    {"timeZone", "dateFormat", "timeFormat", "delegateMeetingMessageDeliveryOptions"}
)


def settings_json(user: User) -> dict[str, Any]:
    return {
        "archiveFolder": None,
        "automaticRepliesSetting": {
            "status": "disabled",
            "externalAudience": "all",
            "internalReplyMessage": "",
            "externalReplyMessage": "",
        },
        "timeZone": user.time_zone,
        "language": {"locale": "en-US", "displayName": "English (United States)"},
        "workingHours": {
            "daysOfWeek": ["monday", "tuesday", "wednesday", "thursday", "friday"],
            "startTime": "08:00:00.0000000",
            "endTime": "17:00:00.0000000",
            "timeZone": {"name": user.time_zone},
        },
        "userPurpose": {"value": "room" if user.is_room else "user"},
        "dateFormat": "M/d/yyyy",
        "timeFormat": "h:mm tt",
        "delegateMeetingMessageDeliveryOptions": "sendToDelegateOnly",
    }


async def get_mailbox_settings(ctx: Ctx) -> GraphResponse:
    require_mail(ctx.principal, MAILBOX_SETTINGS_READ)
    with ctx.core.lock:
        user = _mailbox_user(ctx)
        body = settings_json(user)
        key = ctx.params["user"]
    context = f"{ctx.request.root}/$metadata#users('{key}')/mailboxSettings"
    setting = ctx.params.get("setting")
    if setting is None:
        return GraphResponse(200, {"@odata.context": context, **body})
    name = next((k for k in body if k.lower() == setting.lower()), None)
    if name is None:
        raise GraphApiError(
            400,
            "BadRequest",
            f"Could not find a property named '{setting}' on type "
            "'microsoft.graph.mailboxSettings'.",
        )
    context = f"{context}/{name}"
    value = body[name]
    if name in _STRING_SETTINGS or not isinstance(value, dict):
        return GraphResponse(200, {"@odata.context": context, "value": value})
    return GraphResponse(200, {"@odata.context": context, **value})


def _mailbox_user(ctx: Ctx) -> User:
    user = ctx.user()
    if not user.has_mailbox:
        raise_if_missing(None, user.user_principal_name)
    return user


def routes() -> list[Route]:
    base = "/users/{user}/mailboxSettings"
    return [
        route("GET", base, get_mailbox_settings, outlook=True),
        route("GET", f"{base}/{{setting}}", get_mailbox_settings, outlook=True),
    ]
