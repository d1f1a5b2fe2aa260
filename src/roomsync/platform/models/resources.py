"""Bookable resources (rooms), possibly mirroring a Microsoft 365 room mailbox."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column

from roomsync.platform.enums import Origin
from roomsync.platform.models.base import EMAIL_LENGTH, NAME_LENGTH, Base, Entity, EnumText

FLOOR_LENGTH = 64
PLACE_ID_LENGTH = 200


class Resource(Entity, Base):
    """A room. ``email`` is set for Microsoft 365 room mailboxes; ``hidden_fields`` names the
    fields (``capacity``, ``floor``, ``email`` or attribute keys) occupants do not see;
    ``excluded_from_import`` keeps a room mailbox out of service whatever the room import
    reads (it is not reactivated, updated, subscribed or pulled)."""

    __tablename__ = "resources"
    __table_args__ = (
        UniqueConstraint("organization_id", "email"),
        # The availability search walks rooms in rank order (smallest first) and stops at
        # the page's end (platform/services/availability.py).
        Index(None, "organization_id", "capacity", "name", "id"),
        Index(None, "building_id", "capacity", "name", "id"),
    )

    organization_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id"))
    building_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("buildings.id"), index=True)
    name: Mapped[str] = mapped_column(String(NAME_LENGTH))
    email: Mapped[str | None] = mapped_column(String(EMAIL_LENGTH))
    capacity: Mapped[int | None]
    floor: Mapped[str | None] = mapped_column(String(FLOOR_LENGTH))
    attributes: Mapped[dict[str, Any]] = mapped_column(default=dict)
    hidden_fields: Mapped[list[str]] = mapped_column(default=list)
    active: Mapped[bool] = mapped_column(default=True)
    retired_at: Mapped[datetime | None]
    origin: Mapped[Origin] = mapped_column(EnumText(Origin), default=Origin.PLATFORM)
    m365_place_id: Mapped[str | None] = mapped_column(String(PLACE_ID_LENGTH))
    excluded_from_import: Mapped[bool] = mapped_column(default=False, server_default=false())
    # Overrides of its building's check-in policy, field by field (services/checkin_policy).
    checkin_policy: Mapped[dict[str, Any] | None]
