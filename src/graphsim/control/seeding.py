"""Populating a tenant: generic tenants of any size for tests and benchmarks, and a
realistic demo tenant. Deterministic under the simulator's seed; seeded meetings are
already answered by their rooms (processing runs inline while seeding)."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import TYPE_CHECKING

from graphsim.directory.changes import DirectoryChangeKind
from graphsim.directory.tenant import Address, GeoCoordinates, Room, RoomList, User
from graphsim.outlook import Outlook, recurrence
from graphsim.signin.model import ADMIN_ROLE
from graphsim.signin.passwords import deterministic_password

if TYPE_CHECKING:
    from graphsim.core import Core


@dataclass(frozen=True)
class SeedSpec:
    """What :func:`seed` creates."""

    rooms: int = 10
    room_lists: int = 2
    users: int = 5
    events_per_room: int = 3
    recurring_series: int = 1
    private_meetings: int = 1
    days_before: int = 3
    days_after: int = 10


@dataclass
class SeedResult:
    """The emails of what was created, and how many meetings."""

    rooms: list[str] = field(default_factory=list)
    room_lists: list[str] = field(default_factory=list)
    users: list[str] = field(default_factory=list)
    meetings: int = 0


def add_user(core: Core, email: str, name: str, **fields: object) -> User:
    user = User(core.ids.guid(), name, email.lower(), email.lower(), **fields)  # type: ignore[arg-type]
    core.tenant.add_user(user)
    core.directory_changes.record(user.id, DirectoryChangeKind.CREATED)
    if not user.is_room:
        core.tenant.signin.passwords[user.id] = deterministic_password(core.options.seed, user.mail)
    core.store.ensure(user.mail, user.id) if user.has_mailbox else None
    return user


def add_room_list(core: Core, email: str, name: str, address: Address | None = None) -> RoomList:
    room_list = RoomList(core.ids.guid(), email.lower(), name, core.ids.guid(), address=address)
    core.tenant.room_lists[room_list.email] = room_list
    return room_list


def add_room(
    core: Core, email: str, name: str, room_list: RoomList | None = None, **fields: object
) -> Room:
    """A room mailbox: a place, a directory user and an (empty) calendar."""
    room = Room(core.ids.guid(), email.lower(), name, core.ids.guid(), name, **fields)  # type: ignore[arg-type]
    core.tenant.rooms[room.email] = room
    if room_list is not None:
        room_list.room_emails.append(room.email)
    office = f"{room.building or ''} {room.floor_label or ''}".strip() or None
    city = room.address.city if room.address else None
    add_user(
        core,
        room.email,
        name,
        is_room=True,
        office_location=office,
        city=city,
        department="Facilities",
        extension_attributes={
            "extensionAttribute1": room.building,
            "extensionAttribute2": str(room.capacity),
        },
    )
    return room


def seed(core: Core, spec: SeedSpec, now: datetime) -> SeedResult:
    """A generic tenant: ``room0001@…`` rooms in ``building01@…`` lists, ``user001@…``."""
    domain, result = core.tenant.domain, SeedResult()
    lists = [
        add_room_list(core, f"building{k + 1:02d}@{domain}", f"Building {k + 1:02d}")
        for k in range(spec.room_lists)
    ]
    start = len(core.tenant.rooms)
    for n in range(start + 1, start + spec.rooms + 1):
        room_list = lists[n % len(lists)] if lists else None
        room = add_room(
            core,
            f"room{n:04d}@{domain}",
            f"Room {n:04d}",
            room_list,
            capacity=4 + n % 12,
            building=room_list.display_name if room_list else None,
            floor_number=n % 5,
            floor_label=f"Floor {n % 5}",
            tags=["seeded"],
        )
        result.rooms.append(room.email)
    result.room_lists = [r.email for r in lists]
    first = len(core.tenant.users)
    for n in range(first + 1, first + spec.users + 1):
        result.users.append(add_user(core, f"user{n:03d}@{domain}", f"User {n:03d}").mail)
    result.meetings = _seed_meetings(core, spec, result, now)
    return result


def _seed_meetings(core: Core, spec: SeedSpec, result: SeedResult, now: datetime) -> int:
    if not result.users:
        return 0
    outlook, today = Outlook(core), datetime.combine(now.date(), time(0), UTC)
    span = max(1, spec.days_before + spec.days_after)
    count, private_left = 0, spec.private_meetings
    core.inline_rooms = True
    try:
        for index, room in enumerate(result.rooms):
            for i in range(spec.events_per_room):
                day = today + timedelta(days=-spec.days_before + (i * span) // spec.events_per_room)
                start = day + timedelta(hours=9 + i % 8)
                organizer = result.users[(index + i) % len(result.users)]
                outlook.create_meeting(
                    organizer,
                    room,
                    f"Meeting {i + 1} in {room}",
                    start,
                    start + timedelta(minutes=30 + 30 * (i % 2)),
                    private=private_left > 0,
                )
                private_left, count = private_left - 1, count + 1
            if index < spec.recurring_series:
                first = today - timedelta(days=spec.days_before) + timedelta(hours=8)
                outlook.create_meeting(
                    result.users[0],
                    room,
                    "Daily stand-up",
                    first,
                    first + timedelta(minutes=15),
                    recurrence=recurrence("daily", first.date(), count=span),
                )
                count += 1
    finally:
        core.inline_rooms = False
    return count


_BUILDINGS = [
    ("Harbour House", "Amsterdam", "Prins Hendrikkade 48", "NL", 52.377, 4.901),
    ("Riverside Tower", "London", "1 Riverside Walk", "GB", 51.507, -0.098),
    ("Old Mill", "Lyon", "12 Quai Saint-Vincent", "FR", 45.769, 4.822),
    ("Northgate", "Berlin", "Invalidenstraße 117", "DE", 52.531, 13.384),
]
# Each building's mailboxes are set up in its city's zone (Windows names, as Exchange keeps).
_BUILDING_ZONES = {
    "Amsterdam": "W. Europe Standard Time",
    "London": "GMT Standard Time",
    "Lyon": "Romance Standard Time",
    "Berlin": "W. Europe Standard Time",
    "Rotterdam": "W. Europe Standard Time",
    "Dublin": "GMT Standard Time",
    "Zurich": "W. Europe Standard Time",
    "Milan": "W. Europe Standard Time",
    "Oslo": "W. Europe Standard Time",
    "Copenhagen": "Romance Standard Time",
    "Leeds": "GMT Standard Time",
    "Barcelona": "Romance Standard Time",
}
# The buildings of the demo's other tenants (``seed_demo`` variants 1, 2, …, in turn).
_OTHER_BUILDINGS = [
    [
        ("Canal Works", "Rotterdam", "Wijnhaven 107", "NL", 51.918, 4.487),
        ("Quayside", "Dublin", "25 North Wall Quay", "IE", 53.348, -6.238),
        ("Lindenhof", "Zurich", "Lindenhofstrasse 8", "CH", 47.373, 8.541),
        ("Porta Nuova", "Milan", "Via Melchiorre Gioia 8", "IT", 45.484, 9.190),
    ],
    [
        ("Fjordgate", "Oslo", "Dronning Eufemias gate 16", "NO", 59.908, 10.758),
        ("Nyhavn Loft", "Copenhagen", "Nyhavn 17", "DK", 55.680, 12.590),
        ("Globe Works", "Leeds", "1 Globe Road", "GB", 53.793, -1.553),
        ("Pelai", "Barcelona", "Carrer de Pelai 12", "ES", 41.386, 2.168),
    ],
]
_ROOM_NAMES = [
    "Atlas",
    "Boreal",
    "Cedar",
    "Delta",
    "Ember",
    "Fjord",
    "Granite",
    "Harbor",
    "Iris",
    "Juniper",
    "Kestrel",
]
_DEVICES = [
    ("Logitech Rally", "Logitech Rally Camera", 'Samsung 65"'),
    ("Poly Studio X50", "Poly Studio X50", 'LG 55"'),
    (None, None, "Surface Hub 2S"),
    (None, None, None),
]
_FIRST = [
    "Ada",
    "Ben",
    "Chloé",
    "Dev",
    "Elena",
    "Farid",
    "Grace",
    "Hugo",
    "Ines",
    "Jonas",
    "Kenji",
    "Lena",
    "Marco",
    "Nadia",
    "Omar",
    "Priya",
    "Quentin",
    "Rosa",
    "Sven",
    "Tara",
    "Umar",
    "Vera",
    "Wout",
    "Xia",
    "Yusuf",
    "Zoé",
    "Anouk",
    "Bram",
    "Carla",
    "Dmitri",
]
_LAST = [
    "Lovelace",
    "Okafor",
    "Martin",
    "Patel",
    "Rossi",
    "Haddad",
    "Hopper",
    "Lambert",
    "Silva",
    "Becker",
    "Tanaka",
    "Vogel",
    "Bianchi",
    "Karim",
    "Nasser",
    "Iyer",
    "Moreau",
    "García",
    "Lund",
    "Byrne",
    "Malik",
    "Novak",
    "Peeters",
    "Wang",
    "Demir",
    "Dubois",
    "de Vries",
    "Jansen",
    "Costa",
    "Ivanov",
]
_SUBJECTS = [
    "Sprint planning",
    "Design review",
    "1:1",
    "Customer call",
    "Budget sync",
    "Hiring debrief",
    "Roadmap workshop",
    "Incident review",
    "Team lunch",
    "Quarterly business review",
    "Interview",
    "Architecture council",
]


def seed_demo(core: Core, now: datetime, variant: int = 0) -> SeedResult:
    """Four buildings as room lists, 40 rooms, 30 people, two weeks of meetings around now;
    the first person holds the app role ``Roomsync.Admin`` on every app declaring it.
    Variants other than 0 (the demo's other tenants) have other buildings and people."""
    rng = random.Random(core.options.seed)  # noqa: S311 - reproducible demo data
    domain, result = core.tenant.domain, SeedResult()
    buildings = _OTHER_BUILDINGS[(variant - 1) % len(_OTHER_BUILDINGS)] if variant else _BUILDINGS
    for b, (name, city, street, country, lat, lon) in enumerate(buildings):
        address = Address(street, city, None, country, f"{1000 + b * 1111}")
        slug = name.lower().replace(" ", "")
        room_list = add_room_list(core, f"{slug}@{domain}", name, address)
        result.room_lists.append(room_list.email)
        for r in range(10):
            floor = r // 3 + 1
            audio, video, display = _DEVICES[rng.randrange(len(_DEVICES))]
            title = f"{name} {floor}.{r + 1:02d} {_ROOM_NAMES[(b * 3 + r) % len(_ROOM_NAMES)]}"
            room = add_room(
                core,
                f"{slug}-{floor}{r + 1:02d}@{domain}",
                title,
                room_list,
                capacity=rng.choice([4, 6, 8, 10, 12, 20]),
                building=name,
                floor_number=floor,
                floor_label=f"Floor {floor}",
                audio_device_name=audio,
                video_device_name=video,
                display_device_name=display,
                is_wheel_chair_accessible=rng.random() < 0.7,
                tags=sorted(rng.sample(["whiteboard", "video", "quiet", "window", "standing"], 2)),
                address=address,
                geo_coordinates=GeoCoordinates(lat, lon),
            )
            core.tenant.users[room.email].time_zone = _BUILDING_ZONES[city]
            result.rooms.append(room.email)
    turn = 7 * variant % len(_LAST)
    for first, last in zip(_FIRST, _LAST[turn:] + _LAST[:turn], strict=True):
        email = f"{first.lower().replace('é', 'e')}.{last.lower().replace(' ', '')}@{domain}"
        result.users.append(
            add_user(
                core, email.replace("í", "i"), f"{first} {last}", given_name=first, surname=last
            ).mail
        )
    result.meetings = _demo_meetings(core, rng, result, now)
    admin = core.tenant.users[result.users[0]]
    core.tenant.signin.assign_everywhere(admin.id, ADMIN_ROLE)
    return result


def _demo_meetings(core: Core, rng: random.Random, result: SeedResult, now: datetime) -> int:
    outlook, today, count = Outlook(core), datetime.combine(now.date(), time(0), UTC), 0
    core.inline_rooms = True
    try:
        for index, room in enumerate(result.rooms):
            if index % 5 == 0:
                start = today - timedelta(days=7) + timedelta(hours=8, minutes=30)
                outlook.create_meeting(
                    rng.choice(result.users),
                    room,
                    "Weekly team sync",
                    start,
                    start + timedelta(minutes=30),
                    recurrence=recurrence(
                        "weekly", start.date(), count=6, days_of_week=[start.strftime("%A").lower()]
                    ),
                )
                count += 1
            for offset in range(-7, 8):
                day = today + timedelta(days=offset)
                if day.weekday() >= 5:
                    continue
                for hour in sorted(rng.sample(range(9, 18), rng.randint(0, 3))):
                    start = day + timedelta(hours=hour)
                    outlook.create_meeting(
                        rng.choice(result.users),
                        room,
                        rng.choice(_SUBJECTS),
                        start,
                        start + timedelta(minutes=rng.choice([30, 60])),
                        private=rng.random() < 0.1,
                    )
                    count += 1
    finally:
        core.inline_rooms = False
    return count
