"""The Inbound view's tiles, trend, per-line figures and minutes, folded from its call rows.

The outbound figures read the rollups (`call_day_stats`, `call_day_actions`), which key on the
local day a call was *dialed*: an inbound call is never dialed, so it is in none of them. Its
day is the location-local day it was answered (`created_at`), and a practice's inbound traffic
is its own phone's (tens to a few hundred calls a day), so these figures read the view's rows:
one query for the calls (streamed, a batch at a time) and one for their actions. The
definitions are the outbound ones (metrics.py), so the two tabs read the same way:
- Calls (the Attempted tile): every inbound call of the range, answered or still in progress.
- Answered: outcome connected. Duration: the calls' seconds; the average is over answered calls.
- Sentiment: answered conversations only. Actions: those recorded on the view's calls, by kind.
- Per practice line: calls to each line the practice was called on (the comparison ignores
  the line filter itself, as the outbound caller-ID comparison does).
- Minutes: per local day, each call rounded up to the minute (no carrier bills an inbound call
  to Ringfence, so the minutes ledger, the ledger of outbound dials, has none of them).
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from dataclasses import dataclass, field, replace
from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ringfence.adapters.db.calls import CallAction, CallJob, CallTranscript
from ringfence.adapters.db.orm import PhoneNumber
from ringfence.domain.compliance import zone
from ringfence.domain.dashboard.filters import DashboardFilters
from ringfence.domain.dashboard.statuses import action_label
from ringfence.domain.dashboard.trends import (
    CallerIdStats,
    DayCounts,
    TrendPoint,
    rank_caller_ids,
    trend,
)
from ringfence.domain.vocabulary import CallOutcome
from ringfence.services.dashboard.metrics import ActionCount, SentimentCounts, Tiles
from ringfence.services.dashboard.minutes import MinutesDay
from ringfence.services.dashboard.scope import DashboardScope, dial_conditions

_BATCH = 2000


@dataclass(frozen=True, slots=True)
class InboundFigures:
    tiles: Tiles
    trend: tuple[TrendPoint, ...]
    lines: tuple[CallerIdStats, ...]  # per practice line called
    minutes: tuple[MinutesDay, ...]


@dataclass(slots=True)
class _Fold:
    """Running sums over one set of calls (the tiles' and one day's)."""

    calls: int = 0
    outcomes: Counter[CallOutcome | None] = field(default_factory=Counter)
    seconds: int = 0
    answered_seconds: int = 0
    minutes: int = 0
    sentiment: Counter[str] = field(default_factory=Counter)

    def add(self, outcome: CallOutcome | None, seconds: int, sentiment: str | None) -> None:
        self.calls += 1
        self.outcomes[outcome] += 1
        self.seconds += seconds
        self.minutes += math.ceil(seconds / 60)
        if outcome is CallOutcome.CONNECTED:
            self.answered_seconds += seconds
            if sentiment:
                self.sentiment[sentiment] += 1

    def counts(self) -> DayCounts:
        reached = self.outcomes[CallOutcome.CONNECTED] + self.outcomes[CallOutcome.VOICEMAIL]
        return DayCounts(self.calls, reached, self.outcomes[CallOutcome.FAILED], self.seconds)


@dataclass(slots=True)
class _Line:
    e164: str
    calls: int = 0
    reached: int = 0
    failed: int = 0

    def add(self, outcome: CallOutcome | None) -> None:
        self.calls += 1
        self.reached += outcome in (CallOutcome.CONNECTED, CallOutcome.VOICEMAIL)
        self.failed += outcome is CallOutcome.FAILED


def inbound_figures(
    session: Session, scope: DashboardScope, filters: DashboardFilters
) -> InboundFigures:
    first, last = filters.days(scope.today)
    tz = zone(scope.time_zone)
    total = _Fold()
    days: dict[date, _Fold] = defaultdict(_Fold)
    lines: dict[int | None, _Line] = {}
    # Every line's calls for the comparison; the line filter applies to the rest in Python.
    unfiltered = replace(filters, from_number_id=None)
    rows = session.execute(
        select(
            CallJob.created_at,
            CallJob.outcome,
            CallJob.duration_seconds,
            CallJob.from_number_id,
            PhoneNumber.e164,
            CallTranscript.sentiment,
        )
        .outerjoin(PhoneNumber, PhoneNumber.id == CallJob.from_number_id)
        .outerjoin(CallTranscript, CallTranscript.job_id == CallJob.id)
        .where(*dial_conditions(scope, unfiltered))
        .execution_options(yield_per=_BATCH)
    )
    for at, outcome, duration, number_id, e164, sentiment in rows:
        lines.setdefault(number_id, _Line(e164 or "unknown")).add(outcome)
        if filters.from_number_id is not None and number_id != filters.from_number_id:
            continue
        seconds = duration or 0
        total.add(outcome, seconds, sentiment)
        days[at.astimezone(tz).date()].add(outcome, seconds, sentiment)
    return InboundFigures(
        tiles=_tiles(total, _actions(session, scope, filters)),
        trend=trend(
            {day: fold.counts() for day, fold in days.items()}, first, last, filters.granularity
        ),
        lines=rank_caller_ids(
            [
                CallerIdStats(number_id, line.e164, line.calls, line.reached, line.failed)
                for number_id, line in lines.items()
            ]
        ),
        minutes=_minutes(days, first, last),
    )


def _tiles(total: _Fold, actions: tuple[ActionCount, ...]) -> Tiles:
    outcomes = total.outcomes
    return Tiles(
        attempted=total.calls,
        connected=outcomes[CallOutcome.CONNECTED],
        voicemail=outcomes[CallOutcome.VOICEMAIL],
        no_answer=outcomes[CallOutcome.NO_ANSWER] + outcomes[CallOutcome.BUSY],
        failed=outcomes[CallOutcome.FAILED],
        total_duration_seconds=total.seconds,
        reached_duration_seconds=total.answered_seconds,
        sentiment=SentimentCounts(
            positive=total.sentiment["positive"],
            neutral=total.sentiment["neutral"],
            negative=total.sentiment["negative"],
        ),
        actions=actions,
    )


def _actions(
    session: Session, scope: DashboardScope, filters: DashboardFilters
) -> tuple[ActionCount, ...]:
    counted = [
        ActionCount(kind, action_label(kind), int(count))
        for kind, count in session.execute(
            select(CallAction.kind, func.count())
            .join(CallJob, CallJob.id == CallAction.job_id)
            .where(CallAction.account_id == scope.account_id, *dial_conditions(scope, filters))
            .group_by(CallAction.kind)
        )
    ]
    return tuple(sorted(counted, key=lambda a: (-a.count, a.label)))


def _minutes(days: dict[date, _Fold], first: date, last: date) -> tuple[MinutesDay, ...]:
    out: list[MinutesDay] = []
    day = first
    while day <= last:
        fold = days.get(day)
        if fold is None:
            out.append(MinutesDay(day, 0, 0, 0, 0))
        else:
            out.append(MinutesDay(day, fold.calls, fold.seconds, fold.minutes, 0))
        day += timedelta(days=1)
    return tuple(out)
