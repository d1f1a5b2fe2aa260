from __future__ import annotations

import pytest
from pydantic import SecretStr

from roomsync.errors import ConfigurationError
from roomsync.settings import Settings


def test_missing_secret_key_is_refused_with_instructions() -> None:
    settings = Settings(_env_file=None, secret_key=None)
    with pytest.raises(ConfigurationError, match="ROOMSYNC_SECRET_KEY is not set"):
        settings.require_secret_key()


@pytest.mark.parametrize("placeholder", ["changethis", "secret", "  "])
def test_placeholder_secret_key_is_refused(placeholder: str) -> None:
    settings = Settings(_env_file=None, secret_key=SecretStr(placeholder))
    with pytest.raises(ConfigurationError):
        settings.require_secret_key()


def test_demo_settings_get_an_ephemeral_secret_key() -> None:
    settings = Settings(_env_file=None, secret_key=None).for_demo()
    assert len(settings.require_secret_key().get_secret_value()) >= 32


def test_environment_variables_use_the_roomsync_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ROOMSYNC_DATABASE_URL", "sqlite:///elsewhere.db")
    assert Settings(_env_file=None).database_url == "sqlite:///elsewhere.db"
