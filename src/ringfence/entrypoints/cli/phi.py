"""`ringfence phi ...`: the PHI keys (generate, rotate, drop the old ones) and the retention purge.

Rotation, with the keys in the key file (the default):
  1. `ringfence phi rotate-key` puts a new key first in the file and re-encrypts every
     transcript and recording under it. Running servers and workers notice the changed file
     and encrypt with the new key from then on; the old keys stay in the file, to decrypt.
  2. `ringfence phi drop-old-keys` checks that nothing needs an older key any more, then
     leaves only the newest in the file.
With RINGFENCE_PHI_KEYS: put a new key (`ringfence phi generate-key`) first in it on every
server and worker and restart them, run `ringfence phi rotate-key`, then check with
`ringfence phi drop-old-keys` and remove the older keys from the setting yourself.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from ringfence.adapters.phi_cipher import PhiKeyError, generate_key
from ringfence.bootstrap import Container
from ringfence.config import Settings
from ringfence.entrypoints.cli.support import open_container
from ringfence.phi_keys import ENV_NAME, add_key, configured_keys, keep_newest, key_file
from ringfence.services.phi_retention import purge_expired
from ringfence.services.phi_rotation import check_keys, count_items, rotate_all

phi_app = typer.Typer(
    help="PHI protection: encryption keys of transcripts and recordings, retention purge.",
    no_args_is_help=True,
)

# Messages stay whole lines (no wrapping at the terminal's width): they name files and commands.
console = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)


@contextmanager
def _container() -> Iterator[Container]:
    """The container; unusable PHI keys are an error message and exit 2, not a traceback."""
    try:
        with open_container() as container:
            yield container
    except PhiKeyError as exc:
        err.print(f"[red]error:[/] {escape(str(exc))}")
        raise typer.Exit(code=2) from exc


@contextmanager
def _progress(description: str, total: int) -> Iterator[Callable[[int], None]]:
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as bar:
        task = bar.add_task(description, total=total)
        yield lambda done: bar.advance(task, done)


@phi_app.command("generate-key")
def generate_key_command() -> None:
    """Print a new Fernet key (for RINGFENCE_PHI_KEYS); changes nothing."""
    print(generate_key())


@phi_app.command("rotate-key")
def rotate_key(
    reencrypt_only: Annotated[
        bool,
        typer.Option(
            "--reencrypt-only",
            help="Add no key: re-encrypt everything under the newest key there already is",
        ),
    ] = False,
) -> None:
    """Put a new key first (key file only) and re-encrypt every transcript and recording
    under it, in batches. Plaintext from before encryption is encrypted on the way.

    Exits 1 if something could not be decrypted with any configured key."""
    settings = Settings()
    from_env = configured_keys(settings) is not None
    with _container() as container:
        path = key_file(settings)
        if not from_env and not reencrypt_only:
            add_key(path)
            console.print(f"New key put first in {escape(str(path))}.")
        elif from_env:
            console.print(f"Re-encrypting under the first key of {ENV_NAME}.")
        total = count_items(container.session_factory)
        with _progress("re-encrypting", total) as advance:
            report = rotate_all(
                container.session_factory,
                store_dir=container.settings.recordings_dir,
                cipher=container.phi_cipher,
                progress=advance,
            )
        keys = container.phi_cipher.key_count
    table = Table(title="PHI key rotation", show_header=False)
    table.add_row("Transcripts re-encrypted", str(report.transcripts))
    table.add_row("Recordings re-encrypted", str(report.recordings))
    table.add_row("Plaintext encrypted (from before encryption)", str(report.plaintext_encrypted))
    table.add_row("Recordings missing on disk", str(report.missing_recordings))
    table.add_row("Unreadable with every key", str(len(report.unreadable)))
    table.add_row("Keys configured", str(keys))
    console.print(table)
    for what in report.unreadable[:50]:
        err.print(f"[red]unreadable:[/] {escape(what)}")
    if report.unreadable:
        raise typer.Exit(code=1)
    if keys > 1:
        console.print(
            "Everything is under the newest key. The older keys are still configured, to "
            "decrypt; drop them with `ringfence phi drop-old-keys`"
            + (f" (then remove them from {ENV_NAME})." if from_env else ".")
        )


@phi_app.command("drop-old-keys")
def drop_old_keys() -> None:
    """Check that every transcript and recording decrypts with the newest key alone; then
    keep only that key in the key file (with RINGFENCE_PHI_KEYS: say that it is safe to
    remove the others). Exits 1, changing nothing, while anything still needs an older key."""
    settings = Settings()
    with _container() as container:
        total = count_items(container.session_factory)
        with _progress("checking", total) as advance:
            check = check_keys(
                container.session_factory,
                store_dir=container.settings.recordings_dir,
                cipher=container.phi_cipher,
                progress=advance,
            )
    if not check.only_newest_needed:
        err.print(
            f"[red]not yet:[/] {check.stale} of {check.checked} transcripts and recordings "
            f"still need an older key (or are plaintext), {check.unreadable} decrypt with no "
            "key: run `ringfence phi rotate-key --reencrypt-only` first"
        )
        raise typer.Exit(code=1)
    if configured_keys(settings) is not None:
        console.print(
            f"All {check.checked} transcripts and recordings decrypt with the first key of "
            f"{ENV_NAME}: the others can be removed from it."
        )
        return
    path = key_file(settings)
    dropped = keep_newest(path)
    console.print(
        f"All {check.checked} transcripts and recordings decrypt with the newest key; "
        f"{dropped} older key(s) dropped from {escape(str(path))}."
    )


@phi_app.command("purge")
def purge() -> None:
    """Purge now the recordings and transcripts past their account's retention policy (the
    worker does it hourly): files deleted, turns emptied, a tombstone for each."""
    with _container() as container:
        report = purge_expired(
            container.session_factory,
            container.clock,
            store_dir=container.settings.recordings_dir,
        )
    console.print(
        f"Purged {report.transcripts} transcript(s) and {report.recordings} recording(s)."
    )
