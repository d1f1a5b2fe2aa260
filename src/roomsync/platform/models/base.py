"""The declarative base, shared column types and the mixins every table uses.

Constraint names follow one naming convention so that migrations and the models agree on
both databases (alembic autogenerate compares by name).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any, TypeVar

from sqlalchemy import JSON, MetaData, String, Uuid
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from roomsync.platform.db import UTCDateTime, new_id, stamp

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

EMAIL_LENGTH = 320
NAME_LENGTH = 200
ENUM_LENGTH = 32

E = TypeVar("E", bound=StrEnum)


class EnumText(TypeDecorator[E]):
    """A :class:`StrEnum` stored as its plain string value (no database enum type)."""

    impl = String(ENUM_LENGTH)
    cache_ok = True

    def __init__(self, enum_type: type[E]) -> None:
        super().__init__()
        self.enum_type = enum_type

    def process_bind_param(self, value: E | str | None, dialect: Dialect) -> str | None:
        return None if value is None else self.enum_type(value).value

    def process_result_value(self, value: str | None, dialect: Dialect) -> E | None:
        return None if value is None else self.enum_type(value)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {  # noqa: RUF012 - SQLAlchemy reads this class attribute
        datetime: UTCDateTime(),
        uuid.UUID: Uuid(),
        dict[str, Any]: JSON(),
        list[Any]: JSON(),
        list[str]: JSON(),
    }


class Timestamped:
    """``created_at`` and ``updated_at`` in UTC, from the database's clock (``db.stamp``)
    whenever a statement does not set them."""

    created_at: Mapped[datetime] = mapped_column(default=stamp, sort_order=10)
    updated_at: Mapped[datetime] = mapped_column(default=stamp, onupdate=stamp, sort_order=10)


class Entity(Timestamped):
    """A row with a time-ordered UUIDv7 ``id`` (docs/data-model.md "Conventions")."""

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id, sort_order=-10)
