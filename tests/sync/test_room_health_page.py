"""A page of per-room health, searched, sorted and cut in the database (the admin
dashboard's table with thousands of rooms): the same rows ``room_health`` gives, in the
order asked for, with the count of every match. On SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from roomsync.platform.db import Database
from roomsync.platform.models import RoomSyncState
from roomsync.sync.integration.room_health import (
    RoomOrder,
    room_health,
    room_health_page,
    subscription_counts,
)

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)


@pytest.fixture
def rooms(database: Database, factory: Any) -> tuple[uuid.UUID, uuid.UUID, list[uuid.UUID]]:
    """Twelve rooms; room k last read k minutes ago with k errors, room 0 never read."""
    organization_id = factory.organization("Acme")
    integration_id = factory.integration(organization_id)
    building = factory.building(organization_id)
    ids = [
        factory.room(building, name=f"Room {k:02d}", email=f"r{k:02d}@acme.test") for k in range(12)
    ]
    factory.room(building, name="No mailbox")
    with database.session() as session:
        for k, resource_id in enumerate(ids[1:], start=1):
            session.add(RoomSyncState(
                resource_id=resource_id, integration_id=integration_id,
                last_success_at=NOW - timedelta(minutes=k), consecutive_failures=k,
                events_seen=100 - k, subscription_state="active" if k % 2 else "failed",
                subscription_expires_at=NOW + timedelta(hours=k),
            ))  # fmt: skip
    return organization_id, integration_id, ids


def test_a_page_by_name_holds_the_same_rows_as_the_whole_list(
    database: Database, rooms: tuple[uuid.UUID, uuid.UUID, list[uuid.UUID]]
) -> None:
    _, integration_id, _ = rooms
    with database.session() as session:
        whole = room_health(session, integration_id, now=NOW)
        first = room_health_page(session, integration_id, limit=5, now=NOW)
        third = room_health_page(session, integration_id, offset=10, limit=5, now=NOW)
    assert first.matched == third.matched == 12
    assert [r.resource_id for r in first.rows] == [r.resource_id for r in whole[:5]]
    assert [r.name for r in third.rows] == ["Room 10", "Room 11"]
    assert first.rows[0] == whole[0]


def test_the_longest_lag_comes_first_and_never_read_is_longest(
    database: Database, rooms: tuple[uuid.UUID, uuid.UUID, list[uuid.UUID]]
) -> None:
    _, integration_id, _ = rooms
    with database.session() as session:
        page = room_health_page(
            session, integration_id, order=RoomOrder.LAG, descending=True, limit=3, now=NOW
        )
    assert [r.name for r in page.rows] == ["Room 00", "Room 11", "Room 10"]
    assert page.rows[0].lag_seconds is None
    assert page.rows[1].lag_seconds == 11 * 60


def test_rooms_sort_by_errors_and_items(
    database: Database, rooms: tuple[uuid.UUID, uuid.UUID, list[uuid.UUID]]
) -> None:
    _, integration_id, _ = rooms
    with database.session() as session:
        errors = room_health_page(session, integration_id, order=RoomOrder.ERRORS, limit=2)
        items = room_health_page(
            session, integration_id, order=RoomOrder.ITEMS, descending=True, limit=2
        )
    assert [r.consecutive_failures for r in errors.rows] == [0, 1]
    assert [r.events_seen for r in items.rows] == [99, 98]


def test_a_search_matches_name_or_email_in_any_case_and_counts_the_matches(
    database: Database, rooms: tuple[uuid.UUID, uuid.UUID, list[uuid.UUID]]
) -> None:
    _, integration_id, _ = rooms
    with database.session() as session:
        by_name = room_health_page(session, integration_id, search="ROOM 1")
        by_email = room_health_page(session, integration_id, search="r05@")
        wildcard = room_health_page(session, integration_id, search="%")
    assert [r.name for r in by_name.rows] == ["Room 10", "Room 11"]
    assert by_name.matched == 2
    assert [r.name for r in by_email.rows] == ["Room 05"]
    assert wildcard.matched == 0


def test_subscription_counts_are_per_state_with_the_earliest_expiry(
    database: Database, rooms: tuple[uuid.UUID, uuid.UUID, list[uuid.UUID]]
) -> None:
    organization_id, _, _ = rooms
    with database.session() as session:
        counts, earliest = subscription_counts(session, organization_id)
    assert counts == {"active": 6, "failed": 5, None: 1}
    assert earliest == NOW + timedelta(hours=1)
