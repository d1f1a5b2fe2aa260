"""Keyword-only service functions: the only way routers and the sync change platform data.

Each takes an open :class:`sqlalchemy.orm.Session` (from ``Database.session()``) and leaves
committing to its caller, so several calls can share one transaction.
"""
