"""Moving-window counts in this process's memory, for the rate limiter's default storage.

`limits`' own memory storage keeps the same windows but sweeps expired entries from a
`threading.Timer` that it re-arms, 10 ms ahead, on any hit that finds the previous one done:
under a steady trickle of requests (tens a second per process) nearly every request starts a
new thread, which cost about 0.3–0.6 ms of CPU per request here, more than the limit check
itself (docs/operations.md, "CPU per event"). These windows drop what has expired on the way,
when a key is asked about, and sweep the keys nobody asks about any more at most once per
`sweep_every_s`, on the caller's thread: no thread of their own.

The semantics are `limits`' moving window: a hit is admitted when fewer than `limit` hits of
the same key fall within the last `window_s` seconds (a hit exactly `window_s` old still
counts), and the window resets `window_s` after the oldest hit still inside it.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable


class LocalWindows:
    def __init__(
        self, now: Callable[[], float] = time.time, *, sweep_every_s: float = 60.0
    ) -> None:
        self._now = now
        self._sweep_every_s = sweep_every_s
        # key -> (its window in seconds, its hits' times, oldest on the left)
        self._hits: dict[str, tuple[float, deque[float]]] = {}
        # The event loop and the thread pool both ask: one short lock, never held across I/O.
        self._lock = threading.Lock()
        self._next_sweep = now() + sweep_every_s

    def hit(self, key: str, limit: int, window_s: float) -> bool:
        """Count one hit of `key` unless `limit` hits already fall within the window."""
        now = self._now()
        with self._lock:
            hits = self._live(key, window_s, now)
            if len(hits) >= limit:
                return False
            hits.append(now)
            if now >= self._next_sweep:
                self._sweep(now)
            return True

    def window(self, key: str, window_s: float) -> tuple[float, int]:
        """The time of the oldest hit within the window (now, when none) and how many there are."""
        now = self._now()
        with self._lock:
            if key not in self._hits:  # asking creates nothing to sweep later
                return now, 0
            hits = self._live(key, window_s, now)
            return (hits[0], len(hits)) if hits else (now, 0)

    def _live(self, key: str, window_s: float, now: float) -> deque[float]:
        entry = self._hits.get(key)
        if entry is None:
            entry = self._hits[key] = (window_s, deque())
        hits, oldest_kept = entry[1], now - window_s
        while hits and hits[0] < oldest_kept:
            hits.popleft()
        return hits

    def _sweep(self, now: float) -> None:
        self._next_sweep = now + self._sweep_every_s
        for key, (window_s, hits) in list(self._hits.items()):
            if not hits or hits[-1] < now - window_s:
                del self._hits[key]
