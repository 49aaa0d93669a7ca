"""The PHI encryption keys: from the settings, or generated once and kept in a key file.

Like the web secret key (secret_key.py), an install works with no configuration: an unset
RINGFENCE_PHI_KEYS means "generate a key at first use and keep it in `phi_key_file`" (by
default `phi.keys` next to the secret key file), readable by the server's user only. The file
holds one Fernet key a line, newest first; `ringfence phi rotate-key` puts a new one on top.

Losing the keys loses every transcript and recording: back the file (or the setting) up
separately from the database and the recordings directory.
"""

from __future__ import annotations

from pathlib import Path

from ringfence.adapters.phi_cipher import PhiCipher, PhiKeyError, fernets, generate_key
from ringfence.config import Settings
from ringfence.secret_key import create_private_file

ENV_NAME = "RINGFENCE_PHI_KEYS"


class KeyFile:
    """The keys in a file: re-read whenever the file changes (a rotation from the CLI)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def stamp(self) -> object:
        try:
            info = self.path.stat()
        except FileNotFoundError:
            return None
        return (info.st_ino, info.st_mtime_ns, info.st_size)

    def keys(self) -> list[str]:
        try:
            text = self.path.read_text(encoding="ascii")
        except FileNotFoundError as exc:
            raise PhiKeyError(
                f"the PHI key file {self.path} is gone: restore it from a backup "
                "(without it no transcript or recording can be read)"
            ) from exc
        return [line.strip() for line in text.splitlines() if line.strip()]


def key_file(settings: Settings) -> Path:
    """Where the PHI keys are kept when they are not in the settings."""
    if settings.phi_key_file is not None:
        return settings.phi_key_file
    return settings.secret_key_file.with_name("phi.keys")


def configured_keys(settings: Settings) -> list[str] | None:
    """The keys of RINGFENCE_PHI_KEYS (newest first), or None when it is unset."""
    if settings.phi_keys is None:
        return None
    return [key.strip() for key in settings.phi_keys.get_secret_value().split(",") if key.strip()]


def load_phi_cipher(settings: Settings) -> PhiCipher:
    """The cipher of the configured keys; without any, of the key file (made if absent)."""
    keys = configured_keys(settings)
    if keys is not None:
        return PhiCipher.from_keys(keys, origin=ENV_NAME)
    path = key_file(settings)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        create_private_file(path, generate_key() + "\n")
    return PhiCipher(KeyFile(path), origin=str(path))


def add_key(path: Path) -> str:
    """Put a new key first in the key file (the older ones stay, to decrypt); returns it."""
    old = KeyFile(path).keys()
    fernets(old, origin=str(path))  # never rewrite a file we cannot read back
    new = generate_key()
    create_private_file(path, "\n".join([new, *old]) + "\n", replace=True)
    return new


def keep_newest(path: Path) -> int:
    """Drop every key but the newest from the key file; returns how many were dropped."""
    keys = KeyFile(path).keys()
    fernets(keys, origin=str(path))
    create_private_file(path, keys[0] + "\n", replace=True)
    return len(keys) - 1
