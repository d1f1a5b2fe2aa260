"""The set-up wizard's forms: what was typed, kept as typed, checked field by field, and
turned into the :class:`IntegrationChanges` the REST API's PATCH also produces.

Every problem is a message keyed by the form field it belongs to, so the page shows it
next to that field (and in the summary at the top) while keeping what was typed. Rules
the configuration service enforces (GUIDs, unique mappings, known time zones) are checked
here too, so that all of a form's problems come back at once rather than one per send;
the service still has the last word.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any

from pydantic import SecretStr, ValidationError
from starlette.datastructures import FormData, UploadFile

from roomsync.platform.enums import IntegrationMode
from roomsync.platform.exceptions import InvalidInputError
from roomsync.platform.services.validation import normalize_email, time_zone_problem
from roomsync.sync.integration.configuration import IntegrationChanges
from roomsync.sync.integration.settings import (
    CertificateInput,
    RoomListChoice,
    RoomSelection,
    RoomSelectionMode,
)
from roomsync.sync.rooms.field_mapping import (
    DIRECTORY_PREFIX,
    Combine,
    FieldMapping,
    parse_source,
)

DIRECTORY_CHOICE = "directory"
MAX_PEM_BYTES = 64 * 1024
GUID_EXAMPLE = "72f988bf-86f1-41af-91ab-2d7cd011db47"


class FormErrors(dict[str, str]):
    """Form field name → the message shown next to it (first problem of each field)."""

    def add(self, name: str, message: str) -> None:
        self.setdefault(name, message)


@dataclass
class ConnectionForm:
    values: dict[str, str]
    certificate: CertificateInput | None = None
    errors: FormErrors = field(default_factory=FormErrors)


async def read_connection(
    form: FormData, *, has_secret: bool, has_certificate: bool, today: date
) -> ConnectionForm:
    """The connection step as typed; a replaced secret needs its own expiry date."""
    names = ("client_id", "tenant_id", "credential", "client_secret", "client_secret_expires_at",
             "certificate_passphrase", "service_account", "organization_id")  # fmt: skip
    values = {name: str(form.get(name) or "").strip() for name in names}
    values["client_secret"] = str(form.get("client_secret") or "")
    result = ConnectionForm(values)
    for name, label in (("client_id", "Application (client) ID"),
                        ("tenant_id", "Directory (tenant) ID")):  # fmt: skip
        _check_guid(result.errors, name, label, values[name])
    if values["credential"] == "certificate":
        result.certificate = await _certificate(form, values, result.errors, has_certificate)
    else:
        values["credential"] = "secret"
        _check_secret(result.errors, values, has_secret, today)
    await form.close()  # an uploaded file's temporary copy is read: let it go
    if values["service_account"]:
        try:
            values["service_account"] = normalize_email(
                values["service_account"], field="service_account"
            )
        except InvalidInputError as exc:
            result.errors.add("service_account", exc.message)
    return result


def _check_guid(errors: FormErrors, name: str, label: str, value: str) -> None:
    try:
        uuid.UUID(value)
    except ValueError:
        errors.add(
            name,
            f"{label} must be a GUID such as {GUID_EXAMPLE}: copy it from the app "
            "registration's Overview in Azure portal.",
        )


def _check_secret(
    errors: FormErrors, values: dict[str, str], has_secret: bool, today: date
) -> None:
    secret, expiry = values["client_secret"], values["client_secret_expires_at"]
    if not secret.strip():
        if not has_secret:
            errors.add("client_secret", "Enter the client secret's Value from Azure portal.")
        return
    if not expiry:
        errors.add(
            "client_secret_expires_at",
            "Enter the new secret's expiry date (Azure portal → App registrations → "
            "Certificates & secrets shows it): roomsync warns before it expires.",
        )
        return
    try:
        expires = date.fromisoformat(expiry)
    except ValueError:
        errors.add("client_secret_expires_at", "Enter the expiry date as a date, e.g. 2027-06-30.")
        return
    if expires <= today:
        errors.add(
            "client_secret_expires_at",
            f"{expires:%-d %B %Y} is not in the future: an expired secret cannot sign in. "
            "Create a new client secret in Azure portal and enter its expiry date.",
        )


async def _certificate(
    form: FormData, values: dict[str, str], errors: FormErrors, has_certificate: bool
) -> CertificateInput | None:
    upload = form.get("certificate_pem")
    pem = ""
    if isinstance(upload, UploadFile):
        pem = (await upload.read(MAX_PEM_BYTES + 1)).decode("utf-8", "replace")
    if not pem.strip():
        if not has_certificate:
            errors.add(
                "certificate_pem",
                "Choose the PEM file holding the private key and the certificate.",
            )
        return None
    if len(pem) > MAX_PEM_BYTES:
        errors.add("certificate_pem", "That file is too large for a PEM certificate and key.")
        return None
    passphrase = values["certificate_passphrase"]
    return CertificateInput(
        pem=SecretStr(pem), passphrase=SecretStr(passphrase) if passphrase else None
    )


def connection_changes(form: ConnectionForm) -> IntegrationChanges:
    values = form.values
    changes: dict[str, Any] = {
        "tenant_id": values["tenant_id"],
        "client_id": values["client_id"],
        "service_account": values["service_account"] or None,
    }
    if values["credential"] == "certificate":
        if form.certificate is not None:
            changes["certificate"] = form.certificate
    elif values["client_secret"].strip():
        changes["client_secret"] = values["client_secret"]
        expires = date.fromisoformat(values["client_secret_expires_at"])
        changes["client_secret_expires_at"] = datetime.combine(expires, time(), tzinfo=UTC)
    return IntegrationChanges(**changes)


# -- rooms -----------------------------------------------------------------------------


@dataclass
class RoomsForm:
    mode: str
    chosen: dict[str, str]  # list email → building name, as typed
    selection: RoomSelection | None
    errors: FormErrors = field(default_factory=FormErrors)


def read_rooms(form: FormData, known: list[str]) -> RoomsForm:
    """``mode``, the ticked ``room_list`` emails and each list's ``building.<n>`` name."""
    mode = str(form.get("mode") or RoomSelectionMode.ALL.value)
    ticked = {str(value) for value in form.getlist("room_list")}
    names = {email: str(form.get(f"building.{n}") or "").strip() for n, email in enumerate(known)}
    chosen = {email: names.get(email, "") for email in known if email in ticked}
    errors = FormErrors()
    if mode != RoomSelectionMode.ROOM_LISTS.value:
        return RoomsForm(RoomSelectionMode.ALL.value, chosen, RoomSelection(), errors)
    if not chosen:
        errors.add("room_list", "Choose at least one room list, or import all rooms.")
    for n, email in enumerate(known):
        if email in chosen and not chosen[email]:
            errors.add(f"building.{n}", f"Enter the name of the building for {email}.")
    if errors:
        return RoomsForm(mode, chosen, None, errors)
    lists = tuple(RoomListChoice(email=email, name=name) for email, name in chosen.items())
    return RoomsForm(mode, chosen, RoomSelection(mode=RoomSelectionMode.ROOM_LISTS,
                                                 room_lists=lists), errors)  # fmt: skip


