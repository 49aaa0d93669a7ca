"""A carrier account's call rate as a token bucket (calls per second, with a burst).

Carriers cap calls per second per account (1 CPS is a common default); above it they queue
or reject. Pure: the dispatcher stores the bucket in the database and passes `now` in.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class Bucket:
    tokens: float
    refilled_at: datetime


def refill(bucket: Bucket, now: datetime, *, cps: float, burst: float) -> Bucket:
    """The bucket at `now`: `cps` tokens per elapsed second, never above `burst`.

    A clock that reads earlier than the last refill (another worker's clock ran ahead) adds
    nothing and keeps the later stamp, so skew can never mint extra calls.
    """
    if cps <= 0 or burst <= 0:
        raise ValueError("cps and burst must be positive")
    elapsed = (now - bucket.refilled_at).total_seconds()
    if elapsed <= 0:
        return Bucket(min(bucket.tokens, burst), bucket.refilled_at)
    return Bucket(min(burst, bucket.tokens + elapsed * cps), now)


def take(bucket: Bucket, wanted: int) -> tuple[int, Bucket]:
    """Take up to `wanted` whole tokens; returns how many were taken and the rest."""
    granted = max(0, min(wanted, int(bucket.tokens)))
    return granted, Bucket(bucket.tokens - granted, bucket.refilled_at)
