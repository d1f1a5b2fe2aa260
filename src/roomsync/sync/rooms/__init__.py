"""Workflow 1, rooms: Microsoft 365's room mailboxes and room lists become the platform's
resources and buildings, their fields taken by the integration's field mapping; at midnight in
the integration's time zone, rooms gone from Microsoft 365 are retired.
"""
