""" "Calls per day per phone number | 1", read as: no two dials to a number within one calendar
day of ANY of its candidate zones (the location's zone only when the number has none).

Property tests against brute force: random dials and instants around both 2026 DST changes,
single- and multi-zone numbers; `until` is the first free minute of a minute scan.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import event, given, settings
from hypothesis import strategies as st

from ringfence.domain.compliance import (
    DEFAULT_POLICY,
    Defer,
    Dial,
    Fail,
    Outcome,
    ReasonCode,
    Rule,
    evaluate,
)
from ringfence.domain.compliance.throttles import check_number_daily

from .factories import MULTI_ZONE_NPAS, NOW, SINGLE_ZONE_NPAS, make_facts, sample_number, utc

US_ZONES = (
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Boise",
    "America/Phoenix",
    "America/Los_Angeles",
    "America/Anchorage",
    "America/Adak",
    "Pacific/Honolulu",
)


def _day(t: datetime, zone: str) -> date:
    return t.astimezone(ZoneInfo(zone)).date()


def _shares_a_day(t: datetime, dials: tuple[datetime, ...], zones: tuple[str, ...]) -> bool:
    """Brute force: does a dial fall on `t`'s local date in any of the zones?"""
    return any(_day(d, z) == _day(t, z) for d in dials for z in zones)


# --- examples --------------------------------------------------------------------------------


def test_a_dial_on_the_contacts_day_counts_whatever_the_locations_day() -> None:
    # 06:59Z on the 10th: 02:59 on the 10th in New York (the number's zone), still the 9th in
    # Los Angeles (the location's). The contact has been called today: defer to their next
    # day's window (New York midnight is 04:00Z, the window opens 10:00 EDT = 14:00Z).
    late_dial = utc(2026, 3, 10, 6, 59)
    for location_tz in ("America/Los_Angeles", "America/New_York", "Pacific/Honolulu"):
        facts = make_facts(location_tz=location_tz, number_dials=(late_dial,))
        evaluation = evaluate(facts, NOW)
        assert evaluation.verdict == Defer(utc(2026, 3, 11, 14), ReasonCode.NUMBER_DAILY_CAP)
        check = evaluation.check(Rule.NUMBER_DAILY_CAP)
        assert check.until == utc(2026, 3, 11, 4)
        assert "America/New_York" in check.detail


def test_a_dial_on_the_contacts_previous_day_does_not_count() -> None:
    # 06:59Z on the 10th is 23:59 PDT on the 9th for a San Francisco number, though it is the
    # 10th for the New York location: the contact's day has turned, 10:30 PDT is in the window.
    facts = make_facts(
        phone=sample_number("415"),
        location_tz="America/New_York",
        number_dials=(utc(2026, 3, 10, 6, 59),),
    )
    assert evaluate(facts, NOW).verdict == Dial()


def test_a_multi_zone_number_waits_for_the_last_of_its_zones_to_turn() -> None:
    # 541 (Oregon) is Los Angeles and Denver. A dial at 06:30Z on the 10th is 23:30 PDT on the
    # 9th but 00:30 MDT on the 10th: at 20:00Z on the 10th it shares Denver's date, not Los
    # Angeles'. The rule frees at Denver's midnight (06:00Z on the 11th); the window in both
    # zones then opens at 10:00 PDT (17:00Z).
    dial, now = utc(2026, 3, 10, 6, 30), utc(2026, 3, 10, 20)
    facts = make_facts(phone=sample_number("541"), number_dials=(dial,))
    evaluation = evaluate(facts, now)
    assert set(evaluation.time_zones) == {"America/Denver", "America/Los_Angeles"}
    check = evaluation.check(Rule.NUMBER_DAILY_CAP)
    assert check.outcome is Outcome.DEFERRED
    assert check.until == utc(2026, 3, 11, 6)
    assert evaluation.verdict == Defer(utc(2026, 3, 11, 17), ReasonCode.NUMBER_DAILY_CAP)


def test_until_is_the_latest_end_of_day_among_the_zones_that_share_todays_date() -> None:
    zones = ("America/New_York", "America/Los_Angeles")
    dial, now = utc(2026, 3, 10, 18), utc(2026, 3, 10, 20)  # same date in both zones
    check = check_number_daily((dial,), now, zones, DEFAULT_POLICY)
    assert check.outcome is Outcome.DEFERRED
    assert check.reason is ReasonCode.NUMBER_DAILY_CAP
    assert check.until == utc(2026, 3, 11, 7)  # Los Angeles midnight, after New York's (04:00Z)
    assert check.detail.startswith("1 of 1 calls to this number used today")
    # Only New York shares the date: 03:30Z on the 10th is the 9th in Los Angeles.
    check = check_number_daily((utc(2026, 3, 10, 5),), now, zones, DEFAULT_POLICY)
    assert check.until == utc(2026, 3, 11, 4)


