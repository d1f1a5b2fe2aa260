"""Reading event request bodies (user-post-events.md, event-update.md).

Unknown properties are refused with 400 ``RequestBodyRead``, as Outlook does, so a
client's typo shows up in tests instead of being silently dropped. Read-only properties a
client may echo back (``id``, ``@odata.etag``, …) are ignored.
"""

from __future__ import annotations

from typing import Any

from graphsim.calendar import recurrence
from graphsim.calendar.model import Attendee, AttendeeType
from graphsim.errors import bad_request
from graphsim.timezones import from_graph

SENSITIVITY = frozenset({"normal", "personal", "private", "confidential"})
SHOW_AS = frozenset({"unknown", "free", "tentative", "busy", "oof", "workingElsewhere"})
IMPORTANCE = frozenset({"low", "normal", "high"})
_IGNORED = frozenset(
    {
        "@odata.type",
        "@odata.etag",
        "@odata.context",
        "id",
        "changeKey",
        "createdDateTime",
        "lastModifiedDateTime",
        "iCalUId",
        "type",
        "seriesMasterId",
        "isOrganizer",
        "webLink",
        "hasAttachments",
        "bodyPreview",
        "originalStart",
        "organizer",
        "responseStatus",
        "isCancelled",
        "isDraft",
        "onlineMeetingUrl",
        "onlineMeeting",
        "originalStartTimeZone",
        "originalEndTimeZone",
        "cancelledOccurrences",
    }
)
_EXTRA = frozenset({"onlineMeetingProvider"})
_BODY_TYPES = frozenset({"text", "html"})
_ATTENDEE_TYPES = frozenset(t.value for t in AttendeeType)
_WEEKDAYS = frozenset(recurrence.WEEKDAYS)
_LOCATION_TYPES = frozenset(
    {
        "default",
        "conferenceRoom",
        "homeAddress",
        "businessAddress",
        "geoCoordinates",
        "streetAddress",
        "hotel",
        "restaurant",
        "localBusiness",
        "postalAddress",
    }
)
_SIMPLE = {
    "subject": ("subject", str),
    "isAllDay": ("is_all_day", bool),
    "reminderMinutesBeforeStart": ("reminder_minutes", int),
    "isReminderOn": ("is_reminder_on", bool),
    "isOnlineMeeting": ("is_online_meeting", bool),
    "allowNewTimeProposals": ("allow_new_time_proposals", bool),
    "responseRequested": ("response_requested", bool),
    "hideAttendees": ("hide_attendees", bool),
}
_ENUMS = {"sensitivity": SENSITIVITY, "showAs": SHOW_AS, "importance": IMPORTANCE}
_ENUM_FIELDS = {"sensitivity": "sensitivity", "showAs": "show_as", "importance": "importance"}


def event_changes(payload: Any) -> dict[str, Any]:
    """``EventItem`` field values named by a create or update body."""
    if not isinstance(payload, dict):
        raise bad_request("The request body must be a JSON object.", "RequestBodyRead")
    changes: dict[str, Any] = {}
    for key, value in payload.items():
        if key in _IGNORED or key.startswith("@"):
            continue
        changes.update(_property(key, value))
    if "location" in payload and "locations" not in payload:
        # Setting location replaces locations (event resource).
        single = payload["location"]
        changes["locations"] = (_location(single, listed=True),) if single else ()
    return changes


def _enum(key: str, value: Any, allowed: frozenset[str]) -> str:
    """An enum value matched without regard to case (the docs send "Required",
    "Default", "Monday"), returned in the schema's spelling."""
    match = next(
        (a for a in allowed if isinstance(value, str) and a.lower() == value.lower()), None
    )
    if match is None:
        raise bad_request(f"'{value}' is not a valid value for '{key}'.", "RequestBodyRead")
    return match


