"""The four workflows that keep the platform and Microsoft 365 in step, and what they share.

Shared by the workflows:
    context          SyncContext: settings, database, the shared Graph client, the clock
    exceptions       the error tree of the workflows
    heartbeat        A live run says so, on a thread of its own: every third of ...
    leases           cross-process leases: one holder per integration or room
    links            event links: how a booking is known in Microsoft 365
    mailbox_pool     Graph calls several at a time, never over Outlook's per-mailbox limit
    mapping          what a room-calendar event means as a booking; the status reasons
    options          per-integration tunables (integrations.options)
    planner          the pure planner: what to do with one item read from a room calendar
    room_states      the per-room sync-state rows, created race-free
    runs             run history: one sync_runs row per run, with counts and warnings

rooms/  workflow 1: room mailboxes and room lists -> resources and buildings
    details          directory attributes of room accounts (GET /users/{room})
    field_mapping    which platform field comes from which Graph property
    listing          which rooms Microsoft 365 has, and the room list of each
    reconcile        midnight: rooms gone from Microsoft 365 retired, with guards
    workflow         sync_rooms: list, map and write the rooms of one integration
    writing          buildings for room lists, one resource per room mailbox

pull/  workflow 2: bookings made in Outlook, pulled with calendarView/delta
    apply            PageApplier: the planner's decisions carried out on the platform
    new_bookings     Outlook bookings of one transaction, inserted together
    organizer_privacy  A meeting's privacy as its organizer's copy says it, whatever the ...
    page_flush       the transaction that applies pages with their delta links
    prefetch         Graph lookups a page needs, made outside the transaction
    reconcile        the end of a full round: bookings the calendar no longer holds
    rounds           where a room's round starts; what a committed page saves
    window           the span a round covers (yesterday to 90 days ahead)
    workflow         pull_bookings: the rounds of an integration's rooms

listener/  workflow 3: change notifications -> pulls of the rooms they name
    notifications    the request side: what a POST to our webhook does
    subscriptions    one subscription per room calendar, as roomsync keeps it
    workflow         the worker side: rooms kept subscribed, lifecycle events

push/  workflow 4: outbox rows -> the organizer's Outlook calendar
    claim            a booking's due outbox rows, and a snapshot of what to push
    conflicts        before a PATCH: did Outlook change it too, and who wins
    failure          A booking whose push cannot get through stops holding its room
    graph            the planned push sent to Microsoft Graph
    outbox           what a claim hands over, and how an attempt is retried
    plan             what a push sends: the booking against what Graph last got
    record           what a push achieved, recorded in one transaction
    room_answers     the room mailbox's answer to a push, read back
    workflow         push_booking: claim, send, record

integration/  an integration's configuration, connection, checks and status
    access           who may run: the check every workflow entry point makes
    configuration    saving an integration's configuration
    connection       from an integration row to a Graph client for its tenant
    doctor           the credential and permission doctor
    organizer_health The ``organizers`` section of the integration status: bookings still ...
    permissions      the Graph application permissions and how each is checked
    room_health      per-room sync health for the status view
    secret_expiry    client-secret expiry warnings
    settings         the structured parts of the configuration (JSON on the row)
    status           the status view behind GET /integrations/{id}/status
    status_metrics   gauges /metrics reads from the database at each scrape

The planner decides, the workflows carry out: a workflow reads both sides, asks the
planner, and writes through ``roomsync.platform``'s services and ``roomsync.m365``'s client.
Must not import ``roomsync.web`` or ``roomsync.runtime`` (an import-linter contract,
``make lint``).
"""
