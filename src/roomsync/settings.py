"""Settings, read once from ``ROOMSYNC_*`` environment variables and ``.env`` (CONTRACT).

Build a :class:`Settings` at start-up and pass it down; nothing reads the environment
elsewhere. Placeholder or missing secrets are refused with a message that says how to fix
them, except in demo mode where an ephemeral key is generated.
"""

from __future__ import annotations

import secrets
from enum import StrEnum
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from roomsync.errors import ConfigurationError

_PLACEHOLDER_SECRETS = frozenset({"changethis", "change-me", "changeme", "secret", "test", ""})
_MIN_SECRET_KEY_LENGTH = 32


class LogFormat(StrEnum):
    TEXT = "text"
    JSON = "json"


class Settings(BaseSettings):
    """Everything roomsync can be told from its environment."""

    model_config = SettingsConfigDict(
        env_prefix="ROOMSYNC_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    database_url: str = "sqlite:///./roomsync.db"
    queue_url: str = "sqlite:///./roomsync-queue.db"
    queue_name: str = Field(default="roomsync", pattern=r"^[A-Za-z0-9_.-]{1,40}$")
    # How long any workflow's lease, and its run's ``running``, outlive a process killed
    # while holding them; a live run renews both from a heartbeat every third of it.
    lease_seconds: float = Field(default=120.0, ge=5)
    public_url: str = "http://127.0.0.1:8000"
    secret_key: SecretStr | None = None
    admin_token: SecretStr | None = None
    login_url: str = "https://login.microsoftonline.com"
    graph_url: str = "https://graph.microsoft.com"
    ca_bundle: Path | None = None
    max_booking_hours: float = Field(default=24.0, gt=0)
    log_format: LogFormat = LogFormat.TEXT
    log_level: str = "INFO"

    def require_secret_key(self) -> SecretStr:
        """Return the key that encrypts credentials at rest, or explain how to set one."""
        key = self.secret_key
        if key is None or key.get_secret_value().strip().lower() in _PLACEHOLDER_SECRETS:
            raise ConfigurationError(
                "ROOMSYNC_SECRET_KEY is not set: roomsync needs it to encrypt client secrets "
                'at rest. Generate one with `python -c "import secrets; '
                'print(secrets.token_urlsafe(32))"` and put it in the environment or in .env.'
            )
        if len(key.get_secret_value()) < _MIN_SECRET_KEY_LENGTH:
            raise ConfigurationError(
                f"ROOMSYNC_SECRET_KEY is too short: use at least {_MIN_SECRET_KEY_LENGTH} "
                'random characters, for example from `python -c "import secrets; '
                'print(secrets.token_urlsafe(32))"`.'
            )
        return key

    def for_demo(self) -> Settings:
        """A copy fit for the demo: an ephemeral secret key when none was given."""
        if self.secret_key is not None:
            return self
        return self.model_copy(update={"secret_key": SecretStr(secrets.token_urlsafe(32))})
