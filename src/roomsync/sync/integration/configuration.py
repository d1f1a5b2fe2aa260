"""Saving an integration's configuration (one per organization).

Credentials are stored only encrypted (``SecretBox``, key from ``ROOMSYNC_SECRET_KEY``) and
never handed back: readers learn whether a secret is set, and a certificate's thumbprint
and end of validity. Any change of tenant, app or credential bumps ``credentials_version``
and clears ``stopped_reason``; the integration's token provider is dropped then, and when
the integration is disabled (every process also rebuilds it on its next call, since it
compares the credential it holds with the stored one). A new client secret sent without
an expiry date keeps the saved date rather than silently clearing it; the answer says so
(:func:`kept_expiry_warning`).

Every refusal is an :class:`InvalidInputError` naming its field, so the REST API answers
422 pointing at it.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from roomsync.m365.credentials import CertificateCredential
from roomsync.m365.exceptions import InvalidCertificate
from roomsync.platform.enums import IntegrationMode, RoomSource
from roomsync.platform.exceptions import DuplicateError, InvalidInputError, NotFoundError
from roomsync.platform.models import Integration
from roomsync.platform.services.buildings import get_building
from roomsync.platform.services.changes import UNCHANGED, Maybe, given
from roomsync.platform.services.lookup import DEFAULT_PAGE_SIZE, Page, paginate
from roomsync.platform.services.organizations import get_organization
from roomsync.platform.services.validation import check_time_zone, optional_email, require_aware
from roomsync.sync.context import SyncContext
from roomsync.sync.integration.access import load_integration, resume_integration
from roomsync.sync.integration.connection import credential_of, forget_tokens, seal_certificate
from roomsync.sync.integration.settings import CertificateInput, RoomSelection
from roomsync.sync.options import IntegrationOptions
from roomsync.sync.rooms.field_mapping import FieldMapping, default_field_mappings

MAX_SECRET_LENGTH = 1024


@dataclass(frozen=True)
class CertificateSummary:
    """What may be shown of a stored certificate credential."""

    thumbprint_sha1: str
    thumbprint_sha256: str
    not_valid_after: datetime


@dataclass(frozen=True)
class IntegrationChanges:
    """A PATCH: each field left ``UNCHANGED`` keeps its value; ``None`` clears nullable ones."""

    tenant_id: Maybe[str] = UNCHANGED
    client_id: Maybe[str] = UNCHANGED
    client_secret: Maybe[str | None] = UNCHANGED
    client_secret_expires_at: Maybe[datetime | None] = UNCHANGED
    certificate: Maybe[CertificateInput | None] = UNCHANGED
    service_account: Maybe[str | None] = UNCHANGED
    time_zone: Maybe[str] = UNCHANGED
    room_source: Maybe[RoomSource] = UNCHANGED
    room_selection: Maybe[RoomSelection] = UNCHANGED
    field_mappings: Maybe[Sequence[FieldMapping]] = UNCHANGED
    mode: Maybe[IntegrationMode] = UNCHANGED
    enabled: Maybe[bool] = UNCHANGED
    options: Maybe[dict[str, Any]] = UNCHANGED


def create_integration(
    session: Session,
    ctx: SyncContext,
    *,
    organization_id: uuid.UUID,
    tenant_id: str,
    client_id: str,
    time_zone: str,
    client_secret: str | None = None,
    client_secret_expires_at: datetime | None = None,
    certificate: CertificateInput | None = None,
    service_account: str | None = None,
    room_source: RoomSource = RoomSource.PLACES,
    room_selection: RoomSelection | None = None,
    field_mappings: Sequence[FieldMapping] | None = None,
    mode: IntegrationMode = IntegrationMode.POLLING,
    enabled: bool = True,
    options: dict[str, Any] | None = None,
) -> Integration:
    """The organization's integration (409 if it already has one)."""
    get_organization(session, organization_id=organization_id)
    _refuse_second(session, organization_id)
    integration = Integration(organization_id=organization_id, credentials_version=1)
    changes = IntegrationChanges(
        tenant_id=tenant_id,
        client_id=client_id,
        client_secret=client_secret,
        client_secret_expires_at=client_secret_expires_at,
        certificate=certificate,
        service_account=service_account,
        time_zone=time_zone,
        room_source=room_source,
        room_selection=room_selection or RoomSelection(),
        field_mappings=default_field_mappings() if field_mappings is None else field_mappings,
        mode=mode,
        enabled=enabled,
        options=options or {},
    )
    _apply(session, ctx, integration, changes)
    session.add(integration)
    session.flush()
    return integration


