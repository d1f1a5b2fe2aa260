"""What the directory keeps for interactive sign-in: user passwords, and per app
registration its Web redirect URIs, app roles, user assignments and consent.

- App roles (howto-add-app-roles-in-apps.md): each has a ``value`` (the ``roles`` claim),
  an ``id``, a display name, allowed member types (``User`` for people) and an enabled
  flag; a user's assigned roles appear in the ``roles`` claim of the tokens issued to
  the app for them.
- Assignment (reference-error-codes.md, AADSTS50105): when the enterprise app requires
  assignment, only users assigned to it (to a role, or with default access) sign in.
- Consent (permissions-consent-overview.md, AADSTS65001): the delegated scopes the
  tenant has consented to for the app; a sign-in asking for others is refused.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# The app role the demo gives one person, which roomsync maps to an organization admin.
ADMIN_ROLE = "Roomsync.Admin"
# Default access: an assignment to the app without a specific role (all zeros, as Entra
# shows it for apps without roles).
DEFAULT_ACCESS_ROLE = "00000000-0000-0000-0000-000000000000"
# The OpenID Connect scopes plus User.Read: what a user consents to when signing in to a
# web app, so every app registration starts with them granted.
DEFAULT_CONSENT = frozenset({"openid", "profile", "email", "offline_access", "User.Read"})


@dataclass
class AppRole:
    """An app role declared on an app registration."""

    id: str
    value: str
    display_name: str
    allowed_member_types: list[str] = field(default_factory=lambda: ["User"])
    is_enabled: bool = True


@dataclass
class AppSignIn:
    """Sign-in settings of one app registration and its enterprise app in this tenant."""

    redirect_uris: list[str] = field(default_factory=list)
    app_roles: list[AppRole] = field(default_factory=list)
    assignment_required: bool = False
    # user object id -> ids of the app roles assigned to that user
    assignments: dict[str, set[str]] = field(default_factory=dict)
    consented_scopes: set[str] = field(default_factory=lambda: set(DEFAULT_CONSENT))

    def role_values(self, user_id: str) -> list[str]:
        """The ``roles`` claim for a user: values of the roles assigned to them."""
        assigned = self.assignments.get(user_id, set())
        return sorted(r.value for r in self.app_roles if r.id in assigned)

    def role(self, value: str) -> AppRole | None:
        return next((r for r in self.app_roles if r.value == value), None)


@dataclass
class TenantSignIn:
    """Passwords (by user object id) and per-app sign-in settings (by client id)."""

    passwords: dict[str, str] = field(default_factory=dict, repr=False)
    apps: dict[str, AppSignIn] = field(default_factory=dict)
    # user object id -> epoch seconds before which their refresh tokens stop working
    revoked_before: dict[str, float] = field(default_factory=dict)

    def assign_everywhere(self, user_id: str, value: str) -> None:
        """Assign the user the role ``value`` on every app that declares it."""
        for app in self.apps.values():
            role = app.role(value)
            if role is not None:
                app.assignments.setdefault(user_id, set()).add(role.id)

    def app(self, client_id: str) -> AppSignIn:
        """The settings of an app, created empty on first use."""
        return self.apps.setdefault(client_id.lower(), AppSignIn())
