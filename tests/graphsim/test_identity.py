"""Entra ID token endpoint and Graph's token checks, driven through msal unchanged."""

from __future__ import annotations

import time
from datetime import timedelta

import httpx
import jwt
import pytest

from graphsim import ManualClock, Simulator
from tests.graphsim.graphsim_testkit import (
    GRAPH,
    LOGIN,
    SCOPE,
    Graph,
    MsalHttpClient,
    fast_options,
    msal_app,
    token_for,
)


def _form(sim: Simulator, **changes: str) -> dict[str, str]:
    return {
        "client_id": sim.credentials.client_id,
        "client_secret": sim.credentials.client_secret,
        "scope": SCOPE[0],
        "grant_type": "client_credentials",
        **changes,
    }


def test_msal_gets_a_token_with_the_client_secret(sim: Simulator, http: httpx.Client) -> None:
    result = msal_app(sim, http).acquire_token_for_client(SCOPE)
    assert result["token_type"] == "Bearer"
    assert result["expires_in"] == 3599


def test_access_token_is_rs256_with_roles_tenant_app_and_audience(
    sim: Simulator, http: httpx.Client
) -> None:
    token = token_for(sim, http)
    assert jwt.get_unverified_header(token)["alg"] == "RS256"
    claims = jwt.decode(token, options={"verify_signature": False})
    assert set(claims["roles"]) == {"Calendars.ReadWrite", "Place.Read.All", "User.Read.All"}
    assert claims["tid"] == sim.tenant_id
    assert claims["appid"] == sim.credentials.client_id
    assert claims["aud"] == GRAPH
    assert claims["exp"] - claims["iat"] == 3599


def test_wrong_secret_is_401_invalid_client_7000215(sim: Simulator, http: httpx.Client) -> None:
    response = http.post(
        f"{LOGIN}/{sim.tenant_id}/oauth2/v2.0/token",
        data=_form(sim, client_secret="not-the-secret"),
    )
    assert response.status_code == 401
    body = response.json()
    assert body["error"] == "invalid_client"
    assert body["error_codes"] == [7000215]
    assert body["error_description"].startswith("AADSTS7000215:")
    assert {"trace_id", "correlation_id", "timestamp"} <= set(body)
    assert sim.credentials.client_secret not in response.text


def test_expired_secret_is_7000222(sim: Simulator, http: httpx.Client) -> None:
    sim.expire_client_secret()
    result = msal_app(sim, http).acquire_token_for_client(SCOPE)
    assert result["error"] == "invalid_client"
    assert 7000222 in result["error_codes"]


def test_unknown_app_is_400_unauthorized_client_700016(sim: Simulator, http: httpx.Client) -> None:
    response = http.post(
        f"{LOGIN}/{sim.tenant_id}/oauth2/v2.0/token",
        data=_form(sim, client_id="11111111-2222-3333-4444-555555555555"),
    )
    assert response.status_code == 400
    assert response.json()["error"] == "unauthorized_client"
    assert response.json()["error_codes"] == [700016]


def test_unknown_tenant_is_400_with_90002(sim: Simulator, http: httpx.Client) -> None:
    response = http.post(f"{LOGIN}/nosuchtenant.onmicrosoft.com/oauth2/v2.0/token", data=_form(sim))
    assert response.status_code == 400
    assert response.json()["error_codes"] == [90002]


