"""Entra ID's sign-in side, driven by the official msal library unchanged: the
authorization code flow with PKCE through graphsim's sign-in page, id_tokens verified
with PyJWT against the tenant's JWKS, and the documented errors."""

from __future__ import annotations

import hashlib
import ssl
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import jwt
import msal
import pytest

from graphsim import ManualClock, Simulator, serve
from tests.graphsim.graphsim_testkit import LOGIN, MsalHttpClient, fast_options
from tests.graphsim.signin_testkit import (
    REDIRECT,
    PageReader,
    answer,
    open_sign_in,
    person,
    sign_in,
    submit,
    web_app,
)


def _verified(http: httpx.Client, id_token: str, sim: Simulator, audience: str) -> dict[str, Any]:
    jwks = http.get(f"{LOGIN}/{sim.tenant_id}/discovery/v2.0/keys").json()
    key = jwt.PyJWK(jwks["keys"][0])
    return jwt.decode(
        id_token,
        key.key,
        algorithms=["RS256"],
        audience=audience,
        issuer=f"{LOGIN}/{sim.tenant_id}/v2.0",
    )


def _signed_in(sim: Simulator, http: httpx.Client, **flow: Any) -> dict[str, Any]:
    app = web_app(sim, http)
    started = app.initiate_auth_code_flow(
        ["email"], redirect_uri=REDIRECT, response_mode="form_post", **flow
    )
    email, password = person(sim)
    result = app.acquire_token_by_auth_code_flow(
        started, sign_in(http, started["auth_uri"], email, password)
    )
    assert "id_token" in result, result
    return {"flow": started, "result": result, "app": app, "email": email}


def test_msal_completes_the_auth_code_flow_and_the_id_token_verifies(
    sim: Simulator, http: httpx.Client
) -> None:
    done = _signed_in(sim, http)
    flow, result, email = done["flow"], done["result"], done["email"]
    claims = _verified(http, result["id_token"], sim, sim.credentials.client_id)
    user = sim.tenant.find_user(email)
    assert user is not None
    assert claims["nonce"] == hashlib.sha256(flow["nonce"].encode()).hexdigest()
    assert claims["tid"] == sim.tenant_id
    assert claims["oid"] == user.id
    assert (claims["preferred_username"], claims["email"]) == (email, email)
    assert claims["name"] == user.display_name
    assert claims["ver"] == "2.0"
    assert claims["exp"] - claims["iat"] == 3600
    assert claims["nbf"] <= claims["iat"]
    assert "roles" not in claims
    assert {"access_token", "refresh_token"} <= set(result)
    assert jwt.get_unverified_header(result["id_token"])["alg"] == "RS256"


def test_delegated_access_token_has_scp_and_the_user(sim: Simulator, http: httpx.Client) -> None:
    done = _signed_in(sim, http)
    claims = jwt.decode(done["result"]["access_token"], options={"verify_signature": False})
    assert set(claims["scp"].split()) == {"openid", "profile", "email"}
    assert claims["upn"] == done["email"]
    assert claims["appid"] == sim.credentials.client_id
    assert claims["appidacr"] == "1"


def test_sign_in_page_labels_email_and_password_and_has_a_sign_in_button(
    sim: Simulator, http: httpx.Client
) -> None:
    started = web_app(sim, http).initiate_auth_code_flow(
        ["email"], redirect_uri=REDIRECT, response_mode="form_post"
    )
    page = http.get(started["auth_uri"])
    reader = PageReader(page.text)
    assert reader.labelled("Email")["type"] == "email"
    assert reader.labelled("Password")["type"] == "password"
    assert reader.forms[0].buttons == ["Sign in"]
    assert reader.forms[0].method == "post"
    assert page.headers["cache-control"].startswith("no-store")


@pytest.mark.parametrize("prompt", [None, "login", "select_account"])
def test_login_hint_fills_the_email_field(
    sim: Simulator, http: httpx.Client, prompt: str | None
) -> None:
    email, _ = person(sim)
    started = web_app(sim, http).initiate_auth_code_flow(
        ["email"],
        redirect_uri=REDIRECT,
        response_mode="form_post",
        login_hint=email,
        domain_hint=sim.tenant.domain,
        prompt=prompt,
    )
    assert open_sign_in(http, started["auth_uri"]).labelled("Email")["value"] == email


