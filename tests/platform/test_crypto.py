from __future__ import annotations

import pytest
from pydantic import SecretStr

from roomsync.platform.crypto import SecretBox, SecretUnreadableError

KEY = SecretStr("k" * 43)


def test_a_secret_round_trips_and_is_not_stored_in_clear() -> None:
    box = SecretBox(KEY)
    stored = box.encrypt("client-secret-value")
    assert "client-secret-value" not in stored
    assert box.decrypt(stored) == "client-secret-value"


def test_a_secret_saved_under_another_key_says_what_to_do() -> None:
    stored = SecretBox(SecretStr("a" * 43)).encrypt("value")
    with pytest.raises(SecretUnreadableError, match="ROOMSYNC_SECRET_KEY differs"):
        SecretBox(KEY).decrypt(stored)


def test_the_box_never_shows_its_key() -> None:
    assert "k" * 10 not in repr(SecretBox(KEY))
