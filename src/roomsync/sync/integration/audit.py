"""The audit of an integration's settings: who changed which of them, and when.

Each create or update writes one ``integration_audit`` row in the same transaction as the
change, naming the fields whose stored value differs from before. Values are never
recorded: a credential's is secret (its ciphertext changes with every new secret, which
is how a replaced secret is noticed without looking at it), and the names are what an
operator asks of an audit ("who changed the room selection on Tuesday?").
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from roomsync.platform.models import Integration, IntegrationAudit
from roomsync.platform.services.lookup import DEFAULT_PAGE_SIZE, Page, paginate

# The settings an admin saves, as the API names them (credentials by their stored column).
AUDITED = {
    "tenant_id": "tenant_id",
    "client_id": "client_id",
    "client_secret": "client_secret_encrypted",
    "client_secret_expires_at": "client_secret_expires_at",
    "certificate": "certificate_encrypted",
    "service_account": "service_account",
    "time_zone": "time_zone",
    "room_source": "room_source",
    "room_selection": "room_selection",
    "field_mappings": "field_mappings",
    "mode": "mode",
    "enabled": "enabled",
    "options": "options",
}
DASHBOARD_CHANGES = 10


class AuditAction(StrEnum):
    CREATED = "created"
    UPDATED = "updated"


@dataclass(frozen=True)
class SettingsSnapshot:
    """A fingerprint of each audited setting: comparable, and revealing no value."""

    fingerprints: dict[str, str]


def snapshot(integration: Integration | None) -> SettingsSnapshot:
    """The settings as they are now (None: before the integration existed)."""
    if integration is None:
        return SettingsSnapshot({})
    return SettingsSnapshot(
        {name: _fingerprint(getattr(integration, column)) for name, column in AUDITED.items()}
    )


def record_change(
    session: Session, integration: Integration, *, before: SettingsSnapshot, actor: str
) -> IntegrationAudit | None:
    """One audit row for what changed since ``before``; None when nothing did."""
    after = snapshot(integration)
    created = not before.fingerprints
    fields = [
        name
        for name, value in after.fingerprints.items()
        if created or before.fingerprints.get(name) != value
    ]
    if created:  # a new integration: the settings it was given, not the empty ones
        fields = [name for name in fields if _given(getattr(integration, AUDITED[name]))]
    if not fields:
        return None
    row = IntegrationAudit(
        integration_id=integration.id,
        actor=actor[:320],
        action=AuditAction.CREATED if created else AuditAction.UPDATED,
        fields=fields,
    )
    session.add(row)
    session.flush()
    return row


def list_changes(
    session: Session,
    *,
    integration_id: uuid.UUID,
    limit: int = DEFAULT_PAGE_SIZE,
    cursor: str | None = None,
) -> Page[IntegrationAudit]:
    """The integration's changes, oldest first (pages as every list of the API)."""
    where = [IntegrationAudit.integration_id == integration_id]
    return paginate(session, IntegrationAudit, where=where, limit=limit, cursor=cursor)


@dataclass(frozen=True)
class AuditEntry:
    id: uuid.UUID
    at: datetime
    actor: str
    action: AuditAction
    fields: list[str]

    @classmethod
    def of(cls, row: IntegrationAudit) -> AuditEntry:
        return cls(row.id, row.created_at, row.actor, AuditAction(row.action), list(row.fields))


def latest_changes(
    session: Session, *, integration_id: uuid.UUID, limit: int = DASHBOARD_CHANGES
) -> list[AuditEntry]:
    """The newest changes first, for the dashboard."""
    rows = session.scalars(
        select(IntegrationAudit)
        .where(IntegrationAudit.integration_id == integration_id)
        .order_by(IntegrationAudit.id.desc())
        .limit(limit)
    )
    return [AuditEntry.of(row) for row in rows]


def _given(value: Any) -> bool:
    return value not in (None, "", {}, [])


def _fingerprint(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()
