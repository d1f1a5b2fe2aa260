"""What an Entra ID admin does to people, as ``sim.directory``: rename, change of address,
disable or enable the account, delete (to the deleted items, or for good), restore.

Each change is numbered in the directory's change log, so ``GET /users/delta`` reports it
(see :mod:`graphsim.directory.changes` for how each is reported).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from graphsim.directory.changes import DirectoryChangeKind, DirectoryChanges
from graphsim.directory.tenant import User
from graphsim.errors import NotFoundError

if TYPE_CHECKING:
    from graphsim.core import Core

_NAME_PROPERTIES = frozenset({"displayName", "givenName", "surname"})
_ADDRESS_PROPERTIES = frozenset({"mail", "userPrincipalName", "mailNickname"})


class DirectoryAdmin:
    """Changes to directory users, each under the simulator's lock."""

    def __init__(self, core: Core) -> None:
        self.core = core

    @property
    def _changes(self) -> DirectoryChanges:
        return self.core.directory_changes

    def rename(self, email: str, display_name: str) -> None:
        """A new display name; given name and surname follow its first and last words."""
        with self.core.lock:
            user = self._live(email)
            words = display_name.split()
            user.display_name = display_name
            user.given_name = words[0] if words else None
            user.surname = words[-1] if len(words) > 1 else None
            self._changes.record(user.id, DirectoryChangeKind.UPDATED, _NAME_PROPERTIES)

    def change_address(self, email: str, new_email: str) -> None:
        """A new primary address and UPN; the person's mailbox moves with them."""
        with self.core.lock:
            user, new_key = self._live(email), new_email.lower()
            if self.core.tenant.find_user(new_key) is not None:
                raise ValueError(f"{new_email} already belongs to another user.")
            old_key = user.mail.lower()
            self.core.tenant.remove_user(user)
            user.mail = user.user_principal_name = new_key
            self.core.tenant.add_user(user)
            box = self.core.store.mailboxes.pop(old_key, None)
            if box is not None:
                box.email = new_key
                self.core.store.mailboxes[new_key] = box
            self._changes.record(user.id, DirectoryChangeKind.UPDATED, _ADDRESS_PROPERTIES)

    def set_account_enabled(self, email: str, enabled: bool) -> None:
        """Block (``False``) or allow sign-in: ``accountEnabled``."""
        with self.core.lock:
            user = self._live(email)
            user.account_enabled = enabled
            self._changes.record(
                user.id, DirectoryChangeKind.UPDATED, frozenset({"accountEnabled"})
            )

    def delete(self, email: str, *, permanent: bool = False) -> None:
        """Delete to the deleted items or, with ``permanent``, for good (a user already in
        the deleted items too, named by id or address)."""
        with self.core.lock:
            changes = self._changes
            user = self.core.tenant.find_user(email) or self._soft_deleted(email)
            if user is None:
                raise NotFoundError(f"{email} is not a user in this tenant.")
            self.core.tenant.remove_user(user)
            if permanent:
                changes.deleted.pop(user.id, None)
                changes.purged.add(user.id)
                changes.record(user.id, DirectoryChangeKind.PURGED)
            else:
                changes.deleted[user.id] = user
                changes.record(user.id, DirectoryChangeKind.DELETED)

    def restore(self, email: str) -> None:
        """Bring a user back from the deleted items."""
        with self.core.lock:
            user = self._soft_deleted(email)
            if user is None:
                raise NotFoundError(f"{email} is not in the deleted items of this tenant.")
            del self._changes.deleted[user.id]
            self.core.tenant.add_user(user)
            self._changes.record(user.id, DirectoryChangeKind.RESTORED)

    def expire_delta_tokens(self) -> None:
        """Every users delta link so far answers 410 ``syncStateNotFound``."""
        with self.core.lock:
            self._changes.generation += 1

    def _live(self, email: str) -> User:
        user = self.core.tenant.find_user(email)
        if user is None:
            raise NotFoundError(f"{email} is not a user in this tenant.")
        return user

    def _soft_deleted(self, key: str) -> User | None:
        lowered = key.lower()
        return next(
            (
                u
                for u in self._changes.deleted.values()
                if lowered in {u.id.lower(), u.mail.lower()}
            ),
            None,
        )
