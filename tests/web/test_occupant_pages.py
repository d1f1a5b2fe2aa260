"""The occupant pages over real HTTP, signed in as a person: the finder (free rooms best
fit first, times in the building's zone), every kind of bad input answered next to its
field, one booking per Book form however often it is sent, a room taken since the search,
the booking's live state, my bookings (move, cancel, what cannot be changed and why) and
a room's page showing only what occupants may see."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from html import unescape
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import func, select

from roomsync.platform.db import Database
from roomsync.platform.enums import BookingStatus, ChangeSource, Role
from roomsync.platform.models import Booking, EventLink
from roomsync.platform.services.bookings import create_booking
from roomsync.platform.services.resources import create_resource
from roomsync.platform.services.sessions import COOKIE_NAME, open_session
from roomsync.platform.services.users import create_user
from roomsync.settings import Settings
from roomsync.web.app import create_app
from roomsync.web.pages.occupant.timeline import DASH
from roomsync.web.server import serving_in_background
from tests.web.signin_testkit import free_port
from tests.web.tenants import MAX_BOOKING_HOURS

pytestmark = pytest.mark.slow

ZONE = ZoneInfo("Europe/Amsterdam")  # the factory's buildings
ME = "ann@acme.test"


class Office:
    """An organization with two buildings, rooms of several sizes, and Ann signed in."""

    def __init__(self, factory: Any, database: Database, base_url: str) -> None:
        self.database = database
        self.base_url = base_url
        self.organization_id = factory.organization("Acme")
        self.building_id = factory.building(self.organization_id, name="HQ")
        self.annex_id = factory.building(self.organization_id, name="Annex")
        self.small = self.room("Huddle", 4, equipment=["Display"])
        self.medium = self.room("Harbor", 8, equipment=["Display", "Whiteboard"])
        self.large = self.room("Hall", 20, hidden=("capacity", "secret"))
        self.colleague = "colleague@acme.test"

    def room(
        self, name: str, capacity: int, *, equipment: list[str] | None = None,
        hidden: tuple[str, ...] = (),
    ) -> uuid.UUID:  # fmt: skip
        with self.database.session() as session:
            return create_resource(
                session, building_id=self.building_id, name=name, capacity=capacity,
                floor="2", attributes={"equipment": equipment or [], "secret": "vault"},
                hidden_fields=hidden,
            ).id  # fmt: skip

    def browser(self, email: str = ME, role: Role = Role.OCCUPANT) -> httpx.Client:
        """A client holding a sign-in session of ``email`` (it sends Origin, as browsers do)."""
        settings = Settings(_env_file=None, database_url="sqlite://")
        with self.database.session() as session:
            user = create_user(
                session,
                organization_id=self.organization_id,
                email=email,
                name=email.split("@", maxsplit=1)[0],
            )
            cookie = open_session(
                session, user=user, role=role, settings=settings, now=datetime.now(UTC)
            )
        client = httpx.Client(base_url=self.base_url, timeout=30, headers={"Origin": self.base_url})
        client.cookies.set(COOKIE_NAME, cookie)
        return client

    def book(
        self, room: uuid.UUID, start: datetime, end: datetime, *, email: str, **extra: Any
    ) -> uuid.UUID:
        with self.database.session() as session:
            return create_booking(
                session, organization_id=self.organization_id, resource_id=room,
                organizer_email=email, title="Taken", start=start, end=end, **extra,
            ).id  # fmt: skip

    def bookings_of(self, room: uuid.UUID) -> int:
        with self.database.session() as session:
            return session.scalar(
                select(func.count()).select_from(Booking).where(
                    Booking.resource_id == room, Booking.status != BookingStatus.CANCELLED
                )
            ) or 0  # fmt: skip


@pytest.fixture(scope="module")
def site_url(database_url: str) -> Iterator[str]:
    """roomsync whose public URL is its own address, so that forms pass the Origin check."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    settings = Settings(
        _env_file=None, database_url=database_url, public_url=url,
        max_booking_hours=MAX_BOOKING_HOURS,
    )  # fmt: skip
    database = Database(database_url)
    try:
        with serving_in_background(create_app(settings, database), port=port):
            yield url
    finally:
        database.dispose()


