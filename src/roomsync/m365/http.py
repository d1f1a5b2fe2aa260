"""The one HTTP client roomsync uses for Entra ID and Microsoft Graph.

Built once at start-up and shared: msal gets it as its ``http_client`` (through the thin
:class:`~roomsync.m365.credentials.MsalHttpClient`, which only fixes how msal's bytes form
values are encoded), the Graph client and the ``$batch`` fan-out threads share its
connection pool. Its transport is the seam: tests
and ``roomsync demo`` pass graphsim's (or an ``httpx.MockTransport``) instead of the
network.
"""

from __future__ import annotations

import ssl
from pathlib import Path

import httpx

from roomsync import __version__
from roomsync.errors import ConfigurationError
from roomsync.m365.fanout import BATCHES_IN_FLIGHT

# Microsoft asks ISVs to decorate Graph traffic with a recognisable User-Agent
# (concepts/throttling.md, "best practices").
USER_AGENT = f"NONISV|roomsync|roomsync/{__version__}"
MAX_CONNECTIONS = 2 * BATCHES_IN_FLIGHT
"""Every batch a round has in flight holds a connection for its whole round trip, so the
pool holds a round's worth twice over: a second integration's round, a push or a
prefetch lookup running beside it never waits for a connection (a wait past the timeout
would fail the call)."""


def build_http_client(
    *,
    ca_bundle: Path | None = None,
    timeout: float = 30.0,
    transport: httpx.BaseTransport | None = None,
    max_connections: int = MAX_CONNECTIONS,
) -> httpx.Client:
    """The shared client; ``ca_bundle`` adds a private CA (graphsim's) to the public ones."""
    return httpx.Client(
        verify=_ssl_context(ca_bundle),
        timeout=httpx.Timeout(timeout),
        limits=httpx.Limits(
            max_connections=max_connections, max_keepalive_connections=max_connections
        ),
        transport=transport,
        headers={"User-Agent": USER_AGENT},
    )


def _ssl_context(ca_bundle: Path | None) -> ssl.SSLContext | bool:
    if ca_bundle is None:
        return True
    context = httpx.create_ssl_context()
    try:
        context.load_verify_locations(cafile=str(ca_bundle))
    except (OSError, ValueError) as exc:
        raise ConfigurationError(
            f"ROOMSYNC_CA_BUNDLE {ca_bundle} could not be loaded ({exc}): point it at a "
            "readable PEM file of CA certificates."
        ) from exc
    return context
