"""The set-up wizard over real HTTP: a new organization connected step by step with the
emulated tenant, and each bad input answered next to its field with what was typed kept
and nothing saved."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from roomsync.platform.db import Database
from roomsync.platform.models import Building, Integration, Resource
from roomsync.sync.integration.settings import RoomSelection, RoomSelectionMode
from tests.polling import eventually
from tests.web.tenants import ADMIN_TOKEN
from tests.web.wizard_testkit import (
    Site,
    connect,
    connection_form,
    csrf_of,
    error_next_to,
    signed_in,
    wizard_site,
)

pytestmark = pytest.mark.slow


@pytest.fixture
def site(database: Database, factory: Any) -> Iterator[Site]:
    with wizard_site(database, factory.organization("Acme")) as running:
        yield running


def _integration(site: Site, integration_id: uuid.UUID) -> Integration:
    with site.ctx.database.session() as session:
        found = session.get_one(Integration, integration_id)
        session.expunge(found)
        return found


def _integrations(site: Site) -> int:
    with site.ctx.database.session() as session:
        return session.query(Integration).count()


def _lists(html: str) -> list[str]:
    return re.findall(r'name="room_list" value="([^"]+)"', html)


def _mapping_form(html: str) -> dict[str, str]:
    """The fields page's form as the browser would send it untouched."""
    form: dict[str, str] = {"csrf": csrf_of(html), "action": "save"}
    form["rows"] = re.search(r'name="rows" value="(\d+)"', html).group(1)  # type: ignore[union-attr]
    for n in range(int(form["rows"])):
        form[f"field.{n}"] = re.search(rf'name="field\.{n}" value="([^"]*)"', html).group(1)  # type: ignore[union-attr]
        chosen = re.search(rf'name="source\.{n}".*?<option value="([^"]*)" selected', html, re.S)
        form[f"source.{n}"] = chosen.group(1) if chosen else "displayName"
        if re.search(rf'name="visible\.{n}" value="1" checked', html):
            form[f"visible.{n}"] = "1"
    return form


def test_a_new_admin_walks_every_step_and_the_first_import_lands_the_chosen_rooms(
    site: Site,
) -> None:
    with signed_in(site) as client:
        integration_id = connect(client, site)
        assert not _integration(site, integration_id).enabled  # nothing runs before the end
        rooms = client.get(f"/admin/setup/{integration_id}/rooms")
        assert rooms.status_code == 200
        assert len(rooms.content) < 100_000
        first, second = _lists(rooms.text)[:2]
        saved = client.post(
            f"/admin/setup/{integration_id}/rooms",
            data={"csrf": csrf_of(rooms.text), "mode": "room_lists", "room_list": [first, second],
                  "building.0": "North wing", "building.1": "South wing", "action": "save"},
        )  # fmt: skip
        assert saved.headers["location"].endswith("/fields")

        page = client.get(f"/admin/setup/{integration_id}/fields")
        assert "Preview:" in page.text
        form = _mapping_form(page.text)
        capacity = next(n for n in range(int(form["rows"])) if form[f"field.{n}"] == "capacity")
        form.pop(f"visible.{capacity}")  # capacity hidden from occupants
        last = int(form["rows"]) - 1
        attribute = "onPremisesExtensionAttributes/extensionAttribute1"
        form |= {f"field.{last}": "wing", f"source.{last}": "directory"}
        form[f"directory.{last}"] = attribute
        fields = client.post(f"/admin/setup/{integration_id}/fields", data=form)
        assert fields.status_code == 303, error_summary(fields.text)

        zone = client.get(f"/admin/setup/{integration_id}/time-zone")
        assert 'list="zones"' in zone.text
        assert len(zone.content) < 100_000
        saved = client.post(
            f"/admin/setup/{integration_id}/time-zone",
            data={"csrf": csrf_of(zone.text), "time_zone": "Europe/Paris", "mode": "polling"},
        )
        assert saved.headers["location"].endswith("/import")

        started = client.post(
            f"/admin/setup/{integration_id}/import", data={"csrf": csrf_of(zone.text)}
        )
        assert started.status_code == 303
        assert eventually(
            lambda: (
                client.get(f"/admin/setup/{integration_id}/import/progress").json()["state"]
                == "done"
            ),
            timeout=60,
        )
    integration = _integration(site, integration_id)
    assert integration.enabled
    assert integration.time_zone == "Europe/Paris"
    selection = RoomSelection.from_stored(integration.room_selection)
    assert selection.mode is RoomSelectionMode.ROOM_LISTS
    with site.ctx.database.session() as session:
        buildings = {b.name for b in session.query(Building)}
        resources = session.query(Resource).all()
        assert buildings == {"North wing", "South wing"}
        assert len(resources) == 4
        assert all("capacity" in r.hidden_fields for r in resources)
        assert all(r.attributes.get("wing") for r in resources)