def update_integration(
    session: Session, ctx: SyncContext, *, integration_id: uuid.UUID, changes: IntegrationChanges
) -> Integration:
    integration = load_integration(session, integration_id)
    credentials_changed = _apply(session, ctx, integration, changes)
    if credentials_changed:
        integration.credentials_version += 1
        resume_integration(session, integration)
    if credentials_changed or not integration.enabled:
        forget_tokens(ctx, integration)
    session.flush()
    return integration


def is_listening(integration: Integration) -> bool:
    """Listener mode on an enabled integration that is not stopped."""
    return (
        integration.mode is IntegrationMode.LISTENER
        and integration.enabled
        and not integration.stopped_reason
    )


def kept_expiry_warning(changes: IntegrationChanges, integration: Integration) -> str | None:
    """What to tell a caller who saved a new secret without its expiry date."""
    if changes.client_secret in (UNCHANGED, None):
        return None
    if changes.client_secret_expires_at is not UNCHANGED:
        return None
    if integration.client_secret_expires_at is None:
        return None
    return (
        "client_secret_expires_at still says "
        f"{integration.client_secret_expires_at.date().isoformat()}, the date saved with the "
        "previous secret: send the new secret's expiry date (Azure portal → App registrations "
        "→ Certificates & secrets shows it) as client_secret_expires_at."
    )


def get_integration(session: Session, *, integration_id: uuid.UUID) -> Integration:
    return load_integration(session, integration_id)


def list_integrations(
    session: Session,
    *,
    organization_id: uuid.UUID | None = None,
    limit: int = DEFAULT_PAGE_SIZE,
    cursor: str | None = None,
) -> Page[Integration]:
    where = [] if organization_id is None else [Integration.organization_id == organization_id]
    return paginate(session, Integration, where=where, limit=limit, cursor=cursor)


def certificate_summary(ctx: SyncContext, integration: Integration) -> CertificateSummary | None:
    """The stored certificate's thumbprints and end of validity (None without one)."""
    if not integration.certificate_encrypted:
        return None
    credential = credential_of(ctx, integration)
    if not isinstance(credential, CertificateCredential):
        return None
    return CertificateSummary(
        credential.sha1_thumbprint, credential.sha256_thumbprint, credential.not_valid_after
    )


def _refuse_second(session: Session, organization_id: uuid.UUID) -> None:
    existing = session.scalars(
        select(Integration.id).where(Integration.organization_id == organization_id)
    ).first()
    if existing is not None:
        message = (
            f"Organization {organization_id} already has a Microsoft 365 integration "
            f"({existing}): change it with PATCH /api/v1/integrations/{existing}."
        )
        raise DuplicateError(message, details=[{"field": "organization_id", "message": message}])


def _apply(
    session: Session, ctx: SyncContext, integration: Integration, changes: IntegrationChanges
) -> bool:
    """Applies ``changes``; True when the tenant, app or a credential changed."""
    credentials_before = _credential_fingerprint(integration)
    _apply_identity(integration, changes)
    _apply_credentials(ctx, integration, changes)
    _apply_rooms(session, integration, changes)
    integration.mode = given(changes.mode, integration.mode)
    integration.enabled = given(changes.enabled, integration.enabled)
    if changes.options is not UNCHANGED:
        merged = {**(integration.options or {}), **changes.options}
        integration.options = IntegrationOptions.from_stored(merged).model_dump(
            exclude_defaults=True
        )
    _check_complete(integration)
    return _credential_fingerprint(integration) != credentials_before


def _credential_fingerprint(integration: Integration) -> tuple[Any, ...]:
    return (
        integration.tenant_id,
        integration.client_id,
        integration.client_secret_encrypted,
        integration.certificate_encrypted,
    )


def _apply_identity(integration: Integration, changes: IntegrationChanges) -> None:
    if changes.tenant_id is not UNCHANGED:
        integration.tenant_id = _guid(changes.tenant_id, field="tenant_id")
    if changes.client_id is not UNCHANGED:
        integration.client_id = _guid(changes.client_id, field="client_id")
    if changes.time_zone is not UNCHANGED:
        integration.time_zone = check_time_zone(changes.time_zone)
    if changes.service_account is not UNCHANGED:
        integration.service_account = optional_email(
            changes.service_account, field="service_account"
        )


