"""What the metrics read from the database at scrape time: call jobs by status, reason, direction,
whether due and whether holding a line.

Read from the database rather than counted in a process, these are right whichever process is
scraped (the API, any worker) and survive restarts. Only enum columns are grouped on: never a
contact, a number or an account.

Two reads, because they cost differently. Open jobs (queued, deferred, in flight, in review)
are few and found through the status index: counted at every scrape, so the queue depth and the
live calls are exact. Settled jobs (completed, failed, canceled) are nearly the whole table and
only ever grow: counting them is a scan (1-1.6 s at 500,000 jobs on a 2-core machine), so each
process recounts them at most once a minute (`CallJobCountsCache`); their totals may lag by
that much, which the alerts' rates over minutes do not notice.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import Session

from ringfence.adapters.db.calls import CallJob
from ringfence.domain.calls import IN_FLIGHT, PENDING, TERMINAL
from ringfence.domain.vocabulary import CallDirection, CallStatus

# Every status that is not settled: what a scrape counts afresh each time.
OPEN = frozenset(CallStatus) - TERMINAL
SETTLED_RECOUNT = timedelta(minutes=1)


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
    """Every call job counted by its enum columns, exactly (both reads, no cache)."""
    return CallJobCounts(settled_job_groups(session) + open_job_groups(session, now))


def open_job_groups(session: Session, now: datetime) -> tuple[JobGroup, ...]:
    """The jobs not yet settled, grouped (through the status index: no scan of settled jobs)."""
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
        )
        .where(CallJob.status.in_(sorted(OPEN)))
        .group_by(CallJob.status, CallJob.reason_code, CallJob.direction, due, holds_line)
    ).all()
    return tuple(
        _group(status, reason, direction, count, due=is_due, holds_line=in_line)
        for status, reason, direction, is_due, in_line, count in rows
    )


def settled_job_groups(session: Session) -> tuple[JobGroup, ...]:
    """The settled jobs, grouped: never due, never on a line."""
    rows = session.execute(
        select(CallJob.status, CallJob.reason_code, CallJob.direction, func.count())
        .where(CallJob.status.in_(sorted(TERMINAL)))
        .group_by(CallJob.status, CallJob.reason_code, CallJob.direction)
    ).all()
    return tuple(
        _group(status, reason, direction, count, due=False, holds_line=False)
        for status, reason, direction, count in rows
    )


def _group(
    status: object,
    reason: str | None,
    direction: object,
    count: int,
    *,
    due: object,
    holds_line: object,
) -> JobGroup:
    """One row of either read, as plain values (enums as their names, flags as booleans)."""
    return JobGroup(
        status=str(status),
        reason_code=reason,
        direction=str(direction),
        due=bool(due),
        holds_line=bool(holds_line),
        count=int(count),
    )


class CallJobCountsCache:
    """One process's counts for its scrapes: open jobs read at every scrape, settled jobs
    recounted when `recount_every` has passed on the scrape's clock (a scan; see the module's
    docstring), or when that clock went back. Scrapes at the same moment share one recount
    instead of scanning side by side."""

    def __init__(self, recount_every: timedelta = SETTLED_RECOUNT) -> None:
        self._recount_every = recount_every
        self._lock = threading.Lock()
        self._settled: tuple[JobGroup, ...] = ()
        self._counted_at: datetime | None = None

    def counts(self, session: Session, now: datetime) -> CallJobCounts:
        with self._lock:
            since = None if self._counted_at is None else now - self._counted_at
            if since is None or not timedelta(0) <= since < self._recount_every:
                self._settled = settled_job_groups(session)
                self._counted_at = now
            settled = self._settled
        return CallJobCounts(settled + open_job_groups(session, now))
