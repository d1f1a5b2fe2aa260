"""Who may use the occupant pages: a person signed in with Microsoft, occupant or admin,
acting for themselves. Not signed in: sign in and come back. The super-admin (the
pasted admin token) belongs to no organization and acts for no person, so these pages
send them to the admin console instead."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from fastapi import Request

from roomsync.platform.api.auth import Principal
from roomsync.platform.enums import Role
from roomsync.web.pages.guard import PageError, PageUser, SignInNeededError, page_user

LOGIN_PATH = "/auth/login"
NAV = [("Find a room", "/"), ("My bookings", "/my")]


@dataclass(frozen=True)
class Occupant:
    """The viewer of an occupant page, as the page and the services see them."""

    user: PageUser
    organization_id: uuid.UUID
    email: str

    @property
    def principal(self) -> Principal:
        """The same principal the REST API builds for this person's session."""
        return Principal(
            role=self.user.role, organization_id=self.organization_id, email=self.email
        )


def occupant(request: Request) -> Occupant:
    user = page_user(request)
    if user is None:
        path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise SignInNeededError(LOGIN_PATH, path)
    if user.organization_id is None or user.email is None:
        raise PageError(
            "You are signed in with the admin token, which books for no one: sign in with "
            "Microsoft as a person of the organization to find and book rooms."
        )
    if user.role not in (Role.OCCUPANT, Role.ADMIN):
        raise PageError(
            f"This page is for people who book rooms; you are signed in as {user.role.value}."
        )
    return Occupant(user, user.organization_id, user.email.lower())
