"""Graph's ``dateTimeTimeZone`` and the time zone names it accepts.

- Input zones: any Windows zone name or IANA name (datetimetimezone.md).
- Output: UTC unless ``Prefer: outlook.timezone`` names another zone, whose name is
  echoed in ``timeZone`` (user-list-calendarview.md; how an IANA name is echoed is not
  documented, so it is echoed as given).
- ``dateTime`` is written with seven fractional digits and no offset.
- ``startDateTime``/``endDateTime`` query values honour their offset and are UTC without
  one, whatever the Prefer header says.
"""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from tzlocal.windows_tz import tz_win, win_tz

from graphsim.errors import GraphApiError, bad_request

_UTC_NAMES = frozenset({"utc", "etc/utc", "gmt", "etc/gmt", "tzone://microsoft/utc", "z"})


@lru_cache(maxsize=512)
def zone(name: str) -> tzinfo:
    """The zone for a Windows or IANA name; 400 ``TimeZoneNotSupportedException`` else."""
    if name.strip().lower() in _UTC_NAMES:
        return UTC
    iana = win_tz.get(name, name)
    try:
        return ZoneInfo(iana)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise GraphApiError(
            400,
            "TimeZoneNotSupportedException",
            "A valid TimeZone value must be specified. "
            f"The following TimeZone value is not supported: '{name}'.",
        ) from exc


def windows_name(name: str) -> str:
    """The Windows name of a zone given by either name (Outlook stores Windows names)."""
    if name in win_tz or name.strip().lower() in _UTC_NAMES:
        return "UTC" if name.strip().lower() in _UTC_NAMES else name
    return tz_win.get(name, name)


def parse_local(value: str) -> datetime:
    """A ``YYYY-MM-DDTHH:MM:SS[.fffffff]`` value; Python's ISO reader drops the fraction
    beyond 6 digits (Graph writes 7) and reads a ``Z``."""
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError as exc:
        raise bad_request(f"The value '{value}' is not a valid date and time.") from exc
    return parsed


def from_graph(value: Any, field: str) -> tuple[datetime, str]:
    """A ``dateTimeTimeZone`` object as (UTC instant, zone name as given)."""
    if not isinstance(value, dict) or not isinstance(value.get("dateTime"), str):
        raise bad_request(f"The property '{field}' must be a dateTimeTimeZone object.")
    name = value.get("timeZone") or "UTC"
    if not isinstance(name, str):
        raise bad_request(f"The property '{field}.timeZone' must be a string.")
    local = parse_local(value["dateTime"])
    if local.tzinfo is None:
        local = local.replace(tzinfo=zone(name))
    return local.astimezone(UTC), name


def to_graph(instant: datetime, name: str) -> dict[str, str]:
    """An instant as ``dateTimeTimeZone`` in zone ``name``."""
    local = instant.astimezone(zone(name))
    return {
        "dateTime": local.strftime("%Y-%m-%dT%H:%M:%S.") + f"{local.microsecond:06d}0",
        "timeZone": name,
    }


def parse_query_instant(value: str, name: str) -> datetime:
    """A ``startDateTime``/``endDateTime`` query value: its offset, else UTC."""
    parsed = parse_local(value) if value else None
    if parsed is None:
        raise bad_request(f"The query parameter '{name}' is required.", "ErrorInvalidParameter")
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def iso_utc(instant: datetime) -> str:
    """``2017-04-15T03:00:50.7579581Z``-style UTC stamp (seven fractional digits)."""
    utc = instant.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond:06d}0Z"


def iso_offset(instant: datetime) -> str:
    """``2016-11-20T18:23:45.9356913+00:00``-style stamp used by subscriptions."""
    utc = instant.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond:06d}0+00:00"


def parse_instant(value: Any, field: str) -> datetime:
    """A DateTimeOffset property value; a missing offset means UTC."""
    if not isinstance(value, str):
        raise bad_request(f"The property '{field}' must be a DateTimeOffset string.")
    parsed = parse_local(value)
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
