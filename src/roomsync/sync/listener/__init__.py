"""Workflow 3, the listener: one change-notification subscription per room calendar kept alive,
the webhook's notifications turned into coalesced pulls of their rooms, lifecycle events
answered (missed: resync; removed: recreate).
"""
