"""Files that hold PHI or keys are the server's user's alone.

The SQLite database and its WAL hold patients' names, numbers and consent; the recordings
folder their calls; the key files what decrypts them. At start-up `serve`, `worker` and `demo`
set the process umask to 077 (`owner_only_umask`), so everything they create from then on is
0600 / 0700, and `loose_files` names what already exists readable by others (made before, or
by another tool), for a warning with the command that fixes it.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable
from pathlib import Path

from sqlalchemy import make_url

from ringfence.config import Settings
from ringfence.phi_keys import key_file

OWNER_ONLY = 0o077


def owner_only_umask() -> int:
    """Make new files owner-only; returns the previous umask."""
    return os.umask(OWNER_ONLY)


def sensitive_paths(settings: Settings) -> list[Path]:
    """The database files (SQLite), the recordings folder and the key files, as configured."""
    paths: list[Path] = []
    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        database = Path(url.database or "")
        paths += [database, Path(f"{database}-wal"), Path(f"{database}-shm")]
    paths.append(settings.recordings_dir)
    if settings.secret_key is None:
        paths.append(settings.secret_key_file)
    if settings.phi_keys is None:
        paths.append(key_file(settings))
    return paths


def loose_files(paths: Iterable[Path]) -> list[tuple[Path, str]]:
    """Each existing path that its group or others can read, write or enter, with its mode."""
    loose: list[tuple[Path, str]] = []
    for path in paths:
        try:
            mode = path.stat().st_mode
        except OSError:
            continue
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            loose.append((path, stat.filemode(mode)))
    return loose


def warnings_for(settings: Settings) -> list[str]:
    """One line per sensitive path readable by others, with the fix."""
    return [
        f"{path} is {mode}: readable by other users of this machine; "
        f"fix: chmod {'700' if path.is_dir() else '600'} '{path}'"
        for path, mode in loose_files(sensitive_paths(settings))
    ]