@pytest.fixture
def office(factory: Any, database: Database, site_url: str) -> Office:
    return Office(factory, database, site_url)


@pytest.fixture
def ann(office: Office) -> Iterator[httpx.Client]:
    with office.browser() as client:
        yield client


def next_weekday(days: int = 7) -> date:
    day = datetime.now(ZONE).date() + timedelta(days=days)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def local(day: date, clock: str) -> datetime:
    return datetime.combine(day, time.fromisoformat(clock), ZONE)


def find(client: httpx.Client, **query: Any) -> httpx.Response:
    return client.get("/", params={"duration": 60, **query})


def error_of(html: str, field: str) -> str:
    found = re.search(rf'<p class="error" id="{field}-error">([^<]*)</p>', html)
    assert found, f"no error next to {field}"
    return found.group(1)


def room_names(html: str) -> list[str]:
    head = r'<li class="card room-card">\s*<div class="room-head">\s*<h3>'
    return re.findall(head + r'<a href="/rooms/[^"]+">([^<]+)</a>', html)


def csrf_in(html: str) -> str:
    found = re.search(r'name="csrf" value="([0-9a-f]{64})"', html)
    assert found, html
    return found.group(1)


def book_form(html: str, room: uuid.UUID) -> dict[str, str]:
    block = html[html.index(f'name="resource_id" value="{room}"') - 400 :]
    block = block[: block.index("</form>")]
    fields = re.findall(r'name="(csrf|resource_id|start|end|back)" value="([^"]*)"', block)
    return {name: unescape(value) for name, value in fields} | {"title": "Planning"}


# --- Signed in or not ---------------------------------------------------------------------------


def test_the_finder_sends_a_stranger_to_sign_in_and_back(office: Office) -> None:
    with httpx.Client(base_url=office.base_url) as stranger:
        answer = stranger.get("/my")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/auth/login?next=/my"


def test_the_finder_lists_free_rooms_smallest_that_fits_first_in_the_buildings_zone(
    office: Office, ann: httpx.Client
) -> None:
    day = next_weekday()
    office.book(office.medium, local(day, "10:30"), local(day, "11:30"), email=office.colleague)
    answer = find(ann, date=day, start="10:00", people=3, building=office.building_id)
    assert answer.status_code == 200
    # Harbor is taken at 10:30; Hall hides its capacity from occupants, so it never
    # matches a people filter.
    assert room_names(answer.text) == ["Huddle"]
    anyone = find(ann, date=day, start="10:00", building=office.building_id)
    assert room_names(anyone.text) == ["Huddle", "Hall"]
    assert "Times in Europe/Amsterdam" in answer.text
    assert f"10:00{DASH}11:00" in answer.text
    assert len(answer.content) < 100_000


def test_equipment_and_people_narrow_the_rooms(office: Office, ann: httpx.Client) -> None:
    answer = find(ann, date=next_weekday(), start="09:00", people=5, equipment="whiteboard")
    assert room_names(answer.text) == ["Harbor"]


# --- Bad input, each next to its field -------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "field", "said"),
    [
        ({"start": "11:00", "end": "10:00"}, "end", "The end must be after the start."),
        (
            {"start": "09:00", "duration": str(60 * (MAX_BOOKING_HOURS + 1))},
            "duration",
            "at most 8 hours",
        ),
        ({"date": "+10y"}, "date", "up to a year ahead"),
        ({"people": "0"}, "people", "At least 1 person"),
        ({"people": "10000"}, "people", "1,000 or fewer"),
        ({"people": "six"}, "people", "whole number"),
        ({"building": str(uuid.UUID(int=7))}, "building", "Choose one of the buildings"),
        (
            {"equipment": "teleporter"},
            "equipment",
            "No room offers \N{LEFT DOUBLE QUOTATION MARK}teleporter",
        ),
        ({"date": "2026-02-30"}, "date", "year-month-day"),
        ({"start": "25:00"}, "start", "hours:minutes"),
    ],
)
def test_bad_input_is_answered_next_to_its_field_and_kept(
    office: Office, ann: httpx.Client, query: dict[str, str], field: str, said: str
) -> None:
    values = {"date": next_weekday().isoformat(), "start": "10:00", **query}
    if values["date"] == "+10y":
        values["date"] = (datetime.now(ZONE).date() + timedelta(days=3653)).isoformat()
    answer = find(ann, **values)
    assert answer.status_code == 422
    assert said in error_of(answer.text, field)
    assert f'href="#{field}"' in answer.text  # the summary at the top links to the field
    kept = values.get(field, "")
    if field in ("date", "start", "end", "people"):
        assert f'value="{kept}"' in answer.text