def test_scope_must_be_a_default_scope(sim: Simulator, http: httpx.Client) -> None:
    response = http.post(
        f"{LOGIN}/{sim.tenant_id}/oauth2/v2.0/token", data=_form(sim, scope="User.Read")
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_scope"


def test_client_secret_may_come_as_http_basic(sim: Simulator, http: httpx.Client) -> None:
    form = _form(sim)
    secret = form.pop("client_secret")
    response = http.post(
        f"{LOGIN}/{sim.tenant_id}/oauth2/v2.0/token",
        data=form,
        auth=(sim.credentials.client_id, secret),
    )
    assert response.status_code == 200


def test_openid_configuration_names_the_token_endpoint(sim: Simulator, http: httpx.Client) -> None:
    config = http.get(f"{LOGIN}/{sim.tenant_id}/v2.0/.well-known/openid-configuration").json()
    assert config["token_endpoint"] == f"{LOGIN}/{sim.tenant_id}/oauth2/v2.0/token"
    assert config["issuer"] == f"{LOGIN}/{sim.tenant_id}/v2.0"


def test_certificate_credential_with_sha1_thumbprint(sim: Simulator, http: httpx.Client) -> None:
    certificate = sim.add_certificate()
    token = token_for(sim, MsalHttpClient(http), credential=certificate.msal_credential())
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["appidacr"] == "2"


def test_certificate_credential_with_public_certificate_uses_ps256(
    sim: Simulator, http: httpx.Client
) -> None:
    certificate = sim.add_certificate()
    credential = {
        "private_key": certificate.private_key_pem,
        "public_certificate": certificate.certificate_pem,
    }
    assert token_for(sim, MsalHttpClient(http), credential=credential)


def test_msal_with_a_bare_httpx_client_sends_a_malformed_assertion(
    sim: Simulator, http: httpx.Client
) -> None:
    """msal hands the assertion to ``http_client.post`` as bytes; bare httpx sends ``b'…'``."""
    credential = sim.add_certificate().msal_credential()
    result = msal_app(sim, http, credential=credential).acquire_token_for_client(SCOPE)
    assert result["error_codes"] == [50027]


def test_assertion_signed_by_an_unregistered_certificate_is_refused(
    sim: Simulator, http: httpx.Client
) -> None:
    registered = sim.add_certificate()
    other = Simulator(seed=99)
    try:
        stranger = other.add_certificate()
    finally:
        other.close()
    forged = {"private_key": stranger.private_key_pem, "thumbprint": registered.thumbprint}
    result = msal_app(sim, MsalHttpClient(http), credential=forged).acquire_token_for_client(SCOPE)
    assert result["error"] == "invalid_client"
    assert 700027 in result["error_codes"]


def _assertion_response(sim: Simulator, http: httpx.Client, **claims: object) -> httpx.Response:
    certificate = sim.add_certificate()
    now = int(time.time())
    body = {
        "aud": f"{LOGIN}/{sim.tenant_id}/oauth2/v2.0/token",
        "iss": sim.credentials.client_id,
        "sub": sim.credentials.client_id,
        "exp": now + 600,
        "nbf": now,
        "jti": "x",
        **claims,
    }
    x5t = jwt.utils.base64url_encode(bytes.fromhex(certificate.thumbprint)).decode()
    assertion = jwt.encode(
        body, certificate.private_key_pem, algorithm="RS256", headers={"x5t": x5t}
    )
    form = _form(
        sim,
        client_assertion=assertion,
        client_assertion_type="urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
    )
    del form["client_secret"]
    return http.post(f"{LOGIN}/{sim.tenant_id}/oauth2/v2.0/token", data=form)


def test_assertion_for_another_audience_is_refused(sim: Simulator, http: httpx.Client) -> None:
    assert _assertion_response(sim, http).status_code == 200
    response = _assertion_response(sim, http, aud="https://example.com/token")
    assert response.status_code == 401


def test_expired_assertion_is_refused(sim: Simulator, http: httpx.Client) -> None:
    response = _assertion_response(sim, http, exp=int(time.time()) - 3600)
    assert response.json()["error_codes"] == [700024]


def test_assertion_whose_subject_is_another_app_is_refused(
    sim: Simulator, http: httpx.Client
) -> None:
    response = _assertion_response(sim, http, sub="someone-else")
    assert response.json()["error_codes"] == [700021]


def test_missing_token_is_401_with_www_authenticate(sim: Simulator, http: httpx.Client) -> None:
    response = http.get(f"{GRAPH}/v1.0/places/microsoft.graph.room")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "InvalidAuthenticationToken"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert response.headers["request-id"] == response.json()["error"]["innerError"]["request-id"]


def test_token_with_a_bad_signature_is_401(sim: Simulator, http: httpx.Client) -> None:
    token = token_for(sim, http)
    head, payload, signature = token.split(".")
    tampered = f"{head}.{payload}.{signature[:-4]}AAAA"
    response = Graph(http, tampered).get("/places/microsoft.graph.room")
    assert response.status_code == 401


def test_expired_access_token_is_401() -> None:
    clock = ManualClock()
    sim = Simulator(seed=3, clock=clock)
    try:
        with httpx.Client(transport=sim.transport()) as http:
            graph = Graph(http, token_for(sim, http))
            assert graph.get("/places/microsoft.graph.room").status_code == 200
            clock.advance(timedelta(seconds=3600))
            response = graph.get("/places/microsoft.graph.room")
            assert response.status_code == 401
            assert "expired" in response.json()["error"]["message"]
    finally:
        sim.close()


def test_expire_access_tokens_rejects_tokens_already_issued() -> None:
    clock = ManualClock()
    sim = Simulator(seed=3, clock=clock)
    try:
        with httpx.Client(transport=sim.transport()) as http:
            graph = Graph(http, token_for(sim, http))
            sim.expire_access_tokens()
            clock.advance(2)
            assert graph.get("/places/microsoft.graph.room").status_code == 401
            fresh = Graph(http, token_for(sim, http))
            assert fresh.get("/places/microsoft.graph.room").status_code == 200
    finally:
        sim.close()


@pytest.mark.parametrize("lifetime", [60, 7200])
def test_token_lifetime_is_configurable(lifetime: int) -> None:
    sim = Simulator(options=fast_options(access_token_lifetime=lifetime))
    try:
        with httpx.Client(transport=sim.transport()) as http:
            assert msal_app(sim, http).acquire_token_for_client(SCOPE)["expires_in"] == lifetime
    finally:
        sim.close()


def test_instance_discovery_names_this_host_as_the_one_alias() -> None:
    sim = Simulator(seed=3)
    try:
        with httpx.Client(
            transport=sim.transport(), base_url="https://login.microsoftonline.com"
        ) as client:
            answer = client.get(
                "/common/discovery/instance",
                params={"api-version": "1.1", "authorization_endpoint": "https://x/authorize"},
            ).json()
    finally:
        sim.close()
    assert answer["metadata"][0]["aliases"] == ["login.microsoftonline.com"]
    assert answer["tenant_discovery_endpoint"].endswith("/v2.0/.well-known/openid-configuration")
