"""Organizations and what belongs to them directly: buildings, users and API tokens."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint, text, true
from sqlalchemy.orm import Mapped, mapped_column

from roomsync.platform.enums import Role
from roomsync.platform.models.base import EMAIL_LENGTH, NAME_LENGTH, Base, Entity, EnumText

TIME_ZONE_LENGTH = 64
DIRECTORY_ID_LENGTH = 64


class Organization(Entity, Base):
    __tablename__ = "organizations"

    name: Mapped[str] = mapped_column(String(NAME_LENGTH))
    # People who are admins whatever their app roles say (set by the super-admin).
    admin_emails: Mapped[list[str]] = mapped_column(default=list, server_default=text("'[]'"))


class Building(Entity, Base):
    """A site with its IANA time zone; may mirror one Microsoft 365 room list."""

    __tablename__ = "buildings"
    __table_args__ = (UniqueConstraint("organization_id", "name"),)

    organization_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id"), index=True)
    name: Mapped[str] = mapped_column(String(NAME_LENGTH))
    time_zone: Mapped[str] = mapped_column(String(TIME_ZONE_LENGTH))
    address: Mapped[str | None] = mapped_column(Text)
    m365_room_list_email: Mapped[str | None] = mapped_column(String(EMAIL_LENGTH))
    # The check-in policy of its rooms (services/checkin_policy); None: check-in not required.
    checkin_policy: Mapped[dict[str, Any] | None]


class User(Entity, Base):
    """A person who books; ``external`` when outside the tenant or without a mailbox.

    ``directory_id`` is the person's Entra ID object id once the user sync matched them;
    ``account_enabled`` and ``deleted_at`` say whether the directory still lets them in.
    """

    __tablename__ = "users"
    __table_args__ = (
        UniqueConstraint("organization_id", "email"),
        UniqueConstraint("organization_id", "directory_id"),
    )

    organization_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id"))
    email: Mapped[str] = mapped_column(String(EMAIL_LENGTH))
    name: Mapped[str] = mapped_column(String(NAME_LENGTH))
    external: Mapped[bool] = mapped_column(default=False)
    directory_id: Mapped[str | None] = mapped_column(String(DIRECTORY_ID_LENGTH))
    account_enabled: Mapped[bool] = mapped_column(default=True, server_default=true())
    deleted_at: Mapped[datetime | None]


class ApiToken(Entity, Base):
    """A bearer token of one organization; only its SHA-256 hash is stored. An occupant
    token acts for ``user_id``; a display token shows ``resource_id`` only."""

    __tablename__ = "api_tokens"

    organization_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id"), index=True)
    name: Mapped[str] = mapped_column(String(NAME_LENGTH))
    role: Mapped[Role] = mapped_column(EnumText(Role))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    token_prefix: Mapped[str] = mapped_column(String(16))
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    resource_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("resources.id", ondelete="CASCADE")
    )