@pytest.mark.parametrize(
    ("email", "password", "code"),
    [(None, "not-the-password", 50126), ("nobody", "x", 50034), ("room0001", "x", 50057)],
)
def test_rejected_credentials_show_the_form_again_with_the_reason(
    sim: Simulator, http: httpx.Client, email: str | None, password: str, code: int
) -> None:
    email = email or person(sim)[0].split("@")[0]
    started = web_app(sim, http).initiate_auth_code_flow(
        ["email"], redirect_uri=REDIRECT, response_mode="form_post"
    )
    response = submit(http, started["auth_uri"], f"{email}@{sim.tenant.domain}", password)
    assert response.status_code == 200
    reader = PageReader(response.text)
    assert any(f"AADSTS{code}" in alert for alert in reader.alerts)
    assert reader.labelled("Email")["value"] == f"{email}@{sim.tenant.domain}"


def test_unregistered_redirect_uri_is_50011_on_graphsims_own_page(
    sim: Simulator, http: httpx.Client
) -> None:
    started = web_app(sim, http).initiate_auth_code_flow(
        ["email"], redirect_uri="https://evil.example/auth/callback", response_mode="form_post"
    )
    response = http.get(started["auth_uri"])
    assert response.status_code == 400
    assert "location" not in response.headers
    assert "AADSTS50011" in response.text


def test_unknown_app_is_700016(sim: Simulator, http: httpx.Client) -> None:
    response = http.get(
        f"{LOGIN}/{sim.tenant_id}/oauth2/v2.0/authorize",
        params={"client_id": "11111111-2222-3333-4444-555555555555", "response_type": "code"},
    )
    assert response.status_code == 400
    assert "AADSTS700016" in response.text


def test_assignment_required_refuses_unassigned_users_with_50105(
    sim: Simulator, http: httpx.Client
) -> None:
    sim.signin.require_assignment()
    app = web_app(sim, http)
    email, password = person(sim)
    started = app.initiate_auth_code_flow(
        ["email"], redirect_uri=REDIRECT, response_mode="form_post"
    )
    refused = sign_in(http, started["auth_uri"], email, password)
    assert refused["error"] == "access_denied"
    assert refused["error_description"].startswith("AADSTS50105:")
    assert refused["state"] == started["state"]
    sim.signin.assign(email)
    again = app.initiate_auth_code_flow(["email"], redirect_uri=REDIRECT, response_mode="form_post")
    assert "code" in sign_in(http, again["auth_uri"], email, password)


def test_missing_consent_is_65001(sim: Simulator, http: httpx.Client) -> None:
    sim.signin.revoke_consent()
    started = web_app(sim, http).initiate_auth_code_flow(
        ["email"], redirect_uri=REDIRECT, response_mode="form_post"
    )
    refused = sign_in(http, started["auth_uri"], *person(sim))
    assert refused["error"] == "consent_required"
    assert refused["error_description"].startswith("AADSTS65001:")


def _code_form(sim: Simulator, http: httpx.Client) -> tuple[dict[str, Any], dict[str, str]]:
    started = web_app(sim, http).initiate_auth_code_flow(
        ["email"], redirect_uri=REDIRECT, response_mode="form_post"
    )
    code = sign_in(http, started["auth_uri"], *person(sim))["code"]
    form = {
        "client_id": sim.credentials.client_id,
        "client_secret": sim.credentials.client_secret,
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT,
        "code_verifier": started["code_verifier"],
        "scope": "openid profile email offline_access",
    }
    return started, form


def _token(http: httpx.Client, sim: Simulator, form: dict[str, str]) -> httpx.Response:
    return http.post(f"{LOGIN}/{sim.tenant_id}/oauth2/v2.0/token", data=form)


def test_a_code_works_once_then_54005(sim: Simulator, http: httpx.Client) -> None:
    _, form = _code_form(sim, http)
    assert _token(http, sim, form).status_code == 200
    replay = _token(http, sim, form)
    assert replay.status_code == 400
    assert replay.json()["error"] == "invalid_grant"
    assert replay.json()["error_codes"] == [54005]


