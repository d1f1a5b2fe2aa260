"""Resources (rooms): platform-made or mirrored from Microsoft 365 room mailboxes.

``hidden_fields`` may name ``capacity``, ``floor``, ``email`` and keys of ``attributes``:
those are left out of what occupants see. Retiring keeps the row (bookings refer to it).

An admin may exclude a room from the Microsoft 365 import (``excluded_from_import``): it
is retired at once and stays retired, since the import leaves excluded rooms as they are
(a plain ``active=false`` is undone by the next import, which reactivates every room it
lists). Reactivating an excluded room is refused until the exclusion is lifted.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import Session

from roomsync.platform.db import now
from roomsync.platform.enums import Origin
from roomsync.platform.exceptions import InvalidInputError
from roomsync.platform.models import Resource
from roomsync.platform.services.buildings import get_building
from roomsync.platform.services.changes import UNCHANGED, Maybe, given
from roomsync.platform.services.lookup import (
    DEFAULT_PAGE_SIZE,
    Page,
    flush_unique,
    get_or_raise,
    paginate,
)
from roomsync.platform.services.validation import clean_name, normalize_email, optional_email

HIDEABLE_FIELDS = frozenset({"capacity", "floor", "email"})
MAX_CAPACITY = 100_000


def create_resource(
    session: Session,
    *,
    building_id: uuid.UUID,
    name: str,
    email: str | None = None,
    capacity: int | None = None,
    floor: str | None = None,
    attributes: dict[str, Any] | None = None,
    hidden_fields: Sequence[str] = (),
    active: bool = True,
    origin: Origin = Origin.PLATFORM,
    m365_place_id: str | None = None,
) -> Resource:
    building = get_building(session, building_id=building_id)
    resource = Resource(
        organization_id=building.organization_id,
        building_id=building.id,
        origin=origin,
        m365_place_id=m365_place_id,
    )
    _apply(
        resource,
        name=name,
        email=email,
        capacity=capacity,
        floor=floor,
        attributes=attributes or {},
        hidden_fields=hidden_fields,
    )
    _set_active(resource, active, at=now(session))
    session.add(resource)
    _flush(session, resource)
    return resource


def get_resource(session: Session, *, resource_id: uuid.UUID) -> Resource:
    return get_or_raise(session, Resource, resource_id, noun="resource")


def list_resources(
    session: Session,
    *,
    organization_id: uuid.UUID | None = None,
    building_id: uuid.UUID | None = None,
    active: bool | None = None,
    search: str | None = None,
    limit: int = DEFAULT_PAGE_SIZE,
    cursor: str | None = None,
) -> Page[Resource]:
    """Resources in creation order; ``search`` keeps those whose name or email contains it
    (any case)."""
    where: list[ColumnElement[bool]] = []
    if organization_id is not None:
        where.append(Resource.organization_id == organization_id)
    if building_id is not None:
        where.append(Resource.building_id == building_id)
    if active is not None:
        where.append(Resource.active.is_(active))
    if search and search.strip():
        where.append(_contains(search))
    return paginate(session, Resource, where=where, limit=limit, cursor=cursor)


def room_counts(session: Session, building_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, int]:
    """In-service rooms per building, for a page of buildings in one query."""
    if not building_ids:
        return {}
    rows = session.execute(
        select(Resource.building_id, func.count(Resource.id))
        .where(Resource.building_id.in_(building_ids), Resource.active.is_(True))
        .group_by(Resource.building_id)
    )
    return {building_id: count for building_id, count in rows}


def update_resource(
    session: Session,
    *,
    resource_id: uuid.UUID,
    building_id: Maybe[uuid.UUID] = UNCHANGED,
    name: Maybe[str] = UNCHANGED,
    email: Maybe[str | None] = UNCHANGED,
    capacity: Maybe[int | None] = UNCHANGED,
    floor: Maybe[str | None] = UNCHANGED,
    attributes: Maybe[dict[str, Any]] = UNCHANGED,
    hidden_fields: Maybe[Sequence[str]] = UNCHANGED,
    active: Maybe[bool] = UNCHANGED,
    excluded_from_import: Maybe[bool] = UNCHANGED,
) -> Resource:
    resource = get_resource(session, resource_id=resource_id)
    excluded = given(excluded_from_import, resource.excluded_from_import)
    wanted_active = False if excluded else given(active, resource.active)
    if excluded and active is True:
        raise InvalidInputError(
            "The room is excluded from the Microsoft 365 import, so it stays out of service: "
            "set excluded_from_import to false to bring it back.",
            field="active",
        )
    resource.excluded_from_import = excluded
    if building_id is not UNCHANGED:
        resource.building_id = _building_in(session, building_id, resource.organization_id)
    _apply(
        resource,
        name=given(name, resource.name),
        email=given(email, resource.email),
        capacity=given(capacity, resource.capacity),
        floor=given(floor, resource.floor),
        attributes=given(attributes, resource.attributes),
        hidden_fields=given(hidden_fields, resource.hidden_fields),
    )
    _set_active(resource, wanted_active, at=now(session))
    _flush(session, resource)
    return resource


@dataclass(frozen=True)
class ResourceUpsert:
    resource: Resource
    created: bool


def upsert_resource_by_email(
    session: Session,
    *,
    organization_id: uuid.UUID,
    building_id: uuid.UUID,
    email: str,
    name: str,
    capacity: int | None = None,
    floor: str | None = None,
    attributes: dict[str, Any] | None = None,
    hidden_fields: Sequence[str] = (),
    m365_place_id: str | None = None,
) -> ResourceUpsert:
    """The room import's write: the organization's resource with this mailbox ``email``,
    created (origin microsoft365) or updated and re-activated if it had been retired; a
    room excluded from the import is left as it is."""
    address = normalize_email(email, field="email")
    existing = session.scalars(
        select(Resource).where(
            Resource.organization_id == organization_id, Resource.email == address
        )
    ).first()
    if existing is None:
        created = create_resource(
            session,
            building_id=_building_in(session, building_id, organization_id),
            name=name,
            email=address,
            capacity=capacity,
            floor=floor,
            attributes=attributes,
            hidden_fields=hidden_fields,
            origin=Origin.MICROSOFT365,
            m365_place_id=m365_place_id,
        )
        return ResourceUpsert(resource=created, created=True)
    if existing.excluded_from_import:
        return ResourceUpsert(resource=existing, created=False)
    existing.m365_place_id = m365_place_id or existing.m365_place_id
    updated = update_resource(
        session,
        resource_id=existing.id,
        building_id=building_id,
        name=name,
        capacity=capacity,
        floor=floor,
        attributes=attributes or {},
        hidden_fields=hidden_fields,
        active=True,
    )
    return ResourceUpsert(resource=updated, created=False)


def room_emails_known(session: Session, *, organization_id: uuid.UUID, emails: set[str]) -> bool:
    """Whether one of these mailboxes is an active room of the organization."""
    query = select(Resource.id).where(
        Resource.organization_id == organization_id,
        Resource.email.in_(sorted(email.lower() for email in emails)),
        Resource.active.is_(True),
    )
    return session.scalar(query.limit(1)) is not None


def retire_resource(session: Session, *, resource_id: uuid.UUID) -> Resource:
    """Take a room out of service; its row and bookings stay."""
    return update_resource(session, resource_id=resource_id, active=False)


def _contains(search: str) -> ColumnElement[bool]:
    needle = search.strip().lower()  # emails are stored in lower case
    return or_(
        func.lower(Resource.name).contains(needle, autoescape=True),
        Resource.email.contains(needle, autoescape=True),
    )


def _apply(
    resource: Resource,
    *,
    name: str,
    email: str | None,
    capacity: int | None,
    floor: str | None,
    attributes: dict[str, Any],
    hidden_fields: Sequence[str],
) -> None:
    if capacity is not None and not 0 <= capacity <= MAX_CAPACITY:
        raise InvalidInputError(f"capacity must be between 0 and {MAX_CAPACITY}.", field="capacity")
    resource.name = clean_name(name)
    resource.email = optional_email(email, field="email")
    resource.capacity = capacity
    resource.floor = floor
    resource.attributes = dict(attributes)
    resource.hidden_fields = _checked_hidden_fields(hidden_fields, attributes)


def _checked_hidden_fields(hidden_fields: Sequence[str], attributes: dict[str, Any]) -> list[str]:
    unknown = sorted(set(hidden_fields) - HIDEABLE_FIELDS - set(attributes))
    if unknown:
        raise InvalidInputError(
            f"hidden_fields may name capacity, floor, email or keys of attributes, not {unknown}.",
            field="hidden_fields",
        )
    return sorted(set(hidden_fields))


def _set_active(resource: Resource, active: bool, *, at: datetime) -> None:
    if active:
        resource.retired_at = None
    elif resource.active or resource.retired_at is None:
        resource.retired_at = at
    resource.active = active


def _building_in(session: Session, building_id: uuid.UUID, organization_id: uuid.UUID) -> uuid.UUID:
    building = get_building(session, building_id=building_id)
    if building.organization_id != organization_id:
        raise InvalidInputError(
            "building_id names a building of another organization.", field="building_id"
        )
    return building.id


def _flush(session: Session, resource: Resource) -> None:
    flush_unique(
        session,
        message=f"The organization already has a resource with the email {resource.email}.",
        field="email",
    )
