"""Everything one dashboard view shows, gathered in one place: the staff page, its live
refresh and a read-only share link all render this same object, for outbound calls (figures
from the rollups) or inbound ones (figures folded from the rows, inbound_metrics.py)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from ringfence.adapters.db.orm import PhoneNumber
from ringfence.adapters.db.workflows import Workflow
from ringfence.domain.dashboard.filters import DashboardFilters
from ringfence.domain.dashboard.trends import CallerIdStats, TrendPoint
from ringfence.services.dashboard.call_log import CallLogPage, PreDialRow, call_log, pre_dial
from ringfence.services.dashboard.inbound_metrics import inbound_figures
from ringfence.services.dashboard.metrics import Tiles, caller_ids, tiles, trend_points
from ringfence.services.dashboard.minutes import MinutesDay, minutes_per_day
from ringfence.services.dashboard.scope import DashboardScope


@dataclass(frozen=True, slots=True)
class Choice:
    value: int
    label: str


@dataclass(frozen=True, slots=True)
class DashboardView:
    scope: DashboardScope
    filters: DashboardFilters
    first_day: str
    last_day: str
    tiles: Tiles
    trend: tuple[TrendPoint, ...]
    caller_ids: tuple[CallerIdStats, ...]
    minutes: tuple[MinutesDay, ...]
    log: CallLogPage
    pre_dial: tuple[PreDialRow, ...]
    workflows: tuple[Choice, ...]
    numbers: tuple[Choice, ...]

    @property
    def trend_series(self) -> dict[str, list[object]]:
        """The trend as Chart.js datasets want it (one list per series)."""
        return {
            "names": list(self.series_names),
            "labels": [p.label for p in self.trend],
            "attempted": [p.counts.attempted for p in self.trend],
            "connected": [p.counts.reached for p in self.trend],
            "failed": [p.counts.failed for p in self.trend],
        }

    @property
    def series_names(self) -> tuple[str, str, str]:
        """The trend's three series, as the chart and its table name them."""
        if self.filters.is_inbound:
            return ("Calls", "Answered", "Failed")
        return ("Attempted", "Connected", "Failed")

    @property
    def workflow_name(self) -> str | None:
        return next((c.label for c in self.workflows if c.value == self.filters.workflow_id), None)


def dashboard_view(
    session: Session, scope: DashboardScope, filters: DashboardFilters
) -> DashboardView:
    first, last = filters.days(scope.today)
    workflows = session.execute(
        select(Workflow.id, Workflow.name)
        .where(Workflow.account_id == scope.account_id, Workflow.location_id == scope.location_id)
        .order_by(Workflow.name, Workflow.id)
    ).all()
    numbers = session.execute(
        select(PhoneNumber.id, PhoneNumber.e164)
        .where(
            PhoneNumber.account_id == scope.account_id,
            PhoneNumber.location_id == scope.location_id,
        )
        .order_by(PhoneNumber.e164)
    ).all()
    if filters.is_inbound:
        figures = inbound_figures(session, scope, filters)
        summary, points, numbers_used, minutes = (
            figures.tiles,
            figures.trend,
            figures.lines,
            figures.minutes,
        )
    else:
        summary = tiles(session, scope, filters)
        points = trend_points(session, scope, filters)
        numbers_used = caller_ids(session, scope, filters)
        minutes = minutes_per_day(session, scope, filters)
    return DashboardView(
        scope=scope,
        filters=filters,
        first_day=first.isoformat(),
        last_day=last.isoformat(),
        tiles=summary,
        trend=points,
        caller_ids=numbers_used,
        minutes=minutes,
        log=call_log(session, scope, filters),
        pre_dial=pre_dial(session, scope, filters),
        workflows=tuple(Choice(i, n) for i, n in workflows),
        numbers=tuple(Choice(i, n) for i, n in numbers),
    )
