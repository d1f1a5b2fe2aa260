"""Simulator controls for sign-in: ``sim.signin`` in Python, ``/_sim/signin/…`` over HTTP.

    POST /_sim/signin/redirect-uris        {"add": [uri, …]} or {"set": [uri, …]}
    POST /_sim/signin/assignment-required  {"required": true|false}
    POST /_sim/signin/assignments          {"email", "role"?, "remove"?}
    POST /_sim/signin/consent              {"granted": true|false, "scopes"?: [...]}
    POST /_sim/signin/sessions/revoke      {"email"}

Each body may name ``client_id``; the default is the simulator's own app.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.routing import BaseRoute, Route

from graphsim.control.surface import _guarded, _json
from graphsim.directory.tenant import User
from graphsim.errors import NotFoundError
from graphsim.signin.model import (
    ADMIN_ROLE,
    DEFAULT_ACCESS_ROLE,
    DEFAULT_CONSENT,
    AppRole,
    AppSignIn,
)

if TYPE_CHECKING:
    from graphsim.simulator import Simulator

# Loopback redirect URIs match on any port (reply-url.md), so these fit roomsync on any
# local port.
DEFAULT_REDIRECT_URIS = ("http://localhost/auth/callback", "http://127.0.0.1/auth/callback")


class SignInControls:
    """Set up and change who may sign in to the tenant's apps."""

    def __init__(self, sim: Simulator) -> None:
        self.sim = sim

    def app(self, client_id: str | None) -> AppSignIn:
        registration = self.sim.app_registration(client_id)
        return self.sim.tenant.signin.app(registration.client_id)

    def _user(self, email: str) -> User:
        user = self.sim.tenant.find_user(email)
        if user is None or user.is_room:
            raise NotFoundError(f"{email} is not a user of this tenant.")
        return user

    def prepare_default_app(self) -> None:
        """The simulator's own app: the ``Roomsync.Admin`` role and loopback redirect URIs."""
        self.define_app_role(ADMIN_ROLE, "Roomsync administrator")
        for uri in DEFAULT_REDIRECT_URIS:
            self.add_redirect_uri(uri)

    def password(self, email: str) -> str:
        with self.sim.core.lock:
            found = self.sim.tenant.signin.passwords.get(self._user(email).id)
        if found is None:
            raise NotFoundError(f"{email} has no password: set one with set_password.")
        return found

    def set_password(self, email: str, password: str) -> None:
        with self.sim.core.lock:
            self.sim.tenant.signin.passwords[self._user(email).id] = password

    def define_app_role(
        self, value: str, display_name: str | None = None, client_id: str | None = None
    ) -> AppRole:
        """Declare an app role users can be assigned (its id is derived from the value)."""
        with self.sim.core.lock:
            app = self.app(client_id)
            existing = app.role(value)
            if existing is not None:
                return existing
            key = f"{self.sim.app_registration(client_id).client_id}/{value}"
            role = AppRole(str(uuid.uuid5(uuid.NAMESPACE_URL, key)), value, display_name or value)
            app.app_roles.append(role)
            return role

    def assign(self, email: str, role: str | None = None, client_id: str | None = None) -> None:
        """Assign a user to the app, with the app role ``role`` (a value) or default access."""
        with self.sim.core.lock:
            app, user = self.app(client_id), self._user(email)
            found = app.role(role) if role is not None else None
            if role is not None and found is None:
                raise NotFoundError(f"The app has no app role {role!r}: define it first.")
            app.assignments.setdefault(user.id, set()).add(
                found.id if found else DEFAULT_ACCESS_ROLE
            )

    def unassign(self, email: str, client_id: str | None = None) -> None:
        with self.sim.core.lock:
            self.app(client_id).assignments.pop(self._user(email).id, None)

    def require_assignment(self, required: bool = True, client_id: str | None = None) -> None:
        """Enterprise app "Assignment required?": only assigned users sign in (AADSTS50105)."""
        with self.sim.core.lock:
            self.app(client_id).assignment_required = required

    def add_redirect_uri(self, uri: str, client_id: str | None = None) -> None:
        with self.sim.core.lock:
            uris = self.app(client_id).redirect_uris
            if uri not in uris:
                uris.append(uri)

    def set_redirect_uris(self, uris: list[str], client_id: str | None = None) -> None:
        with self.sim.core.lock:
            self.app(client_id).redirect_uris = list(uris)

    def revoke_consent(self, client_id: str | None = None) -> None:
        """No delegated scope is consented any more (AADSTS65001 at sign-in and refresh)."""
        with self.sim.core.lock:
            self.app(client_id).consented_scopes = set()

    def grant_consent(self, scopes: list[str] | None = None, client_id: str | None = None) -> None:
        with self.sim.core.lock:
            self.app(client_id).consented_scopes |= set(scopes or DEFAULT_CONSENT)

    def revoke_sign_in_sessions(self, email: str) -> None:
        """revokeSignInSessions: the user's refresh tokens so far stop working (AADSTS50173)."""
        with self.sim.core.lock:
            now = self.sim.core.clock.now().timestamp()
            self.sim.tenant.signin.revoked_before[self._user(email).id] = now

    def config_users(self) -> list[dict[str, Any]]:
        """The people of the tenant for ``--config-out``: email, name, password, and
        ``admin`` when they hold ``Roomsync.Admin`` on the simulator's app."""
        app, tenant = self.app(None), self.sim.tenant
        return [
            {
                "email": u.mail,
                "name": u.display_name,
                "password": tenant.signin.passwords.get(u.id),
                "admin": ADMIN_ROLE in app.role_values(u.id),
            }
            for u in tenant.users.values()
            if not u.is_room and u.has_mailbox
        ]

    def routes(self) -> list[BaseRoute]:
        async def redirect_uris(request: Request) -> Any:
            body = await _json(request)
            if "set" in body:
                self.set_redirect_uris(list(body["set"]), body.get("client_id"))
            for uri in body.get("add", []):
                self.add_redirect_uri(str(uri), body.get("client_id"))

        async def assignment_required(request: Request) -> Any:
            body = await _json(request)
            self.require_assignment(bool(body.get("required", True)), body.get("client_id"))

        async def assignments(request: Request) -> Any:
            body = await _json(request)
            if body.get("remove"):
                self.unassign(str(body["email"]), body.get("client_id"))
            else:
                self.assign(str(body["email"]), body.get("role"), body.get("client_id"))

        async def consent(request: Request) -> Any:
            body = await _json(request)
            if body.get("granted", True):
                self.grant_consent(body.get("scopes"), body.get("client_id"))
            else:
                self.revoke_consent(body.get("client_id"))

        async def revoke(request: Request) -> Any:
            self.revoke_sign_in_sessions(str((await _json(request))["email"]))

        base = "/_sim/signin"
        return [
            Route(f"{base}/redirect-uris", _guarded(redirect_uris), methods=["POST"]),
            Route(f"{base}/assignment-required", _guarded(assignment_required), methods=["POST"]),
            Route(f"{base}/assignments", _guarded(assignments), methods=["POST"]),
            Route(f"{base}/consent", _guarded(consent), methods=["POST"]),
            Route(f"{base}/sessions/revoke", _guarded(revoke), methods=["POST"]),
        ]
