"""The signing keys of a tenant's id_tokens, from ``{login}/{tenant}/discovery/v2.0/keys``
(the ``jwks_uri`` of the tenant's OpenID configuration).

Keys are cached per tenant and fetched again when a token names a ``kid`` the cache
lacks: Entra ID rolls its keys without notice, and a token signed with a new key must
still verify. A refetch happens at most once per ``min_refresh_seconds`` per tenant, so a
stream of forged ``kid`` values cannot make roomsync hammer the endpoint.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import httpx
import jwt

from roomsync.m365.clouds import CloudEndpoints
from roomsync.m365.error_mapping import error_from_transport
from roomsync.m365.exceptions import InvalidResponse, SignInFailed


class SigningKeys:
    """A cache of each tenant's id_token signing keys, keyed by ``kid``."""

    def __init__(
        self,
        *,
        http: httpx.Client,
        cloud: CloudEndpoints,
        min_refresh_seconds: float = 60.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._http = http
        self._cloud = cloud
        self._min_refresh = min_refresh_seconds
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._keys: dict[str, dict[str, jwt.PyJWK]] = {}
        self._fetched_at: dict[str, float] = {}

    def key(self, tenant_id: str, kid: str) -> jwt.PyJWK:
        """The tenant's key ``kid``; refetched once when unknown, else SignInFailed."""
        with self._lock:
            found = self._keys.get(tenant_id, {}).get(kid)
            if found is None and self._may_refresh(tenant_id):
                self._keys[tenant_id] = self._fetch(tenant_id)
                self._fetched_at[tenant_id] = self._monotonic()
                found = self._keys[tenant_id].get(kid)
        if found is None:
            raise SignInFailed(
                f"The id_token is signed with a key (kid {kid!r}) that tenant {tenant_id} "
                "does not publish: it was not issued by Microsoft for this tenant."
            )
        return found

    def _may_refresh(self, tenant_id: str) -> bool:
        fetched = self._fetched_at.get(tenant_id)
        return fetched is None or self._monotonic() - fetched >= self._min_refresh

    def _fetch(self, tenant_id: str) -> dict[str, jwt.PyJWK]:
        url = f"{self._cloud.authority(tenant_id)}/discovery/v2.0/keys"
        try:
            response = self._http.get(url)
            response.raise_for_status()
            keys = jwt.PyJWKSet.from_dict(response.json()).keys
        except httpx.TransportError as exc:
            raise error_from_transport(exc, service="Entra ID", url=url) from exc
        except (httpx.HTTPStatusError, ValueError, jwt.PyJWKSetError) as exc:
            raise InvalidResponse(
                f"roomsync could not read the signing keys of tenant {tenant_id} at {url}: "
                "check the tenant id on the integration and ROOMSYNC_LOGIN_URL."
            ) from exc
        return {key.key_id: key for key in keys if key.key_id}
