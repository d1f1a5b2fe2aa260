"""msal behind TokenProvider, against an Entra ID token endpoint on a MockTransport."""

from __future__ import annotations

import base64
import logging

import httpx
import jwt
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes

from roomsync.m365.clouds import CloudEndpoints
from roomsync.m365.credentials import (
    CertificateCredential,
    ClientSecretCredential,
    TokenProvider,
    TokenProviders,
)
from roomsync.m365.exceptions import (
    ApplicationNotFound,
    AuthenticationFailed,
    ClientSecretExpired,
    GraphConnectionError,
    GraphError,
    InvalidCertificate,
    InvalidClientSecret,
    ServiceUnavailable,
    TenantNotFound,
    Throttled,
)
from tests.m365.m365_fakes import (
    CLIENT_ID,
    EMULATOR_LOGIN_URL,
    TENANT_ID,
    EntraStub,
    entra_error,
    self_signed_certificate,
)

SECRET = "Xq8~s3cr3t.value-that-must-never-leak"
CLOUD = CloudEndpoints(login_url=EMULATOR_LOGIN_URL, graph_url="https://graph.graphsim.test")


def _provider(entra: EntraStub, credential: ClientSecretCredential | CertificateCredential):
    http = httpx.Client(transport=httpx.MockTransport(entra))
    return TokenProvider(credential, http=http, cloud=CLOUD)


def _secret_credential(secret: str = SECRET) -> ClientSecretCredential:
    return ClientSecretCredential(tenant_id=TENANT_ID, client_id=CLIENT_ID, client_secret=secret)


def test_secret_credential_sends_the_client_credentials_grant(entra: EntraStub) -> None:
    token = _provider(entra, _secret_credential()).token()

    assert token == "eyJ0.access-1"
    (form,) = entra.token_requests
    assert form["grant_type"] == "client_credentials"
    assert form["client_id"] == CLIENT_ID
    assert form["client_secret"] == SECRET
    assert form["scope"] == "https://graph.graphsim.test/.default"


def test_token_is_cached_inside_the_long_lived_application(entra: EntraStub) -> None:
    provider = _provider(entra, _secret_credential())

    first, second = provider.token(), provider.token()

    assert first == second
    assert len(entra.token_requests) == 1


def test_force_refresh_asks_entra_for_a_new_token(entra: EntraStub) -> None:
    provider = _provider(entra, _secret_credential())
    provider.token()

    refreshed = provider.token(force_refresh=True)

    assert refreshed == "eyJ0.access-2"
    assert len(entra.token_requests) == 2


def test_instance_discovery_is_off_for_a_host_microsoft_does_not_know(entra: EntraStub) -> None:
    _provider(entra, _secret_credential()).token()

    assert entra.other_hosts == []


def test_certificate_credential_signs_an_assertion_with_the_certificate_thumbprint(
    entra: EntraStub,
) -> None:
    key_pem, cert_pem = self_signed_certificate()
    credential = CertificateCredential(
        tenant_id=TENANT_ID, client_id=CLIENT_ID, private_key_pem=key_pem, certificate_pem=cert_pem
    )

    _provider(entra, credential).token()

    (form,) = entra.token_requests
    assert "client_secret" not in form
    assert form["client_assertion_type"] == "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
    assertion = form["client_assertion"]
    header = jwt.get_unverified_header(assertion)
    certificate = x509.load_pem_x509_certificate(cert_pem.encode())
    expected_x5t = base64.urlsafe_b64encode(certificate.fingerprint(hashes.SHA256())).rstrip(b"=")
    assert header["typ"] == "JWT"
    # msal pads its base64url thumbprint with "=" (JOSE would not); Entra accepts both.
    assert header["x5t#S256"].rstrip("=") == expected_x5t.decode()
    claims = jwt.decode(
        assertion,
        certificate.public_key(),  # type: ignore[arg-type]
        algorithms=[header["alg"]],
        audience=f"{EMULATOR_LOGIN_URL}/{TENANT_ID}/oauth2/v2.0/token",
    )
    assert claims["iss"] == claims["sub"] == CLIENT_ID


