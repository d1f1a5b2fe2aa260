"""Workflow 4, push: outbox rows claimed, sent to the organizer's calendar (create, update,
cancel), their outcome recorded in one transaction, and the room mailbox's answer read back.
"""
