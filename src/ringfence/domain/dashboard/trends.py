"""Trend buckets and the caller-ID comparison: pure folds over per-day and per-number counts.

Every day of the range gets a point (zeros included), so a quiet day shows as a dip rather
than vanishing from the chart. Weeks start on Monday (ISO 8601); a bucket at either end of
the range covers only the days inside it, and its label says which.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Final

from ringfence.domain.dashboard.filters import Granularity


@dataclass(frozen=True, slots=True)
class DayCounts:
    attempted: int = 0
    reached: int = 0  # connected or voicemail
    failed: int = 0
    duration_seconds: int = 0

    def __add__(self, other: DayCounts) -> DayCounts:
        return DayCounts(
            self.attempted + other.attempted,
            self.reached + other.reached,
            self.failed + other.failed,
            self.duration_seconds + other.duration_seconds,
        )


@dataclass(frozen=True, slots=True)
class TrendPoint:
    label: str
    first_day: date
    last_day: date
    counts: DayCounts


def bucket_start(day: date, granularity: Granularity) -> date:
    if granularity is Granularity.WEEKLY:
        return day - timedelta(days=day.weekday())
    if granularity is Granularity.MONTHLY:
        return day.replace(day=1)
    return day


def trend(
    per_day: Mapping[date, DayCounts], first: date, last: date, granularity: Granularity
) -> tuple[TrendPoint, ...]:
    """One point per day / week / month from `first` to `last` (inclusive)."""
    points: list[TrendPoint] = []
    day = first
    while day <= last:
        start = bucket_start(day, granularity)
        total = DayCounts()
        bucket_first = day
        while day <= last and bucket_start(day, granularity) == start:
            total = total + per_day.get(day, DayCounts())
            day += timedelta(days=1)
        bucket_last = day - timedelta(days=1)
        points.append(
            TrendPoint(
                _label(bucket_first, bucket_last, granularity), bucket_first, bucket_last, total
            )
        )
    return tuple(points)


def _label(first: date, last: date, granularity: Granularity) -> str:
    if granularity is Granularity.DAILY:
        return first.strftime("%b %-d")
    if granularity is Granularity.MONTHLY:
        return first.strftime("%b %Y")
    return f"{first.strftime('%b %-d')}–{last.strftime('%b %-d')}"


# A caller ID whose dials fail this often (with enough dials to mean something) is likely
# spam-flagged or blocked by carriers: the description's advice is to rotate it.
SPAM_SUSPECT_FAILURE_RATE: Final = 0.25
SPAM_SUSPECT_MIN_DIALS: Final = 10


@dataclass(frozen=True, slots=True)
class CallerIdStats:
    from_number_id: int | None
    phone_e164: str
    attempted: int
    reached: int
    failed: int

    @property
    def answer_rate(self) -> float:
        return self.reached / self.attempted if self.attempted else 0.0

    @property
    def failure_rate(self) -> float:
        return self.failed / self.attempted if self.attempted else 0.0

    @property
    def rotate_suggested(self) -> bool:
        return (
            self.attempted >= SPAM_SUSPECT_MIN_DIALS
            and self.failure_rate >= SPAM_SUSPECT_FAILURE_RATE
        )


def rank_caller_ids(stats: Sequence[CallerIdStats]) -> tuple[CallerIdStats, ...]:
    """Numbers to rotate first, then by failure rate (worst first), then by dials."""
    return tuple(
        sorted(stats, key=lambda s: (not s.rotate_suggested, -s.failure_rate, -s.attempted))
    )
