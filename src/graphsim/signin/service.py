"""The sign-in side of the tenant: who may sign in to which app, the authorization codes
and refresh tokens issued, and the checks both grants repeat.

- Password check on the form: an unknown account is AADSTS50034, a wrong password
  AADSTS50126, a disabled account (room mailboxes' accounts are disabled, as Exchange
  creates them) AADSTS50057 (reference-error-codes.md).
- After the password: a user not assigned to an app that requires assignment is
  AADSTS50105; scopes the tenant has not consented to are AADSTS65001.
- Codes live 10 minutes ("Authorization codes are short lived. Typically, they expire
  after about 10 minutes", v2-oauth2-auth-code-flow.md) and are single-use.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from graphsim.directory.tenant import User
from graphsim.signin.authorize import AuthorizeRequest
from graphsim.signin.errors import LoginError, redirect_error
from graphsim.signin.passwords import same_password
from graphsim.signin.scopes import granted_scopes
from graphsim.signin.tokens import Grant, UserTokens

if TYPE_CHECKING:
    from graphsim.core import Core

CODE_LIFETIME_SECONDS = 600.0
# Codes are remembered this long after they expire, so a late replay is still told
# apart from a made-up code; after that they are forgotten.
CODE_MEMORY_SECONDS = 3600.0


@dataclass
class IssuedCode:
    """An authorization code and what it was issued for."""

    grant: Grant
    redirect_uri: str
    challenge: str | None
    challenge_method: str
    tenant_segment: str
    expires_at: float
    redeemed: bool = False


@dataclass(frozen=True)
class IssuedRefreshToken:
    grant: Grant
    issued_at: float


@dataclass
class SignInState:
    codes: dict[str, IssuedCode] = field(default_factory=dict)
    refresh_tokens: dict[str, IssuedRefreshToken] = field(default_factory=dict)


@dataclass(frozen=True)
class AccessProblem:
    """Why a user may not (any longer) get tokens for an app."""

    error: str
    aadsts: int
    description: str


class SignIn:
    """Interactive sign-in for one tenant; callers hold ``core.lock``."""

    def __init__(self, core: Core) -> None:
        self.core = core
        self.state = SignInState()
        self.tokens = UserTokens(core)

    def authenticate_user(self, email: str, password: str) -> User:
        """The user whose password this is, or a LoginError for the form."""
        user = self.core.tenant.find_user(email.strip()) if email.strip() else None
        if user is None:
            raise LoginError(
                50034,
                "We couldn't find an account with that username. Try another, or check the "
                "email address the organization gave you.",
            )
        if user.is_room or not user.account_enabled:
            raise LoginError(
                50057, "Your account has been locked. Contact your support person to unlock it."
            )
        if not same_password(self.core.tenant.signin.passwords.get(user.id), password):
            raise LoginError(
                50126, "Your account or password is incorrect. Enter the right password."
            )
        return user

    def access_problem(
        self, client_id: str, user: User, scopes: tuple[str, ...]
    ) -> AccessProblem | None:
        """Assignment and consent, checked at sign-in and again on each refresh."""
        app = self.core.tenant.signin.app(client_id)
        if app.assignment_required and user.id not in app.assignments:
            return AccessProblem(
                "access_denied",
                50105,
                f"Your administrator has configured the application '{client_id}' to block "
                "users unless they are specifically granted ('assigned') access to the "
                f"application. The signed in user '{user.user_principal_name}' is blocked "
                "because they are not a direct member of a group with access, nor had access "
                "directly assigned by an administrator.",
            )
        if granted_scopes(scopes, app.consented_scopes) is None:
            return AccessProblem(
                "consent_required",
                65001,
                f"The user or administrator has not consented to use the application with ID "
                f"'{client_id}'. Send an interactive authorization request for this user and "
                "resource.",
            )
        return None

    def complete(self, request: AuthorizeRequest, user: User) -> dict[str, str]:
        """The redirect parameters (``code``, ``state``) for a user who signed in."""
        problem = self.access_problem(request.client_id, user, request.scopes)
        if problem is not None:
            raise redirect_error(problem.error, problem.aadsts, problem.description)
        consented = self.core.tenant.signin.app(request.client_id).consented_scopes
        scopes = granted_scopes(request.scopes, consented) or ()
        self._forget_old_codes()
        code = secrets.token_urlsafe(48)
        self.state.codes[code] = IssuedCode(
            Grant(request.client_id, user.id, scopes, request.nonce),
            request.redirect_uri,
            request.code_challenge,
            request.code_challenge_method,
            request.tenant_segment,
            self.core.clock.now().timestamp() + CODE_LIFETIME_SECONDS,
        )
        params = {"code": code}
        if request.state is not None:
            params["state"] = request.state
        return params

    def _forget_old_codes(self) -> None:
        horizon = self.core.clock.now().timestamp() - CODE_MEMORY_SECONDS
        codes = self.state.codes
        for code in [c for c, issued in codes.items() if issued.expires_at < horizon]:
            del codes[code]

    def new_refresh_token(self, grant: Grant) -> str | None:
        if "offline_access" not in grant.scopes:
            return None
        token = secrets.token_urlsafe(64)
        issued = self.core.clock.now().timestamp()
        self.state.refresh_tokens[token] = IssuedRefreshToken(grant, issued)
        return token
