"""The workspace platform: organizations, buildings, resources (rooms), users, bookings.

Owns the SQLAlchemy models, the Alembic migrations, the booking and room rules (conflicts,
lifecycle, optimistic concurrency), the outbox row written in the same transaction as a
booking change, and the REST routers for platform resources.

Must not import ``roomsync.m365``, ``roomsync.sync`` or ``roomsync.runtime`` (an
import-linter contract, ``make lint``): a booking platform works with no Microsoft 365.
"""
