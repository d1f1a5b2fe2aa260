"""Input rules shared by every service: each failure names the field it is about.

The same rules back the REST API's field types (``platform.api.fields``), so a value is
refused the same way whichever door it comes in by, and on SQLite as on PostgreSQL:

- text never holds NUL (PostgreSQL cannot store it in a text column, SQLite would) nor a
  lone UTF-16 surrogate such as ``\\ud800`` (neither database can encode it);
- an instant lies between 1900-01-01 and 2999-12-31 on its own wall clock, so converting
  it to UTC never overflows and Microsoft 365 calendars can hold it;
- a time zone is a name in the IANA zone list (a tzdata folder such as ``America`` is not).
"""

from __future__ import annotations

import functools
import re
from datetime import datetime
from zoneinfo import available_timezones

from email_validator import EmailNotValidError, validate_email

from roomsync.platform.exceptions import InvalidInputError

MAX_NAME_LENGTH = 200
MAX_TIME_ZONE_LENGTH = 64
EARLIEST_YEAR = 1900
LATEST_YEAR = 2999

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def normalize_email(value: str, *, field: str) -> str:
    """The address in lower case, or an error naming ``field`` when it is not an address."""
    try:
        checked = validate_email(
            value.strip(),
            check_deliverability=False,
            globally_deliverable=False,
            test_environment=True,
        )
    except EmailNotValidError as exc:
        raise InvalidInputError(
            f"{field} is not a valid email address: {exc}", field=field
        ) from exc
    return checked.normalized.lower()


def optional_email(value: str | None, *, field: str) -> str | None:
    return None if value is None else normalize_email(value, field=field)


def text_problem(value: str) -> str | None:
    """Why ``value`` cannot be stored as text, or None when it can."""
    found = _UNSTORABLE.search(value)
    if found is None:
        return None
    if found.group() == "\x00":
        return "must not contain the NUL character (\\u0000)"
    return f"must not contain a lone UTF-16 surrogate (\\u{ord(found.group()):04x})"


@functools.cache
def _iana_zones() -> frozenset[str]:
    return frozenset(available_timezones())


def time_zone_problem(value: str) -> str | None:
    """Why ``value`` is not an IANA time zone name, or None when it is one."""
    if len(value) > MAX_TIME_ZONE_LENGTH or value not in _iana_zones():
        return "is not an IANA time zone name (for example Europe/Amsterdam or UTC)"
    return None


def check_time_zone(value: str, *, field: str = "time_zone") -> str:
    """An IANA time zone name known to zoneinfo, such as ``Europe/Amsterdam``."""
    problem = time_zone_problem(value)
    if problem is not None:
        shown = value if len(value) <= MAX_TIME_ZONE_LENGTH else value[:MAX_TIME_ZONE_LENGTH] + "…"
        raise InvalidInputError(f"{field} {shown!r} {problem}.", field=field)
    return value


def instant_problem(value: datetime) -> str | None:
    """Why ``value`` is out of the instants roomsync takes, or None. Only the wall-clock
    year is compared: arithmetic on an instant near year 1 or 9999 could overflow."""
    if value.tzinfo is None or value.utcoffset() is None:
        return "must carry a UTC offset, for example 2030-01-01T09:00:00+01:00 or ...Z"
    if not EARLIEST_YEAR <= value.year <= LATEST_YEAR:
        return (
            f"must lie between the years {EARLIEST_YEAR} and {LATEST_YEAR}: a booking outside "
            "them could never reach a Microsoft 365 room calendar"
        )
    return None


def require_aware(value: datetime, *, field: str) -> datetime:
    """Refuse an instant without a UTC offset: it could mean any moment of a day."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidInputError(
            f"{field} must carry a UTC offset, for example 2030-01-01T09:00:00+01:00 or ...Z.",
            field=field,
        )
    return value


def require_instant(value: datetime, *, field: str) -> datetime:
    """Refuse an instant without a UTC offset or outside the years roomsync takes."""
    problem = instant_problem(value)
    if problem is not None:
        raise InvalidInputError(f"{field} {problem}.", field=field)
    return value


def clean_name(value: str, *, field: str = "name") -> str:
    name = value.strip()
    if not name or len(name) > MAX_NAME_LENGTH:
        raise InvalidInputError(
            f"{field} must be between 1 and {MAX_NAME_LENGTH} characters.", field=field
        )
    problem = text_problem(name)
    if problem is not None:
        raise InvalidInputError(f"{field} {problem}.", field=field)
    return name
