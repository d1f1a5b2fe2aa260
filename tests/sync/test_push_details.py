"""A booking's description is the organizer's event body, as plain text, sent on create and
again only when it changed; the organizer's copy's ``webLink`` is kept on the link and given
to the organizer alone."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest

from roomsync.m365.models import Event
from roomsync.platform.api.auth import Principal
from roomsync.platform.api.booking_schemas import booking_out
from roomsync.platform.db import Database
from roomsync.platform.enums import Role
from roomsync.platform.models import Booking
from roomsync.platform.services.bookings import create_booking, update_booking
from roomsync.sync.push.claim import claim_push, push_claim_for
from roomsync.sync.push.plan import patch_for
from tests.sync.harness import Tenant, tomorrow_at
from tests.sync.push_support import (
    add_mailbox,
    connected,
    meetings,
    move,
    pull,
    push,
    set_integration,
    sync_view,
)

AGENDA = "1. Numbers\n2. Hiring <plans> & budget"


@pytest.fixture
def tenant(database: Database) -> Iterator[Tenant]:
    with connected(database) as tenant:
        yield tenant


def book(tenant: Tenant, *, description: str | None, organizer: str | None = None) -> uuid.UUID:
    with tenant.database.session() as session:
        return create_booking(
            session,
            organization_id=tenant.organization_id,
            resource_id=tenant.rooms[tenant.room_emails[0]],
            organizer_email=organizer or tenant.users[0],
            title="Planning",
            start=tomorrow_at(9),
            end=tomorrow_at(10),
            description=description,
        ).id


def describe(tenant: Tenant, booking_id: uuid.UUID, description: str | None) -> None:
    with tenant.database.session() as session:
        update_booking(session, booking_id=booking_id, description=description)


def organizer_event(tenant: Tenant, mailbox: str | None = None) -> dict[str, Any]:
    [event] = meetings(tenant.sim, mailbox or tenant.users[0])
    return event


def test_the_description_is_the_organizers_event_body_as_plain_text(tenant: Tenant) -> None:
    booking_id = book(tenant, description=AGENDA)

    push(tenant, booking_id)

    body = organizer_event(tenant)["body"]
    assert (body["contentType"], body["content"]) == ("text", AGENDA)


def test_a_booking_without_a_description_sends_no_body(tenant: Tenant) -> None:
    push(tenant, book(tenant, description=None))

    assert organizer_event(tenant)["body"]["content"] == ""


def test_a_changed_description_is_patched_into_the_body_and_an_unchanged_one_is_not(
    tenant: Tenant,
) -> None:
    booking_id = book(tenant, description=AGENDA)
    push(tenant, booking_id)
    key_after_create = organizer_event(tenant)["changeKey"]

    describe(tenant, booking_id, "Moved to the new agenda")
    push(tenant, booking_id)
    assert organizer_event(tenant)["body"]["content"] == "Moved to the new agenda"

    with tenant.database.session() as session:
        update_booking(session, booking_id=booking_id, title="Planning (v2)")
    push(tenant, booking_id)
    event = organizer_event(tenant)
    assert (event["subject"], event["body"]["content"]) == (
        "Planning (v2)",
        "Moved to the new agenda",
    )
    assert event["changeKey"] != key_after_create


def test_only_a_description_other_than_the_agreed_one_is_sent_as_body(tenant: Tenant) -> None:
    booking_id = book(tenant, description=AGENDA)
    push(tenant, booking_id)
    with tenant.database.session() as session:
        update_booking(session, booking_id=booking_id, title="Renamed")
    with tenant.database.session() as session:
        claim_for = push_claim_for(tenant.ctx.settings)
        job = claim_push(session, booking_id, now=tenant.ctx.clock(), claim_for=claim_for)
    assert job is not None
    copy = Event.model_validate(organizer_event(tenant))
    assert "body" not in patch_for(job.booking, job.link, copy)
    renamed = replace(job.booking, description="Other")
    assert patch_for(renamed, job.link, copy)["body"] == {"contentType": "text", "content": "Other"}


def test_removing_the_description_empties_the_body(tenant: Tenant) -> None:
    booking_id = book(tenant, description=AGENDA)
    push(tenant, booking_id)

    describe(tenant, booking_id, "")
    push(tenant, booking_id)

    assert organizer_event(tenant)["body"]["content"] == ""
    with tenant.database.session() as session:
        assert session.get_one(Booking, booking_id).description is None


def test_a_booking_made_through_the_service_account_says_for_whom_before_the_description(
    tenant: Tenant,
) -> None:
    service = add_mailbox(tenant.sim, "bookings@" + tenant.users[0].split("@")[1], "Bookings")
    set_integration(tenant, service_account=service)
    outsider = "guest@elsewhere.example"

    push(tenant, book(tenant, description=AGENDA, organizer=outsider))

    content = organizer_event(tenant, service)["body"]["content"]
    assert content == f"Booked for {outsider} by roomsync.\n\n{AGENDA}"


def test_the_organizers_web_link_is_kept_and_given_to_the_organizer_only(tenant: Tenant) -> None:
    booking_id = book(tenant, description=None)

    push(tenant, booking_id)

    web_link = organizer_event(tenant)["webLink"]
    assert web_link.startswith("https://")
    link = tenant.link_of(booking_id)
    assert link is not None
    assert link.organizer_web_link == web_link
    view = sync_view(tenant, booking_id)
    organizer = Principal(Role.OCCUPANT, tenant.organization_id, email=tenant.users[0])
    colleague = Principal(Role.OCCUPANT, tenant.organization_id, email=tenant.users[1])
    admin = Principal(Role.ADMIN, tenant.organization_id)
    with tenant.database.session() as session:
        booking = session.get_one(Booking, booking_id)
        shown = {
            who: booking_out(booking, view, principal).sync.web_link
            for who, principal in (
                ("organizer", organizer),
                ("colleague", colleague),
                ("admin", admin),
            )
        }
    assert shown == {"organizer": web_link, "colleague": None, "admin": None}


def test_a_meeting_born_in_outlook_keeps_its_body_and_gets_its_link_once_roomsync_reads_it(
    tenant: Tenant,
) -> None:
    room, organizer = tenant.room_emails[0], tenant.users[0]
    tenant.sim.outlook.create_meeting(
        organizer, room, "Team sync", tomorrow_at(9), tomorrow_at(10), body="Outlook's agenda"
    )
    pull(tenant)
    [booking] = tenant.bookings(room)
    link = tenant.link_of(booking.id)
    assert link is not None
    assert (booking.description, link.organizer_web_link) == (None, None)

    move(tenant, booking.id, tomorrow_at(11), tomorrow_at(12))
    push(tenant, booking.id)

    event = organizer_event(tenant)
    assert event["body"]["content"] == "Outlook's agenda"
    link = tenant.link_of(booking.id)
    assert link is not None
    assert link.organizer_web_link == event["webLink"]
