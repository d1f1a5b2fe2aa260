"""The base of every Graph wire model: camelCase aliases, unknown properties ignored,
enums that survive members Microsoft adds, and one way to say an answer cannot be read.

Property names and types follow the v1.0 CSDL: Graph's camelCase is the alias, snake_case
the attribute, and either populates a model. Unknown properties are ignored (Graph adds
some without notice, and examples carry undocumented ones).
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic.alias_generators import to_camel

from roomsync.m365.exceptions import InvalidResponse

M = TypeVar("M", bound=BaseModel)


class WireModel(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="ignore", frozen=True
    )

    def to_wire(self) -> dict[str, Any]:
        """The Graph JSON form: camelCase, unset properties left out."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)


class WireObject(WireModel):
    """A model that also keeps the object exactly as Graph sent it."""

    raw: dict[str, Any] = Field(default_factory=dict, repr=False, exclude=True)

    @model_validator(mode="before")
    @classmethod
    def _keep_raw(cls, data: Any) -> Any:
        if isinstance(data, Mapping) and "raw" not in data:
            return {**data, "raw": dict(data)}
        return data


class EvolvableEnum(StrEnum):
    """Graph adds enum members over time; an unknown one reads as UNKNOWN."""

    @classmethod
    def _missing_(cls, value: object) -> Any:
        return cls.__members__.get("UNKNOWN")


def parse_wire(model: type[M], data: object, *, source: str) -> M:
    """Validates a Graph payload, or says plainly which answer could not be read."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "the body"
        raise InvalidResponse(
            f"Microsoft Graph's answer to {source} does not fit {model.__name__} "
            f"({where}: {first['msg']}); roomsync cannot use it.",
        ) from exc
