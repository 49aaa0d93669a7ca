"""What the metrics read from the database at scrape time: call jobs by status, reason, direction,
whether due and whether holding a line, in one GROUP BY.

Read from the database rather than counted in a process, these are right whichever process is
scraped (the API, any worker) and survive restarts. Only enum columns are grouped on: never a
contact, a number or an account.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import Session

from ringfence.adapters.db.calls import CallJob
from ringfence.domain.calls import IN_FLIGHT, PENDING
from ringfence.domain.vocabulary import CallDirection


@dataclass(frozen=True, slots=True)
class JobGroup:
    status: str
    reason_code: str | None
    direction: str
    due: bool  # pending and due now: the dispatcher's queue
    holds_line: bool  # in flight on a carrier line (a test-console call holds none)
    count: int


@dataclass(frozen=True, slots=True)
class CallJobCounts:
    groups: tuple[JobGroup, ...]

    def by_status(self) -> dict[str, int]:
        totals: dict[str, int] = {}
        for group in self.groups:
            totals[group.status] = totals.get(group.status, 0) + group.count
        return totals

    def by_reason(self) -> dict[str, int]:
        totals: dict[str, int] = {}
        for group in self.groups:
            if group.reason_code is not None:
                totals[group.reason_code] = totals.get(group.reason_code, 0) + group.count
        return totals

    def queue_depth(self) -> int:
        return sum(group.count for group in self.groups if group.due)

    def live_calls(self) -> dict[str, int]:
        totals = {direction.value: 0 for direction in CallDirection}
        for group in self.groups:
            if group.holds_line:
                totals[group.direction] = totals.get(group.direction, 0) + group.count
        return totals


def call_job_counts(session: Session, now: datetime) -> CallJobCounts:
    """Every call job counted by its enum columns, in one statement (a scan of `call_jobs`;
    a scrape every 15 s or more keeps it cheap next to the dispatcher's own queries)."""
    due = case(
        (and_(CallJob.status.in_(PENDING), CallJob.next_attempt_at <= now), True), else_=False
    ).label("due")
    holds_line = case(
        (
            and_(
                CallJob.status.in_(IN_FLIGHT),
                or_(
                    CallJob.dialed_at.is_not(None),
                    CallJob.direction == CallDirection.INBOUND,
                ),
            ),
            True,
        ),
        else_=False,
    ).label("holds_line")
    rows = session.execute(
        select(
            CallJob.status,
            CallJob.reason_code,
            CallJob.direction,
            due,
            holds_line,
            func.count(),
        ).group_by(CallJob.status, CallJob.reason_code, CallJob.direction, due, holds_line)
    ).all()
    return CallJobCounts(
        tuple(
            JobGroup(
                status=str(status),
                reason_code=reason,
                direction=str(direction),
                due=bool(is_due),
                holds_line=bool(in_line),
                count=int(count),
            )
            for status, reason, direction, is_due, in_line, count in rows
        )
    )
