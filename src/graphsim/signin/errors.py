"""Failures of the authorization endpoint, and where Entra ID reports each.

Before the redirect URI is known to be registered, an error is shown on the sign-in
service's own page (it must not send anything to an unregistered address); after that,
it goes back to the app as ``error`` and ``error_description`` parameters
(v2-oauth2-auth-code-flow.md, "Error response"; codes from reference-error-codes.md).
"""

from __future__ import annotations

from graphsim.errors import GraphsimError


class AuthorizeError(GraphsimError):
    """An ``/authorize`` failure with its OAuth ``error`` and AADSTS code."""

    def __init__(self, error: str, aadsts: int, description: str, *, redirect: bool) -> None:
        super().__init__(f"AADSTS{aadsts}: {description}")
        self.error = error
        self.aadsts = aadsts
        self.description = description
        self.redirect = redirect


def page_error(error: str, aadsts: int, description: str) -> AuthorizeError:
    """Shown on graphsim's page: the redirect URI cannot be trusted (yet)."""
    return AuthorizeError(error, aadsts, description, redirect=False)


def redirect_error(error: str, aadsts: int, description: str) -> AuthorizeError:
    """Sent back to the app's (registered) redirect URI."""
    return AuthorizeError(error, aadsts, description, redirect=True)


class LoginError(GraphsimError):
    """The email or password on the sign-in form was not accepted; the form shows
    ``message`` and the AADSTS code, as Entra ID's page does."""

    def __init__(self, aadsts: int, message: str) -> None:
        super().__init__(f"AADSTS{aadsts}: {message}")
        self.aadsts = aadsts
        self.message = message
