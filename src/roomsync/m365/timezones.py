"""Windows and IANA time zone names, and Graph's ``dateTimeTimeZone`` ↔ UTC instants.

Graph writes event times as a wall-clock ``dateTime`` with up to 7 fractional digits and
no offset, plus a ``timeZone`` name: UTC unless ``Prefer: outlook.timezone`` asked for
another, and then possibly a Windows name ("Pacific Standard Time") or an IANA one
(api-reference/v1.0/resources/datetimetimezone.md). On input it accepts every Windows zone but
only a listed set of IANA names, so roomsync writes Windows names. The two vocabularies
are mapped with CLDR's windowsZones table as shipped by tzlocal.

A wall time inside a DST gap (02:30 on a spring-forward night) reads as the instant it
would be had the clocks not moved yet (PEP 495 ``fold=0``), which lands after the gap; a
wall time inside a fold reads as its first occurrence. Writing never produces a wall time
that could read back as another instant: an instant in the second half of a fold is
written in UTC instead.
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from tzlocal.windows_tz import tz_win, win_tz

from roomsync.m365.exceptions import InvalidResponse, UnknownTimeZone
from roomsync.m365.models import DateTimeTimeZone

_UTC_NAMES = frozenset({"utc", "etc/utc", "z", "gmt", "etc/gmt", "coordinated universal time"})
_WINDOWS_BY_LOWER = {name.lower(): iana for name, iana in win_tz.items()}


def windows_to_iana(name: str) -> str | None:
    """``"Romance Standard Time"`` → ``"Europe/Paris"``; None for a name CLDR doesn't know."""
    iana = _WINDOWS_BY_LOWER.get(name.strip().lower())
    return str(iana) if iana else None


def iana_to_windows(name: str) -> str | None:
    """``"Europe/Paris"`` → ``"Romance Standard Time"``; None without a Windows equivalent."""
    windows = tz_win.get(name.strip())
    return str(windows) if windows else None


def resolve_zone(name: str) -> ZoneInfo:
    """The zone a Windows or IANA name (or "UTC") stands for."""
    cleaned = name.strip()
    if cleaned.lower() in _UTC_NAMES:
        return ZoneInfo("UTC")
    try:
        return ZoneInfo(windows_to_iana(cleaned) or cleaned)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise UnknownTimeZone(
            f"{name!r} is neither a Windows nor an IANA time zone name roomsync knows; "
            "use an IANA name such as Europe/Paris, or a Windows one such as "
            '"Romance Standard Time".'
        ) from exc


def to_utc(value: DateTimeTimeZone) -> datetime:
    """The UTC instant a Graph ``dateTimeTimeZone`` denotes."""
    try:
        wall = datetime.fromisoformat(value.date_time.strip())
    except ValueError as exc:
        raise InvalidResponse(
            f"Graph sent the time {value.date_time!r}, which is not an ISO 8601 date-time."
        ) from exc
    if wall.tzinfo is None:
        wall = wall.replace(tzinfo=resolve_zone(value.time_zone))
    return wall.astimezone(UTC)


def to_graph(instant: datetime, zone: str | ZoneInfo) -> DateTimeTimeZone:
    """``instant`` as a wall time in ``zone``, named the Windows way Graph always accepts."""
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError("to_graph needs an aware datetime: a naive one names no instant")
    tz = zone if isinstance(zone, ZoneInfo) else resolve_zone(zone)
    name = "UTC" if tz.key == "UTC" else iana_to_windows(tz.key)
    local = instant.astimezone(tz)
    if name is None or local.replace(fold=0).utcoffset() != local.utcoffset():
        local, name = instant.astimezone(UTC), "UTC"
    return DateTimeTimeZone(date_time=_graph_wall_time(local), time_zone=name)


def _graph_wall_time(local: datetime) -> str:
    """Graph's own form: seconds with 7 fractional digits, no offset."""
    return f"{local:%Y-%m-%dT%H:%M:%S}.{local.microsecond:06d}0"
