"""What the dispatcher does with one due job: the decision, apart from SQL, locks and writes.

`plan_job(facts, now, policy, ...)` asks the compliance gate and turns its verdict into one of
three plans. The dispatcher's shell gathers the facts (under row locks), applies the plan to
its bulk writes and asks the carrier; everything that decides lives here, so planning can be
replayed and property-tested without a database.

- `PlaceCall`: the gate says dial. The job becomes `dialing` on the location's calendar day.
- `HoldJob`: deferred, paced (kept `queued`) or failed; the job is written and the location
  may try its next due job in the same tick.
- `LocationBlocked`: the location's own pacing or daily cap stops it. Not the job's fault:
  the job is left as it is and the location sleeps until `until`; when its day is full
  (`day_full`), its remaining due jobs of the day move to the next day.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime

from ringfence.domain.calls import JobDecision, decide
from ringfence.domain.compliance import (
    CallFacts,
    Evaluation,
    PlatformPolicy,
    ReasonCode,
    Rule,
    evaluate,
    zone,
)
from ringfence.domain.vocabulary import CallStatus

# The location's limits: they stop the location, not the job.
LOCATION_BLOCKS = frozenset({ReasonCode.LOCATION_PACING, ReasonCode.LOCATION_DAILY_CAP})


@dataclass(frozen=True, slots=True)
class PlaceCall:
    """Dial now; `local_day` is the location's calendar day of the dial (caps, dashboard)."""

    decision: JobDecision
    local_day: date

    @property
    def reason_code(self) -> None:
        return None


@dataclass(frozen=True, slots=True)
class HoldJob:
    """The job is deferred, paced or failed (`decision` says which); the location goes on."""

    decision: JobDecision

    @property
    def reason_code(self) -> str | None:
        return self.decision.reason_code


@dataclass(frozen=True, slots=True)
class LocationBlocked:
    """The location may not dial before `until`; the job stays as it is."""

    reason: ReasonCode
    until: datetime
    day_full: bool

    @property
    def reason_code(self) -> str:
        return self.reason.value


JobPlan = PlaceCall | HoldJob | LocationBlocked


@dataclass(frozen=True, slots=True)
class PlannedJob:
    plan: JobPlan
    # The gate's full answer (every rule checked), for the "why" views and the audit.
    evaluation: Evaluation


def plan_job(
    facts: CallFacts,
    now: datetime,
    policy: PlatformPolicy,
    *,
    time_zone: str,
    dials_earlier_this_tick: int = 0,
) -> PlannedJob:
    """Plan one due job at `now` for a location in `time_zone`.

    `dials_earlier_this_tick`: dials of the same phone number planned earlier in this very
    pass (another location of the same account). They are not in the database yet, so they
    are counted here as dials at `now`, and the per-number caps see them.
    """
    if dials_earlier_this_tick:
        earlier = (now,) * dials_earlier_this_tick
        facts = replace(facts, number_dials=facts.number_dials + earlier)
    evaluation = evaluate(facts, now, policy)
    decision = decide(evaluation.verdict, now)
    reason = ReasonCode(decision.reason_code) if decision.reason_code else None
    if reason is ReasonCode.LOCATION_DAILY_CAP:
        day_end = evaluation.check(Rule.LOCATION_DAILY_CAP).until or now
        return PlannedJob(LocationBlocked(reason, day_end, day_full=True), evaluation)
    if reason is ReasonCode.LOCATION_PACING:
        # Until the pacing gap ends, not until this job's own earliest instant: that one
        # includes the job's calling window, and a job in a zone whose window just closed
        # must not hold back the location's jobs in zones still open.
        until = evaluation.check(Rule.LOCATION_PACING).until or decision.next_attempt_at or now
        return PlannedJob(LocationBlocked(reason, until, day_full=False), evaluation)
    if decision.status is CallStatus.DIALING:
        return PlannedJob(PlaceCall(decision, now.astimezone(zone(time_zone)).date()), evaluation)
    return PlannedJob(HoldJob(decision), evaluation)
