"""People sign in through their organization's own Entra app (graphsim plays Entra ID,
msal runs unchanged), get a server-side session, and ``GET /api/v1/me`` names them;
every bad answer is a clear refusal that opens no session."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urljoin

import httpx
import pytest
from sqlalchemy import func, select

from graphsim import Simulator
from roomsync.platform.db import Database
from roomsync.platform.enums import Role
from roomsync.platform.models import BookingHistory, SignInSession, User
from roomsync.sync.push.workflow import push_booking
from roomsync.web.auth.id_token import Identity
from roomsync.web.auth.signin import organization_of
from roomsync.web.exceptions import SignInRefusedError
from tests.graphsim.graphsim_testkit import fast_options
from tests.graphsim.signin_testkit import LOGIN, person, submit
from tests.sync.rooms_testkit import connect, context, room_lists, tenant
from tests.web.signin_testkit import (
    COOKIE,
    Site,
    alert,
    answer_form,
    browser,
    free_port,
    login,
    serving,
    sign_in,
)
from tests.web.tenants import ADMIN_TOKEN


@pytest.fixture
def sim() -> Iterator[Simulator]:
    with tenant() as simulator:
        yield simulator


@pytest.fixture
def site(database: Database, sim: Simulator, factory: Any) -> Iterator[Site]:
    organization_id = factory.organization("Acme")
    ctx = context(database, sim)
    connect(ctx, sim, organization_id)
    try:
        with serving(database, ctx) as url:
            yield Site(url, organization_id)
    finally:
        ctx.close()


@pytest.fixture
def client(sim: Simulator) -> Iterator[httpx.Client]:
    with browser(sim) as http:
        yield http


def sessions(database: Database) -> int:
    with database.session() as session:
        return int(session.scalar(select(func.count()).select_from(SignInSession)) or 0)


def me(client: httpx.Client, site: Site) -> httpx.Response:
    return client.get(f"{site.url}/api/v1/me")


def test_a_person_signs_in_and_me_names_them_as_an_occupant(
    client: httpx.Client, site: Site, sim: Simulator, database: Database
) -> None:
    email, password = person(sim)
    done = sign_in(client, site.url, email, password, next="/bookings?mine=1")

    assert done.status_code == 303, done.text
    assert done.headers["location"] == "/bookings?mine=1"
    cookie = done.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE}=")
    assert "httponly" in cookie.lower()
    assert "samesite=lax" in cookie.lower()
    assert "secure" not in cookie.lower()  # ROOMSYNC_PUBLIC_URL is http here
    answered = me(client, site)
    assert answered.status_code == 200, answered.text
    user = sim.tenant.find_user(email)
    assert user is not None
    assert answered.json() == {
        "email": email,
        "name": user.display_name,
        "organization_id": str(site.organization_id),
        "role": "occupant",
        "via": "session",
    }
    with database.session() as session:
        stored = session.scalars(select(User).where(User.email == email)).one()
        assert (stored.directory_id, stored.name) == (user.id, user.display_name)


def test_the_holder_of_the_admin_app_role_is_an_admin(
    client: httpx.Client, site: Site, sim: Simulator
) -> None:
    email, password = person(sim)
    sim.signin.assign(email, "Roomsync.Admin")
    sign_in(client, site.url, email, password)

    assert me(client, site).json()["role"] == "admin"


def test_signing_in_twice_keeps_one_user_row(
    client: httpx.Client, site: Site, sim: Simulator, database: Database
) -> None:
    email, password = person(sim)
    sign_in(client, site.url, email, password)
    sign_in(client, site.url, email, password)

    with database.session() as session:
        assert session.scalar(select(func.count()).where(User.email == email)) == 1
    assert sessions(database) == 2


def test_organization_by_id_works_like_the_email_domain(
    client: httpx.Client, site: Site, sim: Simulator
) -> None:
    email, password = person(sim)
    started = login(client, site.url, organization=str(site.organization_id))
    auth_uri = started.headers["location"]
    action, fields = answer_form(submit(client, auth_uri, email, password))
    client.post(urljoin(auth_uri, action), data=fields)

    assert me(client, site).json()["email"] == email


def test_logout_revokes_the_session(client: httpx.Client, site: Site, sim: Simulator) -> None:
    email, password = person(sim)
    done = sign_in(client, site.url, email, password)
    value = done.cookies[COOKIE]
    out = client.post(f"{site.url}/auth/logout", headers={"Origin": site.url})

    assert out.status_code == 303
    again = httpx.get(f"{site.url}/api/v1/me", cookies={COOKIE: value})
    assert again.status_code == 401
    assert "sign in again" in again.json()["error"]["message"]


def test_a_cross_site_post_with_the_session_cookie_is_refused(
    client: httpx.Client, site: Site, sim: Simulator
) -> None:
    email, password = person(sim)
    sign_in(client, site.url, email, password)
    forged = client.post(
        f"{site.url}/auth/logout",
        headers={"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"},
    )
    no_origin = client.post(f"{site.url}/auth/logout")

    assert forged.status_code == no_origin.status_code == 403
    assert forged.json()["error"]["code"] == "cross_site_request"
    assert me(client, site).status_code == 200


def test_bearer_tokens_still_answer_me(site: Site, factory: Any) -> None:
    token = factory.token(site.organization_id, Role.OCCUPANT)
    answered = httpx.get(f"{site.url}/api/v1/me", headers={"Authorization": f"Bearer {token}"})

    assert answered.status_code == 200
    body = answered.json()
    assert (body["via"], body["role"], body["organization_id"]) == (
        "token",
        "occupant",
        str(site.organization_id),
    )


# --- Refusals: each a clear 4xx page or answer, none a session ----------------------------


def started_auth_uri(client: httpx.Client, site: Site, email: str) -> str:
    started = login(client, site.url, login_hint=email)
    assert started.status_code == 302, started.text
    return str(started.headers["location"])


def test_an_error_answer_from_entra_is_shown_and_opens_no_session(
    client: httpx.Client, site: Site, sim: Simulator, database: Database
) -> None:
    sim.signin.require_assignment()
    email, password = person(sim)
    auth_uri = started_auth_uri(client, site, email)
    action, fields = answer_form(submit(client, auth_uri, email, password))
    refused = client.post(urljoin(auth_uri, action), data=fields)

    assert fields["error"] == "access_denied"
    assert refused.status_code == 400
    assert "AADSTS50105" in alert(refused)
    assert COOKIE not in refused.cookies
    assert sessions(database) == 0


def test_a_replayed_answer_is_refused(
    client: httpx.Client, site: Site, sim: Simulator, database: Database
) -> None:
    email, password = person(sim)
    auth_uri = started_auth_uri(client, site, email)
    action, fields = answer_form(submit(client, auth_uri, email, password))
    first = client.post(urljoin(auth_uri, action), data=fields)
    replay = httpx.post(urljoin(auth_uri, action), data=fields)

    assert first.status_code == 303
    assert replay.status_code == 400
    assert "used already" in alert(replay)
    assert sessions(database) == 1


def test_an_answer_with_another_state_is_refused(
    client: httpx.Client, site: Site, sim: Simulator, database: Database
) -> None:
    email, password = person(sim)
    auth_uri = started_auth_uri(client, site, email)
    action, fields = answer_form(submit(client, auth_uri, email, password))
    forged = client.post(urljoin(auth_uri, action), data=fields | {"state": "attacker-state"})
    stateless = client.get(f"{site.url}/auth/callback", params={"code": fields["code"]})

    assert forged.status_code == stateless.status_code == 400
    assert "matches no sign-in" in alert(forged)
    assert "no state" in alert(stateless)
    assert sessions(database) == 0


def test_an_email_at_a_domain_no_organization_uses_is_403(client: httpx.Client, site: Site) -> None:
    refused = login(client, site.url, login_hint="someone@fabrikam.example")

    assert refused.status_code == 403
    assert "fabrikam.example" in alert(refused)


@pytest.mark.parametrize(
    ("query", "status", "words"),
    [
        ({"login_hint": " "}, 422, "Enter your work email"),
        ({"organization": "not-an-id"}, 400, "not an organization id"),
        ({"organization": "018f0000-0000-7000-8000-000000000000"}, 404, "does not exist"),
    ],
)
def test_a_login_that_names_no_known_organization_says_so(
    client: httpx.Client, site: Site, query: dict[str, str], status: int, words: str
) -> None:
    refused = login(client, site.url, **query)

    assert refused.status_code == status
    assert words in alert(refused)


def test_a_login_that_says_nothing_asks_for_the_work_email_and_keeps_the_target(
    client: httpx.Client, site: Site
) -> None:
    page = login(client, site.url, next="/admin")

    assert page.status_code == 200
    assert '<label for="login_hint">Work email</label>' in page.text
    assert '<input type="hidden" name="next" value="/admin">' in page.text
    assert "location" not in page.headers


@pytest.mark.parametrize(
    "target",
    ["https://evil.example/", "//evil.example/x", "/\\evil.example", "evil", "javascript:x"],
)
def test_next_must_be_a_path_on_this_site(
    client: httpx.Client, site: Site, sim: Simulator, target: str
) -> None:
    email, _ = person(sim)
    refused = login(client, site.url, login_hint=email, next=target)

    assert refused.status_code == 400
    assert "location" not in refused.headers
    assert "next must be a path on this site" in alert(refused)


def test_me_without_cookie_or_token_is_401(site: Site) -> None:
    answered = httpx.get(f"{site.url}/api/v1/me")

    assert answered.status_code == 401
    assert answered.json()["error"]["code"]


class MovableClock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


@dataclass(frozen=True)
class Lifetime:
    settings: dict[str, float]
    activity: list[timedelta]
    then: timedelta
    status: int


@pytest.mark.parametrize(
    "case",
    [
        Lifetime({"session_idle_minutes": 30}, [timedelta(minutes=20)], timedelta(minutes=20), 200),
        Lifetime({"session_idle_minutes": 30}, [], timedelta(minutes=31), 401),
        Lifetime(
            {"session_idle_minutes": 600, "session_max_hours": 1},
            [timedelta(minutes=25), timedelta(minutes=25)],
            timedelta(minutes=11),
            401,
        ),
    ],
    ids=["used-within-idle-lifetime", "idle-too-long", "older-than-max"],
)
def test_a_session_ends_when_idle_too_long_or_too_old(
    database: Database, sim: Simulator, factory: Any, case: Lifetime
) -> None:
    clock = MovableClock()
    database.clock = clock
    ctx = context(database, sim, clock=clock)
    connect(ctx, sim, factory.organization("Acme"))
    with serving(database, ctx, **case.settings) as url, browser(sim) as client:
        sign_in(client, url, *person(sim))
        for pause in case.activity:
            clock.now += pause
            assert client.get(f"{url}/api/v1/me").status_code == 200
        clock.now += case.then
        answered = client.get(f"{url}/api/v1/me")
    ctx.close()

    assert answered.status_code == case.status, answered.text


def test_organizations_sharing_a_tenant_and_app_are_told_apart_by_name(
    client: httpx.Client, site: Site, sim: Simulator, factory: Any, database: Database
) -> None:
    other = factory.organization("Acme Labs")
    ctx = context(database, sim)
    connect(ctx, sim, other)
    ctx.close()
    email, password = person(sim)
    ambiguous = login(client, site.url, login_hint=email)
    named = sign_in(client, site.url, email, password, organization=str(other))

    assert ambiguous.status_code == 409
    assert "organization=" in alert(ambiguous)
    assert named.status_code == 303, named.text
    assert me(client, site).json()["organization_id"] == str(other)


def test_the_cookie_is_secure_when_the_public_url_is_https(
    database: Database, sim: Simulator, factory: Any
) -> None:
    ctx = context(database, sim)
    connect(ctx, sim, factory.organization("Acme"))
    port = free_port()
    public = f"https://127.0.0.1:{port}"
    sim.signin.add_redirect_uri(f"{public}/auth/callback")
    email, password = person(sim)
    with serving(database, ctx, port=port, public_url=public) as url, browser(sim) as client:
        auth_uri = login(client, url, login_hint=email).headers["location"]
        _, fields = answer_form(submit(client, auth_uri, email, password))
        done = client.post(f"{url}/auth/callback", data=fields)
    ctx.close()

    assert done.status_code == 303, done.text
    assert "secure" in done.headers["set-cookie"].lower()


@pytest.mark.parametrize("named", [False, True])
def test_a_verified_person_of_a_tenant_no_organization_uses_is_403(
    database: Database, site: Site, sim: Simulator, named: bool
) -> None:
    stranger = Identity(
        tenant_id="99999999-0000-0000-0000-000000000000",
        client_id=sim.credentials.client_id,
        object_id="00000000-0000-0000-0000-0000000000bb",
        email="someone@fabrikam.example",
        name="Someone",
        roles=(),
    )
    with database.session() as session, pytest.raises(SignInRefusedError) as refused:
        organization_of(session, stranger, named=site.organization_id if named else None)

    assert refused.value.http_status == 403
    assert stranger.tenant_id in refused.value.message


# --- A session is the person across the whole API ----------------------------------------


def room_of(factory: Any, organization_id: Any, name: str = "Board") -> str:
    return str(factory.room(factory.building(organization_id), name=name))


def test_a_session_books_as_its_person_and_only_as_them(
    client: httpx.Client, site: Site, sim: Simulator, factory: Any
) -> None:
    email, password = person(sim)
    sign_in(client, site.url, email, password)
    room = room_of(factory, site.organization_id)
    body = {
        "resource_id": room,
        "title": "1:1",
        "start": "2030-01-07T09:00:00Z",
        "end": "2030-01-07T10:00:00Z",
    }
    same_site = {"Origin": site.url, "Sec-Fetch-Site": "same-origin"}
    as_other = client.post(
        f"{site.url}/api/v1/bookings",
        json=body | {"organizer_email": "someone.else@example.com"},
        headers=same_site,
    )
    own = client.post(f"{site.url}/api/v1/bookings", json=body, headers=same_site)
    forged = client.post(
        f"{site.url}/api/v1/bookings",
        json=body | {"start": "2030-01-07T11:00:00Z", "end": "2030-01-07T12:00:00Z"},
        headers={"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"},
    )

    assert as_other.status_code == 403, as_other.text
    assert [d["field"] for d in as_other.json()["error"]["details"]] == ["organizer_email"]
    assert own.status_code == 201, own.text
    assert own.json()["organizer_email"] == email
    assert forged.status_code == 403
    assert forged.json()["error"]["code"] == "cross_site_request"


def test_a_session_of_one_organization_cannot_reach_anothers_data(
    client: httpx.Client, site: Site, sim: Simulator, factory: Any
) -> None:
    email, password = person(sim)
    sign_in(client, site.url, email, password)
    other_room = room_of(factory, factory.organization("Globex"))
    own_room = room_of(factory, site.organization_id)

    theirs = client.get(f"{site.url}/api/v1/resources/{other_room}")
    listed = client.get(f"{site.url}/api/v1/resources")

    assert theirs.status_code == 403
    assert [item["id"] for item in listed.json()["items"]] == [own_room]


def test_an_address_on_the_admin_emails_list_signs_in_as_an_admin(
    client: httpx.Client, site: Site, sim: Simulator
) -> None:
    email, password = person(sim)
    listed = httpx.patch(
        f"{site.url}/api/v1/organizations/{site.organization_id}",
        json={"admin_emails": [email.upper()]},
        headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
    )
    assert listed.status_code == 200, listed.text
    sign_in(client, site.url, email, password)

    assert me(client, site).json()["role"] == "admin"


def test_a_signed_in_admin_books_on_behalf_and_the_meeting_lands_in_that_persons_mailbox(
    client: httpx.Client, sim: Simulator, database: Database, factory: Any
) -> None:
    admin_email, password = person(sim)
    sim.signin.assign(admin_email, "Roomsync.Admin")
    colleague = next(
        u["email"] for u in sim.config(LOGIN)["users"] if u["email"] not in (admin_email,)
        and u["email"].startswith("user")
    )  # fmt: skip
    room_email = next(iter(room_lists(sim).values()))[0]
    organization_id = factory.organization("Acme")
    room = factory.room(factory.building(organization_id), name="Board", email=room_email)
    ctx = context(database, sim)
    connect(ctx, sim, organization_id)
    try:
        with serving(database, ctx) as url:
            sign_in(client, url, admin_email, password)
            booked = client.post(
                f"{url}/api/v1/bookings",
                json={
                    "resource_id": str(room),
                    "organizer_email": colleague,
                    "title": "Booked for a colleague",
                    "start": "2030-01-07T09:00:00Z",
                    "end": "2030-01-07T10:00:00Z",
                },
                headers={"Origin": url},
            )
            assert booked.status_code == 201, booked.text
            outcome = push_booking(ctx, uuid.UUID(booked.json()["id"]))
    finally:
        ctx.close()

    assert outcome is not None
    subjects = [event["subject"] for event in sim.events(colleague)]
    assert "Booked for a colleague" in subjects
    assert "Booked for a colleague" not in [e["subject"] for e in sim.events(admin_email)]
    with database.session() as session:
        entry = session.scalars(
            select(BookingHistory).where(
                BookingHistory.booking_id == uuid.UUID(booked.json()["id"])
            )
        ).first()
        assert entry is not None
        assert entry.data["actor"] == admin_email


def test_two_organizations_on_two_tenants_sign_in_separately_and_see_only_their_own(
    database: Database, factory: Any
) -> None:
    """Two emulated tenants (one roomsync server per tenant, as each in-process tenant
    is reached through its own transport, over one database)."""
    seen = {}
    second = Simulator(options=fast_options(seed=8))  # another seed: another tenant id
    second.seed(rooms=2, room_lists=1, users=2, events_per_room=0, recurring_series=0)
    with tenant() as first, second:
        for name, sim in (("Acme", first), ("Globex", second)):
            organization_id = factory.organization(name)
            room = room_of(factory, organization_id, name=f"{name} room")
            ctx = context(database, sim)
            connect(ctx, sim, organization_id)
            try:
                with serving(database, ctx) as url, browser(sim) as http:
                    email, password = person(sim)
                    # both emulated tenants use one domain, so the sign-in names the organization
                    sign_in(http, url, email, password, organization=str(organization_id))
                    who = http.get(f"{url}/api/v1/me").json()
                    rooms = http.get(f"{url}/api/v1/resources").json()["items"]
                    seen[name] = (who["organization_id"], [r["id"] for r in rooms], room)
                    assert who["organization_id"] == str(organization_id)
            finally:
                ctx.close()
    assert first.tenant_id != second.tenant_id
    assert seen["Acme"][0] != seen["Globex"][0]
    for _, rooms, room in seen.values():
        assert rooms == [room]
