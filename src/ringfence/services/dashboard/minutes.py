"""Minutes used per day, from the dispatcher's ledger, beside the calls rejected before
dialing (which book nothing: the figure that shows the gate costs no minutes)."""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from ringfence.adapters.db.calls import CallJob, MinutesLedger
from ringfence.domain.compliance import zone
from ringfence.domain.dashboard.filters import DashboardFilters
from ringfence.domain.vocabulary import CallStatus
from ringfence.services.dashboard.scope import DashboardScope, shared_conditions


@dataclass(frozen=True, slots=True)
class MinutesDay:
    day: date
    dials: int
    billable_seconds: int
    minutes: int  # billed per call, rounded up to the minute
    rejected_before_dial: int


def minutes_per_day(
    session: Session, scope: DashboardScope, filters: DashboardFilters
) -> tuple[MinutesDay, ...]:
    first, last = filters.days(scope.today)
    booked: dict[date, list[int]] = defaultdict(lambda: [0, 0, 0])
    for day, seconds in session.execute(
        select(MinutesLedger.local_day, MinutesLedger.billable_seconds)
        .join(CallJob, CallJob.id == MinutesLedger.job_id)
        .where(
            MinutesLedger.account_id == scope.account_id,
            MinutesLedger.location_id == scope.location_id,
            MinutesLedger.local_day >= first,
            MinutesLedger.local_day <= last,
            CallJob.call_type == filters.call_type,
            *shared_conditions(filters),
        )
    ):
        bucket = booked[day]
        bucket[0] += 1
        bucket[1] += seconds
        bucket[2] += math.ceil(seconds / 60)
    start, end = scope.local_bounds(first, last)
    tz = zone(scope.time_zone)
    rejected: dict[date, int] = defaultdict(int)
    for (failed_at,) in session.execute(
        select(CallJob.updated_at).where(
            CallJob.account_id == scope.account_id,
            CallJob.location_id == scope.location_id,
            CallJob.call_type == filters.call_type,
            CallJob.status == CallStatus.FAILED,
            CallJob.dialed_at.is_(None),
            CallJob.updated_at >= start,
            CallJob.updated_at < end,
            *shared_conditions(filters),
        )
    ):
        rejected[failed_at.astimezone(tz).date()] += 1
    days: list[MinutesDay] = []
    day = first
    while day <= last:
        dials, seconds, minutes = booked.get(day, (0, 0, 0))
        days.append(MinutesDay(day, dials, seconds, minutes, rejected.get(day, 0)))
        day += timedelta(days=1)
    return tuple(days)
