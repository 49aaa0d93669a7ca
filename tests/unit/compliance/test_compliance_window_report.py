"""`calling_window()`: the pure function behind `ringfence window NUMBER`."""

from __future__ import annotations

from datetime import datetime

import pytest

from ringfence.domain.compliance import ReasonCode, calling_window
from ringfence.domain.vocabulary import CallPurpose

from .factories import utc


def test_allowed_now_reports_at_itself_and_the_stretch_end() -> None:
    at = utc(2026, 3, 10, 17, 30)
    report = calling_window("(541) 555-0123", at=at)
    assert report.number == "+15415550123"
    assert report.region == "US"
    assert report.time_zones == ("America/Denver", "America/Los_Angeles")
    assert report.callable
    assert report.allowed_now
    assert report.next_start == at
    # 18:00 MDT (00:00Z) comes before 18:00 PDT.
    assert report.window_end == utc(2026, 3, 11, 0, 0)
    assert report.reason is None


def test_closed_now_reports_the_next_stretch() -> None:
    report = calling_window("+1 212 555 0123", at=utc(2026, 3, 10, 23, 0))
    assert not report.allowed_now
    assert report.callable
    assert (report.next_start, report.window_end) == (utc(2026, 3, 11, 14), utc(2026, 3, 11, 22))
    assert report.reason is ReasonCode.OUTSIDE_WINDOW


def test_purpose_and_postal_narrow_the_window() -> None:
    saturday = utc(2026, 3, 14, 20, 0)  # 16:00 EDT
    plain = calling_window("+1 401 555 0123", at=saturday)
    assert plain.allowed_now
    assert plain.window_end == utc(2026, 3, 14, 22, 0)
    marketing = calling_window(
        "+1 401 555 0123", at=saturday, purpose=CallPurpose.LEAD_REACTIVATION
    )
    assert marketing.allowed_now
    assert marketing.window_end == utc(2026, 3, 14, 21, 0)
    informational = calling_window(
        "+1 401 555 0123", at=saturday, purpose=CallPurpose.NO_SHOW_RECOVERY
    )
    assert informational.window_end == utc(2026, 3, 14, 22, 0)
    honolulu = calling_window("+1 401 555 0123", at=saturday, postal_code="96813")
    assert honolulu.time_zones == ("America/New_York", "Pacific/Honolulu")
    assert honolulu.next_start == utc(2026, 3, 14, 20, 0)
    assert honolulu.window_end == utc(2026, 3, 14, 22, 0)


@pytest.mark.parametrize(
    ("number", "region", "reason"),
    [
        ("+1 647 555 0123", "CA", ReasonCode.NUMBER_NOT_US),
        ("+44 20 7946 0958", "GB", ReasonCode.NUMBER_NOT_US),
        ("+1 787 555 0123", "PR", ReasonCode.NUMBER_NOT_US),
        ("1-800-555-0123", "US", ReasonCode.NUMBER_NOT_GEOGRAPHIC),
        ("not a number", None, ReasonCode.NUMBER_INVALID),
        ("+1 555 010 0000", None, ReasonCode.NUMBER_INVALID),
    ],
)
def test_never_callable(number: str, region: str | None, reason: ReasonCode) -> None:
    report = calling_window(number, at=utc(2026, 3, 10, 17))
    assert (report.region, report.callable, report.allowed_now) == (region, False, False)
    assert report.next_start is None
    assert report.window_end is None
    assert report.reason is reason


def test_naive_at_is_rejected() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        calling_window("+1 212 555 0123", at=datetime(2026, 3, 10, 12))
