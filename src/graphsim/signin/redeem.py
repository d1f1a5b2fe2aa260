"""``POST /{tenant}/oauth2/v2.0/token`` for users: ``authorization_code`` and
``refresh_token`` grants (v2-oauth2-auth-code-flow.md, "Redeem a code for an access
token" and "Refresh the access token"; codes from reference-error-codes.md).

- The client authenticates as in the client credentials grant (secret, form or HTTP
  Basic, or a certificate ``client_assertion``).
- Code: missing → 400 ``invalid_request`` AADSTS900144; unknown → ``invalid_grant``
  AADSTS9002313; issued to another app → AADSTS70000; already redeemed → AADSTS54005;
  older than 10 minutes → AADSTS70008; acquired on ``common`` but redeemed on the
  tenant's own endpoint, or the other way round → AADSTS700005; ``redirect_uri``
  different from the authorize request's → AADSTS50011; ``code_verifier`` missing or not
  matching the ``code_challenge`` → AADSTS501481.
- Refresh token: unknown → AADSTS9002313, another app's → AADSTS70000, revoked sign-in
  sessions → AADSTS50173, consent or assignment gone → AADSTS65001 / AADSTS50105. Using a
  refresh token does not revoke it; every answer carries a new one.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import TYPE_CHECKING, Any

from graphsim.directory.tenant import AppRegistration, User
from graphsim.errors import TokenEndpointError
from graphsim.signin.authorize import MULTI_TENANT
from graphsim.signin.service import IssuedCode, SignIn
from graphsim.signin.tokens import Grant, Issuance

if TYPE_CHECKING:
    from graphsim.core import Core

USER_GRANTS = frozenset({"authorization_code", "refresh_token"})


def _invalid_grant(aadsts: int, text: str) -> TokenEndpointError:
    return TokenEndpointError(400, "invalid_grant", aadsts, text)


def _required(form: dict[str, str], name: str) -> str:
    value = form.get(name, "")
    if not value:
        raise TokenEndpointError(
            400,
            "invalid_request",
            900144,
            f"The request body must contain the following parameter: '{name}'.",
        )
    return value


class Redeemer:
    """Answers the user grants of the token endpoint; callers hold ``core.lock``."""

    def __init__(self, core: Core, signin: SignIn) -> None:
        self.core, self.signin = core, signin

    def token(self, segment: str, form: dict[str, str], base: str) -> dict[str, Any]:
        self._check_segment(segment)
        app = self.core.identity.client_app(form)
        method = self.core.identity.authenticate_client(app, form, base, segment)
        if form.get("grant_type") == "authorization_code":
            grant = self._redeem_code(segment, app, form)
        else:
            grant = self._redeem_refresh_token(app, form)
        user = self._user(grant)
        issuance = Issuance(
            base, method, self.signin.new_refresh_token(grant), form.get("client_info") == "1"
        )
        return self.signin.tokens.response(app, user, grant, issuance)

    def _check_segment(self, segment: str) -> None:
        if segment.lower() not in MULTI_TENANT and not self.core.tenant.matches(segment):
            raise TokenEndpointError(
                400,
                "invalid_request",
                90002,
                f"Tenant '{segment}' not found. Check to make sure you have the correct tenant "
                "ID and are signing into the correct cloud.",
            )

    def _redeem_code(self, segment: str, app: AppRegistration, form: dict[str, str]) -> Grant:
        code = _required(form, "code")
        issued = self.signin.state.codes.get(code)
        if issued is None:
            raise _invalid_grant(9002313, "Invalid request. Request is malformed or invalid.")
        self._check_code(issued, segment, app, form)
        issued.redeemed = True
        return issued.grant

    def _check_code(
        self, issued: IssuedCode, segment: str, app: AppRegistration, form: dict[str, str]
    ) -> None:
        if issued.grant.client_id != app.client_id:
            raise _invalid_grant(
                70000, "The provided authorization code was issued to a different application."
            )
        if issued.redeemed:
            raise _invalid_grant(
                54005,
                "OAuth2 Authorization code was already redeemed, please retry with a new valid "
                "code or use an existing refresh token.",
            )
        if issued.expires_at <= self.core.clock.now().timestamp():
            raise _invalid_grant(
                70008,
                "The provided authorization code or refresh token has expired due to "
                "inactivity. Send a new interactive authorization request for this user and "
                "resource.",
            )
        self._check_code_tenant(issued, segment)
        if form.get("redirect_uri", "") != issued.redirect_uri:
            raise _invalid_grant(
                50011,
                f"The redirect URI '{form.get('redirect_uri', '')}' does not match the "
                "redirect URI the authorization code was requested with.",
            )
        _check_verifier(issued, form.get("code_verifier"))

    def _check_code_tenant(self, issued: IssuedCode, segment: str) -> None:
        acquired_multi = issued.tenant_segment.lower() in MULTI_TENANT
        if acquired_multi != (segment.lower() in MULTI_TENANT):
            raise _invalid_grant(
                700005,
                "Provided Authorization Code is intended to use against other tenant, thus "
                "rejected.",
            )

    def _redeem_refresh_token(self, app: AppRegistration, form: dict[str, str]) -> Grant:
        issued = self.signin.state.refresh_tokens.get(_required(form, "refresh_token"))
        if issued is None:
            raise _invalid_grant(9002313, "Invalid request. Request is malformed or invalid.")
        grant = issued.grant
        if grant.client_id != app.client_id:
            raise _invalid_grant(70000, "The refresh token was issued to a different application.")
        revoked = self.core.tenant.signin.revoked_before.get(grant.user_id)
        if revoked is not None and issued.issued_at <= revoked:
            raise _invalid_grant(
                50173,
                "The provided grant has expired due to it being revoked, a fresh auth token is "
                "needed. The user might have changed or reset their password.",
            )
        problem = self.signin.access_problem(app.client_id, self._user(grant), grant.scopes)
        if problem is not None:
            raise _invalid_grant(problem.aadsts, problem.description)
        # A refreshed id_token carries no nonce: there is no authorize request to echo.
        return Grant(grant.client_id, grant.user_id, grant.scopes)

    def _user(self, grant: Grant) -> User:
        user = self.core.tenant.find_user(grant.user_id)
        if user is None or not user.account_enabled:
            raise _invalid_grant(
                50057, "The user account is disabled or was deleted from the directory."
            )
        return user


def _check_verifier(issued: IssuedCode, verifier: str | None) -> None:
    if issued.challenge is None:
        return
    if issued.challenge_method == "S256" and verifier is not None:
        digest = hashlib.sha256(verifier.encode("ascii", "replace")).digest()
        computed: str | None = base64.urlsafe_b64encode(digest).decode().rstrip("=")
    else:
        computed = verifier
    if computed is None or not hmac.compare_digest(computed.encode(), issued.challenge.encode()):
        raise _invalid_grant(
            501481,
            "The Code_Verifier does not match the code_challenge supplied in the "
            "authorization request.",
        )
