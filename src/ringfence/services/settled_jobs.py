"""The call-job rows the settling pass (services/call_results.py) loads, changes in memory and
writes back in one batch: one statement per kind of write (jobs, events, the minutes ledger,
contacts' last-contacted times, conversations), in one lock order.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.orm import Session

from ringfence.adapters.db.calls import (
    INSERT_EVENTS,
    CallJob,
    LocationPacing,
    MinutesLedger,
    event_row,
)
from ringfence.adapters.db.orm import Contact, Location
from ringfence.adapters.db.prepared import Prepared
from ringfence.agent.callee import Conversation
from ringfence.domain.calls import check_transition
from ringfence.domain.compliance import zone
from ringfence.domain.vocabulary import CallOutcome, CallStatus, CallType
from ringfence.services.call_outcomes import FinishedCall
from ringfence.services.call_outcomes_bulk import apply_conversations

JOBS = cast(Table, CallJob.__table__)
CONTACTS = cast(Table, Contact.__table__)
JOB_COLUMNS = (
    "id",
    "account_id",
    "location_id",
    "contact_id",
    "status",
    "idempotency_key",
    "carrier_call_id",
    "dialed_at",
    "dialed_local_day",
    "phone_e164",
    "next_attempt_at",
    "outcome",
    "ended_at",
    "duration_seconds",
    "billable_seconds",
    "carrier_reason",
    "reason_code",
    "updated_at",
    "agent_session",
    "agent_profile_digest",
    # Read only: with location, day and outcome, the dashboard bucket the row's triggers touch.
    "call_type",
    "workflow_id",
    "from_number_id",
)
_WRITTEN = JOB_COLUMNS[4 : JOB_COLUMNS.index("agent_session")]


@dataclass(slots=True)
class SettledJob:
    """A call job's row, loaded for update; changes are written back in one statement."""

    id: int
    account_id: int
    location_id: int
    contact_id: int
    status: CallStatus
    idempotency_key: str | None
    carrier_call_id: str | None
    dialed_at: datetime | None
    dialed_local_day: date | None
    phone_e164: str | None
    next_attempt_at: datetime | None
    outcome: CallOutcome | None
    ended_at: datetime | None
    duration_seconds: int | None
    billable_seconds: int | None
    carrier_reason: str | None
    reason_code: str | None
    updated_at: datetime
    agent_session: dict[str, Any] | None
    agent_profile_digest: str | None
    call_type: CallType
    workflow_id: int | None
    from_number_id: int | None


def lock_order(job: SettledJob) -> tuple[int, str, date, int, int, str, int]:
    """The order job rows are written in, so that every transaction takes rollup locks alike.

    Writing a job's outcome makes its trigger update two `call_day_stats` rows: the bucket it
    leaves (outcome '') and the bucket it enters. Sorted by bucket key with the outcome last,
    each transaction takes those row locks in one global order, and two workers settling calls
    of one location cannot wait on each other in a cycle (PostgreSQL would kill one).
    """
    return (
        job.location_id,
        job.call_type.value,
        job.dialed_local_day or date.min,
        job.workflow_id or 0,
        job.from_number_id or 0,
        job.outcome.value if job.outcome is not None else "",
        job.id,
    )


@dataclass(slots=True)
class SettleWrites:
    jobs: dict[int, SettledJob] = field(default_factory=dict)
    events: list[dict[str, Any]] = field(default_factory=list)
    ledger: list[dict[str, Any]] = field(default_factory=list)
    contacted: dict[int, tuple[datetime, bool]] = field(default_factory=dict)
    wake: dict[int, datetime] = field(default_factory=dict)
    conversations: list[tuple[FinishedCall, Conversation]] = field(default_factory=list)

    def move(
        self,
        job: SettledJob,
        target: CallStatus,
        at: datetime,
        *,
        reason: str | None = None,
        detail: str | None = None,
    ) -> None:
        check_transition(job.status, target)
        self.events.append(
            event_row(
                account_id=job.account_id,
                job_id=job.id,
                at=at,
                from_status=job.status,
                to_status=target,
                reason_code=reason,
                detail=detail,
            )
        )
        job.status = target
        job.updated_at = max(job.updated_at, at)
        self.jobs[job.id] = job

    def complete(
        self,
        job: SettledJob,
        *,
        outcome: CallOutcome,
        ended_at: datetime,
        duration: int,
        billable: int,
        carrier_reason: str | None,
    ) -> None:
        self.move(job, CallStatus.COMPLETED, ended_at, reason=outcome.value)
        job.outcome, job.ended_at = outcome, ended_at
        job.duration_seconds, job.billable_seconds = duration, billable
        job.carrier_reason = carrier_reason
        # Every completed dial books its billable time (zero when nobody answered).
        self.ledger.append(
            {
                "account_id": job.account_id,
                "location_id": job.location_id,
                "job_id": job.id,
                "dialed_at": job.dialed_at or ended_at,
                "billable_seconds": billable,
                "booked_at": ended_at,
            }
        )
        dialed = job.dialed_at or ended_at
        previous = self.contacted.get(job.contact_id)
        connected = outcome is CallOutcome.CONNECTED
        if previous is None or previous[0] < dialed:
            self.contacted[job.contact_id] = (dialed, connected)

    def flush(self, session: Session) -> None:
        # Lock order (see lock_order): pacing rows and contacts first, which a planning
        # worker holds while it takes rollup rows, then the job rows and their rollup rows.
        for location_id, at in sorted(self.wake.items()):
            pacing = session.get(LocationPacing, location_id, with_for_update=True)
            if pacing is not None and (pacing.ready_at is None or pacing.ready_at > at):
                pacing.ready_at = at
        if self.contacted:
            _touch_contacts(session, self.contacted)
        # The job, event and ledger rows on the driver's cursor (adapters/db/prepared.py).
        connection = session.connection()
        if self.jobs:
            _WRITE_JOBS.run_many(
                connection,
                [
                    {"b_id": job.id} | {f"b_{name}": getattr(job, name) for name in _WRITTEN}
                    for job in sorted(self.jobs.values(), key=lock_order)
                ],
            )
        if self.events:
            # The ORM INSERT this replaces flushed pending ORM changes first (autoflush).
            session.flush()
            INSERT_EVENTS.run_many(connection, self.events)
        if self.ledger:
            zones = _zones(session, {row["location_id"] for row in self.ledger})
            _INSERT_LEDGER.run_many(
                connection,
                [
                    {
                        **{k: v for k, v in row.items() if k != "dialed_at"},
                        "local_day": row["dialed_at"]
                        .astimezone(zone(zones[row["location_id"]]))
                        .date(),
                    }
                    for row in self.ledger
                ],
            )
        if self.conversations:
            # Transcripts, tasks, tags and actions in one statement each (an opt-out goes
            # through the per-call path: services/call_outcomes_bulk.py).
            apply_conversations(
                session,
                sorted(self.conversations, key=lambda pair: lock_order(self.jobs[pair[0].job_id])),
            )


