"""Secrets at rest: client secrets, certificates and clientStates are stored encrypted.

Fernet (AES-128-CBC + HMAC-SHA256) with a key derived by HKDF-SHA256 from
``ROOMSYNC_SECRET_KEY``, so any long random string works as the setting. A value that
does not decrypt (the key changed since it was saved) raises an error saying so.
"""

from __future__ import annotations

import base64

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from pydantic import SecretStr

from roomsync.platform.exceptions import PlatformError

_INFO = b"roomsync: credentials at rest"


class SecretUnreadableError(PlatformError):
    code = "secret_unreadable"
    http_status = 409


class SecretBox:
    """Encrypts and decrypts short secrets with a key derived from the settings."""

    def __init__(self, secret_key: SecretStr) -> None:
        material = secret_key.get_secret_value().encode()
        key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(material)
        self._fernet = Fernet(base64.urlsafe_b64encode(key))

    def __repr__(self) -> str:
        return "SecretBox(<key hidden>)"

    def encrypt(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode()).decode()

    def decrypt(self, ciphertext: str) -> str:
        try:
            return self._fernet.decrypt(ciphertext.encode()).decode()
        except InvalidToken as exc:
            raise SecretUnreadableError(
                "A stored secret cannot be decrypted: ROOMSYNC_SECRET_KEY differs from the key "
                "it was saved with. Restore the previous key, or save the credential again."
            ) from exc