def offset(day: date, hour: int) -> timedelta:
    return datetime.combine(day, time(hour), ZONE).utcoffset() or timedelta()


def next_clock_change() -> date:
    """The next day whose night the zone's clocks change."""
    day = datetime.now(ZONE).date() + timedelta(days=1)
    while offset(day, 1) == offset(day, 4):
        day += timedelta(days=1)
    return day


def test_a_search_across_the_night_clocks_change_keeps_real_durations(
    office: Office, ann: httpx.Client
) -> None:
    day = next_clock_change()
    moved = "forward" if offset(day, 4) > offset(day, 1) else "back"
    answer = find(ann, date=day, start="01:00", duration=180)
    assert answer.status_code == 200, answer.text
    # Three real hours from 01:00: 05:00 when the clocks go forward, 03:00 when back.
    assert (f"01:00{DASH}05:00" if moved == "forward" else f"01:00{DASH}03:00") in answer.text
    if moved == "forward":
        skipped = find(ann, date=day, start="02:30")
        assert "does not exist" in error_of(skipped.text, "start")


# --- Booking --------------------------------------------------------------------------------------


def test_book_makes_one_booking_for_the_signed_in_person_however_often_it_is_sent(
    office: Office, ann: httpx.Client
) -> None:
    page = find(ann, date=next_weekday(), start="14:00", people=2)
    form = book_form(page.text, office.small)
    first = ann.post("/book", data=form)
    again = ann.post("/book", data=form)
    assert first.status_code == again.status_code == 303
    assert first.headers["location"] == again.headers["location"]
    assert office.bookings_of(office.small) == 1
    booking_id = uuid.UUID(first.headers["location"].rsplit("/", 1)[1])
    with office.database.session() as session:
        assert session.get(Booking, booking_id).organizer_email == ME  # type: ignore[union-attr]


def test_a_room_taken_since_the_search_says_so_and_offers_the_others(
    office: Office, ann: httpx.Client
) -> None:
    day = next_weekday()
    page = find(ann, date=day, start="15:00", people=2)
    office.book(office.small, local(day, "15:00"), local(day, "16:00"), email=office.colleague)
    answer = ann.post("/book", data=book_form(page.text, office.small))
    assert answer.status_code == 409
    assert "Huddle was just taken by someone else" in answer.text
    assert room_names(answer.text) == ["Harbor"]


def test_a_form_from_another_session_is_refused(office: Office, ann: httpx.Client) -> None:
    form = book_form(find(ann, date=next_weekday(), start="16:00").text, office.small)
    answer = ann.post("/book", data=form | {"csrf": "0" * 64})
    assert answer.status_code == 403
    assert office.bookings_of(office.small) == 0


def test_an_empty_title_is_said_next_to_the_book_button(office: Office, ann: httpx.Client) -> None:
    form = book_form(find(ann, date=next_weekday(), start="16:00").text, office.small)
    answer = ann.post("/book", data=form | {"title": "   "})
    assert answer.status_code == 422
    assert f'id="book-error-{office.small}"' in answer.text
    assert "Give the meeting a title" in answer.text


