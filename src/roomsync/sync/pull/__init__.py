"""Workflow 2, booking pull: each room's calendar read with ``calendarView/delta`` over the
sync window, every item planned and applied, a page committed together with the delta link
that follows it, and the bookings a full round no longer sees reconciled.
"""
