"""The ``roomsync`` command line (Typer). Errors print as one actionable line, never a traceback."""

from __future__ import annotations

import typer

app = typer.Typer(help="roomsync: workspace bookings kept in sync with Microsoft 365.")


@app.callback()
def _root() -> None:
    """roomsync: workspace bookings kept in sync with Microsoft 365."""


def main() -> None:
    app()