def test_certificate_credential_computes_thumbprints_as_azure_portal_shows_them() -> None:
    key_pem, cert_pem = self_signed_certificate()
    certificate = x509.load_pem_x509_certificate(cert_pem.encode())

    credential = CertificateCredential.from_pem_bundle(
        tenant_id=TENANT_ID, client_id=CLIENT_ID, pem=key_pem + cert_pem
    )

    assert credential.sha1_thumbprint == certificate.fingerprint(hashes.SHA1()).hex().upper()
    assert credential.sha256_thumbprint == certificate.fingerprint(hashes.SHA256()).hex().upper()
    assert credential.not_valid_after == certificate.not_valid_after_utc
    assert "PRIVATE KEY" not in repr(credential)


def test_a_private_key_of_another_certificate_is_refused() -> None:
    key_pem, _ = self_signed_certificate()
    _, other_cert_pem = self_signed_certificate()

    with pytest.raises(InvalidCertificate, match="does not belong to its certificate"):
        CertificateCredential(
            tenant_id=TENANT_ID,
            client_id=CLIENT_ID,
            private_key_pem=key_pem,
            certificate_pem=other_cert_pem,
        )


def test_garbage_instead_of_a_certificate_is_refused() -> None:
    key_pem, _ = self_signed_certificate()

    with pytest.raises(InvalidCertificate, match="not a PEM certificate"):
        CertificateCredential(
            tenant_id=TENANT_ID, client_id=CLIENT_ID, private_key_pem=key_pem, certificate_pem="x"
        )


@pytest.mark.parametrize(
    ("response", "expected", "advice"),
    [
        (entra_error(401, "invalid_client", 7000215, "Invalid client secret provided."),
         InvalidClientSecret, "not its Secret ID"),
        (entra_error(401, "invalid_client", 7000222, "The provided client secret keys are "
                     "expired."), ClientSecretExpired, "Certificates & secrets"),
        (entra_error(400, "unauthorized_client", 700016, "Application with identifier was not "
                     "found in the directory."), ApplicationNotFound, "Application (client) ID"),
        (entra_error(401, "invalid_client", 700027, "Client assertion failed signature "
                     "validation."), InvalidCertificate, "certificate"),
        (entra_error(400, "invalid_request", 90055, "TenantThrottlingError"), Throttled,
         "throttling"),
        (entra_error(400, "invalid_request", 900144, "The request body must contain the "
                     "following parameter: 'grant_type'."), AuthenticationFailed,
         "must contain the following parameter"),
    ],
)  # fmt: skip
def test_entra_token_errors_become_operator_sentences(
    entra: EntraStub, response: httpx.Response, expected: type[GraphError], advice: str
) -> None:
    entra.token_answer = lambda form: response

    with pytest.raises(expected) as caught:
        _provider(entra, _secret_credential()).token()

    message = caught.value.message
    assert advice in message
    assert TENANT_ID in message
    assert CLIENT_ID in message
    assert "cdd450da-0001" in message
    assert caught.value.request_id == "cdd450da-0001"


def test_expired_secret_message_reads_as_the_operator_needs_it(entra: EntraStub) -> None:
    entra.token_answer = lambda form: entra_error(401, "invalid_client", 7000222, "expired")

    with pytest.raises(ClientSecretExpired) as caught:
        _provider(entra, _secret_credential()).token()

    assert caught.value.message.startswith(
        f"The client secret for application {CLIENT_ID} in tenant {TENANT_ID} expired "
        "(AADSTS7000222, correlation id cdd450da-0001): create a new one in Azure portal → "
        f"App registrations → {CLIENT_ID} → Certificates & secrets, then save it on the "
        "integration."
    )


def test_unknown_tenant_found_during_discovery_is_tenant_not_found(entra: EntraStub) -> None:
    entra.discovery_answer = lambda tenant: entra_error(
        400, "invalid_tenant", 90002, f"Tenant '{tenant}' not found."
    )

    with pytest.raises(TenantNotFound, match="Tenant ID"):
        _provider(entra, _secret_credential()).token()


