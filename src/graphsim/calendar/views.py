"""Reading calendars over HTTP: ``calendarView``, ``calendarView/delta``, ``events``.

- ``calendarView`` (user-list-calendarview.md): the window is required; single
  instances, occurrences and exceptions; ``$top`` (default 10), ``$skip``, ``$select``,
  ``$filter`` on each instance's event properties (the page says the method "supports some
  of the OData Query Parameters"; filter-query-parameter.md gives ``eq``/``or``), e.g.
  ``sensitivity eq 'private'``, where an exception answers with its own value;
  ``Prefer: odata.maxpagesize``; ``@odata.nextLink`` while more remain.
- ``calendarView/delta`` (event-delta.md): see :mod:`graphsim.calendar.delta`; the OData
  function-call form ``delta()``, which the official SDKs send, works too. "You cannot
  use ``$select``" and "other OData query parameters that the delta function for
  calendarView doesn't support: ``$expand``, ``$filter``, ``$orderby``, and ``$search``"
  (event-delta.md), nor ``$top`` (the page size is ``Prefer: odata.maxpagesize``): each
  is refused with 400 ``ErrorInvalidUrlQuery`` and the wording Graph uses, "The following
  parameters are not supported with change tracking over the 'CalendarView' resource:
  …" (the code and wording are observed from Graph, not written in the docs).
- ``Prefer: outlook.timezone`` (UTC by default), ``outlook.body-content-type`` and
  ``IdType="ImmutableId"`` are honoured and confirmed in ``Preference-Applied``.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from graphsim.calendar import delta, recurrence
from graphsim.calendar.model import Instance
from graphsim.calendar.service import raise_if_missing
from graphsim.calendar.store import Mailbox
from graphsim.calendar.wire import render, select
from graphsim.errors import GraphApiError
from graphsim.graph import Ctx, GraphResponse
from graphsim.identity.authz import CALENDARS_READ, require_mail
from graphsim.listing import int_option, next_link, selected
from graphsim.odata import compile_filter
from graphsim.timezones import parse_query_instant, zone

_MAX_PAGE = 1000
_WINDOW_REQUIRED = (
    "This request requires a time window specified by the query string parameters "
    "StartDateTime and EndDateTime."
)


class Preferences:
    """The ``Prefer`` header as it applies to event responses."""

    def __init__(self, ctx: Ctx) -> None:
        prefer = ctx.request.prefer()
        self.zone = prefer.get("outlook.timezone") or "UTC"
        zone(self.zone)
        self.text_body = prefer.get("outlook.body-content-type", "").lower() == "text"
        self.immutable = prefer.get("idtype", "").lower() == "immutableid"
        raw_size = prefer.get("odata.maxpagesize")
        self.page_size = int(raw_size) if raw_size and raw_size.isdigit() else None
        self.applied: list[str] = []
        if "outlook.timezone" in prefer:
            self.applied.append(f'outlook.timezone="{self.zone}"')
        if "outlook.body-content-type" in prefer:
            self.applied.append(
                f'outlook.body-content-type="{"text" if self.text_body else "html"}"'
            )
        if self.immutable:
            self.applied.append('IdType="ImmutableId"')

    def headers(self, *extra: str) -> dict[str, str]:
        applied = [*self.applied, *extra]
        return {"Preference-Applied": ", ".join(applied)} if applied else {}

    def render(self, instance: Instance) -> dict[str, Any]:
        return render(instance, self.zone, self.text_body)


def mailbox(ctx: Ctx) -> Mailbox:
    """The mailbox of the route's user (call under the core lock)."""
    user = ctx.user()
    if not user.has_mailbox:
        raise_if_missing(None, user.user_principal_name)
    return ctx.core.store.ensure(user.mail, user.id)


def window(ctx: Ctx) -> tuple[Any, Any]:
    query = ctx.request.query
    start, end = query.get("startDateTime"), query.get("endDateTime")
    if not start or not end:
        raise GraphApiError(400, "ErrorInvalidParameter", _WINDOW_REQUIRED)
    return parse_query_instant(start, "startDateTime"), parse_query_instant(end, "endDateTime")


