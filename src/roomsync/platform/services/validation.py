"""Input rules shared by every service: each failure names the field it is about."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from email_validator import EmailNotValidError, validate_email

from roomsync.platform.exceptions import InvalidInputError

MAX_NAME_LENGTH = 200


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


def check_time_zone(value: str, *, field: str = "time_zone") -> str:
    """An IANA time zone name known to zoneinfo, such as ``Europe/Amsterdam``."""
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise InvalidInputError(
            f"{field} {value!r} is not an IANA time zone name (for example Europe/Amsterdam).",
            field=field,
        ) from exc
    return value


def clean_name(value: str, *, field: str = "name") -> str:
    name = value.strip()
    if not name or len(name) > MAX_NAME_LENGTH:
        raise InvalidInputError(
            f"{field} must be between 1 and {MAX_NAME_LENGTH} characters.", field=field
        )
    return name


def require_aware(value: datetime, *, field: str) -> datetime:
    """Refuse an instant without a UTC offset: it could mean any moment of a day."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidInputError(
            f"{field} must carry a UTC offset, for example 2030-01-01T09:00:00+01:00 or ...Z.",
            field=field,
        )
    return value
