"""The dashboard's figures computed straight from the call rows: the reference the rollup-
backed queries in services/dashboard/metrics.py must always equal (test_rollups.py)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from sqlalchemy import Integer, and_, case, func, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from ringfence.adapters.db.calls import CallAction, CallJob, CallTranscript
from ringfence.adapters.db.orm import PhoneNumber
from ringfence.domain.dashboard.filters import DashboardFilters
from ringfence.domain.dashboard.statuses import action_label
from ringfence.domain.dashboard.trends import CallerIdStats, DayCounts, rank_caller_ids
from ringfence.domain.vocabulary import CallOutcome
from ringfence.services.dashboard.metrics import ActionCount, SentimentCounts, Tiles
from ringfence.services.dashboard.scope import DashboardScope, dial_conditions

_REACHED = (CallOutcome.CONNECTED, CallOutcome.VOICEMAIL)
_NO_ANSWER = (CallOutcome.NO_ANSWER, CallOutcome.BUSY)


def _count_if(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0).cast(Integer)


def tiles(session: Session, scope: DashboardScope, filters: DashboardFilters) -> Tiles:
    where = dial_conditions(scope, filters)
    row = session.execute(
        select(
            func.count(),
            _count_if(CallJob.outcome == CallOutcome.CONNECTED),
            _count_if(CallJob.outcome == CallOutcome.VOICEMAIL),
            _count_if(CallJob.outcome.in_(_NO_ANSWER)),
            _count_if(CallJob.outcome == CallOutcome.FAILED),
            func.coalesce(func.sum(CallJob.duration_seconds), 0),
            func.coalesce(
                func.sum(case((CallJob.outcome.in_(_REACHED), CallJob.duration_seconds), else_=0)),
                0,
            ),
        ).where(*where)
    ).one()
    moods: dict[str | None, int] = {
        mood: int(count)
        for mood, count in session.execute(
            select(CallTranscript.sentiment, func.count())
            .join(CallJob, CallJob.id == CallTranscript.job_id)
            .where(*where, CallJob.outcome == CallOutcome.CONNECTED)
            .group_by(CallTranscript.sentiment)
        )
    }
    actions = [
        ActionCount(kind, action_label(kind), int(count))
        for kind, count in session.execute(
            select(CallAction.kind, func.count())
            .join(CallJob, CallJob.id == CallAction.job_id)
            .where(*where)
            .group_by(CallAction.kind)
        )
    ]
    return Tiles(
        attempted=int(row[0]),
        connected=int(row[1]),
        voicemail=int(row[2]),
        no_answer=int(row[3]),
        failed=int(row[4]),
        total_duration_seconds=int(row[5] or 0),
        reached_duration_seconds=int(row[6] or 0),
        sentiment=SentimentCounts(
            positive=moods.get("positive", 0),
            neutral=moods.get("neutral", 0),
            negative=moods.get("negative", 0),
        ),
        actions=tuple(sorted(actions, key=lambda a: (-a.count, a.label))),
    )


def per_day(
    session: Session, scope: DashboardScope, filters: DashboardFilters
) -> dict[date, DayCounts]:
    rows = session.execute(
        select(
            CallJob.dialed_local_day,
            func.count(),
            _count_if(CallJob.outcome.in_(_REACHED)),
            _count_if(CallJob.outcome == CallOutcome.FAILED),
            func.coalesce(func.sum(CallJob.duration_seconds), 0),
        )
        .where(*dial_conditions(scope, filters))
        .group_by(CallJob.dialed_local_day)
    )
    return {
        day: DayCounts(int(a), int(r), int(f), int(d or 0))
        for day, a, r, f, d in rows
        if day is not None
    }


def caller_ids(
    session: Session, scope: DashboardScope, filters: DashboardFilters
) -> tuple[CallerIdStats, ...]:
    """Answer and failure rate per caller ID used, worst first (the comparison ignores the
    caller-ID filter itself: comparing one number with nothing says nothing)."""
    where = dial_conditions(scope, replace(filters, from_number_id=None))
    rows = session.execute(
        select(
            CallJob.from_number_id,
            PhoneNumber.e164,
            func.count(),
            _count_if(CallJob.outcome.in_(_REACHED)),
            _count_if(CallJob.outcome == CallOutcome.FAILED),
        )
        .outerjoin(PhoneNumber, and_(PhoneNumber.id == CallJob.from_number_id))
        .where(*where)
        .group_by(CallJob.from_number_id, PhoneNumber.e164)
    )
    return rank_caller_ids(
        [
            CallerIdStats(number_id, e164 or "unknown", int(a), int(r), int(f))
            for number_id, e164, a, r, f in rows
        ]
    )
