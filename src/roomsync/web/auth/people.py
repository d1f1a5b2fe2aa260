"""The signed-in person in ``users``: found by their Entra ID object id (``oid``), else by
address, and brought up to date with the name and address the id_token carries. Bookings
already organized under that address point at this row (``users.link_organizers``)."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from roomsync.platform.models import Booking, User
from roomsync.platform.services.users import create_user, link_organizers
from roomsync.platform.services.validation import normalize_email
from roomsync.web.auth.id_token import Identity


def upsert_person(session: Session, *, organization_id: uuid.UUID, identity: Identity) -> User:
    user = _by_object_id(session, organization_id, identity.object_id) or _by_email(
        session, organization_id, identity.email
    )
    if user is None:
        user = create_user(
            session, organization_id=organization_id, email=identity.email, name=identity.name
        )
    user.email = normalize_email(identity.email, field="email")
    user.name = identity.name
    user.directory_id = identity.object_id
    user.external = False
    session.flush()
    _link_bookings(session, organization_id, user.email)
    return user


def _by_object_id(session: Session, organization_id: uuid.UUID, oid: str) -> User | None:
    return session.scalars(
        select(User).where(User.organization_id == organization_id, User.directory_id == oid)
    ).first()


def _by_email(session: Session, organization_id: uuid.UUID, email: str) -> User | None:
    return session.scalars(
        select(User).where(User.organization_id == organization_id, User.email == email)
    ).first()


def _link_bookings(session: Session, organization_id: uuid.UUID, email: str) -> None:
    unlinked = select(Booking.id).where(
        Booking.organization_id == organization_id,
        Booking.organizer_email == email,
        Booking.organizer_user_id.is_(None),
    )
    link_organizers(session, list(session.scalars(unlinked)))
