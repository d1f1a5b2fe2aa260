"""Microsoft 365 through Microsoft Graph and Entra ID, and nothing else.

    http           the one shared httpx.Client (its transport is the test/emulator seam)
    clouds         sign-in and Graph hosts of the global and national clouds
    credentials    client-secret and certificate credentials, msal token providers
    graph          GraphClient: bearer token, 401 refresh, Retry-After, paging
    batch          $batch of up to 20 requests, per-item retries, dependsOn
    fanout         many mailboxes: batches on a bounded pool, 4 per mailbox at most
    models         pydantic wire models (events, rooms, users, subscriptions, ...)
    timezones      Windows/IANA names, dateTimeTimeZone <-> UTC
    places, directory, calendar, subscriptions
                   small helpers, one Graph resource each
    exceptions     the error tree; error_mapping: the one translation into it
    retry          the retry policy and Retry-After parsing

Knows nothing of the database: must not import ``roomsync.platform``, ``roomsync.sync``
or SQLAlchemy (an import-linter contract, ``make lint``).
"""
