"""JSON shapes of ``/api/v1/integrations``: what an admin sends and what the API answers.

Credentials are write-only: ``client_secret`` and ``certificate`` go in, and only
``client_secret_set`` and the certificate's thumbprint and end of validity come out.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, date, datetime, time
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, Field, SecretStr

from roomsync.platform.api.fields import EmailText, Instant, SecretText, TimeZoneName
from roomsync.platform.api.schemas import InputModel, PatchModel
from roomsync.platform.enums import IntegrationMode, RoomSource, SyncRunKind, SyncRunOutcome
from roomsync.platform.models import Integration
from roomsync.sync.context import SyncContext
from roomsync.sync.integration.configuration import IntegrationChanges, certificate_summary
from roomsync.sync.integration.settings import CertificateInput, RoomSelection
from roomsync.sync.options import IntegrationOptions
from roomsync.sync.rooms.field_mapping import FieldMapping, mappings_from_stored
from roomsync.sync.runs import RunReport

_SECRET = Field(
    default=None,
    description="The client secret's Value from Azure portal. Write-only: never returned.",
)
_EXPIRES = Field(
    default=None,
    description="When the client secret expires (a date, or an instant with an offset); "
    "roomsync warns 30, 14, 7 and 1 days before.",
)
_CERTIFICATE = Field(
    default=None,
    description="A certificate credential instead of (or besides) the secret. Write-only.",
)
_MAPPINGS = Field(
    default=None,
    description='[{"field", "source", "visible", "combine"?}]; omitted: the default mappings.',
)

_DATE_ONLY = re.compile(r"\d{4}-\d{2}-\d{2}")


def _date_as_instant(value: Any) -> Any:
    """A bare date (as Azure portal shows expiries) means the start of that day in UTC:
    warnings come early, never late."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return datetime.combine(value, time(), tzinfo=UTC)
    if isinstance(value, str) and _DATE_ONLY.fullmatch(value.strip()):
        return datetime.combine(date.fromisoformat(value.strip()), time(), tzinfo=UTC)
    return value


Expiry = Annotated[Instant, BeforeValidator(_date_as_instant)]


class IntegrationIn(InputModel):
    organization_id: uuid.UUID | None = Field(
        default=None, description="Defaults to the token's organization."
    )
    tenant_id: uuid.UUID = Field(description="Directory (tenant) ID.")
    client_id: uuid.UUID = Field(description="Application (client) ID.")
    client_secret: SecretText | None = _SECRET
    client_secret_expires_at: Expiry | None = _EXPIRES
    certificate: CertificateInput | None = _CERTIFICATE
    service_account: EmailText | None = Field(default=None, description="Service account email.")
    time_zone: TimeZoneName = Field(description="IANA time zone of the Microsoft 365 account.")
    room_source: RoomSource = RoomSource.PLACES
    room_selection: RoomSelection = Field(default_factory=RoomSelection)
    field_mappings: list[FieldMapping] | None = _MAPPINGS
    mode: IntegrationMode = IntegrationMode.POLLING
    enabled: bool = True
    options: IntegrationOptions = Field(default_factory=IntegrationOptions)

    def create_arguments(self) -> dict[str, Any]:
        """Keyword arguments of ``create_integration`` (without the organization)."""
        return {
            "tenant_id": str(self.tenant_id),
            "client_id": str(self.client_id),
            "client_secret": _revealed(self.client_secret),
            "client_secret_expires_at": self.client_secret_expires_at,
            "certificate": self.certificate,
            "service_account": self.service_account,
            "time_zone": self.time_zone,
            "room_source": self.room_source,
            "room_selection": self.room_selection,
            "field_mappings": self.field_mappings,
            "mode": self.mode,
            "enabled": self.enabled,
            "options": self.options.model_dump(exclude_unset=True),
        }


