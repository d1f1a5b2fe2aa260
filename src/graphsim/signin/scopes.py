"""Delegated scopes of a sign-in (scopes-oidc.md, permissions-consent-overview.md).

``openid``, ``profile``, ``email`` and ``offline_access`` are the OpenID Connect scopes;
every other scope must be a Microsoft Graph delegated permission, bare (``User.Read``) or
prefixed with Graph's resource URI or application id; ``{graph}/.default`` stands for
every Graph permission the app was granted. Other resources are AADSTS70011 here:
graphsim emulates no other API.
"""

from __future__ import annotations

from graphsim.signin.errors import redirect_error

OIDC_SCOPES = frozenset({"openid", "profile", "email", "offline_access"})
GRAPH_PREFIXES = ("https://graph.microsoft.com/", "00000003-0000-0000-c000-000000000000/")
DEFAULT_SCOPE = ".default"


def requested_scopes(scope: str) -> tuple[str, ...]:
    """Scope names with Graph's prefix removed, in request order, without duplicates."""
    names: list[str] = []
    for raw in scope.split():
        name = _graph_name(raw)
        if name not in names:
            names.append(name)
    if not names:
        raise redirect_error(
            "invalid_request",
            900144,
            "The request body must contain the following parameter: 'scope'.",
        )
    return tuple(names)


def _graph_name(raw: str) -> str:
    if raw.lower() in OIDC_SCOPES:
        return raw.lower()
    for prefix in GRAPH_PREFIXES:
        if raw.lower().startswith(prefix):
            return raw[len(prefix) :]
    if "/" in raw or ":" in raw:
        raise redirect_error(
            "invalid_scope",
            70011,
            f"The provided value for the input parameter 'scope' is not valid. The scope "
            f"{raw} is not valid: graphsim serves only Microsoft Graph.",
        )
    return raw


def granted_scopes(requested: tuple[str, ...], consented: set[str]) -> tuple[str, ...] | None:
    """The scopes the tokens carry, or None when consent is missing for one of them."""
    lowered = {c.lower(): c for c in consented}
    granted: list[str] = []
    for name in requested:
        if name == DEFAULT_SCOPE:
            granted.extend(c for c in sorted(consented) if c.lower() not in OIDC_SCOPES)
        elif name.lower() in lowered:
            granted.append(lowered[name.lower()])
        else:
            return None
    return tuple(dict.fromkeys(granted))
