"""The server's secret key: from the settings, or generated once and kept in a file.

A self-hosted install should work without the operator inventing a secret, yet staff must not
be signed out by every restart: so an unset RINGFENCE_SECRET_KEY means "generate one at first
start and keep it in `secret_key_file`", readable by the server's user only.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path

from ringfence.config import Settings

_MIN_LENGTH = 32


class SecretKeyFileError(RuntimeError):
    """The key file exists but cannot be used; the message says what to do."""


def secret_key(settings: Settings) -> str:
    """The configured secret key, else the one in `settings.secret_key_file` (made if absent)."""
    if settings.secret_key is not None:
        return settings.secret_key.get_secret_value()
    return load_or_create(settings.secret_key_file)


def load_or_create(path: Path) -> str:
    """The key stored at `path`; if there is none, a new random key written there (0600).

    Safe when several processes start at once: the key is written to a private temporary file
    and linked into place, which fails if another process got there first; then its key is
    read, so every process ends up signing with the same key.
    """
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        _create(path)
    key = path.read_text(encoding="ascii").strip()
    if len(key) < _MIN_LENGTH:
        raise SecretKeyFileError(
            f"{path} holds no usable secret key (under {_MIN_LENGTH} characters): "
            "delete it to have a new one generated, or set RINGFENCE_SECRET_KEY"
        )
    return key


def _create(path: Path) -> None:
    create_private_file(path, secrets.token_urlsafe(48) + "\n")


def create_private_file(path: Path, text: str, *, replace: bool = False) -> None:
    """Write `text` to `path`, readable by this user only (0600), never half-written.

    The text goes to a private temporary file first. Without `replace` it is then linked into
    place, which fails quietly if another process got there first (its file wins); with
    `replace` it atomically takes the place of whatever was there.
    """
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "w", encoding="ascii") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        if replace:
            os.replace(temporary, path)
        else:
            with contextlib.suppress(FileExistsError):  # another process's key won the race
                os.link(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
