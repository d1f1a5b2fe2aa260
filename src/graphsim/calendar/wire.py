"""Events as Graph writes them (event resource; user-post-events.md examples).

- ``start``/``end`` in UTC unless ``Prefer: outlook.timezone`` names a zone.
- ``@odata.etag`` is ``W/"<changeKey>"``; both change on every change.
- Occurrences and exceptions carry ``seriesMasterId``, ``type`` and ``originalStart``;
  each has its own id and iCalUId.
- Times with no response are ``0001-01-01T00:00:00Z``.
- Extended properties are never returned unless asked for with ``$expand``.
"""

from __future__ import annotations

import html
import re
from datetime import datetime
from typing import Any
from urllib.parse import quote

from graphsim.calendar.model import Attendee, EventItem, EventType, Instance
from graphsim.calendar.recurrence import normalized
from graphsim.ids import occurrence_ical_uid
from graphsim.timezones import iso_utc, to_graph, windows_name

NO_TIME = "0001-01-01T00:00:00Z"
_TAGS = re.compile(r"<[^>]+>")


def _stamp(value: datetime | None) -> str:
    return iso_utc(value) if value is not None else NO_TIME


def attendee_json(attendee: Attendee) -> dict[str, Any]:
    return {
        "type": attendee.type.value,
        "status": {"response": attendee.response.value, "time": _stamp(attendee.response_time)},
        "emailAddress": {"name": attendee.name, "address": attendee.address},
    }


def plain_text(body: str, body_type: str) -> str:
    text = _TAGS.sub(" ", body) if body_type == "html" else body
    return " ".join(html.unescape(text).split())


def series_json(item: EventItem, zone_name: str, text_body: bool = False) -> dict[str, Any]:
    """A single instance or series master as stored."""
    kind = EventType.SERIES_MASTER if item.is_series else EventType.SINGLE_INSTANCE
    return render(Instance(item, item.id, kind, item.start, item.end), zone_name, text_body)


def render(instance: Instance, zone_name: str, text_body: bool = False) -> dict[str, Any]:
    """An instance with every v1.0 event property Graph returns by default."""
    item, override = instance.item, instance.override
    change_key = override.change_key if override and override.change_key else item.change_key
    modified = override.modified if override and override.modified else item.modified
    is_member = instance.type in (EventType.OCCURRENCE, EventType.EXCEPTION)
    ical = item.ical_uid
    if is_member and instance.original_start is not None:
        ical = occurrence_ical_uid(item.ical_uid, instance.original_start)
    attendees = override.attendees if override and override.attendees is not None else None
    body_type = "text" if text_body else item.body_type
    body = plain_text(item.body, item.body_type) if text_body else item.body
    data: dict[str, Any] = {
        "@odata.etag": f'W/"{change_key}"',
        "id": instance.id,
        "createdDateTime": iso_utc(item.created),
        "lastModifiedDateTime": iso_utc(modified),
        "changeKey": change_key,
        "categories": list(item.categories),
        "transactionId": item.transaction_id,
        "originalStartTimeZone": windows_name(item.start_zone),
        "originalEndTimeZone": windows_name(item.end_zone),
        "iCalUId": ical,
        "reminderMinutesBeforeStart": item.reminder_minutes,
        "isReminderOn": item.is_reminder_on,
        "hasAttachments": False,
        "subject": override.subject if override and override.subject is not None else item.subject,
        "bodyPreview": plain_text(item.body, item.body_type)[:255],
        "importance": item.importance,
        "sensitivity": override.sensitivity
        if override and override.sensitivity is not None
        else item.sensitivity,
        "isAllDay": item.is_all_day,
        "isCancelled": item.is_cancelled,
        "isOrganizer": item.is_organizer,
        "responseRequested": item.response_requested,
        "seriesMasterId": item.id if is_member else None,
        "showAs": item.show_as,
        "type": instance.type.value,
        "webLink": "https://outlook.office365.com/owa/?itemid="
        f"{quote(instance.id, safe='')}&exvsurl=1&path=/calendar/item",
        "onlineMeetingUrl": None,
        "isOnlineMeeting": item.is_online_meeting,
        "onlineMeetingProvider": item.extra.get("onlineMeetingProvider", "unknown"),
        "allowNewTimeProposals": item.allow_new_time_proposals,
        "isDraft": False,
        "hideAttendees": item.hide_attendees,
        "responseStatus": {"response": item.response.value, "time": _stamp(item.response_time)},
        "body": {"contentType": body_type, "content": body},
        "start": to_graph(instance.start, zone_name),
        "end": to_graph(instance.end, zone_name),
        "location": _location(item.location),
        "locations": [_location(loc) for loc in item.locations],
        "recurrence": (
            normalized(item.recurrence, item.start_zone)
            if instance.type is EventType.SERIES_MASTER and item.recurrence
            else None
        ),
        "attendees": [attendee_json(a) for a in (attendees or item.attendees)],
        "organizer": {
            "emailAddress": {"name": item.organizer_name, "address": item.organizer_address}
        },
        "onlineMeeting": None,
    }
    if is_member and instance.original_start is not None:
        data["originalStart"] = iso_utc(instance.original_start)
    return data


def _location(location: dict[str, Any] | None) -> dict[str, Any]:
    if not location:
        return {"displayName": "", "locationType": "default", "uniqueIdType": "unknown"}
    return dict(location)


def select(data: dict[str, Any], fields: set[str] | None) -> dict[str, Any]:
    """Apply ``$select``; ``@odata.etag`` and ``id`` always stay, as in Graph."""
    if not fields:
        return data
    wanted = {f.lower() for f in fields} | {"id", "@odata.etag"}
    return {k: v for k, v in data.items() if k.lower() in wanted}


def extended_json(item: EventItem, wanted_ids: list[str]) -> list[dict[str, str]]:
    """``singleValueExtendedProperties`` entries named by an ``$expand`` filter."""
    return [{"id": k, "value": v} for k, v in item.extended if k in wanted_ids]
