"""Encryption of PHI at rest: Fernet (AES-128-CBC + HMAC-SHA256) with key rotation.

A `PhiCipher` holds an ordered list of keys, newest first: the first encrypts, every one
decrypts (`cryptography.fernet.MultiFernet`), so a new key can be put first while data still
encrypted under the old ones stays readable until `ringfence phi rotate-key` has re-encrypted
it. The keys come from a `KeySource`; a source whose keys can change while a server runs (the
key file) is re-read when its stamp changes, so a rotation done from the command line is
seen by running servers and workers without a restart.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Protocol

from cryptography.fernet import Fernet, InvalidToken, MultiFernet


class PhiKeyError(ValueError):
    """The configured PHI keys are unusable (none, or one that is not a Fernet key)."""


class PhiDecryptError(RuntimeError):
    """Stored PHI does not decrypt with any configured key (wrong, changed or dropped key)."""


class KeySource(Protocol):
    """Where the keys come from: the settings, or a key file."""

    def stamp(self) -> object:
        """Changes whenever the keys may have changed; cheap enough to ask on every use."""
        ...

    def keys(self) -> Sequence[str]:
        """The keys, newest (the one that encrypts) first."""
        ...


class StaticKeys:
    """Keys fixed for the life of the process (RINGFENCE_PHI_KEYS, tests, simulations)."""

    def __init__(self, keys: Sequence[str]) -> None:
        self._keys = tuple(keys)

    def stamp(self) -> object:
        return None

    def keys(self) -> Sequence[str]:
        return self._keys


def generate_key() -> str:
    """A new random Fernet key (32 bytes, URL-safe base64)."""
    return Fernet.generate_key().decode("ascii")


def fernets(keys: Sequence[str], *, origin: str) -> list[Fernet]:
    """`keys` as Fernet instances; PhiKeyError naming `origin` and the position of a bad one."""
    if not keys:
        raise PhiKeyError(f"{origin} holds no PHI key")
    built: list[Fernet] = []
    for position, key in enumerate(keys, start=1):
        try:
            built.append(Fernet(key.encode("ascii")))
        except (ValueError, UnicodeEncodeError) as exc:
            raise PhiKeyError(
                f"PHI key {position} of {origin} is not a Fernet key (32 bytes in URL-safe "
                "base64, as `ringfence phi generate-key` prints)"
            ) from exc
    return built


class PhiCipher:
    """Encrypts with the newest key, decrypts with any; thread-safe."""

    def __init__(self, source: KeySource, *, origin: str = "the PHI key settings") -> None:
        self._source = source
        self._origin = origin
        self._lock = threading.Lock()
        self._state = self._load()

    @classmethod
    def from_keys(cls, keys: Sequence[str], *, origin: str = "the given keys") -> PhiCipher:
        return cls(StaticKeys(keys), origin=origin)

    @classmethod
    def ephemeral(cls) -> PhiCipher:
        """A cipher with a fresh key that lives only in memory (throw-away databases)."""
        return cls.from_keys([generate_key()], origin="an in-memory key")

    @property
    def origin(self) -> str:
        return self._origin

    @property
    def key_count(self) -> int:
        return len(self._current()[1])

    def encrypt(self, data: bytes) -> bytes:
        """A Fernet token (URL-safe base64 bytes) of `data` under the newest key."""
        return self._current()[2].encrypt(data)

    def decrypt(self, token: bytes) -> bytes:
        _, _, multi = self._current()
        try:
            return multi.decrypt(token)
        except InvalidToken as exc:
            raise self._undecryptable() from exc

    def rotate(self, token: bytes) -> bytes:
        """`token` re-encrypted under the newest key (decrypted with whichever key fits)."""
        _, _, multi = self._current()
        try:
            return multi.rotate(token)
        except InvalidToken as exc:
            raise self._undecryptable() from exc

    def is_current(self, token: bytes) -> bool:
        """Whether `token` decrypts with the newest key alone (safe to drop the others)."""
        newest = self._current()[1][0]
        try:
            newest.decrypt(token)
        except InvalidToken:
            return False
        return True

    def _undecryptable(self) -> PhiDecryptError:
        return PhiDecryptError(
            f"stored PHI does not decrypt with any of the {self.key_count} key(s) of "
            f"{self._origin}: the key it was encrypted with was changed or dropped "
            "(restore it, after the new key, in RINGFENCE_PHI_KEYS or the key file)"
        )

    def _load(self) -> tuple[object, list[Fernet], MultiFernet]:
        stamp = self._source.stamp()
        keys = fernets(self._source.keys(), origin=self._origin)
        return stamp, keys, MultiFernet(keys)

    def _current(self) -> tuple[object, list[Fernet], MultiFernet]:
        state = self._state
        if self._source.stamp() == state[0]:
            return state
        with self._lock:
            if self._source.stamp() != self._state[0]:
                self._state = self._load()
            return self._state