def _property(key: str, value: Any) -> dict[str, Any]:  # noqa: PLR0911, PLR0912 - one branch per property
    if key in _SIMPLE:
        name, kind = _SIMPLE[key]
        if value is not None and not isinstance(value, kind):
            raise bad_request(f"The property '{key}' has a value of the wrong type.")
        return {name: value if value is not None else ""} if kind is str else {name: value}
    if key in _ENUMS:
        return {_ENUM_FIELDS[key]: _enum(key, value, _ENUMS[key])}
    if key in ("start", "end"):
        instant, zone_name = from_graph(value, key)
        return {key: instant, f"{key}_zone": zone_name}
    if key == "body":
        return _body(value)
    if key == "attendees":
        return {"attendees": tuple(_attendee(a) for a in value or [])}
    if key == "location":
        return {"location": _location(value) if value else None}
    if key == "locations":
        return {"locations": tuple(_location(v, listed=True) for v in value or [])}
    if key == "recurrence":
        return {"recurrence": recurrence.validate(_recurrence_enums(value)) if value else None}
    if key == "categories":
        return {"categories": tuple(str(c) for c in value or [])}
    if key == "transactionId":
        return {"transaction_id": value}
    if key == "singleValueExtendedProperties":
        return {"extended": tuple(_extended(p) for p in value or [])}
    if key in _EXTRA:
        return {"extra": {key: value}}
    raise bad_request(
        f"The property '{key}' does not exist on type 'microsoft.graph.event'. Make sure to "
        "only use property names that are defined by the type.",
        "RequestBodyRead",
    )


def _recurrence_enums(value: Any) -> Any:
    if not isinstance(value, dict) or not isinstance(value.get("pattern"), dict):
        return value
    pattern = dict(value["pattern"])
    if isinstance(pattern.get("type"), str):
        pattern["type"] = _enum("pattern.type", pattern["type"], recurrence.PATTERN_TYPES)
    for name in ("daysOfWeek",):
        pattern[name] = [_enum(name, d, _WEEKDAYS) for d in pattern.get(name) or []]
    for name in ("firstDayOfWeek",):
        if pattern.get(name):
            pattern[name] = _enum(name, pattern[name], _WEEKDAYS)
    if pattern.get("index"):
        pattern["index"] = _enum("index", pattern["index"], frozenset(recurrence.INDEXES))
    range_ = dict(value.get("range") or {})
    if isinstance(range_.get("type"), str):
        range_["type"] = _enum("range.type", range_["type"], recurrence.RANGE_TYPES)
    return {**value, "pattern": pattern, "range": range_}


def _body(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise bad_request("The property 'body' must be an itemBody object.")
    kind = _enum("contentType", value.get("contentType") or "text", _BODY_TYPES)
    return {"body_type": kind, "body": str(value.get("content") or "")}


def _attendee(value: Any) -> Attendee:
    email = (value or {}).get("emailAddress") or {}
    address = email.get("address")
    if not isinstance(address, str) or "@" not in address:
        raise bad_request("Every attendee needs emailAddress.address.", "ErrorInvalidRecipients")
    kind = _enum("type", value.get("type") or "required", _ATTENDEE_TYPES)
    return Attendee(address, str(email.get("name") or address), AttendeeType(kind))


def _location(value: Any, *, listed: bool = False) -> dict[str, Any]:
    """A location as Outlook stores it (user-post-events.md examples): a room address
    makes it a directory conference room; a plain name gets a private unique id, except
    in ``locations`` where a bare name stays ``unknown``."""
    if not isinstance(value, dict):
        raise bad_request("A location must be a location object.")
    name = str(value.get("displayName") or "")
    email = value.get("locationEmailAddress")
    kind = _enum("locationType", value.get("locationType") or "default", _LOCATION_TYPES)
    location: dict[str, Any] = {"displayName": name}
    if email:
        location.update(
            locationEmailAddress=str(email),
            locationType="conferenceRoom",
            uniqueId=str(email),
            uniqueIdType="directory",
        )
    elif listed and not value.get("address"):
        location.update(locationType=kind, uniqueIdType="unknown")
    else:
        location.update(
            locationType=kind, uniqueId=value.get("uniqueId") or name, uniqueIdType="private"
        )
    for extra in ("address", "coordinates", "locationUri"):
        if extra in value:
            location[extra] = value[extra]
    return location


def _extended(value: Any) -> tuple[str, str]:
    if not isinstance(value, dict) or not isinstance(value.get("id"), str):
        raise bad_request("A singleValueExtendedProperty needs an id and a value.")
    return value["id"], str(value.get("value") or "")
