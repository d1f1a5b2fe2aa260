"""The user sync: the platform's users kept in step with the directory, with
``GET /users/delta`` (with User.Read.All, the permission it needs to read the users who book
rooms).

One run (with the room import, every 30 minutes, or on demand): the shared gate, the
integration's ``users:`` lease, a recorded run (kind ``users``), then

1. a delta round from the saved link (none: a full listing). Each page is applied in one
   transaction together with the link that follows it, so a run that dies resumes from
   its last committed page; an expired link restarts the round without it.
2. Only people the platform already knows are touched (the users table holds people who
   book, not the whole directory): matched by directory object id, else, before they have
   one, by address. Name, address and account state follow the directory; ``@removed``
   marks the user deleted (reason ``changed``: in the deleted items; ``deleted``: for
   good), and a restored user comes back. A full listing completed in this run also marks
   as deleted the matched users it no longer lists.
3. Users not matched yet (a platform booking made one for its organizer, an Outlook
   organizer first seen after the last full listing) are looked up one by one
   (``/users/{address}``), at most ``LOOKUPS_PER_RUN`` a run: found, they are matched;
   not in the tenant, they are marked ``external``.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from roomsync.m365.directory import (
    PEOPLE_FIELDS,
    UserChange,
    fetch_users_delta_page,
    find_user_by_email,
)
from roomsync.m365.exceptions import GraphError, SyncStateExpired
from roomsync.m365.graph import GraphClient
from roomsync.platform.enums import SyncRunKind, SyncRunTrigger
from roomsync.platform.models import DirectorySyncState, Integration, User
from roomsync.sync.context import SyncContext
from roomsync.sync.integration.access import runnable_integration, stopping_on_credential_failure
from roomsync.sync.integration.connection import graph_for
from roomsync.sync.leases import kept_lease, lease_ttl
from roomsync.sync.runs import RunReport, recorded_run

logger = logging.getLogger(__name__)

LOOKUPS_PER_RUN = 50
REPORTED_COUNTS = ("renamed", "readdressed", "disabled", "enabled", "deleted", "restored",
                   "matched", "unchanged", "not_on_platform", "external")  # fmt: skip


def sync_users(
    ctx: SyncContext, integration_id: uuid.UUID, *, trigger: SyncRunTrigger
) -> RunReport:
    """Bring the integration's organization's users up to date with the directory now."""
    with ctx.database.session() as session:
        integration = runnable_integration(session, integration_id)
    ttl = lease_ttl(ctx.settings)
    with (
        kept_lease(ctx.database, f"users:{integration_id}", ttl=ttl, clock=ctx.clock),
        recorded_run(
            ctx.database,
            integration_id=integration_id,
            kind=SyncRunKind.USERS,
            trigger=trigger,
            clock=ctx.clock,
            liveness=ttl,
        ) as report,
        stopping_on_credential_failure(ctx.database, integration_id),
    ):
        for name in REPORTED_COUNTS:
            report.count(name, 0)
        graph = graph_for(ctx, integration)
        _DeltaRound(ctx, integration, graph, report).run()
        _match_unmatched(ctx, integration, graph, report)
    logger.info("The users run of integration %s ended %s: %s", integration_id,
                report.outcome, dict(sorted(report.counts.items())))  # fmt: skip
    return report


class _DeltaRound:
    """One users delta round, page by page, each page committed with its link."""

    def __init__(
        self, ctx: SyncContext, integration: Integration, graph: GraphClient, report: RunReport
    ) -> None:
        self.ctx, self.graph, self.report = ctx, graph, report
        self.integration_id = integration.id
        self.organization_id = integration.organization_id
        self.listed: set[str] | None = None  # ids a full listing of this run has shown

    def run(self) -> None:
        link = self._saved_link()
        self.listed = set() if link is None else None
        while True:
            try:
                page = fetch_users_delta_page(self.graph, link, select=PEOPLE_FIELDS)
            except SyncStateExpired:
                if link is None:
                    raise
                self.report.warn(
                    "The saved users delta link had expired; the directory was listed anew."
                )
                link, self.listed = None, set()
                continue
            self._apply(page.value, next_link=page.next_link, delta_link=page.delta_link)
            if page.delta_link is not None:
                return
            link = page.next_link
            if self.ctx.stopping.is_set():
                self.report.warn(
                    "The users round stopped early for a shutdown; the next one resumes it."
                )
                return

    def _saved_link(self) -> str | None:
        with self.ctx.database.session() as session:
            state = _state(session, self.integration_id)
            return state.next_link or state.delta_link

    def _apply(
        self, items: list[UserChange], *, next_link: str | None, delta_link: str | None
    ) -> None:
        now = self.ctx.clock()
        with self.ctx.database.session() as session:
            apply_user_changes(session, self.organization_id, items, self.report, now=now)
            if self.listed is not None:
                self.listed.update(i.id for i in items if i.removed is None)
                if delta_link is not None:
                    _mark_unlisted_deleted(
                        session, self.organization_id, self.listed, self.report, now
                    )
            state = _state(session, self.integration_id)
            state.next_link = next_link
            state.round_started_at = state.round_started_at or now
            if delta_link is not None:
                state.delta_link, state.last_round_at, state.round_started_at = (
                    delta_link,
                    now,
                    None,
                )


def _state(session: Session, integration_id: uuid.UUID) -> DirectorySyncState:
    state = session.scalar(
        select(DirectorySyncState).where(DirectorySyncState.integration_id == integration_id)
    )
    if state is None:
        state = DirectorySyncState(integration_id=integration_id)
        session.add(state)
    return state


def apply_user_changes(
    session: Session,
    organization_id: uuid.UUID,
    items: list[UserChange],
    report: RunReport,
    *,
    now: datetime,
) -> None:
    """Carry one page of directory changes over to the organization's known users."""
    known = _known_users(session, organization_id, items)
    for item in items:
        user = known.get(item.id) or known.get(item.address or "")
        if user is None or (user.directory_id not in (None, item.id)):
            report.count("not_on_platform")
        elif item.removed is not None:
            _mark_deleted(user, report, now)
        else:
            _follow(session, user, item, report)
    session.flush()


