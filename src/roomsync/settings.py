"""Settings, read once from ``ROOMSYNC_*`` environment variables and ``.env`` (the
README's "Configuration" table lists them; keep the two equal).

Build a :class:`Settings` at start-up and pass it down; nothing reads the environment
elsewhere. Placeholder or missing secrets are refused with a message that says how to fix
them, except in demo mode where a key is generated and kept in the demo's data folder.
"""

from __future__ import annotations

import secrets
from enum import StrEnum
from pathlib import Path

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from roomsync.errors import ConfigurationError

_PLACEHOLDER_SECRETS = frozenset({"changethis", "change-me", "changeme", "secret", "test", ""})
_MIN_SECRET_KEY_LENGTH = 32
_GENERATE_A_KEY = 'python -c "import secrets; print(secrets.token_urlsafe(32))"'
DEMO_KEY_FILE = "secret-key"
"""The file in a demo's data folder that holds the key its credentials are encrypted with."""


class LogFormat(StrEnum):
    TEXT = "text"
    JSON = "json"


class LogLevel(StrEnum):
    DEBUG = "DEBUG"
    INFO = "INFO"
    WARNING = "WARNING"
    ERROR = "ERROR"
    CRITICAL = "CRITICAL"


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
    # How long a worker's claim on a booking's pushes holds it: a worker killed mid-push
    # keeps that booking from being pushed this long at most. A claim is not renewed while
    # its push runs, so it must stay longer than a push can take (Graph's retries included,
    # which wait up to a minute on a Retry-After): past it, a second push of the same
    # booking may start beside the first.
    push_claim_seconds: float = Field(default=120.0, ge=10)
    public_url: str = "http://127.0.0.1:8000"
    secret_key: SecretStr | None = None
    # Comma-separated keys that still decrypt what was saved before the last key change.
    previous_secret_keys: SecretStr | None = None
    admin_token: SecretStr | None = None
    login_url: str = "https://login.microsoftonline.com"
    # Where browsers are sent for Entra ID's sign-in page when that is not login_url: an
    # emulated tenant that roomsync reaches in-process but browsers reach over HTTP (the
    # demo, the browser tests). Only the scheme and host of the sign-in address change.
    sign_in_page_url: str | None = None
    graph_url: str = "https://graph.microsoft.com"
    ca_bundle: Path | None = None
    max_booking_hours: float = Field(default=24.0, gt=0)
    # A sign-in session ends after this long without a request, and at the latest this
    # long after sign-in, whatever its use.
    session_idle_minutes: float = Field(default=480.0, gt=0)
    session_max_hours: float = Field(default=168.0, gt=0)
    log_format: LogFormat = LogFormat.TEXT
    log_level: LogLevel = LogLevel.INFO

    @field_validator("log_level", mode="before")
    @classmethod
    def _level_in_any_case(cls, value: object) -> object:
        return value.strip().upper() if isinstance(value, str) else value

    def require_secret_key(self) -> SecretStr:
        """Return the key that encrypts credentials at rest, or explain how to set one."""
        key = self.secret_key or SecretStr("")
        value = key.get_secret_value().strip()
        if not value:
            raise ConfigurationError(
                "ROOMSYNC_SECRET_KEY is not set: roomsync needs it to encrypt client secrets "
                f"at rest. Generate one with `{_GENERATE_A_KEY}` and put it in the "
                "environment or in .env."
            )
        if value.lower() in _PLACEHOLDER_SECRETS:
            raise ConfigurationError(
                "ROOMSYNC_SECRET_KEY is set to a placeholder, not a key: anyone could decrypt "
                f"the client secrets saved with it. Generate a key with `{_GENERATE_A_KEY}` "
                "and put it in the environment or in .env."
            )
        if len(key.get_secret_value()) < _MIN_SECRET_KEY_LENGTH:
            raise ConfigurationError(
                f"ROOMSYNC_SECRET_KEY is too short: use at least {_MIN_SECRET_KEY_LENGTH} "
                f"random characters, for example from `{_GENERATE_A_KEY}`."
            )
        return key

    def previous_keys(self) -> tuple[SecretStr, ...]:
        """The keys of ``ROOMSYNC_PREVIOUS_SECRET_KEYS``, newest first as written."""
        if self.previous_secret_keys is None:
            return ()
        parts = self.previous_secret_keys.get_secret_value().split(",")
        return tuple(SecretStr(part.strip()) for part in parts if part.strip())

    def for_demo(self, key_file: Path | None = None) -> Settings:
        """A copy fit for the demo: when no key was given, the one kept in ``key_file``
        (created on first use), so other commands can read the demo's database too."""
        if self.secret_key is not None:
            return self
        return self.model_copy(update={"secret_key": _demo_key(key_file)})

    def with_demo_key(self, key_file: Path) -> Settings:
        """A copy that reads the demo's key from ``key_file`` when no key was given."""
        if self.secret_key is not None or not key_file.is_file():
            return self
        return self.model_copy(update={"secret_key": SecretStr(key_file.read_text().strip())})


def _demo_key(key_file: Path | None) -> SecretStr:
    if key_file is not None and key_file.is_file():
        return SecretStr(key_file.read_text().strip())
    key = secrets.token_urlsafe(32)
    if key_file is not None:
        key_file.parent.mkdir(parents=True, exist_ok=True)
        key_file.touch(mode=0o600)
        key_file.write_text(key + "\n")
    return SecretStr(key)