async def calendar_view(ctx: Ctx) -> GraphResponse:
    require_mail(ctx.principal, CALENDARS_READ)
    prefs, query = Preferences(ctx), ctx.request.query
    low, high = window(ctx)
    top = int_option(query, "$top", prefs.page_size or 10, maximum=_MAX_PAGE)
    skip = int_option(query, "$skip", 0)
    predicate = compile_filter(query["$filter"]) if query.get("$filter") else None
    with ctx.core.lock:
        box = mailbox(ctx)
        listed = sorted(
            (i for item in box.items.values() for i in recurrence.instances(item, low, high)),
            key=lambda i: (i.start, i.id),
        )
        if predicate is not None:
            listed = [i for i in listed if predicate(_filter_view(i))]
        fields = selected(query)
        page = [select(prefs.render(i), fields) for i in listed[skip : skip + top]]
    body: dict[str, Any] = {
        "@odata.context": f"{ctx.request.root}/$metadata#users('"
        f"{quote(ctx.params['user'])}')/calendarView",
        "value": page,
    }
    if skip + top < len(listed):
        body["@odata.nextLink"] = next_link(ctx.request.root, ctx.request.path, query, top, skip)
    return GraphResponse(200, body, prefs.headers())


_DELTA_UNSUPPORTED = ("$orderby", "$filter", "$select", "$expand", "$search", "$top")


def _refuse_unsupported_options(ctx: Ctx) -> None:
    sent = {name.lower() for name in ctx.request.query}
    given = [name for name in _DELTA_UNSUPPORTED if name in sent]
    if given:
        raise GraphApiError(
            400,
            "ErrorInvalidUrlQuery",
            "The following parameters are not supported with change tracking over the "
            f"'CalendarView' resource: '{', '.join(given)}'.",
        )


def _filter_view(instance: Instance) -> dict[str, Any]:
    """The properties a ``$filter`` on a calendar view may name, as the instance shows them."""
    override = instance.override
    return {
        "sensitivity": override.sensitivity
        if override and override.sensitivity is not None
        else instance.item.sensitivity,
        "subject": override.subject
        if override and override.subject is not None
        else instance.item.subject,
        "showAs": instance.item.show_as,
        "isCancelled": instance.item.is_cancelled,
        "type": instance.type.value,
    }


async def calendar_view_delta(ctx: Ctx) -> GraphResponse:
    require_mail(ctx.principal, CALENDARS_READ)
    _refuse_unsupported_options(ctx)
    prefs = Preferences(ctx)
    base = f"{ctx.request.root}/users/{quote(ctx.params['user'])}/calendarView/delta"
    with ctx.core.lock:
        box = mailbox(ctx)
        state = _delta_state(ctx, box)
        delta.check(box, state, lambda: _restart_url(base, state))
        size = min(prefs.page_size or ctx.core.options.delta_page_size, _MAX_PAGE)
        result = delta.page(box, state, size)
        values = [_delta_entry(prefs, e) for e in result.entries]
    token = ctx.core.codec.encode(result.next_state)
    body: dict[str, Any] = {"@odata.context": f"{ctx.request.root}/$metadata#Collection(event)"}
    if result.done:
        body["@odata.deltaLink"] = f"{base}?$deltatoken={token}"
    else:
        body["@odata.nextLink"] = f"{base}?$skiptoken={token}"
    body["value"] = values
    extra = [f"odata.maxpagesize={prefs.page_size}"] if prefs.page_size else []
    return GraphResponse(200, body, prefs.headers("odata.track-changes", *extra))


def _restart_url(base: str, state: delta.DeltaState) -> str:
    low, high = state.window
    return f"{base}?startDateTime={quote(_iso(low))}&endDateTime={quote(_iso(high))}&$deltatoken="


def _iso(instant: Any) -> str:
    return str(instant.strftime("%Y-%m-%dT%H:%M:%SZ"))


def _delta_state(ctx: Ctx, box: Mailbox) -> delta.DeltaState:
    query = ctx.request.query
    token = query.get("$skiptoken") or query.get("$deltatoken")
    if not token:
        low, high = window(ctx)
        return delta.start_state(box, low, high)
    state = ctx.core.codec.decode(token)
    if state.mailbox != box.email:
        raise GraphApiError(
            400, "ErrorInvalidParameter", "The delta token belongs to another mailbox."
        )
    return state


def _delta_entry(prefs: Preferences, entry: delta.Entry) -> dict[str, Any]:
    if isinstance(entry, delta.Removed):
        return {
            "@odata.type": "#microsoft.graph.event",
            "id": entry.id,
            "@removed": {"reason": "deleted"},
        }
    return {"@odata.type": "#microsoft.graph.event", **prefs.render(entry)}
