"""Trigger events in, enrollments out.

An event arrives from the API (`POST /api/v1/events`, from an external system), or from
Ringfence's own CRM changes (an appointment booked or rescheduled, a tag added...). Each event
is stored once per account and `external_id` (a redelivery is answered with the first
delivery's result) and enrolls the contact in every published workflow of the contact's
location whose trigger matches and whose audience admits them, in the same transaction.

Re-entry rules (docs/workflows.md):
- once per event: the (workflow, event, contact) triple is unique in the database;
- per subject: an event about an appointment or opportunity supersedes the contact's open
  enrollment in that workflow *for the same appointment/opportunity* (its pending call is
  canceled); enrollments about other subjects are untouched;
- without a subject (tag added, form submitted, custom event): a contact already running the
  workflow is not enrolled a second time.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from ringfence.adapters.db.orm import Appointment, Contact, Form, Opportunity
from ringfence.adapters.db.workflows import (
    Enrollment,
    EnrollmentStep,
    Workflow,
    WorkflowEvent,
    WorkflowVersion,
)
from ringfence.domain.workflows.audience import ContactView, admit
from ringfence.domain.workflows.definition import Trigger, TriggerKind, WorkflowDefinition
from ringfence.domain.workflows.states import OPEN, EnrollmentState, WorkflowStatus
from ringfence.services.errors import InvalidField
from ringfence.services.unit_of_work import TenantScope
from ringfence.services.workflows.codec import parse_definition
from ringfence.services.workflows.contact_views import appointment_view, contact_views
from ringfence.services.workflows.exits import exit_enrollment


@dataclass(frozen=True, slots=True, kw_only=True)
class TriggerEvent:
    external_id: str
    kind: TriggerKind
    contact_id: int
    occurred_at: datetime | None = None
    appointment_id: int | None = None
    opportunity_id: int | None = None
    tag: str | None = None
    stage: str | None = None
    form_id: int | None = None
    name: str | None = None

    def payload(self) -> dict[str, Any]:
        values = {
            "appointment_id": self.appointment_id,
            "opportunity_id": self.opportunity_id,
            "tag": self.tag,
            "stage": self.stage,
            "form_id": self.form_id,
            "name": self.name,
        }
        return {k: v for k, v in values.items() if v is not None}


@dataclass(frozen=True, slots=True)
class Skipped:
    workflow_id: int
    reasons: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Ingested:
    event_id: int
    duplicate: bool
    enrollment_ids: tuple[int, ...] = ()
    skipped: tuple[Skipped, ...] = field(default=())


@lru_cache(maxsize=512)
def version_definition(version_id: int, definition_json: str) -> WorkflowDefinition:
    """Published versions never change, so each is parsed once per process."""
    return parse_definition(json.loads(definition_json))


def definition_of(version: WorkflowVersion) -> WorkflowDefinition:
    return version_definition(version.id, json.dumps(version.definition, sort_keys=True))


def ingest(session: Session, scope: TenantScope, event: TriggerEvent, now: datetime) -> Ingested:
    contact = session.get(Contact, event.contact_id)
    if contact is None or contact.account_id != scope.account_id:
        raise InvalidField("contact_id", f"no such contact ({event.contact_id})")
    appointment = _subject(session, contact, Appointment, event.appointment_id, "appointment_id")
    _subject(session, contact, Opportunity, event.opportunity_id, "opportunity_id")
    if event.kind.about_appointment and appointment is None:
        raise InvalidField("appointment_id", f"required for a {event.kind.value} event")
    if event.form_id is not None:
        form = session.get(Form, event.form_id)
        if form is None or form.account_id != scope.account_id:
            raise InvalidField("form_id", f"no such form ({event.form_id})")
    event_id = _store(session, scope, event, now)
    if event_id is None:
        return _duplicate(session, scope, event.external_id)
    view = contact_views(session, [contact.id], now)[contact.id]
    if appointment is not None:
        view = _with_appointment(view, appointment)
    enrolled: list[int] = []
    skipped: list[Skipped] = []
    for workflow, version in _matching(session, scope, contact.location_id, event, appointment):
        definition = definition_of(version)
        admission = admit(definition.audience, view, now, test_mode=definition.test_mode)
        if not admission.admitted:
            skipped.append(Skipped(workflow.id, admission.reasons))
            continue
        if not _make_room(session, workflow.id, contact.id, event, event_id, now):
            skipped.append(Skipped(workflow.id, ("already running this workflow",)))
            continue
        enrolled.append(_enroll(session, workflow, version, contact, event, event_id, now))
    if enrolled:
        session.execute(
            WorkflowEvent.__table__.update()  # type: ignore[attr-defined]
            .where(WorkflowEvent.id == event_id)
            .values(enrolled=len(enrolled))
        )
    return Ingested(event_id, False, tuple(enrolled), tuple(skipped))


def _subject(session: Session, contact: Contact, model: Any, row_id: int | None, name: str) -> Any:
    if row_id is None:
        return None
    row = session.get(model, row_id)
    if row is None or row.account_id != contact.account_id or row.contact_id != contact.id:
        raise InvalidField(name, f"no such {name.removesuffix('_id')} for this contact ({row_id})")
    return row


def _with_appointment(view: ContactView, appointment: Appointment) -> ContactView:
    return replace(view, appointment=appointment_view(appointment))


def _store(session: Session, scope: TenantScope, event: TriggerEvent, now: datetime) -> int | None:
    """Insert the event; None when this account already has one with this external id
    (also when a concurrent request inserted it first)."""
    row = {
        "account_id": scope.account_id,
        "external_id": event.external_id,
        "kind": event.kind.value,
        "contact_id": event.contact_id,
        "payload": event.payload(),
        "occurred_at": event.occurred_at or now,
        "received_at": now,
        "enrolled": 0,
    }
    dialect = session.get_bind().dialect.name
    stmt: Any = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(WorkflowEvent)
    inserted = session.execute(
        stmt.values(row).on_conflict_do_nothing().returning(WorkflowEvent.id)
    ).scalar_one_or_none()
    return inserted


def _duplicate(session: Session, scope: TenantScope, external_id: str) -> Ingested:
    event_id = session.scalars(
        select(WorkflowEvent.id).where(
            WorkflowEvent.account_id == scope.account_id,
            WorkflowEvent.external_id == external_id,
        )
    ).one()
    enrollments = session.scalars(
        select(Enrollment.id).where(Enrollment.event_id == event_id).order_by(Enrollment.id)
    ).all()
    return Ingested(event_id, True, tuple(enrollments))


def _matching(
    session: Session,
    scope: TenantScope,
    location_id: int,
    event: TriggerEvent,
    appointment: Appointment | None,
) -> list[tuple[Workflow, WorkflowVersion]]:
    rows = session.execute(
        select(Workflow, WorkflowVersion)
        .join(WorkflowVersion, WorkflowVersion.id == Workflow.published_version_id)
        .where(
            Workflow.account_id == scope.account_id,
            Workflow.status == WorkflowStatus.PUBLISHED,
            Workflow.location_id == location_id,
            WorkflowVersion.trigger_kind == event.kind.value,
        )
        .order_by(Workflow.id)
    ).all()
    return [
        (workflow, version)
        for workflow, version in rows
        if trigger_matches(definition_of(version).trigger, event, appointment)
    ]


def trigger_matches(trigger: Trigger, event: TriggerEvent, appointment: Appointment | None) -> bool:
    if trigger.kind is not event.kind:
        return False
    if trigger.tag is not None and trigger.tag != event.tag:
        return False
    if trigger.stage is not None and trigger.stage != event.stage:
        return False
    if trigger.form_id is not None and trigger.form_id != event.form_id:
        return False
    if trigger.event_name is not None and trigger.event_name != event.name:
        return False
    if trigger.service_contains:
        service = appointment.service if appointment is not None else ""
        return trigger.service_contains.lower() in service.lower()
    return True


def _make_room(
    session: Session,
    workflow_id: int,
    contact_id: int,
    event: TriggerEvent,
    event_id: int,
    now: datetime,
) -> bool:
    """Apply the re-entry rules; False when the contact must not enroll again."""
    open_rows = list(
        session.scalars(
            select(Enrollment)
            .where(
                Enrollment.workflow_id == workflow_id,
                Enrollment.contact_id == contact_id,
                Enrollment.state.in_(OPEN),
            )
            .with_for_update()
        )
    )
    if event.appointment_id is None and event.opportunity_id is None:
        return not open_rows
    for row in open_rows:
        same_subject = (
            event.appointment_id is not None and row.appointment_id == event.appointment_id
        ) or (event.opportunity_id is not None and row.opportunity_id == event.opportunity_id)
        if same_subject:
            exit_enrollment(session, row, f"superseded by event {event.external_id!r}", now)
    return True


def _enroll(
    session: Session,
    workflow: Workflow,
    version: WorkflowVersion,
    contact: Contact,
    event: TriggerEvent,
    event_id: int,
    now: datetime,
) -> int:
    enrollment_id: int = session.execute(
        insert(Enrollment)
        .values(
            account_id=workflow.account_id,
            location_id=workflow.location_id,
            workflow_id=workflow.id,
            version_id=version.id,
            contact_id=contact.id,
            event_id=event_id,
            appointment_id=event.appointment_id,
            opportunity_id=event.opportunity_id,
            state=EnrollmentState.ACTIVE,
            cursor=[0],
            step_entered_at=now,
            resume_at=now,
            created_at=now,
            updated_at=now,
        )
        .returning(Enrollment.id)
    ).scalar_one()
    session.execute(
        insert(EnrollmentStep).values(
            account_id=workflow.account_id,
            enrollment_id=enrollment_id,
            path="",
            step_type="trigger",
            result="enrolled",
            detail=f"{event.kind.value} (event {event.external_id!r})",
            at=now,
        )
    )
    return enrollment_id
