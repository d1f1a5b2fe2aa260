"""What an admin hands a daemon for the emulated tenant: ids and a client secret, or a
certificate credential in the shape msal takes."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class AppCredentials:
    """What an admin hands a daemon: ids and one client secret."""

    tenant_id: str
    client_id: str
    client_secret: str


@dataclass(frozen=True)
class CertificateCredential:
    """A certificate credential for msal: ``{"private_key": …, "thumbprint": …}``."""

    private_key_pem: str
    certificate_pem: str
    thumbprint: str

    def msal_credential(self) -> dict[str, str]:
        return {"private_key": self.private_key_pem, "thumbprint": self.thumbprint}
