"""``roomsync secrets rotate``: re-encrypt every stored secret with ``ROOMSYNC_SECRET_KEY``.

The procedure (docs/deploy.md "Changing the secret key"): start every process with the
new ``ROOMSYNC_SECRET_KEY`` and the old one in ``ROOMSYNC_PREVIOUS_SECRET_KEYS``, run this
command (safe to interrupt and run again), then drop the old key. Each value is rotated in
its own transaction (``roomsync.platform.services.secret_rotation``).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn

from roomsync.cli.environment import (
    DatabaseUrlOption,
    DataDirOption,
    command_settings,
    existing_database,
)
from roomsync.cli.exceptions import CommandError
from roomsync.platform.crypto import SecretBox
from roomsync.platform.db import describe_url
from roomsync.platform.services.secret_rotation import (
    Progress as RotationProgress,
)
from roomsync.platform.services.secret_rotation import (
    Rotation,
    RotationTally,
    SealedColumn,
    rotate_secrets,
)

app = typer.Typer(help="Manage the keys that encrypt stored secrets.", no_args_is_help=True)
out = Console(soft_wrap=True, highlight=False)
err = Console(stderr=True)


class SecretsUnreadableError(CommandError):
    code = "secrets_unreadable"


@app.command()
def rotate(database_url: DatabaseUrlOption = None, data_dir: DataDirOption = None) -> None:
    """Re-encrypt every stored client secret, certificate and clientState with the current
    ROOMSYNC_SECRET_KEY; safe to interrupt and run again."""
    settings = command_settings(database_url, data_dir)
    box = SecretBox.from_settings(settings)
    previous = len(settings.previous_keys())
    database = existing_database(settings.database_url)
    out.print(
        f"Re-encrypting the secrets in {describe_url(database.url)} with ROOMSYNC_SECRET_KEY "
        f"({previous} previous key{'' if previous == 1 else 's'} accepted for reading)."
    )
    try:
        with rotation_progress() as progress:
            tallies = rotate_secrets(database, box, progress=progress)
    finally:
        database.dispose()
    for tally in tallies:
        out.print(summary_line(tally))
    _refuse_unreadable(tallies)
    rotated = sum(tally.counts[Rotation.ROTATED] for tally in tallies)
    out.print(f"Done: {rotated} secrets re-encrypted; every stored secret uses the current key.")


def summary_line(tally: RotationTally) -> str:
    counts = ", ".join(
        f"{count} {outcome.replace('_', ' ')}" for outcome, count in tally.counts.items()
    )
    return f"{tally.sealed.label}s: {counts}."


def _refuse_unreadable(tallies: list[RotationTally]) -> None:
    unreadable = [
        f"the {tally.sealed.label} of {tally.sealed.owner} {row_id}"
        for tally in tallies
        for row_id in tally.unreadable
    ]
    if not unreadable:
        return
    listed = "; ".join(unreadable[:5]) + ("; …" if len(unreadable) > 5 else "")
    raise SecretsUnreadableError(
        f"{len(unreadable)} stored secrets cannot be decrypted with ROOMSYNC_SECRET_KEY or any "
        f"key in ROOMSYNC_PREVIOUS_SECRET_KEYS ({listed}): add the key they were saved with to "
        "ROOMSYNC_PREVIOUS_SECRET_KEYS and run `roomsync secrets rotate` again, or save those "
        "credentials again through the API. Keep the previous keys until this command succeeds."
    )


@contextlib.contextmanager
def rotation_progress() -> Iterator[RotationProgress]:
    """One Rich progress bar per kind of secret, on stderr."""
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, console=err, transient=False) as bar:
        tasks: dict[str, TaskID] = {}

        def update(sealed: SealedColumn, done: int, total: int) -> None:
            if sealed.label not in tasks:
                tasks[sealed.label] = bar.add_task(f"Re-encrypting {sealed.label}s", total=total)
            bar.update(tasks[sealed.label], completed=done, total=total)

        yield update
