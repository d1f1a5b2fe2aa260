"""The four workflows that keep the platform and Microsoft 365 in step (DESIGN §4).

Room import, booking pull (calendarView delta), listener (change notifications) and push
(outbox to Graph); the mappings between the two sides, the sync state, and the pure
planner that decides what to do with each incoming item.

Must not import ``roomsync.web`` or ``roomsync.runtime`` (DESIGN §1).
"""
