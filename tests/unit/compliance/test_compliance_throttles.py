"""Counting rules at their edges; location days across DST."""

from __future__ import annotations

from datetime import datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from ringfence.domain.compliance import (
    DEFAULT_POLICY,
    Defer,
    Dial,
    Outcome,
    Rule,
    evaluate,
    location_day_bounds,
)
from ringfence.domain.compliance.throttles import check_state_24h

from .factories import NOW, make_facts, utc


def test_location_day_bounds_across_dst() -> None:
    # 8 March 2026 in New York is 23 hours long; 1 November is 25.
    start, end = location_day_bounds(utc(2026, 3, 8, 12), "America/New_York")
    assert (start, end) == (utc(2026, 3, 8, 5), utc(2026, 3, 9, 4))
    start, end = location_day_bounds(utc(2026, 11, 1, 12), "America/New_York")
    assert (start, end) == (utc(2026, 11, 1, 4), utc(2026, 11, 2, 5))


@given(seconds=st.integers(0, 120))
@settings(max_examples=60, deadline=None)
def test_pacing_frees_exactly_one_minute_after_the_last_dial(seconds: int) -> None:
    facts = make_facts(last_dial_at=NOW - timedelta(seconds=seconds))
    verdict = evaluate(facts, NOW).verdict
    if seconds >= 60:
        assert verdict == Dial()
    else:
        assert isinstance(verdict, Defer)
        assert verdict.queued
        assert verdict.until == NOW + timedelta(seconds=60 - seconds)


@given(count=st.integers(0, 150))
@settings(max_examples=40, deadline=None)
def test_location_daily_cap(count: int) -> None:
    check = evaluate(make_facts(dials_today=count), NOW).check(Rule.LOCATION_DAILY_CAP)
    assert (check.outcome is Outcome.PASSED) is (count < DEFAULT_POLICY.location_daily_cap)


@given(ages=st.lists(st.integers(1, 48 * 60), min_size=0, max_size=6))
@settings(max_examples=150, deadline=None)
def test_state_24h_cap_frees_when_the_window_drops_below_the_cap(ages: list[int]) -> None:
    dials = tuple(NOW - timedelta(minutes=m) for m in ages)
    check = check_state_24h(dials, NOW, 3, "FL")
    recent = sorted((d for d in dials if d > NOW - timedelta(hours=24)), reverse=True)
    if len(recent) < 3:
        assert check.outcome is Outcome.PASSED
        return
    assert check.outcome is Outcome.DEFERRED
    assert check.until is not None

    # At `until` fewer than 3 dials are in the trailing 24 hours; one second earlier, 3 are.
    def count(t: datetime) -> int:
        return sum(1 for d in dials if t - timedelta(hours=24) < d <= t)

    assert count(check.until) < 3
    assert count(check.until - timedelta(seconds=1)) >= 3