def test_a_code_older_than_ten_minutes_is_70008(http: httpx.Client) -> None:
    clock = ManualClock()
    with Simulator(options=fast_options(), clock=clock) as sim:
        sim.seed(rooms=1, users=1, events_per_room=0, recurring_series=0, private_meetings=0)
        local = httpx.Client(transport=sim.transport())
        _, form = _code_form(sim, local)
        clock.advance(timedelta(minutes=10, seconds=1))
        expired = _token(local, sim, form)
        clock.advance(timedelta(hours=2))
        _code_form(sim, local)  # a new sign-in lets graphsim forget codes long expired
        forgotten = _token(local, sim, form)
        local.close()
    assert expired.status_code == 400
    assert expired.json()["error_codes"] == [70008]
    assert forgotten.json()["error_codes"] == [9002313]


def test_wrong_pkce_verifier_is_501481(sim: Simulator, http: httpx.Client) -> None:
    app = web_app(sim, http)
    started = app.initiate_auth_code_flow(
        ["email"], redirect_uri=REDIRECT, response_mode="form_post"
    )
    response = sign_in(http, started["auth_uri"], *person(sim))
    started["code_verifier"] = "A" * 43
    result = app.acquire_token_by_auth_code_flow(started, response)
    assert result["error"] == "invalid_grant"
    assert result["error_codes"] == [501481]


def test_missing_pkce_verifier_is_501481(sim: Simulator, http: httpx.Client) -> None:
    _, form = _code_form(sim, http)
    del form["code_verifier"]
    assert _token(http, sim, form).json()["error_codes"] == [501481]


def test_redirect_uri_must_be_the_one_the_code_was_issued_for(
    sim: Simulator, http: httpx.Client
) -> None:
    _, form = _code_form(sim, http)
    form["redirect_uri"] = "http://localhost:9999/other"
    response = _token(http, sim, form)
    assert (response.status_code, response.json()["error_codes"]) == (400, [50011])


def test_redeeming_needs_the_client_secret(sim: Simulator, http: httpx.Client) -> None:
    _, form = _code_form(sim, http)
    form["client_secret"] = "wrong"
    response = _token(http, sim, form)
    assert (response.status_code, response.json()["error_codes"]) == (401, [7000215])


def test_certificate_credential_redeems_a_code(sim: Simulator, http: httpx.Client) -> None:
    certificate = sim.add_certificate()
    app = web_app(sim, MsalHttpClient(http), credential=certificate.msal_credential())
    started = app.initiate_auth_code_flow(
        ["email"], redirect_uri=REDIRECT, response_mode="form_post"
    )
    result = app.acquire_token_by_auth_code_flow(
        started, sign_in(http, started["auth_uri"], *person(sim))
    )
    claims = jwt.decode(result["access_token"], options={"verify_signature": False})
    assert claims["appidacr"] == "2"


@pytest.mark.parametrize("segment", ["common", "organizations"])
def test_multi_tenant_endpoints_sign_users_into_their_own_tenant(
    sim: Simulator, http: httpx.Client, segment: str
) -> None:
    app = web_app(sim, http, tenant=segment)
    started = app.initiate_auth_code_flow(
        ["email"], redirect_uri=REDIRECT, response_mode="form_post"
    )
    assert f"/{segment}/oauth2/v2.0/authorize" in started["auth_uri"]
    result = app.acquire_token_by_auth_code_flow(
        started, sign_in(http, started["auth_uri"], *person(sim))
    )
    claims = _verified(http, result["id_token"], sim, sim.credentials.client_id)
    assert claims["tid"] == sim.tenant_id


def test_openid_configuration_advertises_the_sign_in_endpoints(
    sim: Simulator, http: httpx.Client
) -> None:
    own = http.get(f"{LOGIN}/{sim.tenant_id}/v2.0/.well-known/openid-configuration").json()
    root = f"{LOGIN}/{sim.tenant_id}"
    assert own["authorization_endpoint"] == f"{root}/oauth2/v2.0/authorize"
    assert own["end_session_endpoint"] == f"{root}/oauth2/v2.0/logout"
    assert own["jwks_uri"] == f"{root}/discovery/v2.0/keys"
    common = http.get(f"{LOGIN}/common/v2.0/.well-known/openid-configuration").json()
    assert common["issuer"] == f"{LOGIN}/{{tenantid}}/v2.0"
    assert common["authorization_endpoint"] == f"{LOGIN}/common/oauth2/v2.0/authorize"


