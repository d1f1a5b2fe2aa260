"""Client secret expiry: warnings at 30, 14, 7 and 1 days in status, logs and metrics."""

from __future__ import annotations

import dataclasses
import logging
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from prometheus_client import REGISTRY

from graphsim import Simulator
from roomsync.sync.context import SyncContext
from roomsync.sync.integration.configuration import IntegrationChanges, update_integration
from roomsync.sync.integration.secret_expiry import SecretExpiry, check_secret_expiries
from roomsync.sync.integration.status import integration_status
from tests.sync.rooms_testkit import connect

NOW = datetime(2026, 11, 23, 12, tzinfo=UTC)
GAUGE = "roomsync_client_secret_expiry_seconds"


def expiry(left: timedelta) -> SecretExpiry:
    return SecretExpiry(uuid.UUID(int=1), NOW + left, left.total_seconds())


@pytest.mark.parametrize(
    ("left", "threshold", "phrase"),
    [
        (timedelta(days=31), None, None),
        (timedelta(days=30), 30, "expires within 30 days"),
        (timedelta(days=13, hours=23), 14, "expires within 14 days"),
        (timedelta(days=7), 7, "expires within 7 days"),
        (timedelta(hours=20), 1, "expires within 1 day ("),
        (timedelta(seconds=-5), 1, "expired on 2026-11-23T11:59:55Z"),
    ],
)
def test_notices_start_thirty_days_ahead_and_tighten(
    left: timedelta, threshold: int | None, phrase: str | None
) -> None:
    found = expiry(left)
    assert found.threshold == threshold
    if phrase is None:
        assert found.notice is None
    else:
        assert found.notice is not None
        assert phrase in found.notice
        assert "Certificates & secrets" in found.notice


def test_the_daily_check_sets_the_gauge_and_logs_each_secret_near_its_end(
    ctx: SyncContext,
    sim: Simulator,
    organization_id: uuid.UUID,
    factory: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock_ctx = dataclasses.replace(ctx, clock=lambda: NOW)
    soon = connect(ctx, sim, organization_id, client_secret_expires_at=NOW + timedelta(days=6))
    later = connect(
        ctx,
        sim,
        factory.organization("Fabrikam"),
        client_secret_expires_at=NOW + timedelta(days=90),
    )
    caplog.set_level(logging.WARNING, logger="roomsync.sync.integration.secret_expiry")

    expiries = check_secret_expiries(clock_ctx)

    assert {e.integration_id: e.days_left for e in expiries} == {soon: 6, later: 90}
    assert REGISTRY.get_sample_value(GAUGE, {"integration": str(soon)}) == 6 * 86_400
    assert REGISTRY.get_sample_value(GAUGE, {"integration": str(later)}) == 90 * 86_400
    warned = [r.getMessage() for r in caplog.records]
    assert len(warned) == 1
    assert str(soon) in warned[0]
    assert "within 7 days" in warned[0]


def test_a_secret_without_a_saved_expiry_is_not_measured_but_flagged(
    ctx: SyncContext, sim: Simulator, organization_id: uuid.UUID
) -> None:
    integration_id = connect(ctx, sim, organization_id)
    assert check_secret_expiries(ctx) == []
    assert REGISTRY.get_sample_value(GAUGE, {"integration": str(integration_id)}) is None
    notices = integration_status(ctx, integration_id).health.notices
    assert any("expiry date is unknown" in notice for notice in notices)


def test_a_new_secret_keeps_the_saved_expiry_date_until_its_own_is_given(
    ctx: SyncContext, sim: Simulator, organization_id: uuid.UUID
) -> None:
    integration_id = connect(ctx, sim, organization_id, client_secret_expires_at=NOW)
    with ctx.database.session() as session:
        updated = update_integration(
            session,
            ctx,
            integration_id=integration_id,
            changes=IntegrationChanges(client_secret="rotated"),
        )
        assert updated.client_secret_expires_at == NOW
        updated = update_integration(
            session,
            ctx,
            integration_id=integration_id,
            changes=IntegrationChanges(
                client_secret="rotated-again", client_secret_expires_at=NOW + timedelta(days=700)
            ),
        )
        assert updated.client_secret_expires_at == NOW + timedelta(days=700)
