"""Enqueueing and canceling call jobs. Calls are never placed directly: they are enqueued,
and the dispatcher decides when each one dials (see services/dispatch.py)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from ringfence.adapters.db.calls import CallEvent, CallJob, LocationPacing, event_row
from ringfence.adapters.db.orm import Contact, PhoneNumber, VoiceAgent
from ringfence.adapters.db.upsert import insert_missing
from ringfence.domain.calls import PENDING, check_transition
from ringfence.domain.vocabulary import CallPurpose, CallStatus, CallType
from ringfence.services.errors import Conflict, InvalidField
from ringfence.services.tenancy import get_owned
from ringfence.services.unit_of_work import TenantScope, UnitOfWork


@dataclass(frozen=True, slots=True)
class CallRequest:
    """One call a workflow step (or a test) asks for."""

    contact_id: int
    purpose: CallPurpose
    agent_id: int | None = None
    from_number_id: int | None = None
    call_type: CallType = CallType.LIVE
    workflow_id: int | None = None
    action_name: str = ""
    # Earliest moment to try (e.g. "24-48 h before the appointment"); default: now.
    not_before: datetime | None = None
    # Latest moment to dial; past it the gate fails the job (compliance `deadline_passed`).
    deadline: datetime | None = None
    enrollment_id: int | None = None


def ensure_pacing_rows(session: Session, rows: Sequence[tuple[int, int]]) -> None:
    """Create missing (location_id, account_id) pacing rows; concurrent creators are fine."""
    insert_missing(
        session,
        LocationPacing,
        [{"location_id": loc, "account_id": acc, "dials_today": 0} for loc, acc in rows],
    )


def enqueue_calls(
    session: Session, *, account_id: int, requests: Sequence[CallRequest], now: datetime
) -> list[int]:
    """Validate and enqueue `requests` as `queued` jobs; returns their ids.

    The contact, agent and caller ID must belong to the account, and the agent and caller ID
    to the contact's location. The location is marked ready no later than the earliest job.
    """
    if not requests:
        return []
    contacts = _owned(session, Contact, account_id, {r.contact_id for r in requests})
    agents = _owned(session, VoiceAgent, account_id, {r.agent_id for r in requests if r.agent_id})
    numbers = _owned(
        session, PhoneNumber, account_id, {r.from_number_id for r in requests if r.from_number_id}
    )
    jobs: list[dict[str, Any]] = []
    earliest: dict[int, datetime] = {}
    for request in requests:
        contact = contacts.get(request.contact_id)
        if contact is None:
            raise InvalidField("contact_id", f"no such contact ({request.contact_id})")
        location_id = contact.location_id
        for field, row_id, rows in (
            ("agent_id", request.agent_id, agents),
            ("from_number_id", request.from_number_id, numbers),
        ):
            if row_id is not None:
                row = rows.get(row_id)
                if row is None or row.location_id != location_id:
                    raise InvalidField(field, f"no such {field[:-3]} at the contact's location")
        due = max(request.not_before or now, now)
        earliest[location_id] = min(earliest.get(location_id, due), due)
        jobs.append(
            {
                "account_id": account_id,
                "location_id": location_id,
                "contact_id": contact.id,
                "agent_id": request.agent_id,
                "from_number_id": request.from_number_id,
                "workflow_id": request.workflow_id,
                "enrollment_id": request.enrollment_id,
                "deadline_at": request.deadline,
                "action_name": request.action_name,
                "purpose": request.purpose,
                "call_type": request.call_type,
                "status": CallStatus.QUEUED,
                "next_attempt_at": due,
                "evaluations": 0,
                "created_at": now,
                "updated_at": now,
            }
        )
    ids = list(
        session.scalars(insert(CallJob).returning(CallJob.id, sort_by_parameter_order=True), jobs)
    )
    session.execute(
        insert(CallEvent),
        [
            event_row(
                account_id=account_id,
                job_id=job_id,
                at=now,
                from_status=None,
                to_status=CallStatus.QUEUED,
                detail="enqueued",
            )
            for job_id in ids
        ],
    )
    ensure_pacing_rows(session, [(loc, account_id) for loc in earliest])
    _wake_locations(session, earliest)
    return ids


def _wake_locations(session: Session, earliest: dict[int, datetime]) -> None:
    rows = session.scalars(
        select(LocationPacing)
        .where(LocationPacing.location_id.in_(sorted(earliest)))
        .with_for_update()
    )
    for row in rows:
        due = earliest[row.location_id]
        if row.ready_at is None or due < row.ready_at:
            row.ready_at = due


def cancel_pending(
    session: Session,
    *,
    account_id: int,
    now: datetime,
    reason: str,
    contact_id: int | None = None,
    workflow_id: int | None = None,
    job_id: int | None = None,
) -> int:
    """Cancel the queued and deferred jobs of a contact, a workflow or one job; returns how
    many.

    In-flight calls are not touched: they are already ringing (the agent ends them itself when
    the callee opts out).
    """
    if contact_id is None and workflow_id is None and job_id is None:
        raise ValueError("cancel_pending needs a contact_id, a workflow_id or a job_id")
    query = select(CallJob).where(CallJob.account_id == account_id, CallJob.status.in_(PENDING))
    if contact_id is not None:
        query = query.where(CallJob.contact_id == contact_id)
    if workflow_id is not None:
        query = query.where(CallJob.workflow_id == workflow_id)
    if job_id is not None:
        query = query.where(CallJob.id == job_id)
    jobs = list(session.scalars(query.with_for_update()))
    for job in jobs:
        check_transition(job.status, CallStatus.CANCELED)
        session.add(
            CallEvent(
                account_id=account_id,
                job_id=job.id,
                at=now,
                from_status=job.status,
                to_status=CallStatus.CANCELED,
                reason_code=reason,
            )
        )
        job.status = CallStatus.CANCELED
        job.reason_code = reason
        job.next_attempt_at = None
        job.updated_at = now
    return len(jobs)


def cancel_job(*, uow: UnitOfWork, scope: TenantScope, job_id: int) -> CallJob:
    """Cancel one call that has not started (`Conflict` otherwise); committed."""
    job = get_owned(uow.session, CallJob, job_id, scope)
    if job.status not in PENDING:
        raise Conflict(
            f"call job {job.id} is {job.status.value}: "
            "only queued or deferred calls can be canceled"
        )
    cancel_pending(
        uow.session,
        account_id=scope.account_id,
        now=uow.clock.now(),
        reason="canceled_by_user",
        job_id=job.id,
    )
    uow.commit()
    return job


def _owned(session: Session, model: Any, account_id: int, ids: set[int]) -> dict[int, Any]:
    if not ids:
        return {}
    rows = session.scalars(select(model).where(model.account_id == account_id, model.id.in_(ids)))
    return {row.id: row for row in rows}
