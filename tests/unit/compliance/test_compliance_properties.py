"""Property tests: the window never lets a dial through outside 10:00-18:00 in any candidate
zone, Defer.until is the earliest allowed instant (checked against a brute-force minute scan),
across DST transitions, multi-zone area codes, state rules and the counting caps."""

from __future__ import annotations

from datetime import datetime, timedelta

from hypothesis import event, given, settings
from hypothesis import strategies as st

from ringfence.domain.compliance import (
    DEFAULT_POLICY,
    Defer,
    Dial,
    Fail,
    ReasonCode,
    Rule,
    StateRule,
    evaluate,
)
from ringfence.domain.compliance.gate import compile_policy, contact_geography
from ringfence.domain.vocabulary import CallPurpose

from .factories import (
    MULTI_ZONE_NPAS,
    SINGLE_ZONE_NPAS,
    first_allowed_minute,
    make_facts,
    sample_number,
    utc,
    window_ok,
)

# Instants within 4 days either side of the 2026 US DST changes (8 March, 1 November),
# and of an ordinary week with a Sunday and Memorial Day (25 May 2026).
_ANCHORS = (utc(2026, 3, 8, 7), utc(2026, 11, 1, 6), utc(2026, 5, 24, 12))
minute_instants = st.builds(
    lambda anchor, minutes: anchor + timedelta(minutes=minutes),
    st.sampled_from(_ANCHORS),
    st.integers(min_value=-4 * 24 * 60, max_value=4 * 24 * 60),
)
second_instants = st.builds(
    lambda t, s: t + timedelta(seconds=s), minute_instants, st.integers(0, 59)
)
npas = st.sampled_from(SINGLE_ZONE_NPAS + MULTI_ZONE_NPAS)
postals = st.sampled_from([None, "10001", "96813", "35203", "79901", "32501", "86515"])
purposes = st.sampled_from(list(CallPurpose))
location_zones = st.sampled_from(["America/New_York", "America/Los_Angeles", "Pacific/Honolulu"])


def _state_rules(
    npa: str, postal: str | None, purpose: CallPurpose
) -> tuple[tuple[str, ...], tuple[StateRule, ...]]:
    geography = contact_geography(npa, postal)
    if not purpose.is_marketing:
        return geography.zones, ()
    rules = compile_policy(DEFAULT_POLICY).state_rules(geography.states)
    return geography.zones, rules.combined.states


@given(npa=npas, postal=postals, purpose=purposes, now=second_instants)
@settings(max_examples=400, deadline=None)
def test_dial_only_inside_the_window_of_every_candidate_zone(
    npa: str, postal: str | None, purpose: CallPurpose, now: datetime
) -> None:
    evaluation = evaluate(make_facts(phone=sample_number(npa), purpose=purpose, postal=postal), now)
    zones, state_rules = _state_rules(npa, postal, purpose)
    assert evaluation.time_zones == zones
    verdict = evaluation.verdict
    if isinstance(verdict, Dial):
        assert window_ok(now, zones, state_rules)
    else:
        assert isinstance(verdict, Defer)
        assert not window_ok(now, zones, state_rules)
        assert verdict.until > now
        assert window_ok(verdict.until, zones, state_rules)


@given(
    npa=npas,
    postal=postals,
    purpose=purposes,
    now=minute_instants,
    location_tz=location_zones,
    dials_today=st.sampled_from([0, 99, 100]),
    last_dial_minutes=st.sampled_from([None, 0, 1, 5]),
    number_dial_hours=st.lists(st.integers(1, 40), max_size=3, unique=True),
)
@settings(max_examples=300, deadline=None)
def test_defer_until_is_the_earliest_allowed_minute(
    npa: str,
    postal: str | None,
    purpose: CallPurpose,
    now: datetime,
    location_tz: str,
    dials_today: int,
    last_dial_minutes: int | None,
    number_dial_hours: list[int],
) -> None:
    facts = make_facts(
        phone=sample_number(npa),
        purpose=purpose,
        postal=postal,
        location_tz=location_tz,
        dials_today=dials_today,
        last_dial_at=None
        if last_dial_minutes is None
        else now - timedelta(minutes=last_dial_minutes),
        number_dials=tuple(now - timedelta(hours=h) for h in number_dial_hours),
    )
    verdict = evaluate(facts, now).verdict
    zones, state_rules = _state_rules(npa, postal, purpose)
    expected = first_allowed_minute(facts, now, zones, state_rules)
    assert expected is not None
    event(
        "dial"
        if expected == now
        else f"defer {verdict.reason if isinstance(verdict, Defer) else verdict}"
    )
    if expected == now:
        assert verdict == Dial()
    else:
        assert isinstance(verdict, Defer), verdict
        assert verdict.until == expected


@given(
    now=second_instants,
    offsets=st.lists(st.integers(1, 20 * 24 * 3600), min_size=0, max_size=8),
)
@settings(max_examples=300, deadline=None)
def test_fourteen_day_count_is_exact(now: datetime, offsets: list[int]) -> None:
    dials = tuple(now - timedelta(seconds=s) for s in offsets)
    in_window = sum(1 for s in offsets if s < 14 * 24 * 3600)
    evaluation = evaluate(make_facts(number_dials=dials), now)
    check = evaluation.check(Rule.NUMBER_14_DAY_CAP)
    assert check.detail.startswith(f"{in_window} of 4 calls used")
    assert (evaluation.verdict == Fail(ReasonCode.FOURTEEN_DAY_CAP)) is (in_window >= 4)


@given(now=second_instants, side=st.sampled_from([-1, 0, 1]))
@settings(max_examples=100, deadline=None)
def test_fourteen_day_boundary(now: datetime, side: int) -> None:
    """Three recent dials plus one aged 14 days minus one second / exactly / plus one second."""
    recent = tuple(now - timedelta(days=d) for d in (2, 4, 6))
    edge = now - (timedelta(days=14) + timedelta(seconds=side))
    verdict = evaluate(make_facts(number_dials=(*recent, edge)), now).verdict
    # Only the dial aged 14 days minus one second is still inside the window: a 5th call.
    assert (verdict == Fail(ReasonCode.FOURTEEN_DAY_CAP)) is (side == -1)
