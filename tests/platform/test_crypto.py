from __future__ import annotations

import pytest
from pydantic import SecretStr

from roomsync.platform.crypto import SecretBox, SecretUnreadableError
from roomsync.settings import Settings

KEY = SecretStr("k" * 43)
OLD = SecretStr("o" * 43)
OLDER = SecretStr("p" * 43)


def test_a_secret_round_trips_and_is_not_stored_in_clear() -> None:
    box = SecretBox(KEY)
    stored = box.encrypt("client-secret-value")
    assert "client-secret-value" not in stored
    assert box.decrypt(stored) == "client-secret-value"


def test_a_secret_saved_under_another_key_names_the_settings_to_fix() -> None:
    stored = SecretBox(SecretStr("a" * 43)).encrypt("value")
    with pytest.raises(SecretUnreadableError) as refused:
        SecretBox(KEY, [OLD]).decrypt(stored)
    assert "ROOMSYNC_SECRET_KEY" in refused.value.message
    assert "ROOMSYNC_PREVIOUS_SECRET_KEYS" in refused.value.message


def test_previous_keys_still_decrypt_and_new_secrets_use_the_current_key() -> None:
    saved_long_ago = SecretBox(OLDER).encrypt("older")
    saved_before = SecretBox(OLD).encrypt("old")
    box = SecretBox(KEY, [OLD, OLDER])

    assert (box.decrypt(saved_before), box.decrypt(saved_long_ago)) == ("old", "older")
    assert SecretBox(KEY).decrypt(box.encrypt("new")) == "new"
    assert not box.is_current(saved_before)
    assert box.is_current(box.encrypt("new"))


def test_rotating_moves_a_secret_to_the_current_key_so_the_old_one_can_go() -> None:
    saved_before = SecretBox(OLD).encrypt("value")

    rotated = SecretBox(KEY, [OLD]).rotate(saved_before)

    assert SecretBox(KEY).decrypt(rotated) == "value"
    with pytest.raises(SecretUnreadableError):
        SecretBox(OLD).decrypt(rotated)


def test_rotating_a_secret_no_key_reads_is_refused_with_the_settings_to_fix() -> None:
    stranger = SecretBox(SecretStr("s" * 43)).encrypt("value")
    with pytest.raises(SecretUnreadableError, match="ROOMSYNC_PREVIOUS_SECRET_KEYS"):
        SecretBox(KEY, [OLD]).rotate(stranger)


def test_the_box_is_built_from_both_key_settings() -> None:
    saved_before = SecretBox(OLD).encrypt("value")
    settings = Settings(
        _env_file=None,
        secret_key=KEY,
        previous_secret_keys=SecretStr(f" {OLDER.get_secret_value()}, {OLD.get_secret_value()},"),
    )
    assert SecretBox.from_settings(settings).decrypt(saved_before) == "value"


def test_the_box_never_shows_its_keys() -> None:
    shown = repr(SecretBox(KEY, [OLD]))
    assert "k" * 10 not in shown
    assert "o" * 10 not in shown
