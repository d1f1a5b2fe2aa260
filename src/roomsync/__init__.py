"""roomsync: a workspace-booking backend kept in sync with Microsoft 365 room mailboxes.

Packages and the way their imports point (docs/architecture.md; ``make lint`` checks them):

    web, cli, runtime ──> sync ──> m365      (Graph + Entra ID, no database)
                            └────> platform  (database, booking rules, REST)

``graphsim`` (a sibling distribution package) emulates a Microsoft 365 tenant and is never
imported by roomsync.
"""

__version__ = "0.1.0"
