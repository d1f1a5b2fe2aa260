"""From an integration row to a Graph client for its tenant.

Credentials are decrypted on every call and the token client is looked up by the
integration's id and a fingerprint of the credential itself: a new secret or certificate
is used on the next call without a restart (in every process, since each compares what
it holds with what is stored), an unchanged one keeps its msal application and the token
cache inside it, and two integrations that name the same tenant and application never
share one.
"""

from __future__ import annotations

import json

from roomsync.logs import register_secret
from roomsync.m365.credentials import (
    CertificateCredential,
    ClientSecretCredential,
    Credential,
    TokenProvider,
)
from roomsync.m365.graph import GraphClient
from roomsync.platform.models import Integration
from roomsync.sync.context import SyncContext
from roomsync.sync.exceptions import IntegrationUnavailableError


def credential_of(ctx: SyncContext, integration: Integration) -> Credential:
    """The integration's certificate credential if it has one, else its client secret."""
    if integration.certificate_encrypted:
        stored = json.loads(ctx.secrets.decrypt(integration.certificate_encrypted))
        if stored.get("passphrase"):
            register_secret(stored["passphrase"])
        return CertificateCredential.from_pem_bundle(
            tenant_id=integration.tenant_id,
            client_id=integration.client_id,
            pem=stored["pem"],
            passphrase=stored.get("passphrase"),
        )
    if integration.client_secret_encrypted:
        secret = ctx.secrets.decrypt(integration.client_secret_encrypted)
        register_secret(secret)
        return ClientSecretCredential(
            tenant_id=integration.tenant_id, client_id=integration.client_id, client_secret=secret
        )
    raise IntegrationUnavailableError(
        f"Integration {integration.id} has neither a client secret nor a certificate: save one "
        "with PATCH /api/v1/integrations/{id}."
    )


def seal_certificate(ctx: SyncContext, *, pem: str, passphrase: str | None) -> str:
    """The stored (encrypted) form of a certificate credential."""
    return ctx.secrets.encrypt(json.dumps({"pem": pem, "passphrase": passphrase}))


def tokens_for(ctx: SyncContext, integration: Integration) -> TokenProvider:
    """This integration's own token provider, for the credential it holds now."""
    return ctx.tokens.get(credential_of(ctx, integration), owner=str(integration.id))


def forget_tokens(ctx: SyncContext, integration: Integration) -> None:
    """Drop the integration's token provider (its credential changed, or it was disabled)."""
    ctx.tokens.forget(owner=str(integration.id))


def graph_for(ctx: SyncContext, integration: Integration) -> GraphClient:
    return GraphClient(ctx.http, tokens_for(ctx, integration), ctx.cloud.graph_url, sleep=ctx.sleep)
