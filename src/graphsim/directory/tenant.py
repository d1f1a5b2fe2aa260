"""The directory side of the emulated tenant: apps, users, rooms and room lists.

Shapes follow Entra ID and Exchange Online:
- An app registration has client secrets (each with an expiry), certificates and the
  application permissions an admin granted (the token's ``roles``).
- Room mailboxes are also directory users (``/users/{room}``), as in Entra ID.
- Each room has ``room`` place properties (CSDL ``room``/``place``) and Exchange
  calendar-processing settings (Set-CalendarProcessing, defaults as documented).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from graphsim.signin.model import TenantSignIn


class AutomateProcessing(StrEnum):
    """Set-CalendarProcessing ``AutomateProcessing`` values graphsim acts on."""

    AUTO_ACCEPT = "AutoAccept"
    NONE = "None"


class BookingType(StrEnum):
    """CSDL ``bookingType``."""

    UNKNOWN = "unknown"
    STANDARD = "standard"
    RESERVED = "reserved"


@dataclass
class ClientSecret:
    """A client secret; only its hint (first three characters) is ever shown."""

    key_id: str
    value: str = field(repr=False)
    expires_at: datetime
    display_name: str = "graphsim"


@dataclass
class Certificate:
    """A registered certificate credential (public part only)."""

    key_id: str
    cert_pem: str
    thumbprint_sha1: str
    thumbprint_sha256: str
    expires_at: datetime


@dataclass
class AppRegistration:
    """An app registration with granted application permissions."""

    client_id: str
    display_name: str
    secrets: list[ClientSecret] = field(default_factory=list)
    certificates: list[Certificate] = field(default_factory=list)
    roles: set[str] = field(default_factory=set)
    enabled: bool = True


@dataclass
class User:
    """A directory user; ``has_mailbox`` is False for a mailbox-less service account."""

    id: str
    display_name: str
    mail: str
    user_principal_name: str
    has_mailbox: bool = True
    given_name: str | None = None
    surname: str | None = None
    job_title: str | None = None
    office_location: str | None = None
    city: str | None = None
    country: str | None = None
    department: str | None = None
    mobile_phone: str | None = None
    business_phones: list[str] = field(default_factory=list)
    preferred_language: str | None = "en-US"
    extension_attributes: dict[str, str | None] = field(default_factory=dict)
    is_room: bool = False
    account_enabled: bool = True
    # mailboxSettings.timeZone, in the Windows format Exchange uses by default.
    time_zone: str = "UTC"


@dataclass
class CalendarProcessing:
    """Room mailbox booking settings (Set-CalendarProcessing, Exchange Online defaults)."""

    automate_processing: AutomateProcessing = AutomateProcessing.AUTO_ACCEPT
    allow_conflicts: bool = False
    add_organizer_to_subject: bool = True
    delete_subject: bool = True
    delete_comments: bool = True
    remove_private_property: bool = True
    booking_window_in_days: int = 180
    maximum_duration_in_minutes: int = 1440
    allow_recurring_meetings: bool = True
    conflict_percentage_allowed: int = 0
    maximum_conflict_instances: int = 0


@dataclass
class Address:
    """CSDL ``physicalAddress``."""

    street: str | None = None
    city: str | None = None
    state: str | None = None
    country_or_region: str | None = None
    postal_code: str | None = None


@dataclass
class GeoCoordinates:
    """CSDL ``outlookGeoCoordinates``."""

    latitude: float | None = None
    longitude: float | None = None
    altitude: float | None = None
    accuracy: float | None = None
    altitude_accuracy: float | None = None


@dataclass
class Room:
    """A room mailbox with its place properties and calendar processing."""

    id: str
    email: str
    display_name: str
    place_id: str
    nickname: str
    capacity: int | None = None
    building: str | None = None
    floor_number: int | None = None
    floor_label: str | None = None
    audio_device_name: str | None = None
    video_device_name: str | None = None
    display_device_name: str | None = None
    is_wheel_chair_accessible: bool = False
    tags: list[str] = field(default_factory=list)
    booking_type: BookingType = BookingType.STANDARD
    label: str | None = None
    phone: str | None = None
    address: Address | None = None
    geo_coordinates: GeoCoordinates | None = None
    hidden_from_gal: bool = False
    processing: CalendarProcessing = field(default_factory=CalendarProcessing)


@dataclass
class RoomList:
    """A room list (distribution group of rooms), usually one building."""

    id: str
    email: str
    display_name: str
    place_id: str
    room_emails: list[str] = field(default_factory=list)
    address: Address | None = None
    geo_coordinates: GeoCoordinates | None = None
    phone: str | None = None


@dataclass
class Tenant:
    """One Entra ID tenant with its Exchange Online rooms; keys are lower-cased emails."""

    tenant_id: str
    domain: str
    display_name: str = "Contoso"
    apps: dict[str, AppRegistration] = field(default_factory=dict)
    users: dict[str, User] = field(default_factory=dict)
    rooms: dict[str, Room] = field(default_factory=dict)
    room_lists: dict[str, RoomList] = field(default_factory=dict)
    signin: TenantSignIn = field(default_factory=TenantSignIn)

    def find_user(self, key: str) -> User | None:
        """A user by object id, mail or userPrincipalName (case-insensitive)."""
        lowered = key.lower()
        user = self.users.get(lowered)
        if user is not None:
            return user
        return self._users_by_id().get(lowered)

    def _users_by_id(self) -> dict[str, User]:
        cached: tuple[int, dict[str, User]] | None = self.__dict__.get("_id_index")
        if cached is not None and cached[0] == len(self.users):
            return cached[1]
        index = {u.id.lower(): u for u in self.users.values()}
        index.update({u.user_principal_name.lower(): u for u in self.users.values()})
        self.__dict__["_id_index"] = (len(self.users), index)
        return index

    def add_user(self, user: User) -> None:
        self.users[user.mail.lower()] = user
        self.__dict__.pop("_id_index", None)

    def remove_user(self, user: User) -> None:
        self.users.pop(user.mail.lower(), None)
        self.__dict__.pop("_id_index", None)

    def matches(self, tenant: str) -> bool:
        """Whether a token request's ``{tenant}`` segment (GUID or domain) names us."""
        return tenant.lower() in {self.tenant_id.lower(), self.domain.lower()}
