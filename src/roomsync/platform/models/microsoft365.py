"""Tables whose rows the sync package gives meaning to (docs/decisions.md §1).

The platform only declares and migrates them; ``roomsync.sync`` decides what is written
when. ``integrations`` is one Microsoft 365 connection per organization.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from roomsync.platform.enums import (
    IntegrationMode,
    RoomSource,
    SyncRunKind,
    SyncRunOutcome,
    SyncRunTrigger,
)
from roomsync.platform.models.base import (
    EMAIL_LENGTH,
    ENUM_LENGTH,
    NAME_LENGTH,
    Base,
    Entity,
    EnumText,
    Timestamped,
)
from roomsync.platform.models.organizations import TIME_ZONE_LENGTH

GRAPH_ID_LENGTH = 512
HASH_LENGTH = 128


class Integration(Entity, Base):
    __tablename__ = "integrations"

    organization_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id"), unique=True)
    tenant_id: Mapped[str] = mapped_column(String(NAME_LENGTH))
    client_id: Mapped[str] = mapped_column(String(NAME_LENGTH))
    client_secret_encrypted: Mapped[str | None] = mapped_column(Text)
    client_secret_expires_at: Mapped[datetime | None]
    certificate_encrypted: Mapped[str | None] = mapped_column(Text)
    credentials_version: Mapped[int] = mapped_column(default=1)
    service_account: Mapped[str | None] = mapped_column(String(EMAIL_LENGTH))
    time_zone: Mapped[str] = mapped_column(String(TIME_ZONE_LENGTH))
    room_source: Mapped[RoomSource] = mapped_column(EnumText(RoomSource), default=RoomSource.PLACES)
    room_selection: Mapped[dict[str, Any]] = mapped_column(default=dict)
    field_mappings: Mapped[list[Any]] = mapped_column(default=list)
    mode: Mapped[IntegrationMode] = mapped_column(
        EnumText(IntegrationMode), default=IntegrationMode.POLLING
    )
    enabled: Mapped[bool] = mapped_column(default=False)
    stopped_reason: Mapped[str | None] = mapped_column(Text)
    options: Mapped[dict[str, Any]] = mapped_column(default=dict)


class EventLink(Entity, Base):
    """How a synced booking is known in Microsoft 365; the key to recognising echoes."""

    __tablename__ = "event_links"
    __table_args__ = (
        UniqueConstraint("integration_id", "room_event_id"),
        # Matching a room copy by iCalUId is always within one room (docs/sync.md).
        Index(None, "integration_id", "room_email", "ical_uid"),
    )

    booking_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("bookings.id", ondelete="CASCADE"), unique=True
    )
    integration_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("integrations.id"))
    room_email: Mapped[str] = mapped_column(String(EMAIL_LENGTH))
    room_event_id: Mapped[str | None] = mapped_column(String(GRAPH_ID_LENGTH))
    ical_uid: Mapped[str | None] = mapped_column(String(GRAPH_ID_LENGTH))
    organizer_email: Mapped[str | None] = mapped_column(String(EMAIL_LENGTH))
    organizer_event_id: Mapped[str | None] = mapped_column(String(GRAPH_ID_LENGTH))
    change_key: Mapped[str | None] = mapped_column(String(NAME_LENGTH))
    organizer_change_key: Mapped[str | None] = mapped_column(String(NAME_LENGTH))
    # The organizer's copy's webLink (opens it in Outlook on the web, in their mailbox).
    organizer_web_link: Mapped[str | None] = mapped_column(Text)
    last_modified_at: Mapped[datetime | None]
    # The state both sides last agreed on (docs/sync.md "The link row").
    synced_state: Mapped[dict[str, Any] | None]
    synced_version: Mapped[int | None]
    pulled_hash: Mapped[str | None] = mapped_column(String(HASH_LENGTH))
    last_seen_at: Mapped[datetime | None]


class RoomSyncState(Entity, Base):
    """Per room: delta link (or the next link of an unfinished round) and subscription."""

    __tablename__ = "room_sync_state"

    resource_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("resources.id", ondelete="CASCADE"), unique=True
    )
    integration_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("integrations.id"), index=True)
    delta_link: Mapped[str | None] = mapped_column(Text)
    next_link: Mapped[str | None] = mapped_column(Text)
    window_start: Mapped[datetime | None]
    window_end: Mapped[datetime | None]
    round_started_at: Mapped[datetime | None]
    last_round_at: Mapped[datetime | None]
    last_success_at: Mapped[datetime | None]
    last_outcome: Mapped[str | None] = mapped_column(String(ENUM_LENGTH))
    last_error: Mapped[str | None] = mapped_column(Text)
    events_seen: Mapped[int] = mapped_column(default=0)
    consecutive_failures: Mapped[int] = mapped_column(default=0)
    # The round in progress started without a delta link: reconcile when it completes.
    full_round: Mapped[bool] = mapped_column(default=False)
    subscription_id: Mapped[str | None] = mapped_column(String(GRAPH_ID_LENGTH))
    subscription_expires_at: Mapped[datetime | None]
    subscription_client_state_encrypted: Mapped[str | None] = mapped_column(Text)
    subscription_state: Mapped[str | None] = mapped_column(String(ENUM_LENGTH))
    subscription_error: Mapped[str | None] = mapped_column(Text)


class DirectorySyncState(Entity, Base):
    """Per integration: the users delta link (or the next link of an unfinished round)."""

    __tablename__ = "directory_sync_state"

    integration_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("integrations.id", ondelete="CASCADE"), unique=True
    )
    delta_link: Mapped[str | None] = mapped_column(Text)
    next_link: Mapped[str | None] = mapped_column(Text)
    round_started_at: Mapped[datetime | None]
    last_round_at: Mapped[datetime | None]


class SyncRun(Entity, Base):
    """One run of a workflow, shown by ``GET /integrations/{id}/status``."""

    __tablename__ = "sync_runs"

    integration_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("integrations.id"), index=True)
    kind: Mapped[SyncRunKind] = mapped_column(EnumText(SyncRunKind))
    trigger: Mapped[SyncRunTrigger] = mapped_column(EnumText(SyncRunTrigger))
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    last_seen_at: Mapped[datetime | None]
    """When the process running it last said it was alive (its heartbeat)."""
    outcome: Mapped[SyncRunOutcome] = mapped_column(
        EnumText(SyncRunOutcome), default=SyncRunOutcome.RUNNING
    )
    counts: Mapped[dict[str, Any]] = mapped_column(default=dict)
    warnings: Mapped[list[Any]] = mapped_column(default=list)
    errors: Mapped[list[Any]] = mapped_column(default=list)


class Lease(Timestamped, Base):
    """A cross-process lock (per integration, per room) that expires if its holder dies."""

    __tablename__ = "leases"

    name: Mapped[str] = mapped_column(String(NAME_LENGTH), primary_key=True)
    owner: Mapped[str] = mapped_column(String(NAME_LENGTH))
    expires_at: Mapped[datetime]


class IntegrationAudit(Entity, Base):
    """One saved change of an integration's settings: who (``actor``), when
    (``created_at``), ``action`` (created or updated) and the names of the ``fields`` that
    changed. Never a value: a credential's is secret, and names are what an audit needs."""

    __tablename__ = "integration_audit"

    integration_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("integrations.id"), index=True)
    actor: Mapped[str] = mapped_column(String(EMAIL_LENGTH))
    action: Mapped[str] = mapped_column(String(ENUM_LENGTH))
    fields: Mapped[list[str]] = mapped_column(default=list)
