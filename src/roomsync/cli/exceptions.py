"""Errors of the command line itself (the commands' other errors come from the packages
they call; ``roomsync.cli.main`` prints any of them as one line).

    RoomsyncError
    └── CommandError
        ├── DemoCheckError        ``roomsync demo --once`` found the demo not working
        └── DatabaseMissingError  no roomsync database where the settings point
"""

from __future__ import annotations

from roomsync.errors import RoomsyncError


class CommandError(RoomsyncError):
    """A command could not do what it promises."""


class DemoCheckError(CommandError):
    code = "demo_check_failed"


class DatabaseMissingError(CommandError):
    """The command reads or changes data, and the database it was pointed at has none."""

    code = "database_missing"
