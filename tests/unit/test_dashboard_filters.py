"""The dashboard's URL filters and trend buckets: pure, so checked exhaustively here."""

from __future__ import annotations

from datetime import date, timedelta
from itertools import pairwise
from urllib.parse import parse_qs

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ringfence.domain.dashboard.filters import (
    DashboardFilters,
    FilterError,
    Granularity,
    SortKey,
    TimeRange,
    parse_filters,
)
from ringfence.domain.dashboard.statuses import DashStatus
from ringfence.domain.dashboard.trends import CallerIdStats, DayCounts, rank_caller_ids, trend
from ringfence.domain.vocabulary import CallDirection, CallType

TODAY = date(2026, 11, 26)


def test_defaults_are_the_last_seven_days_of_live_calls() -> None:
    filters = parse_filters({})
    assert filters == DashboardFilters()
    assert filters.days(TODAY) == (date(2026, 11, 20), TODAY)
    assert filters.call_type is CallType.LIVE
    assert filters.query() == ""


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"range": ["week"]}, "range"),
        ({"range": ["custom"], "to": ["2026-11-01"]}, "from"),
        ({"range": ["custom"], "from": ["2026-11-01"]}, "to"),
        ({"range": ["custom"], "from": ["2026-11-02"], "to": ["2026-11-01"]}, "to"),
        ({"range": ["custom"], "from": ["2024-01-01"], "to": ["2026-11-01"]}, "to"),
        ({"range": ["custom"], "from": ["11/01/2026"], "to": ["2026-11-01"]}, "from"),
        ({"status": ["answered"]}, "status"),
        ({"type": ["all"]}, "type"),
        ({"workflow": ["-3"]}, "workflow"),
        ({"page": ["0"]}, "page"),
        ({"sort": ["contact"]}, "sort"),
        ({"dir": ["up"]}, "dir"),
        ({"range": ["7d", "30d"]}, "range"),
    ],
)
def test_a_bad_value_is_an_error_naming_its_parameter(
    params: dict[str, list[str]], field: str
) -> None:
    with pytest.raises(FilterError) as caught:
        parse_filters(params)
    assert caught.value.field == field


_filters = st.builds(
    DashboardFilters,
    time_range=st.sampled_from([r for r in TimeRange if r is not TimeRange.CUSTOM]),
    call_type=st.sampled_from(CallType),
    workflow_id=st.none() | st.integers(1, 10_000),
    statuses=st.frozensets(st.sampled_from(DashStatus)),
    from_number_id=st.none() | st.integers(1, 10_000),
    granularity=st.sampled_from(Granularity),
    sort=st.sampled_from(SortKey),
    descending=st.booleans(),
    page=st.integers(1, 500),
    direction=st.sampled_from(CallDirection),
)


def test_the_direction_is_a_filter_and_its_absence_means_outbound() -> None:
    # Share links stored before inbound existed have no direction: they stay outbound.
    assert parse_filters(parse_qs("range=30d")).direction is CallDirection.OUTBOUND
    inbound = DashboardFilters(direction=CallDirection.INBOUND)
    assert inbound.query() == "direction=inbound"
    assert inbound.is_inbound
    assert DashboardFilters().query() == ""
    with pytest.raises(FilterError) as caught:
        parse_filters({"direction": ["sideways"]})
    assert caught.value.field == "direction"


@given(_filters)
def test_every_view_survives_the_round_trip_through_its_url(filters: DashboardFilters) -> None:
    assert parse_filters(parse_qs(filters.query())) == filters


@given(st.dates(date(2020, 1, 1), date(2030, 1, 1)), st.integers(0, 365))
def test_a_custom_range_round_trips_and_covers_its_days(start: date, length: int) -> None:
    filters = DashboardFilters(
        time_range=TimeRange.CUSTOM, start=start, end=start + timedelta(days=length)
    )
    assert parse_filters(parse_qs(filters.query())) == filters
    assert filters.days(TODAY) == (start, start + timedelta(days=length))


@given(
    st.dictionaries(
        st.dates(date(2026, 1, 1), date(2026, 12, 31)),
        st.builds(DayCounts, st.integers(0, 50), st.integers(0, 50), st.integers(0, 50)),
    ),
    st.sampled_from(Granularity),
    st.dates(date(2026, 1, 1), date(2026, 6, 30)),
    st.integers(0, 180),
)
def test_buckets_cover_the_range_once_and_keep_every_count(
    per_day: dict[date, DayCounts], granularity: Granularity, first: date, length: int
) -> None:
    last = first + timedelta(days=length)
    points = trend(per_day, first, last, granularity)
    assert points[0].first_day == first
    assert points[-1].last_day == last
    for before, after in pairwise(points):
        assert after.first_day == before.last_day + timedelta(days=1)
    inside = [c for d, c in per_day.items() if first <= d <= last]
    assert sum(p.counts.attempted for p in points) == sum(c.attempted for c in inside)
    if granularity is Granularity.DAILY:
        assert len(points) == length + 1


def test_a_caller_id_is_flagged_only_with_enough_dials_and_failures() -> None:
    few = CallerIdStats(1, "+12125550101", attempted=9, reached=0, failed=9)
    bad = CallerIdStats(2, "+12125550102", attempted=20, reached=10, failed=5)
    good = CallerIdStats(3, "+12125550103", attempted=40, reached=30, failed=2)
    assert not few.rotate_suggested
    assert bad.rotate_suggested
    assert not good.rotate_suggested
    assert rank_caller_ids([good, few, bad])[0] is bad