class IntegrationPatch(PatchModel):
    """Fields left out keep their value; ``options`` are merged into the saved ones."""

    NULLABLE = frozenset(
        {"client_secret", "client_secret_expires_at", "certificate", "service_account"}
    )

    tenant_id: uuid.UUID | None = None
    client_id: uuid.UUID | None = None
    client_secret: SecretText | None = _SECRET
    client_secret_expires_at: Expiry | None = _EXPIRES
    certificate: CertificateInput | None = _CERTIFICATE
    service_account: EmailText | None = None
    time_zone: TimeZoneName | None = None
    room_source: RoomSource | None = None
    room_selection: RoomSelection | None = None
    field_mappings: list[FieldMapping] | None = None
    mode: IntegrationMode | None = None
    enabled: bool | None = None
    options: IntegrationOptions | None = None

    def integration_changes(self) -> IntegrationChanges:
        """The fields sent, in the form ``update_integration`` takes."""
        given: dict[str, Any] = self.changes()
        for name in ("tenant_id", "client_id"):
            if name in given:
                given[name] = str(given[name])
        if "client_secret" in given:
            given["client_secret"] = _revealed(given["client_secret"])
        if "options" in given:
            given["options"] = given["options"].model_dump(exclude_unset=True)
        return IntegrationChanges(**given)


def _revealed(secret: SecretStr | None) -> str | None:
    return None if secret is None else secret.get_secret_value()


class CertificateOut(BaseModel):
    thumbprint: str = Field(description="SHA-1 thumbprint, as Azure portal shows it.")
    thumbprint_sha256: str
    not_valid_after: datetime


class IntegrationOut(BaseModel):
    id: uuid.UUID
    organization_id: uuid.UUID
    tenant_id: str
    client_id: str
    client_secret_set: bool
    client_secret_expires_at: datetime | None
    certificate: CertificateOut | None
    credentials_version: int
    service_account: str | None
    time_zone: str
    room_source: RoomSource
    room_selection: RoomSelection
    field_mappings: list[FieldMapping]
    mode: IntegrationMode
    enabled: bool
    options: IntegrationOptions = Field(description="Every option, defaults included.")
    stopped_reason: str | None
    created_at: datetime
    updated_at: datetime
    warnings: list[str] = Field(
        default_factory=list,
        description="Things to know about the change just saved, such as a new client "
        "secret saved without its expiry date.",
    )


def integration_out(
    ctx: SyncContext, integration: Integration, *, warnings: list[str] | None = None
) -> IntegrationOut:
    certificate = certificate_summary(ctx, integration)
    return IntegrationOut(
        id=integration.id,
        organization_id=integration.organization_id,
        tenant_id=integration.tenant_id,
        client_id=integration.client_id,
        client_secret_set=bool(integration.client_secret_encrypted),
        client_secret_expires_at=integration.client_secret_expires_at,
        certificate=None
        if certificate is None
        else CertificateOut(
            thumbprint=certificate.thumbprint_sha1,
            thumbprint_sha256=certificate.thumbprint_sha256,
            not_valid_after=certificate.not_valid_after,
        ),
        credentials_version=integration.credentials_version,
        service_account=integration.service_account,
        time_zone=integration.time_zone,
        room_source=integration.room_source,
        room_selection=RoomSelection.from_stored(integration.room_selection),
        field_mappings=mappings_from_stored(integration.field_mappings),
        mode=integration.mode,
        enabled=integration.enabled,
        options=IntegrationOptions.from_stored(integration.options),
        stopped_reason=integration.stopped_reason,
        created_at=integration.created_at,
        updated_at=integration.updated_at,
        warnings=warnings or [],
    )


class RunReportOut(BaseModel):
    """What a run did; the same run appears in ``GET /integrations/{id}/status``."""

    run_id: uuid.UUID
    kind: SyncRunKind
    outcome: SyncRunOutcome
    counts: dict[str, int]
    warnings: list[str]
    errors: list[str]


class QueuedRunOut(BaseModel):
    """A run handed to the workers (``?wait=false``): follow it in the status."""

    queued: bool = True
    kind: SyncRunKind
    integration_id: uuid.UUID


def run_report_out(report: RunReport, kind: SyncRunKind) -> RunReportOut:
    return RunReportOut(
        run_id=report.run_id,
        kind=kind,
        outcome=report.outcome,
        counts=dict(sorted(report.counts.items())),
        warnings=list(report.warnings),
        errors=list(report.errors),
    )