def _known_users(
    session: Session, organization_id: uuid.UUID, items: list[UserChange]
) -> dict[str, User]:
    """The organization's users these items may be: by directory id and by address."""
    ids = [i.id for i in items]
    addresses = [a for i in items if (a := i.address)]
    rows = session.scalars(
        select(User).where(
            User.organization_id == organization_id,
            or_(User.directory_id.in_(ids), User.email.in_(addresses)),
        )
    ).all()
    by_address = {u.email: u for u in rows if u.directory_id is None}
    return by_address | {u.directory_id: u for u in rows if u.directory_id}


def _follow(session: Session, user: User, item: UserChange, report: RunReport) -> None:
    changed = False
    if user.directory_id is None:
        user.directory_id, user.external, changed = item.id, False, True
        report.count("matched")
    if user.deleted_at is not None:
        user.deleted_at, changed = None, True
        report.count("restored")
    if item.display_name and item.display_name != user.name:
        user.name, changed = item.display_name[:200], True
        report.count("renamed")
    if item.account_enabled is not None and item.account_enabled != user.account_enabled:
        user.account_enabled, changed = item.account_enabled, True
        report.count("enabled" if item.account_enabled else "disabled")
    changed = _readdress(session, user, item.address, report) or changed
    if not changed:
        report.count("unchanged")


def _readdress(session: Session, user: User, address: str | None, report: RunReport) -> bool:
    if not address or address == user.email:
        return False
    holder = session.scalar(
        select(User.id).where(User.organization_id == user.organization_id, User.email == address)
    )
    if holder is not None:
        report.warn(
            f"The directory moved {user.email} to {address}, which another platform user "
            "already has; merge the two users to keep their bookings together."
        )
        return False
    user.email = address
    report.count("readdressed")
    return True


def _mark_deleted(user: User, report: RunReport, now: datetime) -> None:
    if user.deleted_at is None:
        user.deleted_at = now
        report.count("deleted")
    else:
        report.count("unchanged")


def _mark_unlisted_deleted(
    session: Session, organization_id: uuid.UUID, listed: set[str], report: RunReport, now: datetime
) -> None:
    """After a full listing: matched users it did not list are gone from the directory."""
    matched = session.scalars(
        select(User).where(
            User.organization_id == organization_id,
            User.directory_id.is_not(None),
            User.deleted_at.is_(None),
        )
    )
    for user in matched:
        if user.directory_id not in listed:
            _mark_deleted(user, report, now)


def _match_unmatched(
    ctx: SyncContext, integration: Integration, graph: GraphClient, report: RunReport
) -> None:
    """Look up, one by one, the known users no delta round has matched yet."""
    with ctx.database.session() as session:
        pending = session.scalars(
            select(User.id)
            .where(
                User.organization_id == integration.organization_id,
                User.directory_id.is_(None),
                User.external.is_(False),
            )
            .order_by(User.id)
            .limit(LOOKUPS_PER_RUN)
        ).all()
    for user_id in pending:
        if not _match_one(ctx, graph, user_id, report):
            return


def _match_one(ctx: SyncContext, graph: GraphClient, user_id: uuid.UUID, report: RunReport) -> bool:
    with ctx.database.session() as session:
        email = session.get_one(User, user_id).email
    try:
        found = find_user_by_email(graph, email, select=PEOPLE_FIELDS)
    except GraphError as exc:
        report.warn(f"The user {email} could not be looked up in the directory: {exc.message}")
        return False
    with ctx.database.session() as session:
        user = session.get_one(User, user_id)
        if found is None:
            user.external = True
            report.count("external")
        elif _directory_id_free(session, user, found.id, report):
            user.directory_id = found.id  # matched, whichever address the lookup went by
            report.count("matched")
            change = UserChange.model_validate(found.raw)
            apply_user_changes(session, user.organization_id, [change], report, now=ctx.clock())
    return True


def _directory_id_free(session: Session, user: User, directory_id: str, report: RunReport) -> bool:
    holder = session.scalar(
        select(User.email).where(
            User.organization_id == user.organization_id, User.directory_id == directory_id
        )
    )
    if holder is None:
        return True
    report.warn(
        f"The platform users {user.email} and {holder} are the same directory account; "
        "merge them to keep their bookings together."
    )
    return False