# -- fields ----------------------------------------------------------------------------


@dataclass
class MappingRow:
    """One row of the mappings table as typed."""

    field: str
    source: str  # a Graph room property (or several, comma-separated) or DIRECTORY_CHOICE
    directory: str  # the directory attribute when source is DIRECTORY_CHOICE
    visible: bool
    combine: str = Combine.FIRST.value

    @classmethod
    def of(cls, mapping: FieldMapping) -> MappingRow:
        if len(mapping.source) == 1 and mapping.source[0].startswith(DIRECTORY_PREFIX):
            directory = mapping.source[0][len(DIRECTORY_PREFIX) :]
            return cls(mapping.field, DIRECTORY_CHOICE, directory, mapping.visible)
        return cls(mapping.field, ",".join(mapping.source), "", mapping.visible,
                   mapping.combine.value)  # fmt: skip

    @property
    def sources(self) -> list[str]:
        if self.source == DIRECTORY_CHOICE:
            return [DIRECTORY_PREFIX + self.directory.strip()]
        return [part for part in self.source.split(",") if part]


@dataclass
class FieldsForm:
    rows: list[MappingRow]
    mappings: list[FieldMapping]
    errors: FormErrors = field(default_factory=FormErrors)
    # row index of each mapping (rows left blank are not mappings)
    row_of: list[int] = field(default_factory=list)


def read_fields(form: FormData, count: int) -> FieldsForm:
    """Rows ``field.<n>``, ``source.<n>``, ``directory.<n>``, ``visible.<n>``; a row
    with no field name is dropped."""
    rows = [
        MappingRow(
            field=str(form.get(f"field.{n}") or "").strip(),
            source=str(form.get(f"source.{n}") or ""),
            directory=str(form.get(f"directory.{n}") or "").strip(),
            visible=form.get(f"visible.{n}") is not None,
            combine=str(form.get(f"combine.{n}") or Combine.FIRST.value),
        )
        for n in range(count)
    ]
    result = FieldsForm(rows, [])
    seen: dict[str, int] = {}
    for n, row in enumerate(rows):
        if row.field:
            _read_row(result, n, row, seen)
    return result


def _read_row(result: FieldsForm, n: int, row: MappingRow, seen: dict[str, int]) -> None:
    if row.field in seen:
        result.errors.add(
            f"field.{n}",
            f"{row.field} is already mapped in row {seen[row.field] + 1}: map each field once.",
        )
        return
    seen[row.field] = n
    if row.source == DIRECTORY_CHOICE:
        try:
            parse_source(DIRECTORY_PREFIX + row.directory)
        except ValueError as exc:
            result.errors.add(f"directory.{n}", _sentence(str(exc)))
            return
    try:
        mapping = FieldMapping.model_validate(
            {
                "field": row.field,
                "source": row.sources,
                "visible": row.visible,
                "combine": row.combine,
            }
        )
    except ValidationError as exc:
        result.errors.add(f"field.{n}", _sentence(exc.errors()[0]["msg"]))
        return
    result.mappings.append(mapping)
    result.row_of.append(n)


def _sentence(message: str) -> str:
    text = message.removeprefix("Value error, ").strip()
    text = text[:1].upper() + text[1:]
    return text if text.endswith(".") else f"{text}."


# -- time zone and mode ----------------------------------------------------------------


@dataclass
class ZoneForm:
    time_zone: str
    mode: str
    errors: FormErrors = field(default_factory=FormErrors)

    def changes(self) -> IntegrationChanges:
        return IntegrationChanges(time_zone=self.time_zone, mode=IntegrationMode(self.mode))


def read_zone(form: FormData) -> ZoneForm:
    zone = str(form.get("time_zone") or "").strip()
    mode = str(form.get("mode") or IntegrationMode.POLLING.value)
    result = ZoneForm(zone, mode)
    if not zone or time_zone_problem(zone) is not None:
        shown = f"“{zone[:64]}” is not a time zone roomsync knows" if zone else "Enter a time zone"
        result.errors.add(
            "time_zone", f"{shown}: choose an IANA name from the list, such as Europe/Paris or UTC."
        )
    if mode not in {m.value for m in IntegrationMode}:
        result.errors.add("mode", "Choose polling or listener.")
    return result
