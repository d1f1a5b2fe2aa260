"""Pydantic models of the Graph payloads roomsync reads and writes.

Property names and types follow the v1.0 CSDL (the service's ``$metadata``): Graph's
camelCase is the alias, snake_case the attribute, and either populates a model. Unknown
properties are ignored (Graph adds some without notice, and examples carry undocumented
ones); rooms, room lists and users also keep the whole object in ``raw``, for field
mappings that may name any Graph property. Enums accept values added later by Microsoft
(``unknownFutureValue`` and beyond) as ``UNKNOWN`` instead of failing a whole page.
Delta items may carry only ``id`` and what changed (delta-query-overview.md), so every
event property but ``id`` is optional. An event carries its series' ``recurrence``
(``patternedRecurrence``: ``pattern`` + ``range``, resources/patternedrecurrence.md) and
every place it is held in ``locations[]``; ``location`` is their joined display form
(api-reference/v1.0/api/user-post-events.md, "Create an event in multiple locations").
"""

from __future__ import annotations

from datetime import date, datetime

from pydantic import AliasChoices, Field, field_validator, model_validator

from roomsync.m365.wire import EvolvableEnum, WireModel, WireObject

# --- shared complex types ------------------------------------------------------------


class EmailAddress(WireModel):
    name: str | None = None
    address: str | None = None


class Recipient(WireModel):
    email_address: EmailAddress | None = None


class PhysicalAddress(WireModel):
    street: str | None = None
    city: str | None = None
    state: str | None = None
    postal_code: str | None = None
    country_or_region: str | None = None


class GeoCoordinates(WireModel):
    latitude: float | None = None
    longitude: float | None = None
    altitude: float | None = None
    accuracy: float | None = None
    altitude_accuracy: float | None = None


class DateTimeTimeZone(WireModel):
    """A wall-clock time without offset (``2017-04-15T11:00:00.0000000``) and its zone name."""

    date_time: str
    time_zone: str


# --- places --------------------------------------------------------------------------


class BookingType(EvolvableEnum):
    UNKNOWN = "unknown"
    STANDARD = "standard"
    RESERVED = "reserved"


class PlaceFeatureEnablement(EvolvableEnum):
    UNKNOWN = "unknown"
    ENABLED = "enabled"
    DISABLED = "disabled"


class Room(WireObject):
    id: str
    display_name: str | None = None
    email_address: str | None = None
    nickname: str | None = None
    capacity: int | None = None
    building: str | None = None
    floor_number: int | None = None
    floor_label: str | None = None
    label: str | None = None
    phone: str | None = None
    address: PhysicalAddress | None = None
    geo_coordinates: GeoCoordinates | None = None
    # The CSDL spells it "WheelChair"; place-list.md's examples send "isWheelchairAccessible".
    is_wheel_chair_accessible: bool | None = Field(
        default=None,
        validation_alias=AliasChoices(
            "isWheelChairAccessible", "isWheelchairAccessible", "is_wheel_chair_accessible"
        ),
    )
    tags: list[str] = Field(default_factory=list)
    audio_device_name: str | None = None
    video_device_name: str | None = None
    display_device_name: str | None = None
    booking_type: BookingType | None = None
    teams_enabled_state: PlaceFeatureEnablement | None = None
    place_id: str | None = None
    parent_id: str | None = None


class RoomList(WireObject):
    id: str
    display_name: str | None = None
    email_address: str | None = None
    phone: str | None = None
    address: PhysicalAddress | None = None
    # roomlist.md's example writes "geocoordinates" in lower case.
    geo_coordinates: GeoCoordinates | None = Field(
        default=None,
        validation_alias=AliasChoices("geoCoordinates", "geocoordinates", "geo_coordinates"),
    )
    tags: list[str] = Field(default_factory=list)
    place_id: str | None = None


# --- directory -----------------------------------------------------------------------


class DirectoryUser(WireObject):
    id: str
    display_name: str | None = None
    mail: str | None = None
    user_principal_name: str | None = None
    office_location: str | None = None
    city: str | None = None
    department: str | None = None
    job_title: str | None = None
    on_premises_extension_attributes: dict[str, str | None] | None = None


# --- events --------------------------------------------------------------------------


class AttendeeType(EvolvableEnum):
    UNKNOWN = "unknown"
    REQUIRED = "required"
    OPTIONAL = "optional"
    RESOURCE = "resource"


class ResponseType(EvolvableEnum):
    UNKNOWN = "unknown"
    NONE = "none"
    ORGANIZER = "organizer"
    TENTATIVELY_ACCEPTED = "tentativelyAccepted"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    NOT_RESPONDED = "notResponded"


class FreeBusyStatus(EvolvableEnum):
    UNKNOWN = "unknown"
    FREE = "free"
    TENTATIVE = "tentative"
    BUSY = "busy"
    OOF = "oof"
    WORKING_ELSEWHERE = "workingElsewhere"


class Sensitivity(EvolvableEnum):
    UNKNOWN = "unknown"
    NORMAL = "normal"
    PERSONAL = "personal"
    PRIVATE = "private"
    CONFIDENTIAL = "confidential"


class EventType(EvolvableEnum):
    UNKNOWN = "unknown"
    SINGLE_INSTANCE = "singleInstance"
    OCCURRENCE = "occurrence"
    EXCEPTION = "exception"
    SERIES_MASTER = "seriesMaster"


class ResponseStatus(WireModel):
    response: ResponseType | None = None
    time: datetime | None = None


class Attendee(WireModel):
    email_address: EmailAddress | None = None
    type: AttendeeType | None = None
    status: ResponseStatus | None = None


