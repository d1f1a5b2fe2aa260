"""The console's buildings and rooms, API tokens and settings audit over real HTTP: search,
a room's page (fields hidden from occupants marked, the day's calendar), excluding a room
from the import so that the next import leaves it out, tokens shown once and revoked,
every bad input answered next to its field (never a 500) and cross-site posts refused.
On SQLite and PostgreSQL."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from graphsim import Simulator
from roomsync.platform.db import Database
from roomsync.platform.enums import ChangeSource, Role, SyncRunTrigger
from roomsync.platform.models import Resource
from roomsync.platform.services.bookings import create_booking
from roomsync.platform.services.resources import update_resource
from roomsync.sync.context import SyncContext
from roomsync.sync.rooms.workflow import sync_rooms
from tests.sync.rooms_testkit import connect, context, tenant
from tests.web.signin_testkit import serving
from tests.web.tenants import ADMIN_TOKEN
from tests.web.test_admin_pages import csrf_of, signed_in

pytestmark = pytest.mark.slow


@dataclass(frozen=True)
class Console:
    url: str
    ctx: SyncContext
    sim: Simulator
    organization_id: uuid.UUID
    integration_id: uuid.UUID


@pytest.fixture
def site(database: Database, factory: Any) -> Iterator[Console]:
    sim = tenant(rooms=6, room_lists=2)
    organization_id = factory.organization("Acme")
    ctx = context(database, sim)
    integration_id = connect(ctx, sim, organization_id)
    sync_rooms(ctx, integration_id, trigger=SyncRunTrigger.MANUAL)
    try:
        with serving(database, ctx) as url:
            yield Console(url, ctx, sim, organization_id, integration_id)
    finally:
        ctx.close()


def rooms(site: Console) -> list[Resource]:
    with site.ctx.database.session() as session:
        found = list(session.scalars(select(Resource).order_by(Resource.email)))
        session.expunge_all()
        return found


def test_the_rooms_list_finds_a_room_by_name_or_email(site: Console) -> None:
    target = rooms(site)[2]
    with signed_in(site) as client:
        everything = client.get("/admin/rooms")
        found = client.get("/admin/rooms", params={"q": (target.email or "").upper()})
    assert everything.status_code == found.status_code == 200
    assert all(room.name in everything.text for room in rooms(site))
    assert target.name in found.text
    others = [room for room in rooms(site) if room.id != target.id]
    assert all(f"/admin/rooms/{room.id}" not in found.text for room in others)


def test_the_buildings_list_counts_rooms_and_leads_to_them(site: Console) -> None:
    with signed_in(site) as client:
        page = client.get("/admin/buildings")
        building_link = re.search(r'href="(/admin/rooms\?building_id=[0-9a-f-]+)"', page.text)
        assert building_link, page.text
        in_building = client.get(building_link.group(1))
    assert page.status_code == in_building.status_code == 200
    assert "Rooms in " in in_building.text
    assert in_building.text.count('href="/admin/rooms/') == 3


def test_a_room_page_marks_hidden_fields_and_shows_the_days_bookings(site: Console) -> None:
    room = rooms(site)[0]
    with site.ctx.database.session() as session:
        update_resource(session, resource_id=room.id, hidden_fields=["capacity"])
    start = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(days=1)
    with site.ctx.database.session() as session:
        create_booking(
            session, organization_id=site.organization_id, resource_id=room.id,
            organizer_email="ann@acme.test", title="Board review",
            start=start, end=start + timedelta(hours=1), source=ChangeSource.MICROSOFT365,
        )  # fmt: skip
    with signed_in(site) as client:
        page = client.get(f"/admin/rooms/{room.id}", params={"date": start.date().isoformat()})
    assert page.status_code == 200, page.text
    capacity_row = re.search(r"<th scope=\"row\">Capacity</th><td[^>]*>(.*?)</td>", page.text)
    assert capacity_row
    assert "hidden" in capacity_row.group(1)
    floor_row = re.search(r"<th scope=\"row\">Floor</th><td[^>]*>(.*?)</td>", page.text)
    assert floor_row
    assert "hidden" not in floor_row.group(1)
    assert "Board review" in page.text
    assert len(page.content) < 100_000


def test_an_excluded_room_stays_excluded_after_the_next_import(site: Console) -> None:
    room = rooms(site)[1]
    with signed_in(site) as client:
        token = csrf_of(client.get(f"/admin/rooms/{room.id}").text)
        answer = client.post(
            f"/admin/rooms/{room.id}/exclusion", data={"excluded": "true", "csrf": token}
        )
        assert answer.status_code == 303
        sync_rooms(site.ctx, site.integration_id, trigger=SyncRunTrigger.MANUAL)
        page = client.get(answer.headers["location"])
    after = next(r for r in rooms(site) if r.id == room.id)
    assert (after.excluded_from_import, after.active) == (True, False)
    assert "excluded from the import" in page.text
    assert "Include in the import again" in page.text


def test_the_api_sets_and_shows_the_exclusion_to_admins_only(site: Console) -> None:
    room = rooms(site)[3]
    admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    with httpx.Client(base_url=f"{site.url}/api/v1", timeout=30, headers=admin) as api:
        changed = api.patch(f"resources/{room.id}", json={"excluded_from_import": True})
        refused = api.patch(f"resources/{room.id}", json={"active": True})
    assert changed.status_code == 200, changed.text
    assert (changed.json()["excluded_from_import"], changed.json()["active"]) == (True, False)
    assert refused.status_code == 422
    assert refused.json()["error"]["details"][0]["field"] == "active"


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/admin/rooms", {"cursor": "not-a-cursor"}),
        ("/admin/rooms", {"building_id": "nope"}),
        ("/admin/buildings", {"cursor": "zzz"}),
        ("/admin/rooms/{room}", {"date": "2026-13-45"}),
        ("/admin/integrations/{integration}", {"rooms_page": "-3", "rooms_sort": "bogus"}),
    ],
)
def test_bad_query_values_are_answered_on_the_page_not_with_a_500(
    site: Console, path: str, params: dict[str, str]
) -> None:
    url = path.format(room=rooms(site)[0].id, integration=site.integration_id)
    with signed_in(site) as client:
        answer = client.get(url, params=params)
    assert answer.status_code in (200, 422), answer.text
    assert answer.headers["content-type"].startswith("text/html")
    if answer.status_code == 422:
        assert 'class="error"' in answer.text


def test_a_token_is_shown_once_then_revoked(site: Console) -> None:
    with signed_in(site) as client:
        token = csrf_of(client.get("/admin/tokens").text)
        made = client.post("/admin/tokens", data={
            "csrf": token, "name": "Lobby tool", "role": "admin",
            "organization_id": str(site.organization_id),
        })  # fmt: skip
        assert made.status_code == 201, made.text
        secret = re.search(r'<code id="new-token">(rs_[^<]+)</code>', made.text)
        assert secret
        bearer = {"Authorization": f"Bearer {secret.group(1)}"}
        assert client.get("/api/v1/me", headers=bearer).status_code == 200
        listed = client.get("/admin/tokens")
        assert secret.group(1) not in listed.text
        revoke = re.search(r'action="(/admin/tokens/[0-9a-f-]+/revoke)"', listed.text)
        assert revoke
        revoked = client.post(revoke.group(1), data={"csrf": token})
        assert revoked.status_code == 303
        assert client.get("/api/v1/me", headers=bearer).status_code == 401
        assert "revoked" in client.get(revoked.headers["location"]).text


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"name": "", "role": "admin"}, "name"),
        ({"name": "Tool", "role": "wizard"}, "role"),
        ({"name": "Tool", "role": "occupant", "user": "not an email"}, "user"),
        ({"name": "Tool", "role": "occupant"}, "user"),
        ({"name": "Screen", "role": "display", "resource_id": "room 4"}, "resource_id"),
        ({"name": "Tool", "role": "admin", "organization_id": ""}, "organization_id"),
    ],
)
def test_a_refused_token_form_says_why_next_to_the_field_and_keeps_what_was_typed(
    site: Console, fields: dict[str, str], field: str
) -> None:
    organization = {"organization_id": str(site.organization_id)}
    with signed_in(site) as client:
        token = csrf_of(client.get("/admin/tokens").text)
        answer = client.post("/admin/tokens", data={**organization, **fields, "csrf": token})
    assert answer.status_code == 422, answer.text
    assert f'id="{field}-error"' in answer.text
    if fields.get("user"):
        assert f'value="{fields["user"]}"' in answer.text
    assert "rs_" not in answer.text.split("Tokens</h2>")[0]


def test_cross_site_posts_to_the_console_are_refused(site: Console) -> None:
    room = rooms(site)[0]
    with signed_in(site) as client:
        token = csrf_of(client.get("/admin/tokens").text)
        evil = {"Origin": "https://evil.example"}
        for path, data in (
            (f"/admin/rooms/{room.id}/exclusion", {"excluded": "true"}),
            ("/admin/tokens", {"name": "x", "role": "admin"}),
        ):
            assert client.post(path, data={**data, "csrf": token}, headers=evil).status_code == 403
            assert client.post(path, data={**data, "csrf": "0" * 64}).status_code == 403
    assert next(r for r in rooms(site) if r.id == room.id).active is True


def test_settings_changes_are_audited_by_field_never_by_value(site: Console) -> None:
    admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    new_secret = "a-brand-new-secret-value-xyz"
    with httpx.Client(base_url=site.url, timeout=30, headers=admin) as api:
        changed = api.patch(
            f"/api/v1/integrations/{site.integration_id}",
            json={"client_secret": new_secret, "client_secret_expires_at": "2027-06-01",
                  "time_zone": "Europe/Paris"},
        )  # fmt: skip
        assert changed.status_code == 200, changed.text
        again = api.patch(
            f"/api/v1/integrations/{site.integration_id}", json={"time_zone": "Europe/Paris"}
        )
        assert again.status_code == 200
        log = api.get(f"/api/v1/integrations/{site.integration_id}/audit")
    assert log.status_code == 200, log.text
    entries = log.json()["items"]
    assert len(entries) == 1  # saving the same value again changes nothing
    assert entries[0]["actor"] == "ROOMSYNC_ADMIN_TOKEN"
    assert entries[0]["action"] == "updated"
    assert entries[0]["fields"] == ["client_secret", "client_secret_expires_at", "time_zone"]
    assert new_secret not in log.text
    with signed_in(site) as client:
        dashboard = client.get(f"/admin/integrations/{site.integration_id}")
    assert "client secret expires at" in dashboard.text
    assert new_secret not in dashboard.text


def test_the_audit_is_for_admins_only(site: Console, factory: Any) -> None:
    occupant = {"Authorization": f"Bearer {factory.token(site.organization_id, Role.OCCUPANT)}"}
    with httpx.Client(base_url=site.url, timeout=30, headers=occupant) as api:
        answer = api.get(f"/api/v1/integrations/{site.integration_id}/audit")
    assert answer.status_code == 403


def test_the_api_searches_rooms_and_buildings_by_name(site: Console) -> None:
    target = rooms(site)[4]
    admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    with httpx.Client(base_url=f"{site.url}/api/v1", timeout=30, headers=admin) as api:
        found = api.get("resources", params={"search": target.name.upper()}).json()["items"]
        buildings = api.get("buildings", params={"search": "zzz-none"}).json()["items"]
        everything = api.get("buildings").json()["items"]
    assert [room["id"] for room in found] == [str(target.id)]
    assert buildings == []
    assert len(everything) == 2
