"""The permission doctor, and what expired, wrong and certificate credentials do to the
room workflows: a clear verdict, stopped jobs, and a resume once new credentials are saved."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qs

import pytest
from sqlalchemy import select

from graphsim import Simulator
from roomsync.m365.exceptions import ClientSecretExpired, InvalidClientSecret
from roomsync.platform.enums import SyncRunKind, SyncRunOutcome, SyncRunTrigger
from roomsync.platform.models import Integration, SyncRun
from roomsync.sync.context import SyncContext
from roomsync.sync.exceptions import IntegrationUnavailableError
from roomsync.sync.integration.configuration import IntegrationChanges, update_integration
from roomsync.sync.integration.doctor import (
    DoctorReport,
    Evidence,
    Verdict,
    check_integration,
    token_roles,
)
from roomsync.sync.integration.settings import CertificateInput
from roomsync.sync.integration.status import CredentialKind, IntegrationState, integration_status
from roomsync.sync.rooms.workflow import sync_rooms
from tests.sync.rooms_testkit import connect

MANUAL = SyncRunTrigger.MANUAL


def verdicts(report: DoctorReport) -> dict[str, tuple[Verdict, Evidence]]:
    return {p.permission: (p.verdict, p.evidence) for p in report.permissions}


def integration(ctx: SyncContext, integration_id: uuid.UUID) -> Integration:
    with ctx.database.session() as session:
        return session.get_one(Integration, integration_id)


def save(ctx: SyncContext, integration_id: uuid.UUID, **changes: object) -> None:
    with ctx.database.session() as session:
        update_integration(
            session,
            ctx,
            integration_id=integration_id,
            changes=IntegrationChanges(**changes),  # type: ignore[arg-type]
        )


def test_the_doctor_passes_when_every_required_permission_works(
    ctx: SyncContext, sim: Simulator, organization_id: uuid.UUID
) -> None:
    report = check_integration(ctx, connect(ctx, sim, organization_id))

    assert report.ok
    assert report.token.ok
    assert report.token.roles == ["Calendars.ReadWrite", "Place.Read.All", "User.Read.All"]
    assert verdicts(report) == {
        "Calendars.Read": (Verdict.OK, Evidence.CALL),
        "Calendars.ReadWrite": (Verdict.OK, Evidence.ROLES_CLAIM),
        "Directory.Read.All": (Verdict.MISSING, Evidence.ROLES_CLAIM),
        "User.Read.All": (Verdict.OK, Evidence.CALL),
        "Place.Read.All": (Verdict.OK, Evidence.CALL),
    }
    optional = next(p for p in report.permissions if p.permission == "Directory.Read.All")
    assert not optional.required
    assert sim.requests.count(path_contains="/calendarView", status=200) == 1
    assert sim.requests.count(path=f"/users/{sim.service_account}", status=200) == 1


def test_the_calendar_is_probed_on_an_imported_room_for_a_quarter_of_an_hour(
    ctx: SyncContext, sim: Simulator, organization_id: uuid.UUID, factory: Any
) -> None:
    factory.room(factory.building(organization_id), name="Desk", email="desk@elsewhere.test")
    integration_id = connect(ctx, sim, organization_id)
    sync_rooms(ctx, integration_id, trigger=MANUAL)
    sim.requests.clear()

    assert check_integration(ctx, integration_id).ok

    (probe,) = sim.requests.entries(path_contains="/calendarView")
    assert probe.path.startswith("/users/room")  # a Microsoft 365 room, not the desk
    window = parse_qs(probe.query)
    start, end = (datetime.fromisoformat(window[k][0]) for k in ("startDateTime", "endDateTime"))
    assert end - start == timedelta(minutes=15)


def test_a_missing_permission_says_what_to_do_in_the_azure_portal(
    ctx: SyncContext, sim: Simulator, organization_id: uuid.UUID
) -> None:
    sim.set_roles({"Calendars.ReadWrite", "User.Read.All"})
    report = check_integration(ctx, connect(ctx, sim, organization_id))

    assert not report.ok
    place = next(p for p in report.permissions if p.permission == "Place.Read.All")
    assert (place.verdict, place.evidence) == (Verdict.MISSING, Evidence.CALL)
    assert "ErrorAccessDenied" in place.detail
    assert place.remedy is not None
    for step in ("App registrations", "API permissions", "Application permissions"):
        assert step in place.remedy
    assert "Place.Read.All" in place.remedy
    assert "Grant admin consent" in place.remedy
    # Without the places probe no room is known, so the calendar cannot be tried.
    calendars = next(p for p in report.permissions if p.permission == "Calendars.Read")
    assert (calendars.verdict, calendars.evidence) == (Verdict.OK, Evidence.ROLES_CLAIM)


def test_read_only_calendars_fail_the_push_requirement(
    ctx: SyncContext, sim: Simulator, organization_id: uuid.UUID
) -> None:
    sim.set_roles({"Calendars.Read", "Place.Read.All", "User.Read.All"})
    report = check_integration(ctx, connect(ctx, sim, organization_id))

    assert not report.ok
    assert verdicts(report)["Calendars.Read"] == (Verdict.OK, Evidence.CALL)
    assert verdicts(report)["Calendars.ReadWrite"] == (Verdict.MISSING, Evidence.ROLES_CLAIM)


def test_an_expired_secret_gets_a_clear_verdict_and_stops_the_jobs(
    ctx: SyncContext, sim: Simulator, organization_id: uuid.UUID
) -> None:
    integration_id = connect(ctx, sim, organization_id)
    sim.expire_client_secret()

    report = check_integration(ctx, integration_id)

    assert not report.ok
    assert not report.token.ok
    assert "AADSTS7000222" in report.token.detail
    assert "expired" in report.token.detail
    assert "Certificates & secrets" in report.token.detail
    assert {p.verdict for p in report.permissions} == {Verdict.NOT_VERIFIABLE}
    assert report.stopped_reason == report.token.detail
    graph_calls = sim.requests.count()
    with pytest.raises(IntegrationUnavailableError, match="is stopped") as refused:
        sync_rooms(ctx, integration_id, trigger=SyncRunTrigger.SCHEDULE)
    assert "AADSTS7000222" in refused.value.message
    assert sim.requests.count() == graph_calls


def test_a_secret_expiring_while_running_stops_the_jobs_with_one_message(
    ctx: SyncContext, sim: Simulator, organization_id: uuid.UUID
) -> None:
    integration_id = connect(ctx, sim, organization_id)
    sync_rooms(ctx, integration_id, trigger=SyncRunTrigger.SCHEDULE)
    sim.expire_client_secret()
    sim.expire_access_tokens()

    with pytest.raises(ClientSecretExpired):
        sync_rooms(ctx, integration_id, trigger=SyncRunTrigger.SCHEDULE)
    with pytest.raises(IntegrationUnavailableError):
        sync_rooms(ctx, integration_id, trigger=SyncRunTrigger.SCHEDULE)

    stopped = integration(ctx, integration_id)
    assert stopped.stopped_reason is not None
    assert "AADSTS7000222" in stopped.stopped_reason
    with ctx.database.session() as session:
        runs = session.scalars(select(SyncRun).order_by(SyncRun.id)).all()
    assert [run.outcome for run in runs] == [SyncRunOutcome.SUCCEEDED, SyncRunOutcome.FAILED]
    status = integration_status(ctx, integration_id)
    assert status.health.state is IntegrationState.STOPPED
    assert status.health.stopped_reason == stopped.stopped_reason


def test_a_wrong_secret_stops_the_jobs_and_a_new_secret_resumes_them(
    ctx: SyncContext, sim: Simulator, organization_id: uuid.UUID
) -> None:
    integration_id = connect(ctx, sim, organization_id)
    save(ctx, integration_id, client_secret="not-the-secret-value")
    assert integration(ctx, integration_id).credentials_version == 2

    with pytest.raises(InvalidClientSecret, match="AADSTS7000215"):
        sync_rooms(ctx, integration_id, trigger=SyncRunTrigger.SCHEDULE)
    assert integration(ctx, integration_id).stopped_reason is not None

    save(ctx, integration_id, client_secret=sim.credentials.client_secret)

    resumed = integration(ctx, integration_id)
    assert (resumed.stopped_reason, resumed.credentials_version) == (None, 3)
    assert sync_rooms(ctx, integration_id, trigger=MANUAL).counts["created"] == 6


def test_a_check_that_gets_a_token_again_resumes_a_stopped_integration(
    ctx: SyncContext, sim: Simulator, organization_id: uuid.UUID
) -> None:
    integration_id = connect(ctx, sim, organization_id)
    registration = sim.app_registration()
    valid_until = registration.secrets[0].expires_at
    sim.expire_client_secret()
    assert not check_integration(ctx, integration_id).ok
    assert integration(ctx, integration_id).stopped_reason is not None

    registration.secrets[0].expires_at = valid_until  # extended in the Azure portal
    report = check_integration(ctx, integration_id)

    assert report.ok
    assert report.stopped_reason is None
    assert integration(ctx, integration_id).stopped_reason is None
    with ctx.database.session() as session:
        checks = session.scalars(select(SyncRun).where(SyncRun.kind == SyncRunKind.CHECK)).all()
    assert [run.outcome for run in checks] == [SyncRunOutcome.FAILED, SyncRunOutcome.SUCCEEDED]


def test_certificate_credentials_import_rooms_and_pass_the_check(
    ctx: SyncContext, sim: Simulator, organization_id: uuid.UUID
) -> None:
    certificate = sim.add_certificate()
    pem = certificate.private_key_pem + certificate.certificate_pem
    integration_id = connect(
        ctx, sim, organization_id, client_secret=None, certificate=CertificateInput(pem=pem)
    )

    assert sync_rooms(ctx, integration_id, trigger=MANUAL).counts["created"] == 6
    assert check_integration(ctx, integration_id).ok
    health = integration_status(ctx, integration_id).health
    assert health.credential.kind is CredentialKind.CERTIFICATE
    assert not health.credential.client_secret_set
    assert health.credential.certificate_thumbprint == certificate.thumbprint.upper()
    assert health.credential.days_until_certificate_expiry is not None
    assert health.credential.days_until_certificate_expiry > 300


def test_a_rotated_secret_takes_effect_on_the_next_call_without_a_restart(
    ctx: SyncContext, sim: Simulator, organization_id: uuid.UUID
) -> None:
    integration_id = connect(ctx, sim, organization_id)
    sync_rooms(ctx, integration_id, trigger=MANUAL)
    rotated = sim.add_app("roomsync-rotated", {"Place.Read.All", "User.Read.All"})
    save(ctx, integration_id, client_id=rotated.client_id, client_secret=rotated.client_secret)

    report = check_integration(ctx, integration_id)

    assert report.token.roles == ["Place.Read.All", "User.Read.All"]
    assert verdicts(report)["Calendars.ReadWrite"] == (Verdict.MISSING, Evidence.ROLES_CLAIM)


def test_disabling_an_integration_or_changing_its_credential_drops_its_token_provider(
    ctx: SyncContext, sim: Simulator, organization_id: uuid.UUID
) -> None:
    integration_id = connect(ctx, sim, organization_id)
    check_integration(ctx, integration_id)
    held_after_check = len(ctx.tokens)

    save(ctx, integration_id, enabled=False)
    held_after_disable = len(ctx.tokens)
    save(ctx, integration_id, enabled=True)
    check_integration(ctx, integration_id)
    save(ctx, integration_id, client_secret="a-new-value")

    assert (held_after_check, held_after_disable, len(ctx.tokens)) == (1, 0, 0)


def test_the_roles_claim_is_read_without_verification_and_tolerates_opaque_tokens() -> None:
    assert token_roles("not-a-jwt") is None
    unsigned = "eyJhbGciOiJub25lIn0.eyJyb2xlcyI6WyJCIiwiQSJdfQ."  # {"roles": ["B", "A"]}
    assert token_roles(unsigned) == ["A", "B"]


def test_the_secret_expiry_is_part_of_the_check(
    ctx: SyncContext, sim: Simulator, organization_id: uuid.UUID
) -> None:
    integration_id = connect(
        ctx,
        sim,
        organization_id,
        client_secret_expires_at=ctx.clock() + timedelta(days=10, hours=1),
    )
    report = check_integration(ctx, integration_id)

    assert report.credential.days_until_secret_expiry == 10
    assert any("expires within 14 days" in notice for notice in report.notices)