def _apply_credentials(
    ctx: SyncContext, integration: Integration, changes: IntegrationChanges
) -> None:
    if changes.client_secret is not UNCHANGED:
        integration.client_secret_encrypted = _sealed_secret(ctx, changes.client_secret)
        if changes.client_secret is None:
            integration.client_secret_expires_at = None
    if changes.client_secret_expires_at is not UNCHANGED:
        expires = changes.client_secret_expires_at
        integration.client_secret_expires_at = (
            None if expires is None else require_aware(expires, field="client_secret_expires_at")
        )
    if changes.certificate is not UNCHANGED:
        integration.certificate_encrypted = _sealed_certificate(
            ctx, integration, changes.certificate
        )


def _sealed_secret(ctx: SyncContext, secret: str | None) -> str | None:
    if secret is None:
        return None
    if not secret.strip() or len(secret) > MAX_SECRET_LENGTH:
        raise InvalidInputError(
            f"client_secret must be the secret's Value from Azure portal (1 to "
            f"{MAX_SECRET_LENGTH} characters).",
            field="client_secret",
        )
    return ctx.secrets.encrypt(secret)


def _sealed_certificate(
    ctx: SyncContext, integration: Integration, certificate: CertificateInput | None
) -> str | None:
    """The stored form of a certificate whose key and certificate load and belong together."""
    if certificate is None:
        return None
    pem = certificate.pem.get_secret_value()
    passphrase = certificate.passphrase.get_secret_value() if certificate.passphrase else None
    try:
        CertificateCredential.from_pem_bundle(
            tenant_id=integration.tenant_id,
            client_id=integration.client_id,
            pem=pem,
            passphrase=passphrase,
        )
    except InvalidCertificate as exc:
        raise InvalidInputError(
            "certificate.pem must hold the PEM private key and the certificate registered in "
            "Azure portal → App registrations → Certificates & secrets (with "
            f"certificate.passphrase when the key is encrypted): {exc.message}",
            field="certificate",
        ) from exc
    return seal_certificate(ctx, pem=pem, passphrase=passphrase)


def _apply_rooms(session: Session, integration: Integration, changes: IntegrationChanges) -> None:
    integration.room_source = given(changes.room_source, integration.room_source)
    if changes.room_selection is not UNCHANGED:
        _check_buildings(session, changes.room_selection, integration.organization_id)
        integration.room_selection = changes.room_selection.to_stored()
    if changes.field_mappings is not UNCHANGED:
        _check_unique(changes.field_mappings)
        integration.field_mappings = [m.model_dump(mode="json") for m in changes.field_mappings]


def _check_buildings(
    session: Session, selection: RoomSelection, organization_id: uuid.UUID
) -> None:
    for index, choice in enumerate(selection.room_lists):
        if choice.building_id is None:
            continue
        field = f"room_selection.room_lists.{index}.building_id"
        try:
            building = get_building(session, building_id=choice.building_id)
        except NotFoundError as exc:
            raise InvalidInputError(
                f"{field}: there is no building {choice.building_id}.", field=field
            ) from exc
        if building.organization_id != organization_id:
            raise InvalidInputError(
                f"{field} names a building of another organization.", field=field
            )


def _check_unique(mappings: Sequence[FieldMapping]) -> None:
    seen: set[str] = set()
    for index, mapping in enumerate(mappings):
        if mapping.field in seen:
            raise InvalidInputError(
                f"field_mappings.{index}.field: {mapping.field!r} is mapped twice.",
                field=f"field_mappings.{index}.field",
            )
        seen.add(mapping.field)


def _check_complete(integration: Integration) -> None:
    if not integration.client_secret_encrypted and not integration.certificate_encrypted:
        raise InvalidInputError(
            "Give a client_secret or a certificate: roomsync needs one of them to get tokens.",
            field="client_secret",
        )
    if integration.room_source is RoomSource.FINDROOMS and not integration.service_account:
        raise InvalidInputError(
            "room_source findrooms lists rooms through the service account: set "
            "service_account too.",
            field="service_account",
        )


def _guid(value: str, *, field: str) -> str:
    try:
        return str(uuid.UUID(str(value).strip()))
    except ValueError as exc:
        raise InvalidInputError(
            f"{field} must be a GUID such as 72f988bf-86f1-41af-91ab-2d7cd011db47, as Azure "
            "portal shows it on the app registration's Overview.",
            field=field,
        ) from exc
