"""The tiles, the trend and the caller-ID comparison, read from the rollups.

`call_day_stats` / `call_day_actions` (adapters/db/dashboard.py, kept exact by triggers)
hold the sums per location, call type, local day, workflow, caller ID and outcome, so a view
reads a few hundred rows however many calls it covers. tests/integration/dashboard/oracle.py
computes the same figures from the call rows, and the tests hold the two equal.

Definitions (docs/dashboard.md has them for staff):
- Attempted: every dial in the range (connected, voicemail, no answer, failed, and calls
  still in progress). Calls rejected before dialing are not dials.
- Connected: the call reached a live person or voicemail.
- Duration: the sum of placed calls' durations (an unanswered call's is its ring time); the
  average is the connected calls' durations over the connected calls (never ring time over
  conversations).
- Sentiment: live conversations only (outcome connected), never voicemail.
- Actions Triggered: the actions recorded on the view's calls, by kind.
Test calls are a separate view (Call Type = Test): a Live view never counts them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import Integer, case, func, select
from sqlalchemy.orm import InstrumentedAttribute, Session
from sqlalchemy.sql.elements import ColumnElement

from ringfence.adapters.db.calls import CallJob
from ringfence.adapters.db.dashboard import CallDayActions, CallDayStats
from ringfence.adapters.db.orm import PhoneNumber
from ringfence.domain.dashboard.filters import DashboardFilters
from ringfence.domain.dashboard.statuses import action_label, outcomes_for
from ringfence.domain.dashboard.trends import (
    CallerIdStats,
    DayCounts,
    TrendPoint,
    rank_caller_ids,
    trend,
)
from ringfence.domain.vocabulary import CallOutcome
from ringfence.services.dashboard.scope import DashboardScope

_REACHED = (CallOutcome.CONNECTED, CallOutcome.VOICEMAIL)
_NO_ANSWER = (CallOutcome.NO_ANSWER, CallOutcome.BUSY)


@dataclass(frozen=True, slots=True)
class SentimentCounts:
    positive: int = 0
    neutral: int = 0
    negative: int = 0

    @property
    def total(self) -> int:
        return self.positive + self.neutral + self.negative


@dataclass(frozen=True, slots=True)
class ActionCount:
    kind: str
    label: str
    count: int


@dataclass(frozen=True, slots=True)
class Tiles:
    attempted: int
    connected: int  # live person
    voicemail: int
    no_answer: int
    failed: int
    total_duration_seconds: int
    reached_duration_seconds: int  # the connected calls' (live person or voicemail) alone
    sentiment: SentimentCounts
    actions: tuple[ActionCount, ...]

    @property
    def reached(self) -> int:
        """The Connected Calls tile: live person or voicemail."""
        return self.connected + self.voicemail

    @property
    def in_progress(self) -> int:
        return self.attempted - self.reached - self.no_answer - self.failed

    @property
    def average_duration_seconds(self) -> float:
        return self.reached_duration_seconds / self.reached if self.reached else 0.0

    @property
    def actions_total(self) -> int:
        return sum(action.count for action in self.actions)


def _rollup_conditions(
    table: type[CallDayStats] | type[CallDayActions],
    scope: DashboardScope,
    filters: DashboardFilters,
    *,
    by_number: bool = True,
) -> list[ColumnElement[bool]]:
    """services/dashboard/scope.dial_conditions, on the rollups' bucket keys.

    The rollups hold dials, so outbound calls only: an inbound view's figures are folded from
    its rows (inbound_metrics.py), and asking the rollups for one is a mistake, not a zero."""
    if filters.is_inbound:
        raise ValueError("the rollups hold outbound dials: use inbound_metrics for inbound")
    first, last = filters.days(scope.today)
    conditions: list[ColumnElement[bool]] = [
        table.account_id == scope.account_id,
        table.location_id == scope.location_id,
        table.call_type == filters.call_type.value,
        table.local_day >= first,
        table.local_day <= last,
    ]
    if filters.workflow_id is not None:
        conditions.append(table.workflow_key == filters.workflow_id)
    if by_number and filters.from_number_id is not None:
        conditions.append(table.number_key == filters.from_number_id)
    if filters.statuses:
        outcomes = sorted(outcome.value for outcome in outcomes_for(filters.statuses))
        conditions.append(table.outcome_key.in_(outcomes))
    return conditions


def _calls_if(*outcomes: CallOutcome) -> ColumnElement[int]:
    keys = [outcome.value for outcome in outcomes]
    return func.coalesce(
        func.sum(case((CallDayStats.outcome_key.in_(keys), CallDayStats.calls), else_=0)), 0
    ).cast(Integer)


def _total(column: ColumnElement[int] | InstrumentedAttribute[int]) -> ColumnElement[int]:
    return func.coalesce(func.sum(column), 0).cast(Integer)


def tiles(session: Session, scope: DashboardScope, filters: DashboardFilters) -> Tiles:
    connected = CallDayStats.outcome_key == CallOutcome.CONNECTED.value
    reached = CallDayStats.outcome_key.in_([outcome.value for outcome in _REACHED])
    row = session.execute(
        select(
            _total(CallDayStats.calls),
            _calls_if(CallOutcome.CONNECTED),
            _calls_if(CallOutcome.VOICEMAIL),
            _calls_if(*_NO_ANSWER),
            _calls_if(CallOutcome.FAILED),
            _total(CallDayStats.duration_seconds),
            _total(case((reached, CallDayStats.duration_seconds), else_=0)),
            # Sentiment: live conversations only, never voicemail.
            _total(case((connected, CallDayStats.positive), else_=0)),
            _total(case((connected, CallDayStats.neutral), else_=0)),
            _total(case((connected, CallDayStats.negative), else_=0)),
        ).where(*_rollup_conditions(CallDayStats, scope, filters))
    ).one()
    actions = [
        ActionCount(kind, action_label(kind), int(count))
        for kind, count in session.execute(
            select(CallDayActions.kind, _total(CallDayActions.actions))
            .where(*_rollup_conditions(CallDayActions, scope, filters))
            .group_by(CallDayActions.kind)
            .having(func.sum(CallDayActions.actions) > 0)
        )
    ]
    return Tiles(
        attempted=int(row[0]),
        connected=int(row[1]),
        voicemail=int(row[2]),
        no_answer=int(row[3]),
        failed=int(row[4]),
        total_duration_seconds=int(row[5]),
        reached_duration_seconds=int(row[6]),
        sentiment=SentimentCounts(positive=int(row[7]), neutral=int(row[8]), negative=int(row[9])),
        actions=tuple(sorted(actions, key=lambda a: (-a.count, a.label))),
    )


def per_day(
    session: Session, scope: DashboardScope, filters: DashboardFilters
) -> dict[date, DayCounts]:
    rows = session.execute(
        select(
            CallDayStats.local_day,
            _total(CallDayStats.calls),
            _calls_if(*_REACHED),
            _calls_if(CallOutcome.FAILED),
            _total(CallDayStats.duration_seconds),
        )
        .where(*_rollup_conditions(CallDayStats, scope, filters))
        .group_by(CallDayStats.local_day)
    )
    return {
        day: DayCounts(int(a), int(r), int(f), int(d)) for day, a, r, f, d in rows if int(a) > 0
    }


def trend_points(
    session: Session, scope: DashboardScope, filters: DashboardFilters
) -> tuple[TrendPoint, ...]:
    first, last = filters.days(scope.today)
    return trend(per_day(session, scope, filters), first, last, filters.granularity)


def caller_ids(
    session: Session, scope: DashboardScope, filters: DashboardFilters
) -> tuple[CallerIdStats, ...]:
    """Answer and failure rate per caller ID used, worst first (the comparison ignores the
    caller-ID filter itself: comparing one number with nothing says nothing)."""
    rows = session.execute(
        select(
            CallDayStats.number_key,
            PhoneNumber.e164,
            _total(CallDayStats.calls),
            _calls_if(*_REACHED),
            _calls_if(CallOutcome.FAILED),
        )
        .outerjoin(PhoneNumber, PhoneNumber.id == CallDayStats.number_key)
        .where(*_rollup_conditions(CallDayStats, scope, filters, by_number=False))
        .group_by(CallDayStats.number_key, PhoneNumber.e164)
        .having(func.sum(CallDayStats.calls) > 0)
    )
    return rank_caller_ids(
        [
            CallerIdStats(number_key or None, e164 or "unknown", int(a), int(r), int(f))
            for number_key, e164, a, r, f in rows
        ]
    )


def has_outbound_call(session: Session, account_id: int, location_id: int) -> bool:
    """Whether the location's first outbound call has been logged (any dial, any type)."""
    return (
        session.scalar(
            select(CallJob.id)
            .where(
                CallJob.account_id == account_id,
                CallJob.location_id == location_id,
                CallJob.dialed_local_day.is_not(None),
            )
            .limit(1)
        )
        is not None
    )
