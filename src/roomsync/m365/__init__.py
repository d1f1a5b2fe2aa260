"""Microsoft 365 through Microsoft Graph and Entra ID, and nothing else.

msal credentials (client secret and certificate), the synchronous Graph client (paging,
delta, ``$batch``, Retry-After, the one error mapping), pydantic wire models, Windows/IANA
time zones and national-cloud endpoints.

Knows nothing of the database: must not import ``roomsync.platform``, ``roomsync.sync``
or SQLAlchemy (DESIGN §1).
"""