def test_a_number_without_zones_counts_the_locations_day() -> None:
    # An invalid number fails anyway, but the check still reports something sensible: the
    # location's zone is the only calendar there is.
    dial = utc(2026, 3, 10, 6, 59)  # the 9th in Los Angeles, the 10th in New York
    for location_tz, until in (
        ("America/Los_Angeles", None),
        ("America/New_York", utc(2026, 3, 11, 4)),
    ):
        facts = make_facts(phone="+1555", location_tz=location_tz, number_dials=(dial,))
        evaluation = evaluate(facts, NOW)
        assert evaluation.verdict == Fail(ReasonCode.NUMBER_INVALID)
        assert evaluation.time_zones == ()
        check = evaluation.check(Rule.NUMBER_DAILY_CAP)
        assert check.until == until
        assert location_tz in check.detail


def test_the_day_across_dst_is_the_local_one() -> None:
    # 8 March 2026 in New York is 23 hours long: a dial at 05:30Z (00:30 EST) frees at 04:00Z
    # on the 9th (midnight EDT), not 05:00Z.
    check = check_number_daily(
        (utc(2026, 3, 8, 5, 30),), utc(2026, 3, 8, 15), ("America/New_York",), DEFAULT_POLICY
    )
    assert check.until == utc(2026, 3, 9, 4)
    # 1 November is 25 hours long: a dial at 04:30Z (00:30 EDT) frees at 05:00Z on the 2nd.
    check = check_number_daily(
        (utc(2026, 11, 1, 4, 30),), utc(2026, 11, 1, 15), ("America/New_York",), DEFAULT_POLICY
    )
    assert check.until == utc(2026, 11, 2, 5)


# --- properties ------------------------------------------------------------------------------

# Within 4 days either side of the 2026 US DST changes (8 March, 1 November) and an ordinary day.
_ANCHORS = (utc(2026, 3, 8, 7), utc(2026, 11, 1, 6), utc(2026, 5, 24, 12))
minute_instants = st.builds(
    lambda anchor, minutes: anchor + timedelta(minutes=minutes),
    st.sampled_from(_ANCHORS),
    st.integers(min_value=-4 * 24 * 60, max_value=4 * 24 * 60),
)
zone_sets = st.lists(st.sampled_from(US_ZONES), min_size=1, max_size=4, unique=True).map(tuple)
# Dials up to 60 hours back, to the second.
dial_ages = st.lists(st.integers(0, 60 * 3600), max_size=4)


def _first_free_minute(
    now: datetime, dials: tuple[datetime, ...], zones: tuple[str, ...]
) -> datetime:
    t = now
    while _shares_a_day(t, dials, zones):
        t += timedelta(minutes=1)
        assert t <= now + timedelta(hours=30), "a day is never longer than 25 hours"
    return t


@given(now=minute_instants, zones=zone_sets, ages=dial_ages)
@settings(max_examples=300, deadline=None)
def test_the_check_matches_a_brute_force_minute_scan(
    now: datetime, zones: tuple[str, ...], ages: list[int]
) -> None:
    dials = tuple(now - timedelta(seconds=s) for s in ages)
    check = check_number_daily(dials, now, zones, DEFAULT_POLICY)
    blocked = _shares_a_day(now, dials, zones)
    event("deferred" if blocked else "passed")
    if not blocked:
        assert check.outcome is Outcome.PASSED
        return
    assert check.outcome is Outcome.DEFERRED
    assert check.reason is ReasonCode.NUMBER_DAILY_CAP
    assert check.until == _first_free_minute(now, dials, zones)
    # Free from then on: every later instant is on a new day in every zone.
    for hours in (0, 1, 7, 13, 23, 30):
        assert not _shares_a_day(check.until + timedelta(hours=hours), dials, zones)


npas = st.sampled_from(SINGLE_ZONE_NPAS + MULTI_ZONE_NPAS)
postals = st.sampled_from([None, "10001", "96813", "79901", "32501", "86515"])
location_zones = st.sampled_from(["America/New_York", "America/Los_Angeles", "Pacific/Honolulu"])


@given(
    npa=npas,
    postal=postals,
    location_tz=location_zones,
    now=minute_instants,
    ages=st.lists(st.integers(60, 60 * 3600), min_size=1, max_size=3),
)
@settings(max_examples=300, deadline=None)
def test_no_dial_shares_a_local_date_with_an_earlier_dial_in_any_candidate_zone(
    npa: str, postal: str | None, location_tz: str, now: datetime, ages: list[int]
) -> None:
    dials = tuple(now - timedelta(seconds=s) for s in ages)
    facts = make_facts(
        phone=sample_number(npa), postal=postal, location_tz=location_tz, number_dials=dials
    )
    evaluation = evaluate(facts, now)
    zones = evaluation.time_zones
    assert zones
    verdict = evaluation.verdict
    if isinstance(verdict, Dial):
        assert not _shares_a_day(now, dials, zones)
        return
    assert isinstance(verdict, Defer), verdict
    assert not _shares_a_day(verdict.until, dials, zones)
    if _shares_a_day(now, dials, zones):
        event("number_daily_cap binds")
        assert evaluation.check(Rule.NUMBER_DAILY_CAP).outcome is Outcome.DEFERRED
