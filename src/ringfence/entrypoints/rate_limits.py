"""Rate limits on what strangers can repeat (guessing API keys, signing in, public forms) and
on what one API key may ask.

Moving windows, `limits`' rules and semantics. The storage is per process by default
(`memory://`, counted by `local_windows.py`, without `limits`' sweeper thread); with
several web processes, point `RINGFENCE_RATE_LIMIT_STORAGE` at Redis (`redis://host:6379`)
so they share counts. The windows run on the wall clock (the library's), not the app's
`Clock`: they bound real request rates, and no compliance rule depends on them.

What is limited, and by what key:

| what | key | limit |
|---|---|---|
| failed API-key checks | client IP | `AUTH_FAILURES` |
| requests with a valid API key | the key's id | `RINGFENCE_API_KEY_RATE_LIMIT` |
| failed sign-ins | client IP | `AUTH_FAILURES` |
| public form submissions | client IP | `FORM_PER_IP` |
| public form submissions | the phone number given | `FORM_PER_NUMBER` |

A limited request is a 429 with `Retry-After` (seconds).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Final

from fastapi import Request
from limits import RateLimitItem, parse_many, storage, strategies

from ringfence.entrypoints.local_windows import LocalWindows

AUTH_FAILURES: Final = "20/minute;200/hour"
FORM_PER_IP: Final = "10/minute;60/hour"
FORM_PER_NUMBER: Final = "5/hour"


@dataclass(frozen=True, slots=True)
class Limited:
    retry_after_s: int


class RateLimiter:
    def __init__(
        self, storage_uri: str = "memory://", *, now: Callable[[], float] = time.time
    ) -> None:
        # Counted in this process's memory: no I/O, so the event loop may ask it directly.
        self.in_memory = storage_uri.startswith("memory://")
        self._now = now
        # In memory, the same moving windows without `limits`' sweeper thread
        # (`local_windows.py`: it cost more CPU per request than the check itself).
        self._local = LocalWindows(now) if self.in_memory else None
        self._window = (
            None
            if self.in_memory
            else strategies.MovingWindowRateLimiter(storage.storage_from_string(storage_uri))
        )

    def hit(self, rules: str, *keys: str) -> Limited | None:
        """Count one hit against every rule of `rules` for `keys`; Limited when any is full."""
        for item in _items(rules):
            if self._local is not None:
                admitted = self._local.hit(item.key_for(*keys), item.amount, item.get_expiry())
            else:
                assert self._window is not None
                admitted = self._window.hit(item, *keys)
            if not admitted:
                return Limited(self._retry_after(item, keys))
        return None

    def exhausted(self, rules: str, *keys: str) -> Limited | None:
        """Whether a rule is already full for `keys`, without counting a hit."""
        for item in _items(rules):
            if self._local is not None:
                full = self._local.window(item.key_for(*keys), item.get_expiry())[1] >= item.amount
            else:
                assert self._window is not None
                full = not self._window.test(item, *keys)
            if full:
                return Limited(self._retry_after(item, keys))
        return None

    def _retry_after(self, item: RateLimitItem, keys: tuple[str, ...]) -> int:
        if self._local is not None:
            oldest, _count = self._local.window(item.key_for(*keys), item.get_expiry())
            reset = oldest + item.get_expiry()
        else:
            assert self._window is not None
            reset = self._window.get_window_stats(item, *keys).reset_time
        return max(1, math.ceil(reset - self._now()))


@lru_cache(maxsize=64)
def _items(rules: str) -> tuple[RateLimitItem, ...]:
    """The rules, parsed once per process (a handful of fixed strings)."""
    return tuple(parse_many(rules))


def client_ip(request: Request) -> str:
    """The peer's address (behind a proxy, run uvicorn with --proxy-headers so this is the
    client's)."""
    return request.client.host if request.client else "unknown"


def limiter_of(request: Request) -> RateLimiter:
    limiter: RateLimiter = request.app.state.rate_limiter
    return limiter