def test_refresh_token_gets_new_tokens_through_msal(sim: Simulator, http: httpx.Client) -> None:
    done = _signed_in(sim, http)
    app = done["app"]
    account = app.get_accounts()[0]
    assert (
        account["home_account_id"] == f"{done['result']['id_token_claims']['oid']}.{sim.tenant_id}"
    )
    refreshed = app.acquire_token_silent(["email"], account, force_refresh=True)
    assert refreshed is not None
    assert "access_token" in refreshed, refreshed
    assert refreshed["access_token"] != done["result"]["access_token"]
    claims = _verified(http, refreshed["id_token"], sim, sim.credentials.client_id)
    assert "nonce" not in claims


def _refresh(sim: Simulator, http: httpx.Client, token: str) -> httpx.Response:
    form = {
        "client_id": sim.credentials.client_id,
        "client_secret": sim.credentials.client_secret,
        "grant_type": "refresh_token",
        "refresh_token": token,
    }
    return _token(http, sim, form)


def test_refresh_after_revoked_sessions_or_consent_is_refused(
    sim: Simulator, http: httpx.Client
) -> None:
    done = _signed_in(sim, http)
    token = done["result"]["refresh_token"]
    assert _refresh(sim, http, token).status_code == 200
    sim.signin.revoke_consent()
    assert _refresh(sim, http, token).json()["error_codes"] == [65001]
    sim.signin.grant_consent()
    sim.signin.revoke_sign_in_sessions(done["email"])
    revoked = _refresh(sim, http, token)
    assert (revoked.json()["error"], revoked.json()["error_codes"]) == ("invalid_grant", [50173])
    assert _refresh(sim, http, "garbage").json()["error_codes"] == [9002313]


def test_roles_claim_lists_the_app_roles_assigned_to_the_user(
    sim: Simulator, http: httpx.Client
) -> None:
    email, _ = person(sim)
    sim.signin.assign(email, "Roomsync.Admin")
    claims = _verified(
        http, _signed_in(sim, http)["result"]["id_token"], sim, sim.credentials.client_id
    )
    assert claims["roles"] == ["Roomsync.Admin"]


def test_sub_is_pairwise_per_app_and_oid_is_not(sim: Simulator, http: httpx.Client) -> None:
    other = sim.add_app("other web app", set())
    sim.signin.add_redirect_uri(REDIRECT, other.client_id)
    email, password = person(sim)
    subjects, oids = set(), set()
    for client_id, secret in [
        (sim.credentials.client_id, sim.credentials.client_secret),
        (other.client_id, other.client_secret),
    ]:
        app = web_app(sim, http, client_id=client_id, credential=secret)
        started = app.initiate_auth_code_flow(
            ["email"], redirect_uri=REDIRECT, response_mode="form_post"
        )
        result = app.acquire_token_by_auth_code_flow(
            started, sign_in(http, started["auth_uri"], email, password)
        )
        claims = _verified(http, result["id_token"], sim, client_id)
        subjects.add(claims["sub"])
        oids.add(claims["oid"])
    assert (len(subjects), len(oids)) == (2, 1)


def test_prompt_none_is_login_required(sim: Simulator, http: httpx.Client) -> None:
    started = web_app(sim, http).initiate_auth_code_flow(
        ["email"], redirect_uri=REDIRECT, response_mode="form_post", prompt="none"
    )
    params = answer(http.get(started["auth_uri"]))
    assert params["error"] == "login_required"
    assert params["state"] == started["state"]


def test_form_post_response_mode_posts_code_and_state(sim: Simulator, http: httpx.Client) -> None:
    app = web_app(sim, http)
    started = app.initiate_auth_code_flow(
        ["email"], redirect_uri=REDIRECT, response_mode="form_post"
    )
    response = submit(http, started["auth_uri"], *person(sim))
    form = PageReader(response.text).forms[0]
    assert (form.action, form.method) == (REDIRECT, "post")
    assert set(form.hidden()) == {"code", "state"}
    assert form.hidden()["state"] == started["state"]


