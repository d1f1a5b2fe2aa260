"""The id_token check roomsync makes itself, against graphsim's published keys: only a
token the tenant signed, for this app, this flow and this moment, names a person."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from graphsim import Simulator
from roomsync.m365.clouds import CloudEndpoints
from roomsync.m365.exceptions import SignInFailed
from roomsync.m365.jwks import SigningKeys
from roomsync.web.auth.id_token import Expected, verify_id_token
from tests.sync.rooms_testkit import LOGIN_URL, tenant

NONCE = "flow-nonce-0123456789"
CLOUD = CloudEndpoints(login_url=LOGIN_URL, graph_url="https://graph.microsoft.com")


class Ticking:
    """A monotonic clock the test moves."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def sim() -> Iterator[Simulator]:
    with tenant(rooms=1, room_lists=1) as simulator:
        yield simulator


@pytest.fixture
def key_requests() -> list[str]:
    return []


@pytest.fixture
def ticking() -> Ticking:
    return Ticking()


@pytest.fixture
def keys(sim: Simulator, key_requests: list[str], ticking: Ticking) -> Iterator[SigningKeys]:
    inner = sim.transport()

    def counted(request: httpx.Request) -> httpx.Response:
        key_requests.append(str(request.url))
        return inner.handle_request(request)

    with httpx.Client(transport=httpx.MockTransport(counted)) as http:
        yield SigningKeys(http=http, cloud=CLOUD, monotonic=ticking)


def expected(sim: Simulator) -> Expected:
    return Expected(sim.tenant_id, sim.credentials.client_id, NONCE)


def claims(sim: Simulator, **changes: Any) -> dict[str, Any]:
    now = int(time.time())
    values = {
        "iss": f"{LOGIN_URL}/{sim.tenant_id}/v2.0",
        "aud": sim.credentials.client_id,
        "iat": now,
        "nbf": now,
        "exp": now + 3600,
        "tid": sim.tenant_id,
        "oid": "00000000-0000-0000-0000-0000000000aa",
        "sub": "pairwise",
        "nonce": hashlib.sha256(NONCE.encode()).hexdigest(),
        "name": "Adele Vance",
        "email": "AdeleV@contoso.onmicrosoft.com",
    }
    return values | changes


def signed(sim: Simulator, **changes: Any) -> str:
    return sim.core.identity.sign(claims(sim, **changes), x5t=False)


def test_a_token_the_tenant_signed_for_this_flow_names_the_person(
    sim: Simulator, keys: SigningKeys
) -> None:
    identity = verify_id_token(
        signed(sim, roles=["Roomsync.Admin"]), expected(sim), keys=keys, cloud=CLOUD
    )

    assert identity.email == "adelev@contoso.onmicrosoft.com"
    assert (identity.name, identity.tenant_id) == ("Adele Vance", sim.tenant_id)
    assert identity.is_admin


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        # Times relative to when the test runs, not to when it was collected.
        ({"exp": -600}, "expired"),
        ({"nbf": +600}, "not valid yet"),
        ({"aud": "11111111-2222-3333-4444-555555555555"}, "another application"),
        ({"iss": f"{LOGIN_URL}/99999999-0000-0000-0000-000000000000/v2.0"}, "another tenant"),
        ({"nonce": "someone-elses"}, "nonce"),
        ({"tid": "99999999-0000-0000-0000-000000000000"}, "tenant"),
        ({"oid": None}, "oid"),
        ({"email": None, "preferred_username": None}, "no email address"),
    ],
)
def test_a_token_that_is_not_for_this_sign_in_is_refused(
    sim: Simulator, keys: SigningKeys, changes: dict[str, Any], words: str
) -> None:
    now = int(time.time())
    changes = {k: now + v if k in {"exp", "nbf"} else v for k, v in changes.items()}
    present = {k: v for k, v in claims(sim, **changes).items() if v is not None}
    token = sim.core.identity.sign(present, x5t=False)

    with pytest.raises(SignInFailed, match=words):
        verify_id_token(token, expected(sim), keys=keys, cloud=CLOUD)


def test_a_token_signed_with_another_key_under_the_tenants_kid_is_forged(
    sim: Simulator, keys: SigningKeys
) -> None:
    own_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged = jwt.encode(
        claims(sim), own_key, algorithm="RS256", headers={"kid": sim.core.identity.kid}
    )

    with pytest.raises(SignInFailed, match="signature is not the tenant's"):
        verify_id_token(forged, expected(sim), keys=keys, cloud=CLOUD)


def test_an_unsigned_or_unreadable_token_is_refused(sim: Simulator, keys: SigningKeys) -> None:
    unsigned = jwt.encode(claims(sim), key=None, algorithm="none")

    with pytest.raises(SignInFailed, match="RS256"):
        verify_id_token(unsigned, expected(sim), keys=keys, cloud=CLOUD)
    with pytest.raises(SignInFailed, match="not a JSON Web Token"):
        verify_id_token("not-a-token", expected(sim), keys=keys, cloud=CLOUD)


def test_keys_are_cached_and_refetched_for_an_unknown_kid_at_most_once_a_minute(
    sim: Simulator, keys: SigningKeys, key_requests: list[str], ticking: Ticking
) -> None:
    verify_id_token(signed(sim), expected(sim), keys=keys, cloud=CLOUD)
    verify_id_token(signed(sim), expected(sim), keys=keys, cloud=CLOUD)
    assert len(key_requests) == 1
    assert key_requests[0] == f"{LOGIN_URL}/{sim.tenant_id}/discovery/v2.0/keys"

    with pytest.raises(SignInFailed, match="does not publish"):
        keys.key(sim.tenant_id, "rolled-key")
    assert len(key_requests) == 1  # fetched a moment ago: no refetch yet
    ticking.now += 61
    with pytest.raises(SignInFailed, match="does not publish"):
        keys.key(sim.tenant_id, "rolled-key")
    assert len(key_requests) == 2