def test_when_nothing_is_free_the_finder_offers_a_later_time(
    office: Office, ann: httpx.Client
) -> None:
    day = next_weekday()
    for room in (office.small, office.medium, office.large):
        office.book(room, local(day, "09:00"), local(day, "10:00"), email=office.colleague)
    answer = find(ann, date=day, start="09:00", people=8, building=office.building_id)
    assert (
        "No room for 8 people is free then \N{EM DASH} here are rooms free 60 minutes later."
        in answer.text
    )
    assert room_names(answer.text) == ["Harbor"]


def test_the_booking_page_and_its_state_are_for_the_organizer_only(
    office: Office, ann: httpx.Client
) -> None:
    day = next_weekday()
    mine = office.book(office.small, local(day, "11:00"), local(day, "12:00"), email=ME)
    state = ann.get(f"/bookings/{mine}/state").json()
    assert state["status"] == "confirmed"  # a room without an Outlook calendar
    assert "Only in roomsync" in state["sync"]
    theirs = office.book(
        office.medium, local(day, "11:00"), local(day, "12:00"), email=office.colleague
    )
    assert ann.get(f"/bookings/{theirs}").status_code == 404


# --- My bookings ------------------------------------------------------------------------------


def test_my_bookings_cancel_and_move_with_the_availability_check(
    office: Office, ann: httpx.Client
) -> None:
    day = next_weekday()
    mine = office.book(office.small, local(day, "09:00"), local(day, "10:00"), email=ME)
    office.book(office.small, local(day, "13:00"), local(day, "14:00"), email=office.colleague)
    listing = ann.get("/my")
    assert "Taken" in listing.text
    csrf = csrf_in(listing.text)
    move = {
        "csrf": csrf,
        "date": day.isoformat(),
        "start": "13:30",
        "duration": "60",
        "resource_id": str(office.small),
    }
    refused = ann.post(f"/bookings/{mine}/move", data=move)
    assert refused.status_code == 422
    assert "already booked then" in error_of(refused.text, "start")
    moved = ann.post(f"/bookings/{mine}/move", data=move | {"start": "15:00"})
    assert moved.status_code == 303
    with office.database.session() as session:
        assert session.get(Booking, mine).start_at == local(day, "15:00")  # type: ignore[union-attr]
    cancelled = ann.post(f"/bookings/{mine}/cancel", data={"csrf": csrf}, follow_redirects=True)
    assert "is cancelled" in cancelled.text
    assert office.bookings_of(office.small) == 1


def test_an_occurrence_of_an_outlook_series_can_be_moved_or_cancelled_from_roomsync(
    office: Office, factory: Any, ann: httpx.Client
) -> None:
    # roomsync changes an occurrence of a series its organizer made in Outlook (as an
    # exception of that series), so the page offers it like any other booking.
    factory.integration(office.organization_id)
    with office.database.session() as session:
        outlook_room = create_resource(
            session, building_id=office.building_id, name="Mailbox room", email="room@acme.test"
        ).id
    day = next_weekday()
    office.book(
        outlook_room, local(day, "09:00"), local(day, "10:00"), email=ME,
        source=ChangeSource.MICROSOFT365, series_id="series-1",
    )  # fmt: skip
    listing = ann.get("/my").text
    assert "Booked in Outlook" in listing
    assert "change it in Outlook" not in listing
    assert "Move</a>" in listing


# --- Rooms --------------------------------------------------------------------------------------


def test_a_rooms_page_shows_occupants_only_the_visible_fields(
    office: Office, ann: httpx.Client
) -> None:
    page = ann.get(f"/rooms/{office.large}")
    assert page.status_code == 200
    assert "Hall" in page.text
    assert "vault" not in page.text
    assert "Up to 20 people" not in page.text
    assert "The next seven days" in page.text
    with office.browser("admin@acme.test", Role.ADMIN) as admin:
        assert "Up to 20 people" in admin.get(f"/rooms/{office.large}").text


