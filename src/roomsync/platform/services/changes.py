"""``UNCHANGED``: the default of every optional argument of an ``update_*`` service.

It tells "leave this field alone" apart from ``None``, which clears a nullable field.
"""

from __future__ import annotations

from enum import Enum
from typing import Literal, TypeAlias, TypeVar

T = TypeVar("T")


class Unchanged(Enum):
    UNCHANGED = "unchanged"


UNCHANGED = Unchanged.UNCHANGED
Maybe: TypeAlias = T | Literal[Unchanged.UNCHANGED]


def given(value: Maybe[T], current: T) -> T:
    """``value`` when the caller gave one, else ``current``."""
    return current if value is UNCHANGED else value
