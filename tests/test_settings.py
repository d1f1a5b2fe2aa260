from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr, ValidationError

from roomsync.errors import ConfigurationError
from roomsync.settings import LogLevel, Settings


def test_missing_secret_key_is_refused_with_instructions() -> None:
    settings = Settings(_env_file=None, secret_key=None)
    with pytest.raises(ConfigurationError, match="ROOMSYNC_SECRET_KEY is not set"):
        settings.require_secret_key()


def test_a_blank_secret_key_counts_as_not_set() -> None:
    settings = Settings(_env_file=None, secret_key=SecretStr("  "))
    with pytest.raises(ConfigurationError, match="ROOMSYNC_SECRET_KEY is not set"):
        settings.require_secret_key()


@pytest.mark.parametrize("placeholder", ["changethis", "changeme", "secret", "CHANGE-ME"])
def test_a_placeholder_secret_key_is_called_a_placeholder(placeholder: str) -> None:
    settings = Settings(_env_file=None, secret_key=SecretStr(placeholder))
    with pytest.raises(ConfigurationError, match="is set to a placeholder") as refused:
        settings.require_secret_key()
    assert "not set" not in refused.value.message
    assert repr(placeholder) not in refused.value.message


def test_a_short_secret_key_is_refused() -> None:
    settings = Settings(_env_file=None, secret_key=SecretStr("x" * 20))
    with pytest.raises(ConfigurationError, match="too short"):
        settings.require_secret_key()


def test_previous_keys_are_read_comma_separated_skipping_blanks() -> None:
    settings = Settings(_env_file=None, previous_secret_keys=SecretStr(" one , ,two,"))
    assert [key.get_secret_value() for key in settings.previous_keys()] == ["one", "two"]
    assert Settings(_env_file=None).previous_keys() == ()


def test_the_log_level_takes_any_case_and_refuses_unknown_levels_listing_the_valid_ones(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ROOMSYNC_LOG_LEVEL", "warning")
    assert Settings(_env_file=None).log_level is LogLevel.WARNING
    monkeypatch.setenv("ROOMSYNC_LOG_LEVEL", "verbose")
    with pytest.raises(ValidationError) as refused:
        Settings(_env_file=None)
    assert all(level.value in str(refused.value) for level in LogLevel)


def test_demo_settings_keep_their_generated_key_in_the_data_folder(tmp_path: Path) -> None:
    key_file = tmp_path / "demo" / "secret-key"
    first = Settings(_env_file=None, secret_key=None).for_demo(key_file)
    again = Settings(_env_file=None, secret_key=None).for_demo(key_file)
    key = first.require_secret_key().get_secret_value()

    assert len(key) >= 32
    assert again.require_secret_key().get_secret_value() == key
    assert key_file.stat().st_mode & 0o077 == 0
    reader = Settings(_env_file=None, secret_key=None).with_demo_key(key_file)
    assert reader.require_secret_key().get_secret_value() == key


def test_demo_settings_without_a_key_file_get_an_ephemeral_key() -> None:
    settings = Settings(_env_file=None, secret_key=None).for_demo()
    assert len(settings.require_secret_key().get_secret_value()) >= 32


def test_a_given_key_wins_over_the_demo_key(tmp_path: Path) -> None:
    key_file = tmp_path / "secret-key"
    key_file.write_text("d" * 40)
    given = SecretStr("g" * 40)
    assert Settings(_env_file=None, secret_key=given).with_demo_key(key_file).secret_key == given


def test_environment_variables_use_the_roomsync_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ROOMSYNC_DATABASE_URL", "sqlite:///elsewhere.db")
    assert Settings(_env_file=None).database_url == "sqlite:///elsewhere.db"


def test_the_push_claim_is_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ROOMSYNC_PUSH_CLAIM_SECONDS", "15")
    assert Settings(_env_file=None).push_claim_seconds == 15
    monkeypatch.delenv("ROOMSYNC_PUSH_CLAIM_SECONDS")
    assert Settings(_env_file=None).push_claim_seconds == 120


def test_a_push_claim_shorter_than_ten_seconds_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ROOMSYNC_PUSH_CLAIM_SECONDS", "3")
    with pytest.raises(ValidationError, match="push_claim_seconds"):
        Settings(_env_file=None)
