"""Business hours and what a caller asking for a person is offered, on a virtual clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ringfence.domain.staff_hours import (
    DURING_BUSINESS_HOURS,
    StaffHours,
    StaffHoursError,
    next_opening,
    parse_staff_hours,
    spoken_hours,
    staff_line,
)

NY = "America/New_York"
STAFF = "+13055550199"
WEEKDAYS = parse_staff_hours(
    {
        "mon": ["09:00-12:30", "13:30-17:00"],
        "tue": ["09:00-17:00"],
        "wed": ["09:00-17:00"],
        "thu": ["09:00-17:00"],
        "fri": ["09:00-17:00"],
    }
)


def at(text: str) -> datetime:
    """A New York wall-clock time as an aware instant (what the shell passes as `now`)."""
    return datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(NY)).astimezone(UTC)


@pytest.mark.parametrize(
    ("now", "transfer", "when"),
    [
        ("2026-12-07 10:00", STAFF, "today"),  # Monday morning
        ("2026-12-07 12:20", None, "later today after 1:30 PM"),  # 10 min before lunch
        ("2026-12-07 12:45", None, "later today after 1:30 PM"),  # lunch
        ("2026-12-07 16:50", None, "tomorrow after 9 AM"),  # closing in 10 minutes
        ("2026-12-07 16:45", STAFF, "today"),  # exactly the margin left
        ("2026-12-07 06:00", None, "later today after 9 AM"),
        ("2026-12-11 18:00", None, "on Monday after 9 AM"),  # Friday evening
        ("2026-12-12 11:00", None, "on Monday after 9 AM"),  # Saturday
    ],
)
def test_transfer_only_while_open_with_the_margin(
    now: str, transfer: str | None, when: str
) -> None:
    line = staff_line(STAFF, WEEKDAYS, now=at(now), time_zone=NY)
    assert (line.transfer_to, line.call_back_when) == (transfer, when)


def test_no_staff_number_means_a_call_back_even_when_open() -> None:
    line = staff_line(None, WEEKDAYS, now=at("2026-12-07 10:00"), time_zone=NY)
    assert line.transfer_to is None


def test_no_hours_means_no_transfer() -> None:
    line = staff_line(STAFF, None, now=at("2026-12-07 10:00"), time_zone=NY)
    assert (line.transfer_to, line.call_back_when) == (None, DURING_BUSINESS_HOURS)


def test_a_range_to_midnight_runs_into_the_next_day() -> None:
    late = parse_staff_hours({"mon": ["20:00-24:00"], "tue": ["00:00-02:00"]})
    line = staff_line(STAFF, late, now=at("2026-12-07 23:55"), time_zone=NY)
    assert line.transfer_to == STAFF


def test_hours_follow_the_wall_clock_across_a_dst_change() -> None:
    # 2027-03-14 is the spring-forward Sunday in New York: Monday 9 AM is still 9 AM there.
    opening = next_opening(WEEKDAYS, at("2027-03-13 12:00").astimezone(ZoneInfo(NY)))
    assert opening is not None
    assert (opening.weekday(), opening.hour, opening.minute) == (0, 9, 0)
    assert opening.utcoffset() == timedelta(hours=-4)


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"monday": ["09:00-17:00"]}, "staff_hours.monday"),
        ({"mon": ["9-5"]}, "staff_hours.mon[0]"),
        ({"mon": ["09:00-17:00", "25:00-26:00"]}, "staff_hours.mon[1]"),
        ({"mon": ["17:00-09:00"]}, "staff_hours.mon[0]"),
        ({"mon": ["09:00-13:00", "12:00-17:00"]}, "staff_hours.mon"),
        ({"mon": 9}, "staff_hours.mon"),
    ],
)
def test_bad_hours_name_where_they_are_wrong(data: dict[str, object], field: str) -> None:
    with pytest.raises(StaffHoursError) as error:
        parse_staff_hours(data)
    assert error.value.field == field


def test_hours_round_trip_through_their_saved_form() -> None:
    assert parse_staff_hours(WEEKDAYS.to_json()) == WEEKDAYS


@given(
    minutes=st.integers(min_value=0, max_value=14 * 24 * 60),
    margin=st.integers(min_value=0, max_value=120),
)
def test_a_transfer_is_never_offered_closer_than_the_margin_to_closing(
    minutes: int, margin: int
) -> None:
    now = at("2026-12-07 00:00") + timedelta(minutes=minutes)
    line = staff_line(STAFF, WEEKDAYS, now=now, time_zone=NY, margin=timedelta(minutes=margin))
    local = now.astimezone(ZoneInfo(NY))
    for step in range(0, margin + 1, 5):
        later = local + timedelta(minutes=step)
        minute = later.hour * 60 + later.minute
        is_open = any(s <= minute < e for s, e in WEEKDAYS.days[later.weekday()])
        if line.transfer_to is not None and step < margin:
            assert is_open, f"transferred at {local} but closed at {later}"
    if line.transfer_to is None:
        opening = next_opening(WEEKDAYS, local + timedelta(minutes=margin))
        assert opening is not None
        assert opening >= local


def test_hours_are_summarized_for_the_voice_ai_page() -> None:
    assert WEEKDAYS.summary() == (
        "Mon 09:00-12:30, 13:30-17:00; Tue 09:00-17:00; Wed 09:00-17:00; Thu 09:00-17:00; "
        "Fri 09:00-17:00"
    )


@pytest.mark.parametrize(
    ("saved", "said"),
    [
        (
            {d: ["09:00-18:00"] for d in ("mon", "tue", "wed", "thu", "fri")}
            | {"sat": ["10:00-14:00"]},
            "We're open Monday to Friday, 9 AM to 6 PM, and Saturday, 10 AM to 2 PM.",
        ),
        (
            {"mon": ["09:00-12:30", "13:30-17:00"], "wed": ["09:00-17:00"], "thu": ["09:00-17:00"]},
            "We're open Monday, 9 AM to 12:30 PM and 1:30 PM to 5 PM, and Wednesday and "
            "Thursday, 9 AM to 5 PM.",
        ),
        ({"sun": ["11:00-24:00"]}, "We're open Sunday, 11 AM to 12 AM."),
        ({}, "We have no opening hours on file; staff will call you back with them."),
    ],
)
def test_hours_are_said_as_a_caller_hears_them(saved: dict[str, list[str]], said: str) -> None:
    assert spoken_hours(parse_staff_hours(saved)) == said


@given(
    st.lists(
        st.lists(st.tuples(st.integers(0, 47), st.integers(1, 4)), max_size=2),
        min_size=7,
        max_size=7,
    )
)
def test_every_open_day_is_named_once(raw: list[list[tuple[int, int]]]) -> None:
    days: list[tuple[tuple[int, int], ...]] = []
    for ranges in raw:
        spans, end = [], 0
        for start_slot, length in sorted(raw_range for raw_range in ranges):
            start = max(start_slot * 30, end)
            stop = min(start + length * 30, 24 * 60)
            if start < stop:
                spans.append((start, stop))
                end = stop + 30
        days.append(tuple(spans))
    said = spoken_hours(StaffHours(tuple(days)))
    names = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
    for name, ranges in zip(names, days, strict=True):
        mentioned = name in said or any(
            f"{a} to {b}" in said and names.index(a) < names.index(name) < names.index(b)
            for a in names
            for b in names
            if a != b
        )
        assert mentioned == bool(ranges), (name, said)
