"""The dispatcher's decision for one due job, without a database: `plan_job` on the gate."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import NamedTuple

from hypothesis import given
from hypothesis import strategies as st

from ringfence.domain.calls import decide
from ringfence.domain.compliance import (
    DEFAULT_POLICY,
    CallFacts,
    Dial,
    ReasonCode,
    evaluate,
    location_day_bounds,
    zone,
)
from ringfence.domain.dispatch_plan import HoldJob, LocationBlocked, PlaceCall, plan_job
from ringfence.domain.vocabulary import CallStatus, KycStatus

from .factories import NOW, make_facts, utc

_ZONES = st.sampled_from(["America/New_York", "America/Chicago", "Pacific/Honolulu"])
_instants = st.builds(
    lambda minutes: NOW + timedelta(minutes=minutes), st.integers(-3 * 24 * 60, 3 * 24 * 60)
)


class Situation(NamedTuple):
    facts: CallFacts
    now: datetime
    location_tz: str


@st.composite
def _situations(draw: st.DrawFn) -> Situation:
    now = draw(_instants)
    location_tz = draw(_ZONES)
    dials_today = draw(st.one_of(st.integers(0, 5), st.integers(98, 101)))
    last_gap = draw(st.one_of(st.none(), st.integers(0, 180)))
    prior = draw(st.lists(st.integers(1, 20 * 24 * 60), max_size=5))
    facts = make_facts(
        location_tz=location_tz,
        dials_today=dials_today,
        last_dial_at=None if last_gap is None else now - timedelta(seconds=last_gap),
        number_dials=tuple(now - timedelta(minutes=m) for m in prior),
        kyc=draw(st.sampled_from([KycStatus.APPROVED, KycStatus.APPROVED, KycStatus.SUBMITTED])),
        dnd=draw(st.booleans()),
    )
    return Situation(facts, now, location_tz)


@given(_situations())
def test_a_call_is_placed_exactly_when_the_gate_says_dial(situation: Situation) -> None:
    facts, now, location_tz = situation
    planned = plan_job(facts, now, DEFAULT_POLICY, time_zone=location_tz, dials_earlier_this_tick=0)
    gate = evaluate(facts, now, DEFAULT_POLICY)
    assert isinstance(planned.plan, PlaceCall) == isinstance(gate.verdict, Dial)
    assert planned.evaluation == gate
    if isinstance(planned.plan, PlaceCall):
        assert planned.plan.decision.status is CallStatus.DIALING
        assert planned.plan.local_day == now.astimezone(zone(location_tz)).date()


@given(_situations())
def test_held_jobs_carry_the_lifecycle_decision_and_never_dial(situation: Situation) -> None:
    facts, now, location_tz = situation
    planned = plan_job(facts, now, DEFAULT_POLICY, time_zone=location_tz)
    if isinstance(planned.plan, HoldJob):
        assert planned.plan.decision == decide(planned.evaluation.verdict, now)
        assert planned.plan.decision.status is not CallStatus.DIALING
        assert planned.plan.reason_code not in (
            ReasonCode.LOCATION_PACING.value,
            ReasonCode.LOCATION_DAILY_CAP.value,
        )


@given(_situations())
def test_only_the_locations_own_limits_block_the_location(situation: Situation) -> None:
    facts, now, location_tz = situation
    planned = plan_job(facts, now, DEFAULT_POLICY, time_zone=location_tz)
    reason = decide(planned.evaluation.verdict, now).reason_code
    blocked = reason in (ReasonCode.LOCATION_PACING.value, ReasonCode.LOCATION_DAILY_CAP.value)
    assert isinstance(planned.plan, LocationBlocked) == blocked
    plan = planned.plan
    if isinstance(plan, LocationBlocked):
        assert plan.until > now
        if plan.reason is ReasonCode.LOCATION_DAILY_CAP:
            # The day is full: the location sleeps until its local midnight.
            assert plan.day_full
            assert plan.until == location_day_bounds(now, location_tz)[1]
        else:
            assert not plan.day_full
            last = facts.location.last_dial_at
            assert last is not None
            assert plan.until == last + DEFAULT_POLICY.location_pacing


@given(_situations(), st.integers(1, 3))
def test_dials_earlier_in_the_tick_count_against_the_number(
    situation: Situation,
    earlier: int,
) -> None:
    facts, now, location_tz = situation
    planned = plan_job(
        facts, now, DEFAULT_POLICY, time_zone=location_tz, dials_earlier_this_tick=earlier
    )
    # One dial per number per day: a number dialed earlier in this pass is never dialed again.
    assert not isinstance(planned.plan, PlaceCall)
    alone = plan_job(facts, now, DEFAULT_POLICY, time_zone=location_tz).plan
    if isinstance(alone, PlaceCall):
        # The only thing that changed is the earlier dial: a per-number cap holds the job (the
        # day's one call, or the 14-day cap when the earlier dial is the window's fourth).
        assert isinstance(planned.plan, HoldJob)
        assert planned.plan.reason_code in (
            ReasonCode.NUMBER_DAILY_CAP.value,
            ReasonCode.FOURTEEN_DAY_CAP.value,
            ReasonCode.STATE_24H_CAP.value,
        )


def test_a_paced_location_sleeps_until_the_gap_ends_not_the_jobs_window() -> None:
    # 17:59:30 in New York, last dial 30 s ago: pacing blocks until 18:00:30, and the window
    # (closing at 18:00) must not push the location to tomorrow's 10:00.
    now = utc(2026, 3, 10, 21, 59) + timedelta(seconds=30)
    facts = make_facts(last_dial_at=now - timedelta(seconds=30))
    plan = plan_job(facts, now, DEFAULT_POLICY, time_zone="America/New_York").plan
    assert plan == LocationBlocked(
        ReasonCode.LOCATION_PACING, now + timedelta(seconds=30), day_full=False
    )