def test_booking_from_a_rooms_page_checks_the_time(office: Office, ann: httpx.Client) -> None:
    day = next_weekday()
    office.book(office.medium, local(day, "10:00"), local(day, "11:00"), email=office.colleague)
    data = {
        "csrf": csrf_in(ann.get(f"/rooms/{office.medium}").text),
        "date": day.isoformat(),
        "start": "10:30",
        "duration": "30",
        "title": "Chat",
    }
    taken = ann.post(f"/rooms/{office.medium}/book", data=data)
    assert taken.status_code == 422
    assert "The room is booked then" in error_of(taken.text, "start")
    booked = ann.post(f"/rooms/{office.medium}/book", data=data | {"start": "11:00"})
    assert booked.status_code == 303


# --- Description and the link into Outlook on the web --------------------------------------------

AGENDA = "Numbers first.\nThen <the plan> & questions."


def booking_id_of(answer: httpx.Response) -> uuid.UUID:
    assert answer.status_code == 303, answer.text
    return uuid.UUID(answer.headers["location"].rsplit("/", 1)[1])


def test_a_description_typed_on_book_is_stored_and_shown_on_the_booking_page(
    office: Office, ann: httpx.Client
) -> None:
    page = find(ann, date=next_weekday(), start="13:00", people=2)
    assert f'id="description-{office.small}"' in page.text
    booking_id = booking_id_of(
        ann.post("/book", data=book_form(page.text, office.small) | {"description": AGENDA})
    )
    with office.database.session() as session:
        assert session.get_one(Booking, booking_id).description == AGENDA
    shown = ann.get(f"/bookings/{booking_id}").text
    assert (
        '<dd class="description">Numbers first.\nThen &lt;the plan&gt; &amp; questions.</dd>'
        in (shown)
    )


def test_a_too_long_description_is_said_next_to_book_and_kept(
    office: Office, ann: httpx.Client
) -> None:
    form = book_form(find(ann, date=next_weekday(), start="13:00").text, office.small)
    typed = "word " * 900
    answer = ann.post("/book", data=form | {"description": typed})
    assert answer.status_code == 422
    assert "A description has at most 4,000 characters" in answer.text
    assert f'aria-describedby="book-error-{office.small}">{typed}</textarea>' in answer.text
    assert '<details class="book-description" open>' in answer.text
    assert office.bookings_of(office.small) == 0


def test_a_rooms_page_books_with_a_description(office: Office, ann: httpx.Client) -> None:
    data = {
        "csrf": csrf_in(ann.get(f"/rooms/{office.medium}").text),
        "date": next_weekday().isoformat(),
        "start": "15:00",
        "duration": "30",
        "title": "Chat",
        "description": AGENDA,
    }
    booking_id = booking_id_of(ann.post(f"/rooms/{office.medium}/book", data=data))
    with office.database.session() as session:
        assert session.get_one(Booking, booking_id).description == AGENDA
    refused = ann.post(f"/rooms/{office.medium}/book", data=data | {"description": "\x00"})
    assert refused.status_code == 422
    assert "must not contain the NUL character" in error_of(refused.text, "description")


def test_the_organizer_alone_gets_the_link_into_outlook_on_the_web(
    office: Office, factory: Any, ann: httpx.Client
) -> None:
    integration_id = factory.integration(office.organization_id)
    day = next_weekday()
    mine = office.book(office.small, local(day, "17:00"), local(day, "18:00"), email=ME)
    web_link = "https://outlook.office365.com/owa/?itemid=AAMk%2Bx&exvsurl=1&path=/calendar/item"
    with office.database.session() as session:
        session.add(
            EventLink(
                booking_id=mine,
                integration_id=integration_id,
                room_email="huddle@acme.test",
                organizer_email=ME,
                organizer_event_id="AAMk+x",
                organizer_web_link=web_link,
            )
        )
    anchor = (
        f'href="{web_link.replace("&", "&amp;")}" target="_blank" rel="noopener">Open in Outlook'
    )
    assert anchor in ann.get("/my").text
    assert anchor in ann.get(f"/bookings/{mine}").text
    with office.browser("admin@acme.test", Role.ADMIN) as admin:
        page = admin.get(f"/bookings/{mine}")
        assert page.status_code == 200
        assert "Open in Outlook" not in page.text