@pytest.mark.filterwarnings("ignore:response_mode='form_post' is recommended")
def test_query_response_mode_redirects_with_code_and_state(
    sim: Simulator, http: httpx.Client
) -> None:
    app = web_app(sim, http)
    started = app.initiate_auth_code_flow(["email"], redirect_uri=REDIRECT)
    response = submit(http, started["auth_uri"], *person(sim))
    assert response.status_code == 302
    assert response.headers["location"].startswith(f"{REDIRECT}?")
    result = app.acquire_token_by_auth_code_flow(started, answer(response))
    assert "id_token" in result, result


def test_logout_redirects_only_to_registered_uris(sim: Simulator, http: httpx.Client) -> None:
    logout = f"{LOGIN}/{sim.tenant_id}/oauth2/v2.0/logout"
    back = http.get(logout, params={"post_logout_redirect_uri": REDIRECT, "state": "s1"})
    assert back.status_code == 302
    assert dict(parse_qsl(urlsplit(back.headers["location"]).query)) == {"state": "s1"}
    assert back.headers["location"].startswith(REDIRECT)
    stay = http.get(logout, params={"post_logout_redirect_uri": "https://evil.example/"})
    assert stay.status_code == 200
    assert "You signed out" in stay.text
    assert len(sim.requests.entries(path_contains="/oauth2/v2.0/logout")) == 2


def test_seeded_users_get_passwords_and_the_demo_marks_one_admin() -> None:
    with Simulator(options=fast_options()) as sim:
        sim.seed_demo()
        users = sim.config("https://login.example")["users"]
        http = httpx.Client(transport=sim.transport())
        admin = next(u for u in users if u["admin"])
        app = web_app(sim, http)
        started = app.initiate_auth_code_flow(
            ["email"], redirect_uri=REDIRECT, response_mode="form_post"
        )
        result = app.acquire_token_by_auth_code_flow(
            started, sign_in(http, started["auth_uri"], admin["email"], admin["password"])
        )
        http.close()
    assert all(u["password"] for u in users)
    assert len({u["password"] for u in users}) == len(users)
    assert [u["admin"] for u in users].count(True) == 1
    assert result["id_token_claims"]["roles"] == ["Roomsync.Admin"]


def test_passwords_are_deterministic_under_the_seed() -> None:
    def passwords() -> list[str]:
        with Simulator(options=fast_options()) as sim:
            sim.seed(rooms=1, users=2, events_per_room=0, recurring_series=0, private_meetings=0)
            return [u["password"] for u in sim.config("https://x")["users"]]

    assert passwords() == passwords()


def test_snapshot_keeps_passwords_roles_and_redirect_uris(sim: Simulator) -> None:
    email, password = person(sim)
    sim.signin.assign(email, "Roomsync.Admin")
    restored = Simulator.from_snapshot(sim.snapshot(), options=fast_options())
    try:
        assert restored.signin.password(email) == password
        user = restored.tenant.find_user(email)
        assert user is not None
        app = restored.signin.app(None)
        assert app.role_values(user.id) == ["Roomsync.Admin"]
        assert REDIRECT.replace(":8000", "") in app.redirect_uris
    finally:
        restored.close()


def _trusting(ca_path: str | None) -> ssl.SSLContext:
    assert ca_path is not None
    return ssl.create_default_context(cafile=ca_path)


def test_msal_signs_in_over_https_against_graphsim_serve() -> None:
    with Simulator(options=fast_options()) as sim:
        sim.seed(rooms=1, users=1, events_per_room=0, recurring_series=0, private_meetings=0)
        with serve(sim) as handle, httpx.Client(verify=_trusting(handle.ca_path)) as http:
            app = msal.ConfidentialClientApplication(
                sim.credentials.client_id,
                client_credential=sim.credentials.client_secret,
                authority=f"{handle.base_url}/{sim.tenant_id}",
                http_client=http,
                instance_discovery=False,
            )
            started = app.initiate_auth_code_flow(
                ["email"], redirect_uri=REDIRECT, response_mode="form_post"
            )
            assert started["auth_uri"].startswith(f"{handle.base_url}/{sim.tenant_id}/")
            result = app.acquire_token_by_auth_code_flow(
                started, sign_in(http, started["auth_uri"], *person(sim))
            )
            keys = http.get(f"{handle.base_url}/{sim.tenant_id}/discovery/v2.0/keys").json()
    claims = jwt.decode(
        result["id_token"],
        jwt.PyJWK(keys["keys"][0]).key,
        algorithms=["RS256"],
        audience=sim.credentials.client_id,
        issuer=f"{handle.base_url}/{sim.tenant_id}/v2.0",
    )
    assert claims["nonce"] == hashlib.sha256(started["nonce"].encode()).hexdigest()


