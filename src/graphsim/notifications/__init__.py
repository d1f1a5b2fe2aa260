"""Change notifications: subscriptions on ``/users/{id}/events`` and what they send,
``/subscriptions`` over HTTP, and delivery to webhook endpoints (validation, lifecycle events).
"""
