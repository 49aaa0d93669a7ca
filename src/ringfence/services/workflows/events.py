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

An event is on the API's hot path (docs/operations.md, "Event ingestion"), so it costs a fixed
handful of statements whatever the number of workflows: the contact with the published
workflows its event may start and whether the contact runs them already (one query), the
contact's facts (one query), then the event, the enrollments and their first steps (three
inserts); the open enrollments are read again, locked, only where the contact runs one. The
statements (`event_statements`) are built once, with bound parameters only, compiled once per
dialect and run on the driver's cursor (`Prepared`: SQLAlchemy's per-execution work cost more
than SQLite's).
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.orm import Session

from ringfence.adapters.db.orm import Appointment, Form, Opportunity
from ringfence.adapters.db.workflows import (
    Enrollment,
    WorkflowVersion,
)
from ringfence.domain.workflows.audience import ContactView, admit
from ringfence.domain.workflows.definition import Trigger, TriggerKind, WorkflowDefinition
from ringfence.domain.workflows.states import EnrollmentState
from ringfence.services.errors import InvalidField
from ringfence.services.unit_of_work import TenantScope, UnitOfWork
from ringfence.services.workflows import event_statements as statements
from ringfence.services.workflows.codec import parse_definition
from ringfence.services.workflows.contact_views import ContactRow, appointment_view, view_of
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
    """Published versions never change, so each is parsed once per process. The text is part
    of the key because SQLite may give a deleted version's id to a new one."""
    return parse_definition(json.loads(definition_json))


def definition_of(version: WorkflowVersion) -> WorkflowDefinition:
    return version_definition(version.id, json.dumps(version.definition, sort_keys=True))


@dataclass(frozen=True, slots=True)
class _Candidate:
    """A published workflow at the contact's location whose version has the event's kind."""

    workflow_id: int
    version_id: int
    definition: WorkflowDefinition
    running: bool  # the contact has an open enrollment in it


@dataclass(frozen=True, slots=True)
class _Found:
    contact: ContactRow
    location_id: int
    candidates: tuple[_Candidate, ...]


def receive(*, uow: UnitOfWork, scope: TenantScope, event: TriggerEvent) -> Ingested:
    """An event from outside (the API): ingested now and committed."""
    ingested = ingest(uow.session, scope, event, uow.clock.now())
    uow.commit()
    return ingested


def ingest(session: Session, scope: TenantScope, event: TriggerEvent, now: datetime) -> Ingested:
    # The statements here are Core, which does not autoflush: the caller's pending changes
    # (a tag just added, an opt-out) must be visible to the facts read below.
    session.flush()
    # Core statements go to the session's connection directly: the same transaction, without
    # the ORM's per-statement dispatch (about a third of their cost; "CPU per event").
    connection = session.connection()
    found = _contact_and_workflows(connection, scope, event)
    contact = found.contact
    appointment = _subject(
        session, scope, contact, Appointment, event.appointment_id, "appointment_id"
    )
    _subject(session, scope, contact, Opportunity, event.opportunity_id, "opportunity_id")
    if event.kind.about_appointment and appointment is None:
        raise InvalidField("appointment_id", f"required for an event of kind {event.kind.value}")
    if event.form_id is not None:
        form = session.get(Form, event.form_id)
        if form is None or form.account_id != scope.account_id:
            raise InvalidField("form_id", f"no such form ({event.form_id})")
    matching = [
        c for c in found.candidates if trigger_matches(c.definition.trigger, event, appointment)
    ]
    to_enroll, superseded, skipped = _plan(session, contact, matching, event, appointment, now)
    event_id = _store(connection, scope, event, now, enrolled=len(to_enroll), skipped=skipped)
    if event_id is None:
        return _duplicate(connection, scope, event.external_id)
    if superseded:
        for row in superseded:
            exit_enrollment(session, row, f"superseded by event {event.external_id!r}", now)
        session.flush()
    enrolled = _enroll(connection, scope, found, to_enroll, event, event_id, now)
    return Ingested(event_id, False, enrolled, tuple(skipped))


def _contact_and_workflows(
    connection: Connection, scope: TenantScope, event: TriggerEvent
) -> _Found:
    rows = statements.CONTACT_AND_WORKFLOWS.rows(
        connection,
        {
            "contact_id": event.contact_id,
            "account_id": scope.account_id,
            "kind": event.kind.value,
        },
    )
    if not rows:
        raise InvalidField("contact_id", f"no such contact ({event.contact_id})")
    first = rows[0]
    return _Found(
        contact=ContactRow(first[0], first[1], first[2], first[3]),
        location_id=first[4],
        candidates=tuple(
            _Candidate(workflow_id, version_id, version_definition(version_id, text), bool(running))
            for *_contact, workflow_id, version_id, text, running in rows
            if version_id is not None
        ),
    )


