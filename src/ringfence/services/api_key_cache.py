"""The API keys this process verified against the database a moment ago (`VERIFIED_FOR`).

Why: an API request used to spend a database transaction on its key (on SQLite a
`BEGIN IMMEDIATE`, so every request took the single write lock twice: once for its key, once
for its work). A key checked less than `VERIFIED_FOR` ago is trusted again without asking the
database (docs/operations.md, "Event ingestion").

The window, and what closes it:
- Revoking or rotating a key in this process (the API, the staff pages, the CLI run in it)
  forgets every verified key here at once, before and again after the revocation commits, and
  a verification that began before it is not remembered (the `generation` check): the next
  request with the key is refused.
- Another process (another uvicorn worker, `ringfence apikey revoke` against a running
  server) has its own memory: there a revoked key is accepted for at most `VERIFIED_FOR`.
- Expiry is checked on every request against the remembered `expires_at`.

Entries are keyed by the key's SHA-256 (never the clear key) and bounded in number.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

VERIFIED_FOR: Final = timedelta(seconds=30)
_MOST_KEYS: Final = 4096  # only live keys are remembered; a bound all the same


@dataclass(frozen=True, slots=True)
class VerifiedKey:
    """What a request needs of a live key, as the database had it at `verified_at`."""

    key_id: int
    account_id: int
    name: str
    expires_at: datetime | None
    verified_at: datetime

    def live_at(self, now: datetime) -> bool:
        # A clock that went back (a test's) is no proof of freshness: ask the database.
        fresh = self.verified_at <= now < self.verified_at + VERIFIED_FOR
        return fresh and (self.expires_at is None or now < self.expires_at)


class VerifiedKeys:
    """Process-local memory of verified keys. Thread-safe: uvicorn's thread pool and the event
    loop share it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_hash: dict[str, VerifiedKey] = {}
        self._generation = 0

    @property
    def generation(self) -> int:
        """Read before a verification begins, handed back to `remember`."""
        return self._generation

    def get(self, key_hash: str, *, now: datetime) -> VerifiedKey | None:
        known = self._by_hash.get(key_hash)
        return known if known is not None and known.live_at(now) else None

    def remember(self, key_hash: str, key: VerifiedKey, *, generation: int) -> None:
        with self._lock:
            # A revocation since the verification began may have been missed by it.
            if generation != self._generation:
                return
            if len(self._by_hash) >= _MOST_KEYS:
                self._by_hash.clear()
            self._by_hash[key_hash] = key

    def forget_all(self) -> None:
        """Revocation: nothing verified before now is trusted again."""
        with self._lock:
            self._generation += 1
            self._by_hash.clear()


VERIFIED_KEYS: Final = VerifiedKeys()
"""This process's memory (module-level so that every way to revoke, whatever container or
command it runs in, clears the one the API reads)."""
