"""The field types every request schema is built from, so that no input reaches a 500.

Each type refuses with a ``ValueError`` (the API's 422 names the field) what neither
database could store or what would break later arithmetic, with the same rules as the
services (``platform.services.validation``):

- ``Name``, ``Title``, ``Description``, ``EmailText``, ``Address``...: bounded text
  without NUL or a lone surrogate;
- ``Instant``: an ISO 8601 date-time text with a UTC offset (a number such as ``0.5`` is
  not taken as a Unix time), within the years 1900..2999;
- ``TimeZoneName``: a name in the IANA zone list;
- ``JsonObject``: free-form JSON of at most ``MAX_JSON_DEPTH`` levels and
  ``MAX_JSON_BYTES`` bytes, finite numbers only, its keys and strings plain text.
"""

from __future__ import annotations

import json
import math
import re
from datetime import datetime
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BeforeValidator,
    Field,
    SecretStr,
    StringConstraints,
)

from roomsync.platform.models.base import EMAIL_LENGTH, NAME_LENGTH
from roomsync.platform.models.resources import FLOOR_LENGTH
from roomsync.platform.services.validation import (
    MAX_TIME_ZONE_LENGTH,
    instant_problem,
    text_problem,
    time_zone_problem,
)

MAX_JSON_DEPTH = 8
MAX_JSON_BYTES = 16_384
MAX_ADDRESS_LENGTH = 4_096
MAX_TITLE_LENGTH = 500
MAX_DESCRIPTION_LENGTH = 4_000
MAX_SECRET_LENGTH = 1_024
MAX_CURSOR_LENGTH = 200
MAX_LIST_ITEMS = 100

_ISO_DATE_TIME = re.compile(r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}.*")


def _plain_text(value: str) -> str:
    problem = text_problem(value)
    if problem is not None:
        raise ValueError(problem)
    return value


_PLAIN = AfterValidator(_plain_text)


def _plain_secret(value: SecretStr) -> SecretStr:
    _plain_text(value.get_secret_value())
    return value


def _iana_zone(value: str) -> str:
    problem = time_zone_problem(value)
    if problem is not None:
        raise ValueError(problem)
    return value


def _iso_text(value: Any) -> Any:
    """Only a text (or a datetime built in Python) is an instant: pydantic would read a
    number, or a numeric text such as ``"0.5"``, as seconds since 1970."""
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str) or not _ISO_DATE_TIME.fullmatch(value.strip()):
        raise ValueError("must be an ISO 8601 date-time with an offset, such as 2030-01-07T09:00Z")
    return value


def _within_range(value: datetime) -> datetime:
    problem = instant_problem(value)
    if problem is not None:
        raise ValueError(problem)
    return value


def _bounded_json(value: dict[str, Any]) -> dict[str, Any]:
    _check_json_node(value, depth=1)
    size = len(json.dumps(value, ensure_ascii=False).encode())
    if size > MAX_JSON_BYTES:
        raise ValueError(f"must be at most {MAX_JSON_BYTES} bytes of JSON, not {size}")
    return value


def _check_json_node(node: Any, *, depth: int) -> None:
    if depth > MAX_JSON_DEPTH:
        raise ValueError(f"must not nest deeper than {MAX_JSON_DEPTH} levels")
    if isinstance(node, dict):
        for key, item in node.items():
            _check_json_text(key)
            _check_json_node(item, depth=depth + 1)
    elif isinstance(node, list):
        for item in node:
            _check_json_node(item, depth=depth + 1)
    elif isinstance(node, str):
        _check_json_text(node)
    elif isinstance(node, float) and not math.isfinite(node):
        raise ValueError("must hold finite numbers only (no NaN or Infinity)")


def _check_json_text(value: str) -> None:
    problem = text_problem(value)
    if problem is not None:
        raise ValueError(f"strings and keys {problem}")


Name = Annotated[str, StringConstraints(min_length=1, max_length=NAME_LENGTH), _PLAIN]
Title = Annotated[str, StringConstraints(min_length=1, max_length=MAX_TITLE_LENGTH), _PLAIN]
EmailText = Annotated[
    str,
    StringConstraints(min_length=1, max_length=EMAIL_LENGTH),
    _PLAIN,
    Field(description="An email address."),
]
Description = Annotated[
    str,
    StringConstraints(max_length=MAX_DESCRIPTION_LENGTH),
    _PLAIN,
    Field(description=f"Plain text, at most {MAX_DESCRIPTION_LENGTH} characters."),
]
Address = Annotated[str, StringConstraints(max_length=MAX_ADDRESS_LENGTH), _PLAIN]
Floor = Annotated[str, StringConstraints(max_length=FLOOR_LENGTH), _PLAIN]
SecretText = Annotated[
    SecretStr,
    StringConstraints(min_length=1, max_length=MAX_SECRET_LENGTH),
    AfterValidator(_plain_secret),
]
CursorText = Annotated[str, StringConstraints(max_length=MAX_CURSOR_LENGTH), _PLAIN]
NameList = Annotated[list[Name], Field(max_length=MAX_LIST_ITEMS)]
TimeZoneName = Annotated[
    str,
    StringConstraints(min_length=1, max_length=MAX_TIME_ZONE_LENGTH),
    AfterValidator(_iana_zone),
    Field(description="IANA time zone name, such as Europe/Amsterdam."),
]
Instant = Annotated[
    AwareDatetime,
    BeforeValidator(_iso_text),
    AfterValidator(_within_range),
    Field(
        description="ISO 8601 with an offset, such as 2030-01-07T09:00:00+01:00 or ...Z; "
        "years 1900 to 2999."
    ),
]
JsonObject = Annotated[
    dict[str, Any],
    AfterValidator(_bounded_json),
    Field(description=f"Free-form JSON: at most {MAX_JSON_DEPTH} levels, {MAX_JSON_BYTES} bytes."),
]
