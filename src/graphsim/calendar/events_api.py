"""Events over HTTP: ``/users/{id}/events`` and ``/users/{id}/events/{id}[/cancel]``.

Statuses as documented: create 201, get/update 200, delete 204, cancel 202 (organizer
only, 400 otherwise). Extended properties are stored but returned only through
``$expand=singleValueExtendedProperties($filter=id eq '…')``; a list can be filtered with
``singleValueExtendedProperties/Any(ep: ep/id eq '…' and ep/value eq '…')`` or
``iCalUId eq '…'`` (extended-properties-overview.md). The ``/calendar/events`` forms
address the same default calendar.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

from graphsim.calendar import recurrence
from graphsim.calendar.model import EventItem, Instance
from graphsim.calendar.service import Target
from graphsim.calendar.views import Preferences, calendar_view, calendar_view_delta, mailbox, window
from graphsim.calendar.wire import extended_json, select, series_json
from graphsim.errors import bad_request
from graphsim.graph import Ctx, GraphResponse, Route, route
from graphsim.identity.authz import CALENDARS_READ, CALENDARS_WRITE, require_mail
from graphsim.listing import int_option, next_link, selected
from graphsim.odata import compile_filter
from graphsim.timezones import iso_utc

_EXPAND = re.compile(r"^singleValueExtendedProperties(?:\((?P<options>.*)\))?$", re.IGNORECASE)
_QUOTED = re.compile(r"'((?:[^']|'')*)'")


def _expanded_ids(query: dict[str, str]) -> list[str] | None:
    raw = query.get("$expand")
    if not raw:
        return None
    match = _EXPAND.match(raw.strip())
    if match is None:
        raise bad_request(
            f"graphsim supports $expand only for singleValueExtendedProperties, not '{raw}'."
        )
    options = match.group("options") or ""
    return [q.replace("''", "'") for q in _QUOTED.findall(options)]


def _output(prefs: Preferences, ctx: Ctx, instance: Instance) -> dict[str, Any]:
    data = prefs.render(instance)
    wanted = _expanded_ids(ctx.request.query)
    if wanted is not None:
        data["singleValueExtendedProperties"] = extended_json(instance.item, wanted)
    return select(data, selected(ctx.request.query))


def _filter_view(item: EventItem) -> dict[str, Any]:
    """The properties a ``$filter`` on events may name, cheap to build."""
    return {
        "id": item.id,
        "iCalUId": item.ical_uid,
        "subject": item.subject,
        "transactionId": item.transaction_id,
        "type": "seriesMaster" if item.is_series else "singleInstance",
        "isCancelled": item.is_cancelled,
        "showAs": item.show_as,
        "sensitivity": item.sensitivity,
        "isOrganizer": item.is_organizer,
        "categories": list(item.categories),
        "start": {"dateTime": iso_utc(item.start)[:-1]},
        "end": {"dateTime": iso_utc(item.end)[:-1]},
        "organizer": {"emailAddress": {"address": item.organizer_address}},
        "singleValueExtendedProperties": [{"id": k, "value": v} for k, v in item.extended],
    }


async def list_events(ctx: Ctx) -> GraphResponse:
    require_mail(ctx.principal, CALENDARS_READ)
    prefs, query = Preferences(ctx), ctx.request.query
    top = int_option(query, "$top", prefs.page_size or 10, maximum=1000)
    skip = int_option(query, "$skip", 0)
    predicate = compile_filter(query["$filter"]) if query.get("$filter") else None
    with ctx.core.lock:
        box = mailbox(ctx)
        items = sorted(box.items.values(), key=lambda i: i.seq_created)
        if predicate is not None:
            items = [i for i in items if predicate(_filter_view(i))]
        page = [_output(prefs, ctx, _as_instance(i)) for i in items[skip : skip + top]]
    body: dict[str, Any] = {
        "@odata.context": f"{ctx.request.root}/$metadata#users('{quote(ctx.params['user'])}')"
        "/events",
        "value": page,
    }
    if skip + top < len(items):
        body["@odata.nextLink"] = next_link(ctx.request.root, ctx.request.path, query, top, skip)
    return GraphResponse(200, body, prefs.headers())


def _as_instance(item: EventItem) -> Instance:
    return Target(item).instance()


async def get_event(ctx: Ctx) -> GraphResponse:
    require_mail(ctx.principal, CALENDARS_READ)
    prefs = Preferences(ctx)
    with ctx.core.lock:
        target = ctx.core.events.resolve(mailbox(ctx), ctx.params["event"])
        data = _output(prefs, ctx, target.instance())
    return GraphResponse(200, {**_context(ctx), **data}, prefs.headers())


def _context(ctx: Ctx) -> dict[str, str]:
    return {
        "@odata.context": f"{ctx.request.root}/$metadata#users('"
        f"{quote(ctx.params['user'])}')/events/$entity"
    }


async def create_event(ctx: Ctx) -> GraphResponse:
    require_mail(ctx.principal, CALENDARS_WRITE)
    prefs, payload = Preferences(ctx), ctx.request.json()
    with ctx.core.lock:
        item, _created = ctx.core.events.create(mailbox(ctx), payload)
        data = series_json(item, prefs.zone, prefs.text_body)
    return GraphResponse(201, {**_context(ctx), **data}, prefs.headers())


async def update_event(ctx: Ctx) -> GraphResponse:
    require_mail(ctx.principal, CALENDARS_WRITE)
    prefs, payload = Preferences(ctx), ctx.request.json()
    with ctx.core.lock:
        target = ctx.core.events.update(mailbox(ctx), ctx.params["event"], payload)
        data = prefs.render(target.instance())
    return GraphResponse(200, {**_context(ctx), **data}, prefs.headers())


async def delete_event(ctx: Ctx) -> GraphResponse:
    require_mail(ctx.principal, CALENDARS_WRITE)
    with ctx.core.lock:
        ctx.core.events.delete(mailbox(ctx), ctx.params["event"])
    return GraphResponse(204)


async def cancel_event(ctx: Ctx) -> GraphResponse:
    require_mail(ctx.principal, CALENDARS_WRITE)
    payload = ctx.request.json()
    if payload is not None and not isinstance(payload, dict):
        raise bad_request("The request body must be a JSON object.", "RequestBodyRead")
    with ctx.core.lock:
        ctx.core.events.cancel(mailbox(ctx), ctx.params["event"])
    return GraphResponse(202)


async def list_instances(ctx: Ctx) -> GraphResponse:
    require_mail(ctx.principal, CALENDARS_READ)
    prefs = Preferences(ctx)
    low, high = window(ctx)
    with ctx.core.lock:
        target = ctx.core.events.resolve(mailbox(ctx), ctx.params["event"])
        listed = sorted(recurrence.instances(target.item, low, high), key=lambda i: i.start)
        values = [_output(prefs, ctx, i) for i in listed]
    context = f"{ctx.request.root}/$metadata#Collection(event)"
    return GraphResponse(200, {"@odata.context": context, "value": values}, prefs.headers())


def routes() -> list[Route]:
    found: list[Route] = []
    for calendar in ("", "/calendar"):
        base = "/users/{user}" + calendar
        found += [
            route(
                "GET", f"{base}/calendarView/delta(?:\\(\\))?", calendar_view_delta, outlook=True
            ),
            route("GET", f"{base}/calendarView", calendar_view, outlook=True),
            route("GET", f"{base}/events", list_events, outlook=True),
            route("POST", f"{base}/events", create_event, outlook=True),
            route("GET", f"{base}/events/{{event}}/instances", list_instances, outlook=True),
            route("POST", f"{base}/events/{{event}}/cancel", cancel_event, outlook=True),
            route("GET", f"{base}/events/{{event}}", get_event, outlook=True),
            route("PATCH", f"{base}/events/{{event}}", update_event, outlook=True),
            route("DELETE", f"{base}/events/{{event}}", delete_event, outlook=True),
        ]
    return found
