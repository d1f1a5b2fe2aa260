"""Users: the people who book, known by their email within one organization."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from roomsync.platform.models import Booking, User
from roomsync.platform.services.changes import UNCHANGED, Maybe, given
from roomsync.platform.services.lookup import (
    DEFAULT_PAGE_SIZE,
    Page,
    flush_unique,
    get_or_raise,
    paginate,
)
from roomsync.platform.services.organizations import get_organization
from roomsync.platform.services.validation import clean_name, normalize_email

_LINK_CHUNK = 500


def create_user(
    session: Session, *, organization_id: uuid.UUID, email: str, name: str, external: bool = False
) -> User:
    get_organization(session, organization_id=organization_id)
    user = User(
        organization_id=organization_id,
        email=normalize_email(email, field="email"),
        name=clean_name(name),
        external=external,
    )
    session.add(user)
    _flush(session, user)
    return user


def get_user(session: Session, *, user_id: uuid.UUID) -> User:
    return get_or_raise(session, User, user_id, noun="user")


def list_users(
    session: Session,
    *,
    organization_id: uuid.UUID | None = None,
    limit: int = DEFAULT_PAGE_SIZE,
    cursor: str | None = None,
) -> Page[User]:
    where = [] if organization_id is None else [User.organization_id == organization_id]
    return paginate(session, User, where=where, limit=limit, cursor=cursor)


def update_user(
    session: Session,
    *,
    user_id: uuid.UUID,
    email: Maybe[str] = UNCHANGED,
    name: Maybe[str] = UNCHANGED,
    external: Maybe[bool] = UNCHANGED,
) -> User:
    user = get_user(session, user_id=user_id)
    user.email = normalize_email(given(email, user.email), field="email")
    user.name = clean_name(given(name, user.name))
    user.external = given(external, user.external)
    _flush(session, user)
    return user


def upsert_user_by_email(
    session: Session, *, organization_id: uuid.UUID, email: str, name: str, external: bool
) -> User:
    """The organization's user with ``email``, created or brought up to date."""
    address = normalize_email(email, field="email")
    user = session.scalars(
        select(User).where(User.organization_id == organization_id, User.email == address)
    ).first()
    if user is None:
        return create_user(
            session, organization_id=organization_id, email=address, name=name, external=external
        )
    return update_user(session, user_id=user.id, name=name, external=external)


def organizer_user(session: Session, *, organization_id: uuid.UUID, email: str) -> User:
    """The organization's user with this address, created if missing (named by the address
    until the user sync reads the person's name from the directory)."""
    address = normalize_email(email, field="organizer_email")
    user = session.scalars(
        select(User).where(User.organization_id == organization_id, User.email == address)
    ).first()
    if user is not None:
        return user
    return create_user(session, organization_id=organization_id, email=address, name=address)


def link_organizers(session: Session, booking_ids: Sequence[uuid.UUID]) -> None:
    """Point these bookings at the user whose address is their ``organizer_email`` (rows
    written in bulk, without the ORM, are linked after the fact). ``updated_at`` is kept:
    the booking did not change, and later-change-wins compares it."""
    organizer = select(User.id).where(
        User.organization_id == Booking.organization_id, User.email == Booking.organizer_email
    )
    for start in range(0, len(booking_ids), _LINK_CHUNK):
        chunk = booking_ids[start : start + _LINK_CHUNK]
        session.execute(
            update(Booking)
            .where(Booking.id.in_(chunk), Booking.organizer_user_id.is_(None), organizer.exists())
            .values(organizer_user_id=organizer.scalar_subquery(), updated_at=Booking.updated_at)
            .execution_options(synchronize_session=False)
        )


def _flush(session: Session, user: User) -> None:
    flush_unique(
        session, message=f"The organization already has a user {user.email}.", field="email"
    )
