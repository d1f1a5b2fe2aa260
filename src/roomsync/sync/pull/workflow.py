"""Workflow 2: bookings made in Outlook, pulled with ``calendarView/delta`` per room.

A round holds the integration's lease, sends every room's next delta request through the
mailbox fan-out (``$batch`` of 20, several in flight, at most 4 per mailbox, slowing down
on 429), and follows each room's nextLinks to its deltaLink. Each page is applied together
with the link that follows it: the pages delivered by one ``$batch`` share a transaction,
so a killed round resumes from the last saved link and replays at most those pages
(applying them again changes nothing). Pages are streamed, never accumulated.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from collections.abc import Callable, Sequence
from zoneinfo import ZoneInfo

from roomsync.logs import log_context
from roomsync.m365.calendar import DeltaWindow, delta_headers, parse_delta_page, quiet_delta_link
from roomsync.m365.exceptions import SyncStateExpired
from roomsync.m365.fanout import BatchItemResult, FanOut, MailboxRequest
from roomsync.m365.graph import GraphClient
from roomsync.platform.enums import SyncRunKind, SyncRunTrigger
from roomsync.sync.context import SyncContext
from roomsync.sync.integration.access import runnable_integration, stopping_on_credential_failure
from roomsync.sync.integration.connection import graph_for
from roomsync.sync.leases import HeldLease, kept_lease, lease_ttl
from roomsync.sync.options import IntegrationOptions
from roomsync.sync.pull.page_flush import PageBuffer, PendingPage, QuietPage
from roomsync.sync.pull.prefetch import OrganizerDirectory
from roomsync.sync.pull.reconcile import reconcile_full_rounds, reconcile_room
from roomsync.sync.pull.rounds import (
    PageRequest,
    RoomRound,
    RoomToPull,
    SavedRound,
    begin_round,
    rooms_to_pull,
)
from roomsync.sync.pull.window import current_window
from roomsync.sync.room_states import ensure_room_states
from roomsync.sync.runs import RunReport, recorded_run

logger = logging.getLogger(__name__)
Progress = Callable[[int, int], None]
"""Called with (rooms finished, rooms in the round)."""


def pull_bookings(
    ctx: SyncContext,
    integration_id: uuid.UUID,
    *,
    trigger: SyncRunTrigger,
    resource_ids: Sequence[uuid.UUID] | None = None,
    progress: Progress | None = None,
) -> RunReport:
    """Pull every imported room of the integration (or only ``resource_ids``) once."""
    name, ttl = _lease_name(integration_id, resource_ids), lease_ttl(ctx.settings)
    with (
        log_context(integration=integration_id),
        kept_lease(ctx.database, name, ttl=ttl, clock=ctx.clock) as held,
        recorded_run(
            ctx.database,
            integration_id=integration_id,
            kind=SyncRunKind.BOOKINGS,
            trigger=trigger,
            clock=ctx.clock,
            liveness=ttl,
        ) as report,
    ):
        with stopping_on_credential_failure(ctx.database, integration_id):
            _Round(ctx, integration_id, report, held, progress).run(resource_ids)
        return report


def _lease_name(integration_id: uuid.UUID, resource_ids: Sequence[uuid.UUID] | None) -> str:
    """One lease per set of rooms; a set of many rooms is named by its digest (a lease
    name has at most 200 characters)."""
    scope = ",".join(sorted(map(str, resource_ids))) if resource_ids else "all"
    if resource_ids and len(resource_ids) > 1:
        scope = f"rooms-{hashlib.sha256(scope.encode()).hexdigest()[:40]}"
    return f"bookings:{integration_id}:{scope}"


class _Round:
    def __init__(
        self,
        ctx: SyncContext,
        integration_id: uuid.UUID,
        report: RunReport,
        held: HeldLease,
        progress: Progress | None,
    ) -> None:
        self.ctx, self.report, self.held, self.progress = ctx, report, held, progress
        with ctx.database.session() as session:
            self.integration = runnable_integration(session, integration_id)
        self.options = IntegrationOptions.from_stored(self.integration.options)
        self.zone = ZoneInfo(self.integration.time_zone)
        self.graph: GraphClient = graph_for(ctx, self.integration)
        self.directory = OrganizerDirectory(self.graph)
        self.buffer = PageBuffer(ctx, self.directory, report, held)
        self.rooms_total = 0
        self.rooms_done = 0
        self.restarted: set[uuid.UUID] = set()
        self.left_mid_round = False
        # One dict for every request: a round sends thousands with the same preferences.
        self.headers = delta_headers(page_size=self.options.page_size)

    def run(self, resource_ids: Sequence[uuid.UUID] | None) -> None:
        self.graph.tokens.token()  # a credential problem fails the run here, not per room
        first_requests = self._first_requests(resource_ids)
        self.rooms_total = len(first_requests)
        self._tick()
        fan_out = FanOut(self.graph, max_batches_in_flight=self.options.max_batches_in_flight)
        outcome = fan_out.run(
            first_requests, self._on_result, self.buffer.flush, stop=self.ctx.stopping
        )
        self.buffer.flush(final=True)
        if outcome.stopped or self.left_mid_round:
            self.report.warn("The round stopped early for a shutdown; the next one resumes it.")
        completed = self.buffer.take_completed_full_rounds()
        reconcile_full_rounds(self.ctx, self.graph, self.directory, completed, self.report)
        self.report.count("rooms", self.rooms_total)
        self.report.count("graph_requests", outcome.requests)
        self.report.count("throttled_batches", outcome.throttled)
        self.report.warnings.extend(self.directory.warnings)
        for failure in outcome.callback_failures:
            self.report.error(f"{failure.request.mailbox}: {failure.error}")

    def _first_requests(
        self, resource_ids: Sequence[uuid.UUID] | None
    ) -> list[MailboxRequest[PageRequest]]:
        now = self.ctx.clock()
        window = current_window(now, self.zone, self.options)
        with self.ctx.database.session() as session:
            found = rooms_to_pull(session, self.integration.organization_id, resource_ids, window)
        if missing := [room.resource_id for room, state in found if state is None]:
            ensure_room_states(
                self.ctx.database, integration_id=self.integration.id, resource_ids=missing
            )
        requests = []
        for room, state in found:
            # A full round that ended without reconciling (its process died): reconcile now.
            if unreconciled := self._unreconciled_round(state, room):
                reconcile_room(self.ctx, self.graph, self.directory, unreconciled, self.report)
            page, url = begin_round(
                state,
                room,
                integration_id=self.integration.id,
                window=window,
                zone=self.zone,
                now=now,
            )
            requests.append(self._request(page, url))
        return requests

    def _unreconciled_round(self, state: SavedRound | None, room: RoomToPull) -> RoomRound | None:
        if state is None or not (state.full_round and state.delta_link and not state.next_link):
            return None
        if state.window_start is None or state.window_end is None:
            return None
        return RoomRound(
            integration_id=self.integration.id,
            organization_id=room.organization_id,
            resource_id=room.resource_id,
            room_email=room.email,
            window=DeltaWindow(state.window_start, state.window_end),
            zone=self.zone,
            full=True,
            started_at=state.round_started_at or self.ctx.clock(),
        )

    def _request(self, page: PageRequest, url: str) -> MailboxRequest[PageRequest]:
        return MailboxRequest(
            page.round.room_email,
            "GET",
            url,
            context=page,
            headers=self.headers,
        )

    def _on_result(
        self, result: BatchItemResult[PageRequest]
    ) -> list[MailboxRequest[PageRequest]] | None:
        request = result.request.context
        room = request.round
        if self.buffer.is_poisoned(room.resource_id):
            return None
        if result.error is not None:
            return self._on_error(request, result.error)
        if (delta_link := quiet_delta_link(result.body)) is not None:
            # Nothing changed in the room: only its new deltaLink is saved, with others'.
            self.buffer.add_quiet(QuietPage(request, delta_link))
            self.rooms_done += 1
            self._tick()
            return None
        page = parse_delta_page(result.body, mailbox=room.room_email)
        self.buffer.add(PendingPage(request, page))  # its lookups are made when it is flushed
        if page.next_link is not None and self.ctx.stopping.is_set():
            self.left_mid_round = True  # its next link is saved with this page
        if page.next_link is None or self.left_mid_round:
            self.rooms_done += 1
            self._tick()
            return None
        return [self._request(PageRequest(room, first=False), page.next_link)]

    def _on_error(
        self, request: PageRequest, error: Exception
    ) -> list[MailboxRequest[PageRequest]] | None:
        room = request.round
        if isinstance(error, SyncStateExpired) and room.resource_id not in self.restarted:
            # syncStateNotFound or 410 Gone: the saved token is useless; start a full round
            # (once per run, so a token Graph keeps refusing cannot loop).
            self.restarted.add(room.resource_id)
            self.report.count("delta_resets")
            now = self.ctx.clock()
            restarted = room.restarted(current_window(now, self.zone, self.options), now)
            return [self._request(PageRequest(restarted, first=True), restarted.initial_url)]
        self.buffer.fail(room, str(error))
        self.rooms_done += 1
        self._tick()
        return None

    def _tick(self) -> None:
        if self.progress is not None:
            self.progress(self.rooms_done, self.rooms_total)
