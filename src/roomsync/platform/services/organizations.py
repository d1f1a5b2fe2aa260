"""Organizations: the unit of data isolation (a token never crosses one)."""

from __future__ import annotations

import uuid

from sqlalchemy.orm import Session

from roomsync.platform.models import Organization
from roomsync.platform.services.changes import UNCHANGED, Maybe, given
from roomsync.platform.services.lookup import DEFAULT_PAGE_SIZE, Page, get_or_raise, paginate
from roomsync.platform.services.validation import clean_name, normalize_email


def create_organization(session: Session, *, name: str) -> Organization:
    organization = Organization(name=clean_name(name))
    session.add(organization)
    session.flush()
    return organization


def get_organization(session: Session, *, organization_id: uuid.UUID) -> Organization:
    return get_or_raise(session, Organization, organization_id, noun="organization")


def list_organizations(
    session: Session,
    *,
    only_id: uuid.UUID | None = None,
    limit: int = DEFAULT_PAGE_SIZE,
    cursor: str | None = None,
) -> Page[Organization]:
    """All organizations, or just ``only_id`` (what an organization's own token may see)."""
    where = [] if only_id is None else [Organization.id == only_id]
    return paginate(session, Organization, where=where, limit=limit, cursor=cursor)


def update_organization(
    session: Session,
    *,
    organization_id: uuid.UUID,
    name: Maybe[str] = UNCHANGED,
    admin_emails: Maybe[list[str]] = UNCHANGED,
) -> Organization:
    organization = get_organization(session, organization_id=organization_id)
    organization.name = clean_name(given(name, organization.name))
    emails = given(admin_emails, organization.admin_emails)
    organization.admin_emails = sorted(
        {normalize_email(email, field="admin_emails") for email in emails}
    )
    session.flush()
    return organization


def is_listed_admin(organization: Organization, email: str) -> bool:
    """Whether ``email`` is on the organization's ``admin_emails`` list."""
    return email.strip().lower() in organization.admin_emails