def error_summary(html: str) -> str:
    found = re.search(r'<div class="error-summary".*?</div>', html, re.S)
    return found.group(0) if found else html[:2000]


def test_ids_that_are_not_guids_are_refused_next_to_each_field_and_kept_as_typed(
    site: Site,
) -> None:
    with signed_in(site) as client:
        csrf = csrf_of(client.get("/admin/setup").text)
        answer = client.post(
            "/admin/setup/connection",
            data=connection_form(site, csrf, client_id="my-app", tenant_id="contoso.com"),
        )
    assert answer.status_code == 422
    assert "must be a GUID" in error_next_to(answer.text, "client_id")
    assert "must be a GUID" in error_next_to(answer.text, "tenant_id")
    assert 'value="my-app"' in answer.text
    assert 'value="contoso.com"' in answer.text
    assert 'href="#client_id"' in answer.text  # the summary links to the field
    assert _integrations(site) == 0


def test_an_expiry_date_in_the_past_is_refused_and_nothing_is_saved(site: Site) -> None:
    with signed_in(site) as client:
        csrf = csrf_of(client.get("/admin/setup").text)
        answer = client.post(
            "/admin/setup/connection",
            data=connection_form(site, csrf, client_secret_expires_at="2020-01-31"),
        )
    assert answer.status_code == 422
    assert "is not in the future" in error_next_to(answer.text, "client_secret_expires_at")
    assert 'value="2020-01-31"' in answer.text
    assert _integrations(site) == 0


def test_a_secret_entra_id_rejects_is_named_by_the_connection_check(site: Site) -> None:
    with signed_in(site) as client:
        csrf = csrf_of(client.get("/admin/setup").text)
        answer = client.post(
            "/admin/setup/connection",
            data=connection_form(site, csrf, client_secret="not-the-secret", action="check"),
        )
    assert answer.status_code == 422
    message = error_next_to(answer.text, "client_secret")
    assert message.startswith("Entra ID refused this credential")
    assert "AADSTS7000215" in message
    assert "no token" in answer.text


def test_replacing_the_secret_asks_for_its_new_expiry_date_and_keeps_the_old_one_meanwhile(
    site: Site,
) -> None:
    with signed_in(site) as client:
        integration_id = connect(client, site)
        page = client.get(f"/admin/setup/{integration_id}/connection")
        assert "set</span> A client secret is saved, expires on <strong>30 June 2031" in page.text
        assert site.sim.credentials.client_secret not in page.text
        answer = client.post(
            f"/admin/setup/{integration_id}/connection",
            data=connection_form(
                site, csrf_of(page.text), client_secret="a-new-secret", client_secret_expires_at=""
            ),
        )
    assert answer.status_code == 422
    assert "new secret's expiry date" in error_next_to(answer.text, "client_secret_expires_at")
    integration = _integration(site, integration_id)
    assert integration.client_secret_expires_at is not None
    assert integration.client_secret_expires_at.date().isoformat() == "2031-06-30"
    assert integration.credentials_version == 1  # the secret was not replaced either


