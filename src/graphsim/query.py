"""Query options, found by name without regard to case.

Microsoft's own example requests write option names in lower case — event-delta.md sends
``calendarView/delta?startdatetime={start_datetime}&enddatetime={end_datetime}`` while
its parameter table says ``startDateTime`` — and Graph answers both, so graphsim looks
every option up case-insensitively. Iteration keeps the names as they were sent.
"""

from __future__ import annotations

from typing import TypeVar, overload

T = TypeVar("T")


class QueryOptions(dict[str, str]):
    """A query string's options; ``get``, ``[]`` and ``in`` ignore the name's case."""

    def _key(self, name: str) -> str:
        if dict.__contains__(self, name):
            return name
        lowered = name.lower()
        return next((k for k in self if k.lower() == lowered), name)

    def __getitem__(self, name: str) -> str:
        return super().__getitem__(self._key(name))

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and dict.__contains__(self, self._key(name))

    @overload
    def get(self, name: str, default: None = None, /) -> str | None: ...
    @overload
    def get(self, name: str, default: str, /) -> str: ...
    @overload
    def get(self, name: str, default: T, /) -> str | T: ...
    def get(self, name: str, default: object = None, /) -> object:
        return super().get(self._key(name), default)

    def names(self) -> set[str]:
        """The option names, lower-cased."""
        return {k.lower() for k in self}
