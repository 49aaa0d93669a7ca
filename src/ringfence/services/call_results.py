"""Applying what the carrier says about placed calls: receipts, completions, reconciliation.

Everything here is idempotent: a report applied twice, or a receipt for a job that was
already settled, changes nothing. That is what lets the dispatcher crash anywhere. Work is
done in batches (one statement per kind of write), since a busy tick settles hundreds of calls.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from ringfence.adapters.db.calls import (
    CallJob,
)
from ringfence.adapters.telephony.base import CallReport, CarrierCallState, DialReceipt, DialRequest
from ringfence.agent.callee import Conversation, simulated_conversation
from ringfence.domain.calls import IN_FLIGHT
from ringfence.domain.vocabulary import CallOutcome, CallStatus
from ringfence.services.call_outcomes import FinishedCall
from ringfence.services.settled_jobs import SettledJob, SettleWrites, jobs_by_key, load_jobs
from ringfence.services.stored_sessions import (
    MissingProfile,
    Owned,
    profiles_by_digest,
    stored_session,
)

log = logging.getLogger("ringfence.dispatch")


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
    jobs = jobs_by_key(session, keys + [report.idempotency_key for report in reports])
    writes = SettleWrites()
    _note_receipts(writes, jobs, receipts, now)
    completed = _note_reports(writes, jobs, reports, _profiles_for(session, jobs.get, reports))
    writes.flush(session)
    return completed


def _note_receipts(
    writes: SettleWrites,
    jobs: dict[str, SettledJob],
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


def _note_reports(
    writes: SettleWrites,
    jobs: dict[str, SettledJob],
    reports: Sequence[CallReport],
    profiles: Mapping[str, Owned],
) -> int:
    completed = 0
    for report in reports:
        job = jobs.get(report.idempotency_key)
        if job is None or job.status not in IN_FLIGHT | {CallStatus.NEEDS_REVIEW}:
            continue
        completed += _apply(writes, job, report, profiles)
    return completed


def _profiles_for(
    session: Session,
    job_of: Callable[[str], SettledJob | None],
    reports: Iterable[CallReport | None],
) -> dict[str, Owned]:
    """The agent profiles of the jobs whose simulated conversations the reports replay, read
    together (services/stored_sessions.py)."""
    return profiles_by_digest(
        session,
        (
            job.agent_profile_digest
            for report in reports
            if report is not None
            and report.callee is not None
            and (job := job_of(report.idempotency_key)) is not None
        ),
    )


def _apply(
    writes: SettleWrites,
    job: SettledJob,
    report: CallReport,
    profiles: Mapping[str, Owned],
) -> int:
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
    conversation = _conversation_of(job, report, profiles)
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


def _conversation_of(
    job: SettledJob, report: CallReport, profiles: Mapping[str, Owned]
) -> Conversation | None:
    """The conversation of an answered call: as held live, or replayed from the simulated
    callee with the agent session the call was placed with. A job whose stored profile is
    gone completes as the carrier reported it, without a replayed conversation: one bad row
    must not stop the batch (and with it every other call's results)."""
    if report.outcome not in (CallOutcome.CONNECTED, CallOutcome.VOICEMAIL):
        return None
    if report.conversation is not None:
        return report.conversation
    if report.callee is None:
        return None
    try:
        agent_session = stored_session(
            job.account_id, job.agent_session, job.agent_profile_digest, profiles
        )
    except MissingProfile as exc:
        log.error("call job %s: its conversation was not replayed: %s", job.id, exc)
        return None
    if agent_session is None:
        return None
    return simulated_conversation(agent_session, report.callee, job.contact_id)


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
        job.id: job
        for job in load_jobs(session, CallJob.id.in_([s.job_id for s, _r, _e in lookups]))
    }
    by_key = {job.idempotency_key: job for job in jobs.values()}
    profiles = _profiles_for(session, by_key.get, (report for _s, report, _e in lookups))
    writes = SettleWrites()
    changed = 0
    for stale, report, error in lookups:
        job = jobs.get(stale.job_id)
        if job is None or job.status not in IN_FLIGHT:
            continue  # settled meanwhile
        before = job.status
        if error is not None:
            writes.move(job, CallStatus.NEEDS_REVIEW, now, reason="carrier_error", detail=error)
        elif report is not None:
            _apply(writes, job, report, profiles)
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
