"""A person's sign-in through msal's authorization code flow (with PKCE), for the
organization's own app registration (v2-oauth2-auth-code-flow.md).

msal does the protocol: ``initiate_auth_code_flow`` makes the authorize URL, the PKCE
verifier, ``state`` and ``nonce``; ``acquire_token_by_auth_code_flow`` checks ``state``,
redeems the code with the app's credential and checks the id_token's nonce. The caller
keeps the flow dict server-side and verifies the id_token again itself
(:mod:`roomsync.m365.jwks` supplies the keys). ``response_mode=form_post`` keeps the code
out of the browser's history and the server logs; msal warns without it.

A fresh msal application serves each call: its token cache would otherwise collect every
person's tokens in memory, and roomsync keeps no delegated token after sign-in.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import httpx

from roomsync.m365.clouds import CloudEndpoints
from roomsync.m365.credentials import Credential, msal_application
from roomsync.m365.error_mapping import error_from_transport
from roomsync.m365.exceptions import SignInFailed

T = TypeVar("T")
# openid, profile and offline_access are added by msal (it refuses them in the list).
SIGN_IN_SCOPES = ("email",)


class AuthCodeSignIn:
    """Start and finish one person's sign-in to the app of ``credential``."""

    def __init__(self, credential: Credential, *, http: httpx.Client, cloud: CloudEndpoints):
        self.credential = credential
        self._http = http
        self._cloud = cloud

    def start(self, *, redirect_uri: str, login_hint: str | None = None) -> dict[str, Any]:
        """msal's flow dict; its ``auth_uri`` is where the browser goes, ``state`` its key."""
        flow: dict[str, Any] = self._translated(
            lambda: self._application().initiate_auth_code_flow(
                list(SIGN_IN_SCOPES),
                redirect_uri=redirect_uri,
                response_mode="form_post",
                login_hint=login_hint,
            )
        )
        return flow

    def finish(self, flow: Mapping[str, Any], answer: Mapping[str, str]) -> str:
        """The id_token for what Entra ID posted back to the redirect URI."""
        result: dict[str, Any] = self._translated(
            lambda: self._application().acquire_token_by_auth_code_flow(dict(flow), dict(answer))
        )
        id_token = result.get("id_token")
        if "error" in result or not isinstance(id_token, str):
            raise _refusal(result)
        return id_token

    def _application(self) -> Any:
        return msal_application(self.credential, http=self._http, cloud=self._cloud)

    def _translated(self, call: Callable[[], T]) -> T:
        try:
            return call()
        except httpx.TransportError as exc:
            raise error_from_transport(exc, service="Entra ID", url=self._cloud.login_url) from exc
        except (ValueError, RuntimeError, KeyError) as exc:
            # ValueError: state missing or different; IdTokenError (a RuntimeError): the
            # id_token's nonce, issuer or audience is not the flow's; KeyError: discovery.
            raise SignInFailed(
                "The sign-in answer does not belong to the sign-in that was started (its "
                f"state, nonce or token did not match: {type(exc).__name__}). Sign in again."
            ) from exc


def _refusal(result: Mapping[str, Any]) -> SignInFailed:
    error = str(result.get("error") or "no_id_token")
    description = str(result.get("error_description") or "Entra ID returned no id_token.")
    first_line = description.splitlines()[0] if description else ""
    return SignInFailed(
        f"Microsoft sign-in refused: {error}: {first_line} Sign in again, or ask the "
        "organization's administrator to check the app registration.",
        graph_code=first_line.split(":")[0] if first_line.startswith("AADSTS") else error,
    )
