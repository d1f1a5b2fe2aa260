"""Secrets at rest: client secrets, certificates and clientStates are stored encrypted.

Fernet (AES-128-CBC + HMAC-SHA256) with a key derived by HKDF-SHA256 from
``ROOMSYNC_SECRET_KEY``, so any long random string works as the setting. Keys can be
changed without losing what was saved: ``ROOMSYNC_SECRET_KEY`` encrypts, and the keys in
``ROOMSYNC_PREVIOUS_SECRET_KEYS`` still decrypt (``MultiFernet`` tries the current key
first); ``roomsync secrets rotate`` re-encrypts every stored value with the current key,
after which the previous keys can be dropped. A value no key decrypts raises an error
naming the settings to fix.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from typing import TYPE_CHECKING

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from pydantic import SecretStr

from roomsync.platform.exceptions import PlatformError

if TYPE_CHECKING:
    from roomsync.settings import Settings

_INFO = b"roomsync: credentials at rest"
_UNREADABLE = (
    "A stored secret cannot be decrypted with ROOMSYNC_SECRET_KEY or any key in "
    "ROOMSYNC_PREVIOUS_SECRET_KEYS: it was saved with another key. Add that key to "
    "ROOMSYNC_PREVIOUS_SECRET_KEYS (comma-separated), or save the credential again."
)


class SecretUnreadableError(PlatformError):
    code = "secret_unreadable"
    http_status = 409


class SecretBox:
    """Encrypts with the current key; decrypts with the current or any previous key."""

    def __init__(self, secret_key: SecretStr, previous_keys: Sequence[SecretStr] = ()) -> None:
        self._current = _fernet(secret_key)
        self._any = MultiFernet([self._current, *(_fernet(key) for key in previous_keys)])

    @classmethod
    def from_settings(cls, settings: Settings) -> SecretBox:
        """The box of ``ROOMSYNC_SECRET_KEY`` and ``ROOMSYNC_PREVIOUS_SECRET_KEYS``."""
        return cls(settings.require_secret_key(), settings.previous_keys())

    def __repr__(self) -> str:
        return "SecretBox(<keys hidden>)"

    def encrypt(self, plaintext: str) -> str:
        return self._current.encrypt(plaintext.encode()).decode()

    def decrypt(self, ciphertext: str) -> str:
        try:
            return self._any.decrypt(ciphertext.encode()).decode()
        except InvalidToken as exc:
            raise SecretUnreadableError(_UNREADABLE) from exc

    def is_current(self, ciphertext: str) -> bool:
        """True when ``ciphertext`` was encrypted with the current key (nothing to rotate)."""
        try:
            self._current.decrypt(ciphertext.encode())
        except InvalidToken:
            return False
        return True

    def rotate(self, ciphertext: str) -> str:
        """The same secret, encrypted with the current key."""
        try:
            return self._any.rotate(ciphertext.encode()).decode()
        except InvalidToken as exc:
            raise SecretUnreadableError(_UNREADABLE) from exc


def _fernet(secret_key: SecretStr) -> Fernet:
    material = secret_key.get_secret_value().encode()
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(material)
    return Fernet(base64.urlsafe_b64encode(key))
