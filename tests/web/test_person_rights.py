"""Every person acts as themselves: an occupant books, moves and cancels only as the
person their token (or session) is bound to; admins book on someone's behalf (the history
says who acted); unbound occupant tokens are refused with the command that replaces them;
tokens are listed and revoked over the API; a display token reads only its resource."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from roomsync.platform.db import Database
from roomsync.platform.enums import HistoryKind, Role
from roomsync.platform.exceptions import PermissionDeniedError
from roomsync.platform.models import ApiToken, BookingHistory
from roomsync.platform.services.sessions import check_form_token, find_session, open_session
from roomsync.platform.services.tokens import hash_token
from roomsync.platform.services.users import create_user
from tests.sync.rooms_testkit import settings
from tests.web.tenants import (
    COLLEAGUE,
    ORGANIZER,
    SUPER_ADMIN,
    Tenant,
    bearer,
    booking_json,
)


def test_an_occupant_books_only_as_themselves(api: httpx.Client, tenant: Tenant) -> None:
    as_other = booking_json(tenant.room_id, organizer_email=COLLEAGUE)
    refused = api.post("bookings", json=as_other, headers=tenant.occupant)
    own = {k: v for k, v in booking_json(tenant.room_id).items() if k != "organizer_email"}
    booked = api.post("bookings", json=own, headers=tenant.occupant)

    assert refused.status_code == 403, refused.text
    assert [d["field"] for d in refused.json()["error"]["details"]] == ["organizer_email"]
    assert booked.status_code == 201, booked.text
    assert booked.json()["organizer_email"] == ORGANIZER


def test_an_occupant_can_neither_move_nor_cancel_someone_elses_booking(
    api: httpx.Client, tenant: Tenant
) -> None:
    booking = api.post("bookings", json=booking_json(tenant.room_id), headers=tenant.occupant)
    url = f"bookings/{booking.json()['id']}"
    moved = api.patch(url, json={"end": "2030-01-07T11:00:00Z"}, headers=tenant.colleague)
    cancelled = api.delete(url, headers=tenant.colleague)
    read = api.get(url, headers=tenant.colleague)

    assert (moved.status_code, cancelled.status_code) == (403, 403)
    assert read.json()["status"] != "cancelled"
    assert read.json()["end"] == "2030-01-07T10:00:00Z"
    assert api.delete(url, headers=tenant.occupant).status_code == 200


def created_entry(database: Database, booking_id: str) -> dict[str, Any]:
    with database.session() as session:
        entry = session.scalars(
            select(BookingHistory).where(
                BookingHistory.booking_id == uuid.UUID(booking_id),
                BookingHistory.kind == HistoryKind.CREATED,
            )
        ).one()
        return dict(entry.data)


def test_an_admin_books_on_behalf_and_the_history_says_who_acted(
    api: httpx.Client, tenant: Tenant, database: Database
) -> None:
    on_behalf = api.post("bookings", json=booking_json(tenant.room_id), headers=tenant.admin)
    later = booking_json(tenant.room_id, "2030-01-07T11:00:00Z", "2030-01-07T12:00:00Z")
    own = api.post("bookings", json=later, headers=tenant.occupant)

    assert on_behalf.status_code == own.status_code == 201, (on_behalf.text, own.text)
    assert on_behalf.json()["organizer_email"] == ORGANIZER
    assert created_entry(database, on_behalf.json()["id"])["actor"].startswith("api token ")
    assert "actor" not in created_entry(database, own.json()["id"])


def test_an_unbound_occupant_token_is_401_naming_the_replacement_command(
    api: httpx.Client, tenant: Tenant, database: Database
) -> None:
    secret = "rs_an-old-occupant-token-from-before-people"
    with database.session() as session:
        session.add(
            ApiToken(
                organization_id=tenant.organization_id,
                name="old kiosk",
                role=Role.OCCUPANT,
                token_hash=hash_token(secret),
                token_prefix=secret[:9],
            )
        )
    answered = api.get("resources", headers=bearer(secret))

    assert answered.status_code == 401
    message = answered.json()["error"]["message"]
    assert (
        f"roomsync token create --organization {tenant.organization_id} --role occupant "
        "--user EMAIL" in message
    )


def test_admins_list_and_revoke_tokens_and_a_revoked_token_is_refused_at_once(
    api: httpx.Client, tenant: Tenant, other_tenant: Tenant
) -> None:
    created = api.post(
        "tokens", json={"role": "occupant", "name": "Ann's", "user": ORGANIZER},
        headers=tenant.admin,
    )  # fmt: skip
    assert created.status_code == 201, created.text
    secret, token_id = created.json()["token"], created.json()["id"]
    assert api.get("resources", headers=bearer(secret)).status_code == 200

    listed = api.get("tokens", headers=tenant.admin)
    assert listed.status_code == 200
    assert secret not in listed.text
    mine = {item["id"]: item for item in listed.json()["items"]}
    assert mine[token_id]["user"] == ORGANIZER
    assert {item["organization_id"] for item in mine.values()} == {str(tenant.organization_id)}
    assert api.get("tokens", headers=tenant.occupant).status_code == 403
    assert api.delete(f"tokens/{token_id}", headers=other_tenant.admin).status_code == 403

    revoked = api.delete(f"tokens/{token_id}", headers=tenant.admin)
    assert revoked.status_code == 200
    assert revoked.json()["revoked_at"] is not None
    refused = api.get("resources", headers=bearer(secret))
    assert refused.status_code == 401
    assert "revoked" in refused.json()["error"]["message"]


def test_an_occupant_token_without_a_user_is_refused_naming_the_field(
    api: httpx.Client, tenant: Tenant
) -> None:
    refused = api.post("tokens", json={"role": "occupant", "name": "x"}, headers=tenant.admin)
    assert refused.status_code == 422
    assert [d["field"] for d in refused.json()["error"]["details"]] == ["user"]


def test_a_display_token_reads_only_its_resource(
    api: httpx.Client, tenant: Tenant, factory: Any
) -> None:
    other_room = factory.room(tenant.building_id, name="Other room")
    created = api.post(
        "tokens",
        json={"role": "display", "name": "door", "resource_id": str(tenant.room_id)},
        headers=tenant.admin,
    )
    assert created.status_code == 201, created.text
    display = bearer(created.json()["token"])
    own = api.get(f"resources/{tenant.room_id}", headers=display)
    schedule = api.get("bookings", params={"resource_id": str(tenant.room_id)}, headers=display)
    refused = [
        api.get(f"resources/{other_room}", headers=display),
        api.get("resources", headers=display),
        api.get("bookings", params={"resource_id": str(other_room)}, headers=display),
        api.get("users", headers=display),
        api.post("bookings", json=booking_json(tenant.room_id), headers=display),
    ]
    assert (own.status_code, schedule.status_code) == (200, 200)
    assert [answer.status_code for answer in refused] == [403] * len(refused)


def test_only_the_super_admin_sets_admin_emails(api: httpx.Client, tenant: Tenant) -> None:
    url = f"organizations/{tenant.organization_id}"
    refused = api.patch(url, json={"admin_emails": ["boss@acme.test"]}, headers=tenant.admin)
    set_ = api.patch(url, json={"admin_emails": ["Boss@Acme.test"]}, headers=SUPER_ADMIN)

    assert refused.status_code == 403
    assert [d["field"] for d in refused.json()["error"]["details"]] == ["admin_emails"]
    assert set_.status_code == 200, set_.text
    assert set_.json()["admin_emails"] == ["boss@acme.test"]


def test_a_form_token_belongs_to_its_session_only(database: Database, factory: Any) -> None:
    organization_id = factory.organization("Acme")
    app_settings = settings()
    with database.session() as session:
        user = create_user(session, organization_id=organization_id, email=ORGANIZER, name="Ann")
        first = open_session(
            session, user=user, role=Role.OCCUPANT, settings=app_settings, now=database.clock()
        )
        second = open_session(
            session, user=user, role=Role.OCCUPANT, settings=app_settings, now=database.clock()
        )
    with database.session() as session:
        mine = find_session(session, first, settings=app_settings, now=database.clock())
        theirs = find_session(session, second, settings=app_settings, now=database.clock())
    assert mine is not None
    assert theirs is not None
    check_form_token(mine, mine.csrf_token)
    for sent in (theirs.csrf_token, "", None, first):
        with pytest.raises(PermissionDeniedError) as refused:
            check_form_token(mine, sent)
        assert refused.value.details[0]["field"] == "csrf_token"
