"""Mailbox calendars: events, recurrence, the change log behind delta, room processing."""
