"""The directory's change log, what ``GET /users/delta`` replays.

Deletion follows Entra ID (concepts/delta-query-users.md): a deleted user goes to the
deleted-items container first (``/users/{id}`` answers 404, a delta round reports
``@removed`` with reason ``changed``: it may still be restored); a permanent deletion is
reported with reason ``deleted``; a restored user comes back as an ordinary item.
Property names in the log are Graph's, so a round that ``$select``-ed some properties
sees only the changes to those (only selected properties are tracked).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from graphsim.directory.tenant import User


class DirectoryChangeKind(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    DELETED = "deleted"  # soft: in the deleted-items container
    RESTORED = "restored"
    PURGED = "purged"  # permanently deleted


@dataclass(frozen=True)
class DirectoryChange:
    seq: int
    user_id: str
    kind: DirectoryChangeKind
    properties: frozenset[str] = frozenset()


@dataclass
class DirectoryChanges:
    """The numbered change log of directory users, and the soft-deleted ones."""

    seq: int = 0
    log: list[DirectoryChange] = field(default_factory=list)
    deleted: dict[str, User] = field(default_factory=dict)
    purged: set[str] = field(default_factory=set)
    page_size: int = 100
    generation: int = 1  # bumped to make every delta token so far expire

    def record(
        self, user_id: str, kind: DirectoryChangeKind, properties: frozenset[str] = frozenset()
    ) -> None:
        self.seq += 1
        self.log.append(DirectoryChange(self.seq, user_id, kind, properties))

    def since(self, after: int, upto: int, tracked: frozenset[str] | None) -> list[DirectoryChange]:
        """The latest relevant change of each user with ``after < seq <= upto``, in the
        order of those latest changes; ``tracked``: lower-cased selected properties."""
        latest: dict[str, DirectoryChange] = {}
        for change in self.log:
            if after < change.seq <= upto and _relevant(change, tracked):
                latest.pop(change.user_id, None)
                latest[change.user_id] = change
        return list(latest.values())

    def changed_properties(self, user_id: str, after: int, upto: int) -> frozenset[str]:
        """Every property of the user changed in ``(after, upto]`` (``Prefer: return=minimal``)."""
        found: set[str] = set()
        for change in self.log:
            if change.user_id == user_id and after < change.seq <= upto:
                found |= change.properties
        return frozenset(found)


def _relevant(change: DirectoryChange, tracked: frozenset[str] | None) -> bool:
    if change.kind is not DirectoryChangeKind.UPDATED or tracked is None:
        return True
    return any(name.lower() in tracked for name in change.properties)