def _subject(
    session: Session,
    scope: TenantScope,
    contact: ContactRow,
    model: Any,
    row_id: int | None,
    name: str,
) -> Any:
    if row_id is None:
        return None
    row = session.get(model, row_id)
    if row is None or row.account_id != scope.account_id or row.contact_id != contact.id:
        raise InvalidField(name, f"no such {name.removesuffix('_id')} for this contact ({row_id})")
    return row


def _with_appointment(view: ContactView, appointment: Appointment) -> ContactView:
    return replace(view, appointment=appointment_view(appointment))


def _plan(
    session: Session,
    contact: ContactRow,
    matching: list[_Candidate],
    event: TriggerEvent,
    appointment: Appointment | None,
    now: datetime,
) -> tuple[list[_Candidate], list[Enrollment], list[Skipped]]:
    """Who enrolls where: the workflows to enroll in, the open enrollments this event
    supersedes (the re-entry rules), and the workflows skipped with their reasons."""
    if not matching:
        return [], [], []
    view = view_of(session, contact, now)
    if appointment is not None:
        view = _with_appointment(view, appointment)
    admissions = {
        c.workflow_id: admit(c.definition.audience, view, now, test_mode=c.definition.test_mode)
        for c in matching
    }
    running = [c.workflow_id for c in matching if admissions[c.workflow_id].admitted and c.running]
    open_rows: dict[int, list[Enrollment]] = defaultdict(list)
    if running:
        for row in session.scalars(
            statements.OPEN_ENROLLMENTS, {"workflow_ids": running, "contact_id": contact.id}
        ):
            open_rows[row.workflow_id].append(row)
    about_subject = event.appointment_id is not None or event.opportunity_id is not None
    to_enroll: list[_Candidate] = []
    superseded: list[Enrollment] = []
    skipped: list[Skipped] = []
    for candidate in matching:
        admission = admissions[candidate.workflow_id]
        if not admission.admitted:
            skipped.append(Skipped(candidate.workflow_id, admission.reasons))
            continue
        rows = open_rows[candidate.workflow_id]
        if not about_subject and rows:
            skipped.append(Skipped(candidate.workflow_id, ("already running this workflow",)))
            continue
        superseded += [row for row in rows if _same_subject(row, event)]
        to_enroll.append(candidate)
    return to_enroll, superseded, skipped


def _same_subject(row: Enrollment, event: TriggerEvent) -> bool:
    return (event.appointment_id is not None and row.appointment_id == event.appointment_id) or (
        event.opportunity_id is not None and row.opportunity_id == event.opportunity_id
    )


def _store(
    connection: Connection,
    scope: TenantScope,
    event: TriggerEvent,
    now: datetime,
    *,
    enrolled: int,
    skipped: list[Skipped],
) -> int | None:
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
        "enrolled": enrolled,
        "skipped": [{"workflow_id": s.workflow_id, "reasons": list(s.reasons)} for s in skipped]
        or None,
    }
    stored = statements.STORE[connection.dialect.name].rows(connection, row)
    return int(stored[0][0]) if stored else None


def _duplicate(connection: Connection, scope: TenantScope, external_id: str) -> Ingested:
    rows = statements.FIRST_DELIVERY.rows(
        connection, {"account_id": scope.account_id, "external_id": external_id}
    )
    if not rows:
        raise LookupError(f"event {external_id!r} conflicted but cannot be read back")
    skipped = tuple(
        Skipped(int(item["workflow_id"]), tuple(item["reasons"])) for item in rows[0][2] or ()
    )
    return Ingested(rows[0][0], True, tuple(e for _event, e, _s in rows if e is not None), skipped)


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


def _enroll(
    connection: Connection,
    scope: TenantScope,
    found: _Found,
    candidates: list[_Candidate],
    event: TriggerEvent,
    event_id: int,
    now: datetime,
) -> tuple[int, ...]:
    if not candidates:
        return ()
    enrollment_ids = tuple(
        int(
            statements.ENROLL.rows(
                connection,
                {
                    "account_id": scope.account_id,
                    "location_id": found.location_id,
                    "workflow_id": c.workflow_id,
                    "version_id": c.version_id,
                    "contact_id": found.contact.id,
                    "event_id": event_id,
                    "appointment_id": event.appointment_id,
                    "opportunity_id": event.opportunity_id,
                    "state": EnrollmentState.ACTIVE,
                    "cursor": [0],
                    "step_entered_at": now,
                    "resume_at": now,
                    "created_at": now,
                    "updated_at": now,
                },
            )[0][0]
        )
        for c in candidates
    )
    detail = f"{event.kind.value} (event {event.external_id!r})"
    statements.FIRST_STEP.run_many(
        connection,
        [
            {
                "account_id": scope.account_id,
                "enrollment_id": enrollment_id,
                "path": "",
                "step_type": "trigger",
                "result": "enrolled",
                "detail": detail,
                "at": now,
            }
            for enrollment_id in enrollment_ids
        ],
    )
    return enrollment_ids
