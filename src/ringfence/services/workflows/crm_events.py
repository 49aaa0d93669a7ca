"""Ringfence's own CRM changes as trigger events: booking, rescheduling, canceling or
completing an appointment, adding a tag, moving an opportunity, opting out.

Called by the API (and UI) handlers after they apply a change, in the same transaction, so a
change and the enrollments it causes commit together or not at all.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from ringfence.adapters.db.orm import Appointment, Contact, Opportunity
from ringfence.adapters.db.workflows import Enrollment, WorkflowVersion
from ringfence.domain.vocabulary import AppointmentStatus
from ringfence.domain.workflows.definition import TriggerKind
from ringfence.services.unit_of_work import TenantScope
from ringfence.services.workflows.contact_views import UPCOMING
from ringfence.services.workflows.events import TriggerEvent, ingest
from ringfence.services.workflows.exits import exit_for_appointment, exit_opted_out

# Workflows about a booked appointment (confirmations) follow that appointment: they stop when
# it is canceled, missed or done, and start over when it moves.
_FOLLOWS_BOOKING = (
    TriggerKind.APPOINTMENT_SCHEDULED.value,
    TriggerKind.APPOINTMENT_RESCHEDULED.value,
)
_STATUS_EVENTS = {
    AppointmentStatus.CANCELED: TriggerKind.APPOINTMENT_CANCELED,
    AppointmentStatus.NO_SHOW: TriggerKind.APPOINTMENT_NO_SHOW,
    AppointmentStatus.COMPLETED: TriggerKind.APPOINTMENT_COMPLETED,
}


def on_contact_saved(
    session: Session,
    scope: TenantScope,
    contact: Contact,
    *,
    tags_before: set[str],
    opted_out_before: bool,
    now: datetime,
) -> None:
    if contact.opted_out_at is not None and not opted_out_before:
        exit_opted_out(session, contact.id, now)
        return
    for name in sorted({tag.name for tag in contact.tags} - tags_before):
        ingest(
            session,
            scope,
            TriggerEvent(
                external_id=f"contact:{contact.id}:tag:{name}:{now.isoformat()}",
                kind=TriggerKind.CONTACT_TAG_ADDED,
                contact_id=contact.id,
                tag=name,
                occurred_at=now,
            ),
            now,
        )


def on_appointment_created(
    session: Session, scope: TenantScope, appointment: Appointment, now: datetime
) -> None:
    if appointment.status in UPCOMING:
        _emit(session, scope, appointment, TriggerKind.APPOINTMENT_SCHEDULED, now)


def on_appointment_changed(
    session: Session,
    scope: TenantScope,
    appointment: Appointment,
    *,
    starts_before: datetime,
    status_before: AppointmentStatus,
    now: datetime,
) -> None:
    status = appointment.status
    if status != status_before and status in _STATUS_EVENTS:
        word = status.value.replace("_", " ")
        exit_for_appointment(
            session,
            appointment.id,
            f"the appointment was {word}",
            now,
            _booking_workflows(session, appointment.id),
        )
        _emit(session, scope, appointment, _STATUS_EVENTS[status], now)
        if status is AppointmentStatus.COMPLETED and _consult_without_booking(session, appointment):
            _emit(session, scope, appointment, TriggerKind.CONSULT_COMPLETED_WITHOUT_BOOKING, now)
        return
    if appointment.starts_at != starts_before and status in UPCOMING:
        exit_for_appointment(
            session,
            appointment.id,
            "the appointment was rescheduled: restarted for the new time",
            now,
            _booking_workflows(session, appointment.id),
        )
        # Booking workflows start over for the new time, also those that had ended (a
        # confirmation skipped as short notice is due once the appointment moves out).
        _emit(session, scope, appointment, TriggerKind.APPOINTMENT_SCHEDULED, now)
        _emit(session, scope, appointment, TriggerKind.APPOINTMENT_RESCHEDULED, now)


def on_opportunity_changed(
    session: Session,
    scope: TenantScope,
    opportunity: Opportunity,
    *,
    stage_before: str | None,
    now: datetime,
) -> None:
    if opportunity.stage == stage_before:
        return
    ingest(
        session,
        scope,
        TriggerEvent(
            external_id=f"opportunity:{opportunity.id}:stage:{opportunity.stage}:{now.isoformat()}",
            kind=TriggerKind.OPPORTUNITY_STAGE_CHANGED,
            contact_id=opportunity.contact_id,
            opportunity_id=opportunity.id,
            stage=opportunity.stage,
            occurred_at=now,
        ),
        now,
    )


def _emit(
    session: Session,
    scope: TenantScope,
    appointment: Appointment,
    kind: TriggerKind,
    now: datetime,
) -> None:
    # The start time and the change's time are part of the id: each change is a new event,
    # also one that moves the appointment back to a time it had before. (Epoch seconds keep
    # the id within the column's 100 characters.)
    ingest(
        session,
        scope,
        TriggerEvent(
            external_id=f"appointment:{appointment.id}:{kind.value}:"
            f"{appointment.starts_at.timestamp():.0f}@{now.timestamp():.6f}",
            kind=kind,
            contact_id=appointment.contact_id,
            appointment_id=appointment.id,
            occurred_at=now,
        ),
        now,
    )


def _booking_workflows(session: Session, appointment_id: int) -> set[int]:
    return set(
        session.scalars(
            select(Enrollment.workflow_id)
            .join(WorkflowVersion, WorkflowVersion.id == Enrollment.version_id)
            .where(
                Enrollment.appointment_id == appointment_id,
                WorkflowVersion.trigger_kind.in_(_FOLLOWS_BOOKING),
            )
        )
    )


def _consult_without_booking(session: Session, appointment: Appointment) -> bool:
    """A completed consult with nothing booked after it: the consult follow-up's trigger."""
    if "consult" not in appointment.service.lower():
        return False
    booked_after = session.scalar(
        select(
            exists().where(
                Appointment.contact_id == appointment.contact_id,
                Appointment.id != appointment.id,
                Appointment.status.in_(UPCOMING),
                Appointment.starts_at > appointment.starts_at,
            )
        )
    )
    return not booked_after