def test_an_unknown_time_zone_is_refused_next_to_the_picker(site: Site) -> None:
    with signed_in(site) as client:
        integration_id = connect(client, site)
        page = client.get(f"/admin/setup/{integration_id}/time-zone")
        answer = client.post(
            f"/admin/setup/{integration_id}/time-zone",
            data={"csrf": csrf_of(page.text), "time_zone": "Europe/Atlantis", "mode": "listener"},
        )
    assert answer.status_code == 422
    assert "Europe/Atlantis" in error_next_to(answer.text, "time_zone")
    assert 'value="Europe/Atlantis"' in answer.text
    assert 'value="listener" checked' in answer.text
    integration = _integration(site, integration_id)
    assert (integration.time_zone, integration.mode.value) == ("UTC", "polling")


def _fields_answer(site: Site, client: httpx.Client, **rows: str) -> httpx.Response:
    integration_id = connect(client, site)
    page = client.get(f"/admin/setup/{integration_id}/fields")
    form = _mapping_form(page.text) | rows
    return client.post(f"/admin/setup/{integration_id}/fields", data=form)


def test_a_directory_attribute_no_room_of_the_tenant_has_is_refused(site: Site) -> None:
    with signed_in(site) as client:
        answer = _fields_answer(
            site, client, **{"field.5": "costcentre", "source.5": "directory",
                             "directory.5": "onPremisesExtensionAttributes/extensionAttribute9"},
        )  # fmt: skip
        unknown = _fields_answer_again(site, client, "directory:badName")
    assert answer.status_code == 422
    assert (
        "No room of this tenant has a value in onPremisesExtensionAttributes/extensionAttribute9"
        in (error_next_to(answer.text, "directory-5"))
    )
    assert 'value="onPremisesExtensionAttributes/extensionAttribute9"' in answer.text
    assert "is not a directory property" in unknown


def _fields_answer_again(site: Site, client: httpx.Client, source: str) -> str:
    integration_id = next(iter(_ids(site)))
    page = client.get(f"/admin/setup/{integration_id}/fields")
    form = _mapping_form(page.text) | {"field.5": "x", "source.5": "directory"}
    form["directory.5"] = source.removeprefix("directory:")
    answer = client.post(f"/admin/setup/{integration_id}/fields", data=form)
    assert answer.status_code == 422
    return error_next_to(answer.text, "directory-5")


def _ids(site: Site) -> list[uuid.UUID]:
    with site.ctx.database.session() as session:
        return [row.id for row in session.query(Integration)]


def test_mapping_the_same_field_twice_is_refused_next_to_the_second(site: Site) -> None:
    with signed_in(site) as client:
        answer = _fields_answer(site, client, **{"field.5": "capacity", "source.5": "floorNumber"})
    assert answer.status_code == 422
    assert "capacity is already mapped in row 2" in error_next_to(answer.text, "field-5")
    integration = _integration(site, _ids(site)[0])
    assert [m["field"] for m in integration.field_mappings].count("capacity") == 1


def test_selected_mode_without_a_room_list_is_refused_and_the_selection_kept(
    site: Site,
) -> None:
    with signed_in(site) as client:
        integration_id = connect(client, site)
        page = client.get(f"/admin/setup/{integration_id}/rooms")
        answer = client.post(
            f"/admin/setup/{integration_id}/rooms",
            data={"csrf": csrf_of(page.text), "mode": "room_lists", "action": "save"},
        )
    assert answer.status_code == 422
    assert "Choose at least one room list" in error_next_to(answer.text, "room_list")
    assert 'value="room_lists" checked' in answer.text
    selection = RoomSelection.from_stored(_integration(site, integration_id).room_selection)
    assert selection.mode is RoomSelectionMode.ALL


def test_a_connection_form_sent_twice_makes_one_integration(site: Site) -> None:
    with signed_in(site) as client:
        csrf = csrf_of(client.get("/admin/setup").text)
        first = client.post("/admin/setup/connection", data=connection_form(site, csrf))
        second = client.post("/admin/setup/connection", data=connection_form(site, csrf))
        shown = client.get(second.headers["location"])
    assert first.status_code == second.status_code == 303
    (integration_id,) = _ids(site)
    assert second.headers["location"] == f"/admin/setup/{integration_id}/connection?notice=saved"
    assert "the form was sent twice" in shown.text


