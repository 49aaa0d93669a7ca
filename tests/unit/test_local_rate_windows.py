"""The rate limiter's in-memory moving windows (`entrypoints/local_windows.py`): `limits`'
moving-window semantics, counted without a sweeper thread (docs/operations.md, "CPU per event":
`limits`' memory storage started a `threading.Timer` on nearly every request)."""

from __future__ import annotations

import threading

from ringfence.entrypoints.local_windows import LocalWindows
from ringfence.entrypoints.rate_limits import Limited, RateLimiter


class FakeTime:
    def __init__(self, at: float = 1_000_000.0) -> None:
        self.at = at

    def __call__(self) -> float:
        return self.at


def test_counting_in_memory_starts_no_thread() -> None:
    before = set(threading.enumerate())
    limiter = RateLimiter()
    for _ in range(3):
        assert limiter.hit("5/minute;100/hour", "api-key-requests", "1") is None
    assert limiter.exhausted("20/minute;200/hour", "api-key", "127.0.0.1") is None
    assert set(threading.enumerate()) - before == set()


def test_a_full_window_refuses_until_its_oldest_hit_leaves_it() -> None:
    now = FakeTime()
    limiter = RateLimiter(now=now)
    assert limiter.hit("3/minute", "k") is None
    now.at += 20
    assert limiter.hit("3/minute", "k") is None
    assert limiter.hit("3/minute", "k") is None
    assert limiter.exhausted("3/minute", "k") == Limited(retry_after_s=40)
    assert limiter.hit("3/minute", "k") == Limited(retry_after_s=40)
    now.at += 39.5  # the first hit is 59.5 s old: still inside the minute
    assert limiter.hit("3/minute", "k") == Limited(retry_after_s=1)
    now.at += 0.6  # now it has left: one place free, no more
    assert limiter.exhausted("3/minute", "k") is None
    assert limiter.hit("3/minute", "k") is None
    assert limiter.hit("3/minute", "k") == Limited(retry_after_s=20)


def test_a_refused_hit_is_not_counted_and_keys_are_apart() -> None:
    now = FakeTime()
    limiter = RateLimiter(now=now)
    assert limiter.hit("1/minute", "a") is None
    for _ in range(5):
        assert limiter.hit("1/minute", "a") is not None
    assert limiter.hit("1/minute", "b") is None
    now.at += 60.5
    assert limiter.hit("1/minute", "a") is None


def test_every_rule_of_a_list_counts() -> None:
    now = FakeTime()
    limiter = RateLimiter(now=now)
    for _ in range(2):
        assert limiter.hit("2/minute;3/hour", "k") is None
        now.at += 61
    # The minute is free again, the hour has 2 of 3: one more, then the hour refuses.
    assert limiter.hit("2/minute;3/hour", "k") is None
    now.at += 61
    # Refused by the hour, whose oldest hit leaves it 3,600 s after it came.
    assert limiter.hit("2/minute;3/hour", "k") == Limited(retry_after_s=3600 - 183)


def test_a_hit_exactly_a_window_old_still_counts() -> None:
    now = FakeTime()
    windows = LocalWindows(now)
    assert windows.hit("k", 1, 60.0)
    now.at += 60.0
    assert not windows.hit("k", 1, 60.0)
    now.at += 0.001
    assert windows.hit("k", 1, 60.0)


def test_keys_nobody_asks_about_any_more_are_swept() -> None:
    now = FakeTime()
    windows = LocalWindows(now, sweep_every_s=10.0)
    for ip in range(100):
        windows.hit(f"ip-{ip}", 5, 5.0)
    assert windows.window("ip-0", 5.0)[1] == 1
    now.at += 11  # every one of those hits has expired and a sweep is due
    windows.hit("other", 5, 5.0)
    assert windows.window("ip-0", 5.0) == (now.at, 0)
    assert len(windows._hits) == 1  # only "other" is kept
