"""Which rows a dashboard view reads: one location's calls, narrowed by the URL's filters."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import ColumnElement

from ringfence.adapters.db.calls import CallJob
from ringfence.domain.compliance import zone
from ringfence.domain.dashboard.filters import DashboardFilters
from ringfence.domain.dashboard.statuses import outcomes_for
from ringfence.domain.vocabulary import CallDirection


@dataclass(frozen=True, slots=True)
class DashboardScope:
    account_id: int
    location_id: int
    time_zone: str
    today: date  # the location's calendar day now
    now: datetime | None = None  # the instant the view is read at (None: not known)

    @classmethod
    def at(cls, account_id: int, location_id: int, time_zone: str, now: datetime) -> DashboardScope:
        today = now.astimezone(zone(time_zone)).date()
        return cls(account_id, location_id, time_zone, today, now)

    def local_bounds(self, first: date, last: date) -> tuple[datetime, datetime]:
        """The UTC instants [start, end) of local days `first`..`last` (DST-correct)."""
        tz = zone(self.time_zone)
        start = datetime.combine(first, time(), tz)
        end = datetime.combine(last + timedelta(days=1), time(), tz)
        return start, end


def dial_conditions(scope: DashboardScope, filters: DashboardFilters) -> list[ColumnElement[bool]]:
    """The calls of the view (placed calls, or answered inbound ones): every metric and the
    call log start here.

    Outbound: calls failed or deferred before dialing have no `dialed_local_day`, so they are
    never in Attempted; the pre-dial view lists them instead. Inbound: a call is never dialed;
    its day is the location-local day it was answered (`created_at`), bounded in UTC here.
    """
    first, last = filters.days(scope.today)
    conditions: list[ColumnElement[bool]] = [
        CallJob.account_id == scope.account_id,
        CallJob.location_id == scope.location_id,
        CallJob.call_type == filters.call_type,
    ]
    if filters.direction is CallDirection.INBOUND:
        start, end = scope.local_bounds(first, last)
        conditions += [CallJob.created_at >= start, CallJob.created_at < end]
    else:
        conditions += [CallJob.dialed_local_day >= first, CallJob.dialed_local_day <= last]
    conditions += shared_conditions(filters)
    if filters.statuses:
        conditions.append(CallJob.outcome.in_(sorted(outcomes_for(filters.statuses))))
    return conditions


def shared_conditions(filters: DashboardFilters) -> list[ColumnElement[bool]]:
    # Every view (call log, pre-dial list, CSV, share links, minutes) shows the calls of one
    # direction: the outbound dashboard's are the calls we placed, the inbound one's the calls
    # the practice's lines answered (issue 19). A share link's filters carry the direction, so
    # a link of one direction never opens a call of the other.
    conditions: list[ColumnElement[bool]] = [CallJob.direction == filters.direction]
    if filters.workflow_id is not None:
        conditions.append(CallJob.workflow_id == filters.workflow_id)
    if filters.from_number_id is not None:
        conditions.append(CallJob.from_number_id == filters.from_number_id)
    return conditions
