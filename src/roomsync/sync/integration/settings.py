"""The structured parts of an integration's configuration, stored as JSON on its row.

- ``room_selection``: import every room (``{"mode": "all"}``) or only the rooms of chosen
  room lists (``{"mode": "room_lists", "room_lists": [{"email", "name", "building_id"?}]}``),
  room lists as buildings: each list fills one building, the one named by
  ``building_id`` or else one found or created for the list.
- ``certificate``: a certificate credential given as one PEM text holding the private key
  and the certificate registered on the app, with the key's passphrase if it has one.

Validation errors are ``ValueError``s so that pydantic (and the REST API's 422) names the
offending field.
"""

from __future__ import annotations

import uuid
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from roomsync.platform.api.fields import Name
from roomsync.platform.exceptions import InvalidInputError
from roomsync.platform.services.validation import normalize_email


def checked_email(value: str, *, field: str) -> str:
    """The address in lower case, or a ValueError fit for a pydantic validator."""
    try:
        return normalize_email(value, field=field)
    except InvalidInputError as exc:
        raise ValueError(exc.message) from exc


class RoomSelectionMode(StrEnum):
    ALL = "all"
    ROOM_LISTS = "room_lists"


class RoomListChoice(BaseModel):
    """One room list to import, and the building its rooms go to."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    email: str = Field(description="The room list's email address (Exchange distribution group).")
    name: Name = Field(description="Name of its building.")
    building_id: uuid.UUID | None = Field(
        default=None, description="An existing building; by default one found or made by name."
    )

    @field_validator("email")
    @classmethod
    def _email(cls, value: str) -> str:
        return checked_email(value, field="email")

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("name must not be blank")
        return value.strip()


class RoomSelection(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    mode: RoomSelectionMode = RoomSelectionMode.ALL
    room_lists: tuple[RoomListChoice, ...] = ()

    @model_validator(mode="after")
    def _lists_fit_the_mode(self) -> RoomSelection:
        if self.mode is RoomSelectionMode.ALL and self.room_lists:
            raise ValueError('room_lists are given only with "mode": "room_lists"')
        if self.mode is RoomSelectionMode.ROOM_LISTS and not self.room_lists:
            raise ValueError('"mode": "room_lists" needs at least one room list')
        emails = [choice.email for choice in self.room_lists]
        if len(set(emails)) != len(emails):
            raise ValueError("each room list is named once")
        return self

    @classmethod
    def from_stored(cls, stored: dict[str, Any] | None) -> RoomSelection:
        return cls.model_validate(stored or {})

    def to_stored(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


class CertificateInput(BaseModel):
    """Write-only: the PEM private key and certificate, and the key's passphrase if any."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    pem: SecretStr = Field(description="PEM text with the private key and the certificate.")
    passphrase: SecretStr | None = Field(default=None, description="The private key's passphrase.")