_WRITE_JOBS = Prepared(
    update(JOBS)
    .where(JOBS.c.id == bindparam("b_id"))
    .values({name: bindparam(f"b_{name}") for name in _WRITTEN})
)
# `SettleWrites.complete`'s rows with their local day: every column given, none has a default.
_INSERT_LEDGER = Prepared(
    insert(cast(Table, MinutesLedger.__table__)),
    column_keys=(
        "account_id",
        "location_id",
        "job_id",
        "billable_seconds",
        "booked_at",
        "local_day",
    ),
)


def _zones(session: Session, location_ids: Iterable[int]) -> dict[int, str]:
    return dict(session.execute(_ZONES, {"ids": sorted(location_ids)}).all())


# Built once, the ids bound at each execution (a tick settles once).
_ZONES = select(Location.id, Location.time_zone).where(
    Location.id.in_(bindparam("ids", expanding=True))
)
_CONTACTED = select(Contact.id, Contact.last_contacted_at, Contact.last_engaged_at).where(
    Contact.id.in_(bindparam("ids", expanding=True))
)


def _touch_contacts(session: Session, contacted: dict[int, tuple[datetime, bool]]) -> None:
    """Last contacted (and, for a live conversation, last engaged) move forward only."""
    current = {
        cid: (last_contacted, last_engaged)
        for cid, last_contacted, last_engaged in session.execute(
            _CONTACTED, {"ids": sorted(contacted)}
        )
    }
    rows = []
    for cid, (dialed, connected) in contacted.items():
        if cid not in current:
            continue
        last_contacted, last_engaged = current[cid]
        rows.append(
            {
                "b_id": cid,
                "b_contacted": max(filter(None, (last_contacted, dialed))),
                "b_engaged": max(filter(None, (last_engaged, dialed)))
                if connected
                else last_engaged,
            }
        )
    _TOUCH_CONTACTS.run_many(session.connection(), rows)


_TOUCH_CONTACTS = Prepared(
    update(CONTACTS)
    .where(CONTACTS.c.id == bindparam("b_id"))
    .values(last_contacted_at=bindparam("b_contacted"), last_engaged_at=bindparam("b_engaged"))
)


def load_jobs(session: Session, where: Any) -> list[SettledJob]:
    query = select(*(getattr(CallJob, name) for name in JOB_COLUMNS)).where(where)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    return [SettledJob(*row) for row in session.execute(query.order_by(CallJob.id))]


def jobs_by_key(session: Session, keys: Sequence[str]) -> dict[str, SettledJob]:
    found: dict[str, SettledJob] = {}
    unique = sorted(set(keys))
    query = _BY_KEY_LOCKED if session.get_bind().dialect.name == "postgresql" else _BY_KEY
    for i in range(0, len(unique), 500):
        for row in session.execute(query, {"keys": unique[i : i + 500]}):
            job = SettledJob(*row)
            found[job.idempotency_key or ""] = job
    return found


# `_load`'s statement for a tick's keys, built once (the keys bound at each execution): a
# tick settles by key, and building the statement cost more than running it.
_BY_KEY = (
    select(*(getattr(CallJob, name) for name in JOB_COLUMNS))
    .where(CallJob.idempotency_key.in_(bindparam("keys", expanding=True)))
    .order_by(CallJob.id)
)
_BY_KEY_LOCKED = _BY_KEY.with_for_update()
