"""JSON shapes shared by every router: pages, the error envelope, PATCH bodies, ETags."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, ClassVar, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationInfo, field_validator

from roomsync.platform.exceptions import InvalidInputError
from roomsync.platform.services.lookup import Page

T = TypeVar("T")
M = TypeVar("M")


class PageOut(BaseModel, Generic[T]):
    """One page of a list; pass ``next_cursor`` as ``?cursor=`` for the next (null: last)."""

    items: list[T]
    next_cursor: str | None


def page_out(page: Page[M], render: Callable[[M], T]) -> PageOut[T]:
    return PageOut(items=[render(row) for row in page.items], next_cursor=page.next_cursor)


class ErrorBody(BaseModel):
    code: str
    message: str
    details: Any = None


class ErrorOut(BaseModel):
    error: ErrorBody


_ERROR_DESCRIPTIONS = {
    400: "The body could not be read: not UTF-8, or not JSON at all.",
    401: "Missing or unknown bearer token.",
    403: "Another organization's object, or admin-only work with an occupant token.",
    404: "No object with that id.",
    409: "Conflicts with the current state (the room is taken, a closed booking, a duplicate).",
    412: "If-Match names a version that is no longer current.",
    422: "Invalid input; `details` names each bad field.",
}


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` documenting the error envelope for ``statuses``."""
    return {
        status: {"model": ErrorOut, "description": _ERROR_DESCRIPTIONS[status]}
        for status in statuses
    }


class InputModel(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _drop_refused_nulls(schema: dict[str, Any], model: type[BaseModel]) -> None:
    """Describe a PATCH field that refuses ``null`` without the ``null`` branch pydantic
    gives every optional field, so the OpenAPI description says what the API takes."""
    nullable: frozenset[str] = getattr(model, "NULLABLE", frozenset())
    for name, prop in schema.get("properties", {}).items():
        branches = prop.get("anyOf", [])
        kept = [branch for branch in branches if branch.get("type") != "null"]
        if name in nullable or len(kept) != 1 or len(kept) == len(branches):
            continue
        del prop["anyOf"]
        prop.pop("default", None)
        prop.update(kept[0])


class PatchModel(InputModel):
    """A PATCH body: fields left out stay as they are; ``null`` clears only ``NULLABLE`` ones.

    Field validators run on given values only, so the refusal names the offending field.
    """

    model_config = ConfigDict(extra="forbid", json_schema_extra=_drop_refused_nulls)

    NULLABLE: ClassVar[frozenset[str]] = frozenset()

    @field_validator("*", mode="before")
    @classmethod
    def _refuse_null(cls, value: Any, info: ValidationInfo) -> Any:
        if value is None and info.field_name not in cls.NULLABLE:
            raise ValueError(f"{info.field_name} cannot be null; leave it out to keep its value")
        return value

    def changes(self) -> dict[str, Any]:
        """The fields the caller sent, as keyword arguments for an ``update_*`` service."""
        return {name: getattr(self, name) for name in self.model_fields_set}


def etag(version: int) -> str:
    return f'"{version}"'


# A version is a row counter: 18 digits is more than any booking will ever be changed,
# and ``int()`` of thousands of digits is refused by Python itself.
_VERSION = re.compile(r"[0-9]{1,18}")


def parse_if_match(value: str | None) -> int | None:
    """The version an ``If-Match`` header expects (``"3"``, ``W/"3"`` or ``3``; ``*``: any)."""
    if value is None or value.strip() == "*":
        return None
    text = value.strip().removeprefix("W/").strip('"')
    if not _VERSION.fullmatch(text):
        raise InvalidInputError(
            'If-Match must be the ETag of the booking, such as "3".', field="If-Match"
        )
    return int(text)
