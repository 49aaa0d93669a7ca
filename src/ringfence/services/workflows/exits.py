"""Enrollments leaving early: opt-out, unpublish, a canceled or rescheduled appointment.

Leaving always cancels the enrollment's pending call (queued or deferred): a contact who left
a workflow must never be dialed by it afterwards.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ringfence.adapters.db.workflows import Enrollment, EnrollmentStep
from ringfence.domain.workflows.states import OPEN, EnrollmentState
from ringfence.services.call_jobs import cancel_pending


def exit_enrollment(session: Session, enrollment: Enrollment, reason: str, now: datetime) -> None:
    if enrollment.state is EnrollmentState.WAITING_CALL and enrollment.call_job_id is not None:
        cancel_pending(
            session,
            account_id=enrollment.account_id,
            now=now,
            reason="workflow_exit",
            job_id=enrollment.call_job_id,
        )
    enrollment.state = EnrollmentState.EXITED
    enrollment.exit_reason = reason
    enrollment.resume_at = None
    enrollment.ended_at = now
    enrollment.updated_at = now
    session.add(
        EnrollmentStep(
            account_id=enrollment.account_id,
            enrollment_id=enrollment.id,
            path=_path_text(enrollment.cursor),
            step_type="exit",
            result="exited",
            detail=reason,
            at=now,
        )
    )


def exit_where(session: Session, reason: str, now: datetime, *criteria: Any) -> list[Enrollment]:
    """Exit every open enrollment matching `criteria` (locked first); returns them."""
    rows = list(
        session.scalars(
            select(Enrollment)
            .where(Enrollment.state.in_(OPEN), *criteria)
            .order_by(Enrollment.id)
            .with_for_update()
        )
    )
    for enrollment in rows:
        exit_enrollment(session, enrollment, reason, now)
    return rows


def exit_opted_out(
    session: Session, contact_id: int, now: datetime, *, keep_call_job: int | None = None
) -> int:
    """ "Stop calling me" leaves every workflow at once. The enrollment whose call heard it
    (`keep_call_job`) carries on into its "opted out" branch; its later call steps can never
    dial (an opted-out contact fails every audience)."""
    criteria: list[Any] = [Enrollment.contact_id == contact_id]
    if keep_call_job is not None:
        criteria.append(
            (Enrollment.call_job_id.is_(None)) | (Enrollment.call_job_id != keep_call_job)
        )
    return len(exit_where(session, "the contact opted out", now, *criteria))


def exit_for_appointment(
    session: Session,
    appointment_id: int,
    reason: str,
    now: datetime,
    workflow_ids: Collection[int],
) -> list[Enrollment]:
    if not workflow_ids:
        return []
    return exit_where(
        session,
        reason,
        now,
        Enrollment.appointment_id == appointment_id,
        Enrollment.workflow_id.in_(sorted(workflow_ids)),
    )


def _path_text(cursor: list[int] | None) -> str:
    return ".".join(str(i) for i in cursor) if cursor else ""