def test_an_openid_configuration_without_endpoints_is_explained(entra: EntraStub) -> None:
    entra.discovery_answer = lambda tenant: httpx.Response(200, json={"issuer": "x"})

    with pytest.raises(AuthenticationFailed, match="sign-in configuration of tenant"):
        _provider(entra, _secret_credential()).token()


def test_entra_server_error_is_service_unavailable(entra: EntraStub) -> None:
    entra.token_answer = lambda form: httpx.Response(503, text="Service Unavailable")

    with pytest.raises(ServiceUnavailable):
        _provider(entra, _secret_credential()).token()


def test_network_failure_reaching_entra_is_a_connection_error() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    provider = TokenProvider(
        _secret_credential(), http=httpx.Client(transport=httpx.MockTransport(refuse)), cloud=CLOUD
    )

    with pytest.raises(GraphConnectionError, match=EMULATOR_LOGIN_URL):
        provider.token()


def test_the_secret_appears_in_no_error_and_no_log_line(
    entra: EntraStub, caplog: pytest.LogCaptureFixture
) -> None:
    # A worst case: a server that quotes the secret back in its error description.
    entra.token_answer = lambda form: entra_error(
        401, "invalid_client", 7000111, f"Secret {form['client_secret']} is not acceptable."
    )
    caplog.set_level(logging.DEBUG)

    with pytest.raises(AuthenticationFailed) as caught:
        _provider(entra, _secret_credential()).token()

    assert SECRET not in str(caught.value)
    assert SECRET not in repr(caught.value.details)
    assert SECRET not in caplog.text
    assert SECRET not in repr(_secret_credential())


def test_a_new_credential_replaces_the_owners_cached_provider(entra: EntraStub) -> None:
    providers = TokenProviders(http=httpx.Client(transport=httpx.MockTransport(entra)), cloud=CLOUD)
    first = providers.get(_secret_credential("old-secret"), owner="integration-a")
    first.token()

    same = providers.get(_secret_credential("old-secret"), owner="integration-a")
    rotated = providers.get(_secret_credential("new-secret"), owner="integration-a")
    rotated.token()

    assert same is first
    assert rotated is not first
    assert [form["client_secret"] for form in entra.token_requests] == ["old-secret", "new-secret"]


def test_owners_with_the_same_tenant_and_app_never_share_a_provider(entra: EntraStub) -> None:
    providers = TokenProviders(http=httpx.Client(transport=httpx.MockTransport(entra)), cloud=CLOUD)
    right = providers.get(_secret_credential("right-secret"), owner="integration-a")
    right.token()

    wrong = providers.get(_secret_credential("wrong-secret"), owner="integration-b")
    same_secret_other_owner = providers.get(
        _secret_credential("right-secret"), owner="integration-c"
    )

    assert wrong is not right
    assert same_secret_other_owner is not right
    assert wrong.credential.client_secret == "wrong-secret"


def test_forgetting_an_owner_drops_only_its_provider(entra: EntraStub) -> None:
    providers = TokenProviders(http=httpx.Client(transport=httpx.MockTransport(entra)), cloud=CLOUD)
    kept = providers.get(_secret_credential("a"), owner="integration-a")
    dropped = providers.get(_secret_credential("b"), owner="integration-b")

    providers.forget(owner="integration-b")

    assert providers.get(_secret_credential("a"), owner="integration-a") is kept
    assert providers.get(_secret_credential("b"), owner="integration-b") is not dropped


def test_fingerprints_tell_every_part_of_a_credential_apart() -> None:
    base = _secret_credential("secret")
    others = [
        _secret_credential("secret2"),
        ClientSecretCredential(
            tenant_id=base.tenant_id, client_id=base.client_id + "x", client_secret="secret"
        ),
        ClientSecretCredential(
            tenant_id=base.tenant_id + "x", client_id=base.client_id, client_secret="secret"
        ),
    ]

    assert base.fingerprint() == _secret_credential("secret").fingerprint()
    assert all(other.fingerprint() != base.fingerprint() for other in others)
