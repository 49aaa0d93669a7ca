"""Purpose-aware state solicitation rules (marketing calls only)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from ringfence.domain.compliance import (
    DEFAULT_POLICY,
    Confidence,
    Defer,
    Dial,
    Outcome,
    ReasonCode,
    Rule,
    evaluate,
)
from ringfence.domain.vocabulary import CallPurpose

from .factories import make_facts, sample_number, utc

MARKETING = CallPurpose.CONSULT_FOLLOW_UP
INFORMATIONAL = CallPurpose.APPOINTMENT_CONFIRMATION

RI = sample_number("401")
TX = sample_number("512")
AL = sample_number("205")
FL = sample_number("305")
CO = sample_number("303")

SATURDAY_1730_EDT = utc(2026, 3, 14, 21, 30)
SUNDAY_1100_CDT = utc(2026, 3, 15, 16, 0)


@pytest.mark.parametrize(
    ("phone", "now", "purpose", "expected"),
    [
        # Rhode Island: Saturdays 10:00-17:00 only; Sundays banned -> Monday 10:00 EDT.
        pytest.param(
            RI,
            SATURDAY_1730_EDT,
            MARKETING,
            Defer(utc(2026, 3, 16, 14, 0), ReasonCode.STATE_HOURS),
            id="RI-saturday-after-17",
        ),
        pytest.param(RI, utc(2026, 3, 14, 20, 59), MARKETING, Dial(), id="RI-saturday-16:59"),
        pytest.param(RI, SATURDAY_1730_EDT, INFORMATIONAL, Dial(), id="RI-informational"),
        # Texas: Sundays from 12:00.
        pytest.param(
            TX,
            SUNDAY_1100_CDT,
            MARKETING,
            Defer(utc(2026, 3, 15, 17, 0), ReasonCode.STATE_HOURS),
            id="TX-sunday-before-noon",
        ),
        pytest.param(TX, utc(2026, 3, 15, 17, 0), MARKETING, Dial(), id="TX-sunday-noon"),
        pytest.param(TX, SUNDAY_1100_CDT, INFORMATIONAL, Dial(), id="TX-informational"),
        # Alabama: Sunday ban.
        pytest.param(
            AL,
            SUNDAY_1100_CDT,
            MARKETING,
            Defer(utc(2026, 3, 16, 15, 0), ReasonCode.STATE_SUNDAY_BAN),
            id="AL-sunday",
        ),
        pytest.param(AL, SUNDAY_1100_CDT, INFORMATIONAL, Dial(), id="AL-informational"),
        # Alabama: Memorial Day (Monday 25 May 2026) is a legal holiday -> Tuesday.
        pytest.param(
            AL,
            utc(2026, 5, 25, 16, 0),
            MARKETING,
            Defer(utc(2026, 5, 26, 15, 0), ReasonCode.STATE_HOLIDAY_BAN),
            id="AL-memorial-day",
        ),
        # Colorado has no row: platform rules only.
        pytest.param(CO, utc(2026, 3, 15, 17, 0), MARKETING, Dial(), id="CO-sunday"),
    ],
)
def test_state_table_cases(
    phone: str, now: datetime, purpose: CallPurpose, expected: object
) -> None:
    evaluation = evaluate(make_facts(phone=phone, purpose=purpose), now)
    assert evaluation.verdict == expected
    state_check = evaluation.check(Rule.STATE_RULES)
    if purpose is INFORMATIONAL:
        assert state_check.outcome is Outcome.NOT_APPLICABLE


def test_postal_state_adds_its_rules() -> None:
    # A Colorado number whose owner lives in Alabama (ZIP 35203, Birmingham).
    facts = make_facts(phone=CO, purpose=MARKETING, postal="35203")
    evaluation = evaluate(facts, SUNDAY_1100_CDT)
    assert evaluation.states == ("AL", "CO")
    assert evaluation.time_zones == ("America/Chicago", "America/Denver")
    assert isinstance(evaluation.verdict, Defer)
    assert evaluation.verdict.reason is ReasonCode.STATE_SUNDAY_BAN


def test_florida_caps_three_marketing_calls_in_24_hours() -> None:
    now = utc(2026, 3, 10, 14, 30)  # 10:30 EDT
    yesterday = (utc(2026, 3, 9, 15, 0), utc(2026, 3, 9, 16, 0), utc(2026, 3, 9, 17, 0))
    facts = make_facts(phone=FL, purpose=MARKETING, number_dials=yesterday)
    evaluation = evaluate(facts, now)
    # 3 dials in the last 24 h also fill 3 of the 4 in 14 days, but that cap still passes.
    assert evaluation.check(Rule.NUMBER_14_DAY_CAP).outcome is Outcome.PASSED
    assert evaluation.verdict == Defer(utc(2026, 3, 10, 15, 0), ReasonCode.STATE_24H_CAP)
    assert evaluation.check(Rule.STATE_24H_CAP).detail.startswith("3 of 3 calls used")
    informational = make_facts(phone=FL, purpose=INFORMATIONAL, number_dials=yesterday)
    assert evaluate(informational, now).verdict == Dial()


def test_unknown_state_applies_every_states_rules() -> None:
    compiled_rules = DEFAULT_POLICY.state_rules
    from ringfence.domain.compliance.gate import compile_policy

    every = compile_policy(DEFAULT_POLICY).state_rules(frozenset())
    assert len(every.states) == len(compiled_rules)
    assert every.per_24h_cap == 3


def test_unconfirmed_cells_take_the_stricter_reading() -> None:
    pa = DEFAULT_POLICY.state_rule("PA")
    ms = DEFAULT_POLICY.state_rule("MS")
    assert pa is not None
    assert pa.sunday is None
    assert pa.holidays_banned
    assert ms is not None
    assert ms.holidays_banned
    unconfirmed = [r for r in DEFAULT_POLICY.state_rules if r.confidence is Confidence.UNCONFIRMED]
    assert {r.state for r in unconfirmed} == {"VA", "GA", "AZ", "IN", "TN", "WY"}
    # Pennsylvania's unconfirmed Sunday ban bites a marketing call on a Sunday afternoon.
    evaluation = evaluate(
        make_facts(phone=sample_number("215"), purpose=MARKETING), utc(2026, 3, 15, 18, 0)
    )
    assert isinstance(evaluation.verdict, Defer)
    assert evaluation.verdict.reason is ReasonCode.STATE_SUNDAY_BAN
    assert evaluation.verdict.until == utc(2026, 3, 16, 14, 0) + timedelta(0)


def test_no_common_window_fails() -> None:
    # A (hypothetical) policy whose window, 19:00-20:00, never meets Rhode Island's hours.
    from ringfence.domain.compliance import Fail, PlatformPolicy
    from ringfence.domain.compliance.policy import hours

    policy = PlatformPolicy(version="test-evening", window=hours(19, 20))
    evaluation = evaluate(make_facts(phone=RI, purpose=MARKETING), SATURDAY_1730_EDT, policy)
    assert evaluation.verdict == Fail(ReasonCode.NO_CALLABLE_WINDOW)
    assert evaluation.policy_version == "test-evening"
    assert evaluation.check(Rule.CALLING_WINDOW).outcome is Outcome.DEFERRED
    # The same call for an informational purpose only needs the platform window.
    informational = evaluate(make_facts(phone=RI), SATURDAY_1730_EDT, policy)
    assert informational.verdict == Defer(utc(2026, 3, 14, 23, 0), ReasonCode.OUTSIDE_WINDOW)


def test_short_search_horizon_fails_instead_of_deferring_forever() -> None:
    from ringfence.domain.compliance import Fail, PlatformPolicy

    policy = PlatformPolicy(search_horizon=timedelta(hours=1))
    night = utc(2026, 3, 11, 3, 0)
    assert evaluate(make_facts(), night, policy).verdict == Fail(ReasonCode.NO_CALLABLE_WINDOW)