class Location(WireModel):
    display_name: str | None = None
    location_email_address: str | None = None
    location_type: str | None = None
    location_uri: str | None = None
    unique_id: str | None = None
    unique_id_type: str | None = None
    address: PhysicalAddress | None = None
    coordinates: GeoCoordinates | None = None


class RecurrencePatternType(EvolvableEnum):
    UNKNOWN = "unknown"
    DAILY = "daily"
    WEEKLY = "weekly"
    ABSOLUTE_MONTHLY = "absoluteMonthly"
    RELATIVE_MONTHLY = "relativeMonthly"
    ABSOLUTE_YEARLY = "absoluteYearly"
    RELATIVE_YEARLY = "relativeYearly"


class DayOfWeek(EvolvableEnum):
    UNKNOWN = "unknown"
    SUNDAY = "sunday"
    MONDAY = "monday"
    TUESDAY = "tuesday"
    WEDNESDAY = "wednesday"
    THURSDAY = "thursday"
    FRIDAY = "friday"
    SATURDAY = "saturday"


class WeekIndex(EvolvableEnum):
    UNKNOWN = "unknown"
    FIRST = "first"
    SECOND = "second"
    THIRD = "third"
    FOURTH = "fourth"
    LAST = "last"


class RecurrenceRangeType(EvolvableEnum):
    UNKNOWN = "unknown"
    END_DATE = "endDate"
    NO_END = "noEnd"
    NUMBERED = "numbered"


class RecurrencePattern(WireModel):
    """How often a series repeats. Graph fills the properties a type does not use with
    zeros and defaults (``month: 0``, ``dayOfMonth: 0``, ``index: "first"``)."""

    type: RecurrencePatternType | None = None
    interval: int | None = None
    month: int | None = None
    day_of_month: int | None = None
    days_of_week: list[DayOfWeek] = Field(default_factory=list)
    first_day_of_week: DayOfWeek | None = None
    index: WeekIndex | None = None


class RecurrenceRange(WireModel):
    """When a series runs. ``endDate`` reads ``0001-01-01`` on a ``numbered`` or ``noEnd``
    range, and ``numberOfOccurrences`` 0 on an ``endDate`` one: read the one ``type`` names."""

    type: RecurrenceRangeType | None = None
    start_date: date | None = None
    end_date: date | None = None
    number_of_occurrences: int | None = None
    recurrence_time_zone: str | None = None


class PatternedRecurrence(WireModel):
    pattern: RecurrencePattern | None = None
    range: RecurrenceRange | None = None


class ItemBody(WireModel):
    content_type: str | None = None
    content: str | None = None


class SingleValueExtendedProperty(WireModel):
    id: str
    value: str | None = None


class Removed(WireModel):
    reason: str | None = None


class Event(WireModel):
    id: str
    etag: str | None = Field(default=None, alias="@odata.etag")
    removed: Removed | None = Field(default=None, alias="@removed")
    i_cal_u_id: str | None = None
    change_key: str | None = None
    subject: str | None = None
    body_preview: str | None = None
    body: ItemBody | None = None
    start: DateTimeTimeZone | None = None
    end: DateTimeTimeZone | None = None
    original_start_time_zone: str | None = None
    original_end_time_zone: str | None = None
    is_all_day: bool | None = None
    is_cancelled: bool | None = None
    is_organizer: bool | None = None
    show_as: FreeBusyStatus | None = None
    sensitivity: Sensitivity | None = None
    type: EventType | None = None
    series_master_id: str | None = None
    original_start: datetime | None = None
    organizer: Recipient | None = None
    attendees: list[Attendee] = Field(default_factory=list)
    location: Location | None = None
    locations: list[Location] = Field(default_factory=list)
    recurrence: PatternedRecurrence | None = None
    created_date_time: datetime | None = None
    last_modified_date_time: datetime | None = None
    transaction_id: str | None = None
    response_status: ResponseStatus | None = None
    web_link: str | None = None
    single_value_extended_properties: list[SingleValueExtendedProperty] = Field(
        default_factory=list
    )

    @field_validator("attendees", "locations", "single_value_extended_properties", mode="before")
    @classmethod
    def _null_is_empty(cls, value: object) -> object:
        # Collections come back as null as well as [] (user-post-events.md Example 1
        # sends "recurrence": null beside them); both mean none.
        return [] if value is None else value

    def extended_property(self, property_id: str) -> str | None:
        """The value of a single-value extended property that was ``$expand``-ed."""
        for prop in self.single_value_extended_properties:
            if prop.id.lower() == property_id.lower():
                return prop.value
        return None

    def attendee(self, address: str) -> Attendee | None:
        """The attendee with this email address (a room's own response lives there)."""
        for attendee in self.attendees:
            email = attendee.email_address.address if attendee.email_address else None
            if email and email.lower() == address.lower():
                return attendee
        return None


class DeltaPage(WireModel):
    """One page of ``calendarView/delta``: events, removed ids, and exactly one link."""

    value: list[Event] = Field(default_factory=list)
    next_link: str | None = Field(default=None, alias="@odata.nextLink")
    delta_link: str | None = Field(default=None, alias="@odata.deltaLink")

    @model_validator(mode="after")
    def _one_link(self) -> DeltaPage:
        if (self.next_link is None) == (self.delta_link is None):
            raise ValueError("a delta page carries exactly one of @odata.nextLink/deltaLink")
        return self

    @property
    def events(self) -> list[Event]:
        return [event for event in self.value if event.removed is None]

    @property
    def removed_ids(self) -> list[str]:
        return [event.id for event in self.value if event.removed is not None]

    @property
    def is_last(self) -> bool:
        """True on the round's last page, whose deltaLink starts the next round."""
        return self.delta_link is not None
