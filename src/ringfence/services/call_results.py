"""Applying what the carrier says about placed calls: receipts, completions, reconciliation.

Everything here is idempotent: a report applied twice, or a receipt for a job that was
already settled, changes nothing. That is what lets the dispatcher crash anywhere. Work is
done in batches (one statement per kind of write), since a busy tick settles hundreds of calls.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
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
from ringfence.adapters.telephony.base import CallReport, CarrierCallState, DialReceipt, DialRequest
from ringfence.agent.callee import Conversation, simulated_conversation
from ringfence.agent.session import session_from_json
from ringfence.domain.calls import IN_FLIGHT, check_transition
from ringfence.domain.compliance import zone
from ringfence.domain.vocabulary import CallOutcome, CallStatus, CallType
from ringfence.services.call_outcomes import FinishedCall
from ringfence.services.call_outcomes_bulk import apply_conversations

JOBS = cast(Table, CallJob.__table__)
CONTACTS = cast(Table, Contact.__table__)
_JOB_COLUMNS = (
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
    # Read only: with location, day and outcome, the dashboard bucket the row's triggers touch.
    "call_type",
    "workflow_id",
    "from_number_id",
)
_WRITTEN = _JOB_COLUMNS[4 : _JOB_COLUMNS.index("agent_session")]


@dataclass(slots=True)
class _Job:
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
    call_type: CallType
    workflow_id: int | None
    from_number_id: int | None


def lock_order(job: _Job) -> tuple[int, str, date, int, int, str, int]:
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
class _Writes:
    jobs: dict[int, _Job] = field(default_factory=dict)
    events: list[dict[str, Any]] = field(default_factory=list)
    ledger: list[dict[str, Any]] = field(default_factory=list)
    contacted: dict[int, tuple[datetime, bool]] = field(default_factory=dict)
    wake: dict[int, datetime] = field(default_factory=dict)
    conversations: list[tuple[FinishedCall, Conversation]] = field(default_factory=list)

    def move(
        self,
        job: _Job,
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
        job: _Job,
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
# `_Writes.complete`'s rows with their local day: every column given, none has a default.
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


def _load(session: Session, where: Any) -> list[_Job]:
    query = select(*(getattr(CallJob, name) for name in _JOB_COLUMNS)).where(where)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    return [_Job(*row) for row in session.execute(query.order_by(CallJob.id))]


def _by_key(session: Session, keys: Sequence[str]) -> dict[str, _Job]:
    found: dict[str, _Job] = {}
    unique = sorted(set(keys))
    query = _BY_KEY_LOCKED if session.get_bind().dialect.name == "postgresql" else _BY_KEY
    for i in range(0, len(unique), 500):
        for row in session.execute(query, {"keys": unique[i : i + 500]}):
            job = _Job(*row)
            found[job.idempotency_key or ""] = job
    return found


# `_load`'s statement for a tick's keys, built once (the keys bound at each execution): a
# tick settles by key, and building the statement cost more than running it.
_BY_KEY = (
    select(*(getattr(CallJob, name) for name in _JOB_COLUMNS))
    .where(CallJob.idempotency_key.in_(bindparam("keys", expanding=True)))
    .order_by(CallJob.id)
)
_BY_KEY_LOCKED = _BY_KEY.with_for_update()


def settle_dials(
    session: Session,
    receipts: Sequence[tuple[DialRequest, DialReceipt | None, str | None]],
    reports: Sequence[CallReport],
    *,
    now: datetime,
) -> int:
    """After dialing: the tick's receipts, then the carrier's reports, written in one pass (one
    lock order for the whole transaction). Returns how many jobs completed."""
    keys = [request.idempotency_key for request, _r, _e in receipts]
    jobs = _by_key(session, keys + [report.idempotency_key for report in reports])
    writes = _Writes()
    _note_receipts(writes, jobs, receipts, now)
    completed = _note_reports(writes, jobs, reports)
    writes.flush(session)
    return completed


def _note_receipts(
    writes: _Writes,
    jobs: dict[str, _Job],
    receipts: Sequence[tuple[DialRequest, DialReceipt | None, str | None]],
    now: datetime,
) -> None:
    for request, receipt, error in receipts:
        job = jobs.get(request.idempotency_key)
        if job is None or job.status is not CallStatus.DIALING:
            continue  # settled meanwhile (e.g. reconciled by another worker)
        if receipt is None:
            # The carrier could not be asked or did not answer: the call may or may not exist.
            writes.move(job, CallStatus.NEEDS_REVIEW, now, reason="carrier_error", detail=error)
            continue
        job.carrier_call_id = receipt.carrier_call_id
        if receipt.accepted:
            writes.move(job, CallStatus.RINGING, now)
        else:
            writes.complete(
                job,
                outcome=CallOutcome.FAILED,
                ended_at=now,
                duration=0,
                billable=0,
                carrier_reason=receipt.carrier_reason,
            )


def _note_reports(writes: _Writes, jobs: dict[str, _Job], reports: Sequence[CallReport]) -> int:
    completed = 0
    for report in reports:
        job = jobs.get(report.idempotency_key)
        if job is None or job.status not in IN_FLIGHT | {CallStatus.NEEDS_REVIEW}:
            continue
        completed += _apply(writes, job, report)
    return completed


def _apply(writes: _Writes, job: _Job, report: CallReport) -> int:
    job.carrier_call_id = job.carrier_call_id or report.carrier_call_id
    writes.jobs[job.id] = job
    if report.state is CarrierCallState.RINGING:
        if job.status is CallStatus.DIALING:
            writes.move(job, CallStatus.RINGING, report.dialed_at)
        return 0
    if report.answered_at is not None and job.status in (CallStatus.DIALING, CallStatus.RINGING):
        writes.move(job, CallStatus.IN_PROGRESS, report.answered_at)
    if report.state is CarrierCallState.IN_PROGRESS:
        return 0
    if report.outcome is None or report.ended_at is None:
        raise ValueError(f"completed report without outcome: {report!r}")
    writes.complete(
        job,
        outcome=report.outcome,
        ended_at=report.ended_at,
        duration=report.duration_seconds or 0,
        billable=report.billable_seconds or 0,
        carrier_reason=report.carrier_reason,
    )
    conversation = _conversation_of(job, report)
    if conversation is not None and report.answered_at is not None:
        writes.conversations.append(
            (
                FinishedCall(
                    job_id=job.id,
                    account_id=job.account_id,
                    location_id=job.location_id,
                    contact_id=job.contact_id,
                    outcome=report.outcome,
                    answered_at=report.answered_at,
                    ended_at=report.ended_at,
                    recording_path=report.recording_path,
                    recording_seconds=report.recording_seconds,
                ),
                conversation,
            )
        )
    return 1


def _conversation_of(job: _Job, report: CallReport) -> Conversation | None:
    """The conversation of an answered call: as held live, or replayed from the simulated
    callee with the agent session the call was placed with."""
    if report.outcome not in (CallOutcome.CONNECTED, CallOutcome.VOICEMAIL):
        return None
    if report.conversation is not None:
        return report.conversation
    if report.callee is None or job.agent_session is None:
        return None
    return simulated_conversation(
        session_from_json(job.agent_session), report.callee, job.contact_id
    )


@dataclass(frozen=True, slots=True)
class StaleJob:
    job_id: int
    idempotency_key: str


def stale_in_flight(
    session: Session, *, now: datetime, dialing_after: timedelta, call_after: timedelta
) -> list[StaleJob]:
    """In-flight jobs whose worker may have died, to be looked up at the carrier by key.

    - `dialing` with no carrier call id for longer than `dialing_after`: the worker died
      between committing the key and hearing back from the carrier.
    - any in-flight job dialed longer than `call_after` ago: nobody reported how it ended.
    """
    rows = session.execute(
        select(
            CallJob.id,
            CallJob.idempotency_key,
            CallJob.status,
            CallJob.carrier_call_id,
            CallJob.dialed_at,
        )
        .where(
            CallJob.status.in_(IN_FLIGHT),
            CallJob.dialed_at <= now - min(dialing_after, call_after),
        )
        .order_by(CallJob.id)
    ).all()
    stale = []
    for job_id, key, status, carrier_call_id, dialed_at in rows:
        lost_dial = status is CallStatus.DIALING and carrier_call_id is None
        limit = dialing_after if lost_dial else call_after
        if dialed_at is not None and dialed_at <= now - limit and key:
            stale.append(StaleJob(job_id, key))
    return stale


def settle_lookups(
    session: Session,
    lookups: Sequence[tuple[StaleJob, CallReport | None, str | None]],
    *,
    now: datetime,
) -> int:
    """Apply the carrier's answers for stale jobs (report, None = never placed, or an error).

    A call the carrier placed is adopted; a call it never placed sends a lost dial back to the
    queue, keeping its key, so even a late original dial and the retry are one call at the
    carrier; a carrier that cannot say sends the job to `needs_review`: never a blind redial.
    """
    jobs = {
        job.id: job for job in _load(session, CallJob.id.in_([s.job_id for s, _r, _e in lookups]))
    }
    writes = _Writes()
    changed = 0
    for stale, report, error in lookups:
        job = jobs.get(stale.job_id)
        if job is None or job.status not in IN_FLIGHT:
            continue  # settled meanwhile
        before = job.status
        if error is not None:
            writes.move(job, CallStatus.NEEDS_REVIEW, now, reason="carrier_error", detail=error)
        elif report is not None:
            _apply(writes, job, report)
        elif job.status is CallStatus.DIALING and job.carrier_call_id is None:
            writes.move(
                job,
                CallStatus.QUEUED,
                now,
                reason="dial_not_placed",
                detail="the carrier has no call under this job's key; re-evaluated",
            )
            job.dialed_at = None
            job.dialed_local_day = None
            job.phone_e164 = None
            job.next_attempt_at = now
            writes.wake[job.location_id] = now
        else:
            writes.move(
                job,
                CallStatus.NEEDS_REVIEW,
                now,
                reason="carrier_lost_call",
                detail="the carrier has no record of a call it acknowledged",
            )
        changed += int(job.status is not before)
    writes.flush(session)
    return changed
