"""The ``graphsim`` command line."""

from __future__ import annotations

import typer

app = typer.Typer(help="graphsim: an emulated Microsoft 365 tenant.")


@app.callback()
def _root() -> None:
    """graphsim: an emulated Microsoft 365 tenant."""


def main() -> None:
    app()