def _authorize(
    sim: Simulator, http: httpx.Client, segment: str = "", **params: str
) -> httpx.Response:
    query = {
        "client_id": sim.credentials.client_id,
        "response_type": "code",
        "redirect_uri": REDIRECT,
        "scope": "openid profile email",
        "state": "s1",
        **params,
    }
    query = {k: v for k, v in query.items() if v != "-"}
    return http.get(f"{LOGIN}/{segment or sim.tenant_id}/oauth2/v2.0/authorize", params=query)


@pytest.mark.parametrize(
    ("segment", "params", "aadsts"),
    [
        ("nosuch.onmicrosoft.com", {}, 90002),
        ("", {"client_id": "-"}, 900144),
        ("", {"redirect_uri": "http://localhost:8000/AUTH/callback"}, 50011),
    ],
)
def test_requests_graphsim_cannot_answer_safely_are_400_pages(
    sim: Simulator, http: httpx.Client, segment: str, params: dict[str, str], aadsts: int
) -> None:
    response = _authorize(sim, http, segment, **params)
    assert response.status_code == 400
    assert f"AADSTS{aadsts}" in response.text


@pytest.mark.parametrize(
    ("params", "error", "aadsts"),
    [
        ({"response_type": "token"}, "unsupported_response_type", 70005),
        ({"response_type": "code id_token"}, "unsupported_response_type", 700054),
        ({"code_challenge": "short", "code_challenge_method": "S256"}, "invalid_request", 501491),
        ({"code_challenge_method": "S256"}, "invalid_request", 900144),
        ({"prompt": "sometimes"}, "invalid_request", 90023),
        ({"response_mode": "carrier-pigeon"}, "invalid_request", 70007),
        ({"scope": "-"}, "invalid_request", 900144),
        ({"scope": "openid api://other/Read"}, "invalid_scope", 70011),
    ],
)
def test_bad_authorize_parameters_go_back_to_the_app_as_errors(
    sim: Simulator, http: httpx.Client, params: dict[str, str], error: str, aadsts: int
) -> None:
    response = _authorize(sim, http, **params)
    assert response.status_code == 302
    sent = answer(response)
    assert (sent["error"], sent["state"]) == (error, "s1")
    assert sent["error_description"].startswith(f"AADSTS{aadsts}:")


def test_sim_control_endpoints_change_who_may_sign_in(sim: Simulator, http: httpx.Client) -> None:
    email, password = person(sim)
    control = "http://graphsim/_sim/signin"

    def attempt(redirect_uri: str = REDIRECT) -> dict[str, str]:
        app = web_app(sim, http)
        started = app.initiate_auth_code_flow(
            ["email"], redirect_uri=redirect_uri, response_mode="form_post"
        )
        return sign_in(http, started["auth_uri"], email, password)

    assert http.post(f"{control}/assignment-required", json={"required": True}).status_code == 200
    assert attempt()["error_description"].startswith("AADSTS50105:")
    http.post(f"{control}/assignments", json={"email": email, "role": "Roomsync.Admin"})
    assert "code" in attempt()
    http.post(f"{control}/consent", json={"granted": False})
    assert attempt()["error_description"].startswith("AADSTS65001:")
    http.post(f"{control}/consent", json={"granted": True})
    http.post(f"{control}/redirect-uris", json={"add": ["https://rooms.example/cb"]})
    assert "code" in attempt("https://rooms.example/cb")
    unknown = http.post(f"{control}/assignments", json={"email": "nobody@x.example"})
    assert unknown.status_code == 400
