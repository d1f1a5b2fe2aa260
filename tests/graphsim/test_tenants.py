"""Several tenants behind one login and Graph host, as Microsoft serves them: each tenant's
sign-in, tokens and Graph data are its own, a token of one tenant never reads another's,
and a tenant that does not exist is AADSTS90002 (reference-error-codes.md,
"InvalidTenantName", MicrosoftDocs/entra-docs docs/identity-platform) on the login side
and 401 ``InvalidAuthenticationToken`` on Graph's."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import jwt
import msal
import pytest

from graphsim import Simulator
from graphsim.tenants import TenantRouter, make_tenants
from tests.graphsim.graphsim_testkit import GRAPH, LOGIN, Graph, fast_options, token_for
from tests.graphsim.signin_testkit import REDIRECT, PageReader, sign_in, web_app


@pytest.fixture
def router() -> Iterator[TenantRouter]:
    with TenantRouter(make_tenants(2, options=fast_options())) as tenants:
        for sim in tenants.simulators:
            sim.seed(rooms=3, room_lists=1, users=2, events_per_room=1, recurring_series=0)
        yield tenants


@pytest.fixture
def http(router: TenantRouter) -> Iterator[httpx.Client]:
    with httpx.Client(transport=router.transport()) as client:
        yield client


def _pair(router: TenantRouter) -> tuple[Simulator, Simulator]:
    first, second = router.simulators
    return first, second


def _people(sim: Simulator) -> list[dict[str, Any]]:
    return [u for u in sim.config(LOGIN)["users"] if u["email"].startswith("user")]


def _signed_in(sim: Simulator, http: httpx.Client, authority: str | None = None) -> dict[str, Any]:
    app = web_app(sim, http, tenant=authority)
    flow = app.initiate_auth_code_flow(["email"], redirect_uri=REDIRECT, response_mode="form_post")
    person = _people(sim)[0]
    result = app.acquire_token_by_auth_code_flow(
        flow, sign_in(http, flow["auth_uri"], person["email"], person["password"])
    )
    assert "id_token" in result, result
    return {"result": result, "email": person["email"]}


def _keys(http: httpx.Client, tenant: str) -> list[jwt.PyJWK]:
    return [jwt.PyJWK(k) for k in http.get(f"{LOGIN}/{tenant}/discovery/v2.0/keys").json()["keys"]]


def test_the_tenants_are_distinct_directories(router: TenantRouter) -> None:
    first, second = _pair(router)
    assert first.tenant_id != second.tenant_id
    assert (first.tenant.domain, second.tenant.domain) == (
        "contoso.onmicrosoft.com",
        "fabrikam.onmicrosoft.com",
    )
    assert first.credentials.client_id != second.credentials.client_id
    assert second.service_account == "svc-roomsync@fabrikam.onmicrosoft.com"
    assert all(r.endswith("@fabrikam.onmicrosoft.com") for r in second.tenant.rooms)


def test_each_tenants_app_token_reads_its_own_rooms(
    router: TenantRouter, http: httpx.Client
) -> None:
    for sim in router.simulators:
        graph = Graph(http, token_for(sim, http))
        rooms = graph.get("/places/microsoft.graph.room").json()["value"]
        assert sorted(r["emailAddress"] for r in rooms) == sorted(sim.tenant.rooms)


def test_a_token_of_one_tenant_never_reads_another(
    router: TenantRouter, http: httpx.Client
) -> None:
    first, second = _pair(router)
    graph = Graph(http, token_for(first, http))
    room = sorted(second.tenant.rooms)[0]
    person = _people(second)[0]["email"]
    assert graph.get(f"/users/{person}").status_code == 404
    events = graph.get(f"/users/{room}/events")
    assert events.status_code == 404, events.text
    batch = graph.post(
        "/$batch", json={"requests": [{"id": "1", "method": "GET", "url": f"/users/{room}/events"}]}
    ).json()
    assert batch["responses"][0]["status"] == 404
    assert second.requests.count() == 0


def test_a_token_claiming_another_tenant_is_refused(
    router: TenantRouter, http: httpx.Client
) -> None:
    """A token of the first tenant with the second's ``tid`` goes to the second, whose key
    did not sign it: 401, and nothing of the second tenant is read."""
    first, second = _pair(router)
    claims = jwt.decode(token_for(first, http), options={"verify_signature": False})
    forged = first.core.identity.sign({**claims, "tid": second.tenant_id}, x5t=True)
    answer = Graph(http, forged).get("/places/microsoft.graph.room")
    assert answer.status_code == 401
    assert answer.json()["error"]["code"] == "InvalidAuthenticationToken"


def test_a_token_of_no_tenant_here_is_401(router: TenantRouter, http: httpx.Client) -> None:
    stranger = Simulator(seed=99, domain="elsewhere.onmicrosoft.com")
    with stranger, httpx.Client(transport=stranger.transport()) as own:
        token = token_for(stranger, own)
    answer = Graph(http, token).get("/places/microsoft.graph.room")
    assert answer.status_code == 401
    assert answer.json()["error"]["code"] == "InvalidAuthenticationToken"
    assert Graph(http, "not-a-jwt").get("/users").status_code == 401


def test_each_tenant_signs_its_people_in_with_its_own_keys(
    router: TenantRouter, http: httpx.Client
) -> None:
    first, second = _pair(router)
    tokens = {sim.tenant_id: _signed_in(sim, http)["result"]["id_token"] for sim in (first, second)}
    for sim, other in ((first, second), (second, first)):
        token = tokens[sim.tenant_id]
        (key,) = _keys(http, sim.tenant_id)
        claims = jwt.decode(
            token,
            key.key,
            algorithms=["RS256"],
            audience=sim.credentials.client_id,
            issuer=f"{LOGIN}/{sim.tenant_id}/v2.0",
        )
        assert claims["tid"] == sim.tenant_id
        (foreign,) = _keys(http, other.tenant_id)
        with pytest.raises(jwt.InvalidSignatureError):
            jwt.decode(token, foreign.key, algorithms=["RS256"], options={"verify_aud": False})


def test_a_tenant_is_named_by_its_domain_too(router: TenantRouter, http: httpx.Client) -> None:
    second = router.simulators[1]
    done = _signed_in(second, http, authority=second.tenant.domain)
    claims = jwt.decode(done["result"]["id_token"], options={"verify_signature": False})
    assert claims["tid"] == second.tenant_id


def test_one_tenant_does_not_know_the_others_people(
    router: TenantRouter, http: httpx.Client
) -> None:
    first, second = _pair(router)
    app = web_app(first, http)
    flow = app.initiate_auth_code_flow(["email"], redirect_uri=REDIRECT, response_mode="form_post")
    stranger = _people(second)[0]
    page = PageReader(sign_in_page(http, flow["auth_uri"], stranger["email"], stranger["password"]))
    assert any("couldn't find an account" in a for a in page.alerts), page.alerts


def sign_in_page(http: httpx.Client, auth_uri: str, email: str, password: str) -> str:
    """The page graphsim answers a sign-in form with (the form again when refused)."""
    page = PageReader(http.get(auth_uri).text)
    form = page.forms[0]
    data = {page.labelled("Email")["name"]: email, page.labelled("Password")["name"]: password}
    answer = http.post(httpx.URL(auth_uri).join(form.action), data=data)
    assert answer.status_code == 200, answer.text
    return answer.text


@pytest.mark.parametrize("segment", ["common", "organizations"])
def test_common_endpoints_find_the_tenant_of_the_app(
    router: TenantRouter, http: httpx.Client, segment: str
) -> None:
    second = router.simulators[1]
    done = _signed_in(second, http, authority=segment)
    claims = jwt.decode(done["result"]["id_token"], options={"verify_signature": False})
    assert (claims["tid"], claims["email"]) == (second.tenant_id, done["email"])
    assert claims["iss"] == f"{LOGIN}/{second.tenant_id}/v2.0"


def test_common_token_endpoint_finds_the_app_in_http_basic_credentials(
    router: TenantRouter, http: httpx.Client
) -> None:
    second = router.simulators[1]
    flow = web_app(second, http, tenant="common").initiate_auth_code_flow(
        ["email"], redirect_uri=REDIRECT, response_mode="form_post"
    )
    person = _people(second)[0]
    fields = sign_in(http, flow["auth_uri"], person["email"], person["password"])
    credentials = second.credentials
    answer = http.post(
        f"{LOGIN}/common/oauth2/v2.0/token",
        data={
            "grant_type": "authorization_code",
            "code": fields["code"],
            "redirect_uri": REDIRECT,
            "code_verifier": flow["code_verifier"],
        },
        auth=(credentials.client_id, credentials.client_secret),
    )
    assert answer.status_code == 200, answer.text
    claims = jwt.decode(answer.json()["id_token"], options={"verify_signature": False})
    assert claims["tid"] == second.tenant_id


def test_common_keys_are_every_tenants_keys(router: TenantRouter, http: httpx.Client) -> None:
    kids = {k.key_id for k in _keys(http, "common")}
    assert kids == {sim.core.identity.kid for sim in router.simulators}


@pytest.mark.parametrize(
    "path",
    [
        "discovery/v2.0/keys",
        "v2.0/.well-known/openid-configuration",
        "oauth2/v2.0/token",
    ],
)
def test_an_unknown_tenant_is_aadsts90002(http: httpx.Client, path: str) -> None:
    url = f"{LOGIN}/nowhere.onmicrosoft.com/{path}"
    answer = (
        http.post(url, data={"grant_type": "client_credentials"})
        if "token" in path
        else (http.get(url))
    )
    assert answer.status_code == 400
    assert answer.json()["error_codes"] == [90002]
    assert "Tenant 'nowhere.onmicrosoft.com' not found" in answer.json()["error_description"]


def test_an_unknown_tenants_sign_in_page_is_aadsts90002(
    router: TenantRouter, http: httpx.Client
) -> None:
    client_id = router.simulators[1].credentials.client_id
    answer = http.get(
        f"{LOGIN}/nowhere.onmicrosoft.com/oauth2/v2.0/authorize",
        params={"client_id": client_id, "response_type": "code", "redirect_uri": REDIRECT},
    )
    assert answer.status_code == 400
    assert "AADSTS90002" in answer.text


def test_the_control_surface_reaches_each_tenant(router: TenantRouter, http: httpx.Client) -> None:
    first, second = _pair(router)
    listed = http.get(f"{LOGIN}/_sim/tenants").json()["tenants"]
    assert [t["tenant_id"] for t in listed] == [first.tenant_id, second.tenant_id]
    assert http.get(f"{LOGIN}/_sim/config").json()["tenant_id"] == first.tenant_id
    for name in (second.tenant_id, second.tenant.domain):
        own = http.get(f"{LOGIN}/_sim/tenants/{name}/config").json()
        assert own["tenant_id"] == second.tenant_id
    assert http.get(f"{LOGIN}/_sim/tenants/nowhere/config").status_code == 404


def test_config_keeps_the_first_tenant_on_top_and_lists_every_tenant(
    router: TenantRouter,
) -> None:
    first, second = _pair(router)
    config = router.config("https://127.0.0.1:8443", "/tmp/ca.pem")
    assert {k: v for k, v in config.items() if k != "tenants"} == first.config(
        "https://127.0.0.1:8443", "/tmp/ca.pem"
    )
    entries = config["tenants"]
    assert [(t["tenant_id"], t["domain"]) for t in entries] == [
        (first.tenant_id, "contoso.onmicrosoft.com"),
        (second.tenant_id, "fabrikam.onmicrosoft.com"),
    ]
    for entry, sim in zip(entries, router.simulators, strict=True):
        assert entry["client_id"] == sim.credentials.client_id
        assert entry["client_secret"] == sim.credentials.client_secret
        assert entry["service_account"] == sim.service_account
        assert {r["email"] for r in entry["rooms"]} == set(sim.tenant.rooms)
        assert all(u["password"] for u in entry["users"])


def test_the_demos_other_tenant_has_its_own_buildings_people_and_admin() -> None:
    with TenantRouter(make_tenants(2, options=fast_options())) as tenants:
        first, second = tenants.simulators
        seeded = [first.seed_demo(), second.seed_demo(1)]
        names = [{rl.display_name for rl in s.tenant.room_lists.values()} for s in (first, second)]
        assert not names[0] & names[1]
        assert (len(seeded[1].rooms), len(seeded[1].users)) == (40, 30)
        people = [
            {u["name"] for u in s.config(LOGIN)["users"] if "svc-" not in u["email"]}
            for s in (first, second)
        ]
        assert people[0] != people[1]
        admins = [u for u in second.config(LOGIN)["users"] if u["admin"]]
        assert [a["email"].rsplit("@")[1] for a in admins] == ["fabrikam.onmicrosoft.com"]


def test_msal_for_each_tenant_caches_apart(router: TenantRouter, http: httpx.Client) -> None:
    """Two confidential clients on one host keep their tenants' tokens apart."""
    first, second = _pair(router)
    apps = [
        msal.ConfidentialClientApplication(
            sim.credentials.client_id,
            client_credential=sim.credentials.client_secret,
            authority=f"{LOGIN}/{sim.tenant_id}",
            http_client=http,
            instance_discovery=False,
        )
        for sim in (first, second)
    ]
    tids = [
        jwt.decode(
            a.acquire_token_for_client([f"{GRAPH}/.default"])["access_token"],
            options={"verify_signature": False},
        )["tid"]
        for a in apps
    ]
    assert tids == [first.tenant_id, second.tenant_id]