def test_a_cross_site_post_and_a_post_without_the_form_token_are_refused(site: Site) -> None:
    with signed_in(site) as client:
        csrf = csrf_of(client.get("/admin/setup").text)
        cross = client.post(
            "/admin/setup/connection",
            data=connection_form(site, csrf),
            headers={"Origin": "https://evil.example"},
        )
        tokenless = client.post("/admin/setup/connection", data=connection_form(site, "0" * 64))
    assert cross.status_code == 403
    assert cross.json()["error"]["code"] == "cross_site_request"
    assert tokenless.status_code == 403
    assert "not sent from a roomsync page" in tokenless.text
    assert _integrations(site) == 0


def test_a_session_that_ended_mid_wizard_signs_in_again_and_returns_to_the_step(
    site: Site,
) -> None:
    with signed_in(site) as client:
        integration_id = connect(client, site)
        csrf = csrf_of(client.get(f"/admin/setup/{integration_id}/rooms").text)
        client.cookies.clear()  # the session expired
        step = f"/admin/setup/{integration_id}/rooms"
        answer = client.post(step, data={"csrf": csrf, "mode": "all", "action": "save"})
        assert answer.status_code == 303
        assert answer.headers["location"] == f"/admin/sign-in?next={step}"
        back = client.post("/admin/sign-in", data={"admin_token": ADMIN_TOKEN, "next": step})
        assert back.headers["location"] == step
        assert client.get(step).status_code == 200


def test_a_certificate_that_is_not_a_pem_key_and_certificate_is_refused_next_to_the_upload(
    site: Site,
) -> None:
    with signed_in(site) as client:
        csrf = csrf_of(client.get("/admin/setup").text)
        form = connection_form(site, csrf, credential="certificate", client_secret="")
        answer = client.post(
            "/admin/setup/connection",
            data=form,
            files={"certificate_pem": ("app.pem", b"not a certificate", "text/plain")},
        )
    assert answer.status_code == 422
    assert "certificate.pem must hold the PEM private key" in error_next_to(
        answer.text, "certificate_pem"
    )
    assert 'value="certificate" checked' in answer.text
    assert _integrations(site) == 0


def test_every_step_is_revisitable_and_shows_what_was_saved(site: Site) -> None:
    with signed_in(site) as client:
        integration_id = connect(client, site)
        pages = {
            step: client.get(f"/admin/setup/{integration_id}/{step}")
            for step in ("connection", "rooms", "fields", "time-zone", "import")
        }
    for step, page in pages.items():
        assert page.status_code == 200, step
        assert len(page.content) < 100_000, step
        assert 'aria-current="step"' in page.text
    assert "all rooms" in pages["import"].text  # the step list's summary of the saved rooms
    assert "Start the import" in pages["import"].text


def test_what_the_wizard_saves_is_audited_by_field_as_the_api_is(site: Site) -> None:
    with signed_in(site) as client:
        integration_id = connect(client, site)
        page = client.get(f"/admin/setup/{integration_id}/rooms")
        saved = client.post(
            f"/admin/setup/{integration_id}/rooms",
            data={"csrf": csrf_of(page.text), "mode": "all", "action": "save"},
        )
        unchanged = client.post(
            f"/admin/setup/{integration_id}/rooms",
            data={"csrf": csrf_of(page.text), "mode": "all", "action": "save"},
        )
    assert saved.status_code == unchanged.status_code == 303
    admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    with httpx.Client(base_url=site.url, timeout=30, headers=admin) as api:
        log = api.get(f"/api/v1/integrations/{integration_id}/audit")
    assert log.status_code == 200, log.text
    entries = log.json()["items"]
    assert [entry["action"] for entry in entries][-1:] == ["created"]
    assert {entry["actor"] for entry in entries} == {"ROOMSYNC_ADMIN_TOKEN"}
    created = entries[-1]
    assert "client_secret" in created["fields"]
    assert site.sim.credentials.client_secret not in log.text
