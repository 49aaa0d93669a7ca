"""The records about a contact: appointments, opportunities, tasks and notes.

Each is kept at its contact's location: a body that names another location is refused, not
quietly moved (a task with no contact names its location, which must be the caller's).
Booking, moving or closing an appointment and moving an opportunity are trigger events for
workflows: the change and the enrollments it causes commit in one transaction.
"""

from __future__ import annotations

from datetime import datetime
from typing import TypedDict

from ringfence.adapters.db.orm import Appointment, Contact, Note, Opportunity, Task
from ringfence.domain.vocabulary import AppointmentStatus, TaskPriority, TaskStatus
from ringfence.services.errors import InvalidField, NotFound
from ringfence.services.fields import apply_fields
from ringfence.services.locations import referenced_location
from ringfence.services.repositories import Queries
from ringfence.services.tenancy import unknown_reference
from ringfence.services.unit_of_work import AbstractUnitOfWork, TenantScope


class AppointmentFields(TypedDict, total=False):
    """An appointment's fields as a caller gives them: all of them for a new one, only those
    that change for an update (a key present with None is refused where the field is
    required)."""

    starts_at: datetime | None
    service: str | None
    status: AppointmentStatus | None


class OpportunityFields(TypedDict, total=False):
    """As `AppointmentFields`, for an opportunity."""

    name: str | None
    pipeline: str | None
    stage: str | None
    value_cents: int | None


class TaskFields(TypedDict):
    """A new task's fields besides its contact and location (tasks change by field, no rule)."""

    title: str
    body: str
    assignee: str | None
    due_at: datetime | None
    status: TaskStatus
    priority: TaskPriority


# -- creating ---------------------------------------------------------------------------------


def create_appointment(
    *, uow: AbstractUnitOfWork, scope: TenantScope, contact_id: int, fields: AppointmentFields
) -> Appointment:
    """A new appointment of the caller's contact, at its location; an upcoming one starts the
    booking workflows. Committed with the enrollments."""
    contact = _about_contact(uow, scope, contact_id)
    now = uow.clock.now()
    appointment = Appointment(
        account_id=scope.account_id,
        contact_id=contact.id,
        location_id=contact.location_id,
        **fields,
        created_at=now,
        updated_at=now,
    )
    uow.appointments.add(appointment)
    uow.triggers.appointment_created(scope, appointment, now)
    uow.commit()
    return appointment


def create_opportunity(
    *, uow: AbstractUnitOfWork, scope: TenantScope, contact_id: int, fields: OpportunityFields
) -> Opportunity:
    """A new opportunity of the caller's contact, at its location; committed."""
    contact = _about_contact(uow, scope, contact_id)
    now = uow.clock.now()
    opportunity = Opportunity(
        account_id=scope.account_id,
        contact_id=contact.id,
        location_id=contact.location_id,
        **fields,
        created_at=now,
        updated_at=now,
    )
    uow.opportunities.add(opportunity)
    uow.commit()
    return opportunity


def create_task(
    *,
    uow: AbstractUnitOfWork,
    scope: TenantScope,
    contact_id: int | None,
    location_id: int | None,
    fields: TaskFields,
) -> Task:
    """A new task: about a contact (at its location; a different `location_id` is refused), or
    at one of the caller's locations when it has no contact. Committed."""
    if contact_id is not None:
        location_id = _about_contact(uow, scope, contact_id, location_id=location_id).location_id
    elif location_id is None:
        raise InvalidField("location_id", "required when the task has no contact_id")
    else:
        referenced_location(uow, scope, location_id)
    now = uow.clock.now()
    task = Task(
        account_id=scope.account_id,
        contact_id=contact_id,
        location_id=location_id,
        **fields,
        created_at=now,
        updated_at=now,
    )
    uow.tasks.add(task)
    uow.commit()
    return task


def create_note(*, uow: AbstractUnitOfWork, scope: TenantScope, contact_id: int, body: str) -> Note:
    """A new note on the caller's contact, at its location, signed by the caller; committed."""
    contact = _about_contact(uow, scope, contact_id)
    now = uow.clock.now()
    note = Note(
        account_id=scope.account_id,
        contact_id=contact.id,
        location_id=contact.location_id,
        body=body,
        author=scope.actor,
        created_at=now,
        updated_at=now,
    )
    uow.notes.add(note)
    uow.commit()
    return note


# -- changing ---------------------------------------------------------------------------------


def update_appointment(
    *,
    uow: AbstractUnitOfWork,
    scope: TenantScope,
    appointment_id: int,
    changes: AppointmentFields,
) -> Appointment:
    """Change the fields present in `changes`. Canceled, missed or done: its booking workflows
    stop and the status's own start; moved: they start over for the new time. Committed with
    the enrollments."""
    appointment = uow.appointments.owned(scope, appointment_id)
    starts_before, status_before = appointment.starts_at, appointment.status
    now = uow.clock.now()
    apply_fields(appointment, dict(changes))
    appointment.updated_at = now
    uow.triggers.appointment_changed(
        scope, appointment, starts_before=starts_before, status_before=status_before, now=now
    )
    uow.commit()
    return appointment


def update_opportunity(
    *,
    uow: AbstractUnitOfWork,
    scope: TenantScope,
    opportunity_id: int,
    changes: OpportunityFields,
) -> Opportunity:
    """Change the fields present in `changes`; a new stage starts the workflows it triggers.
    Committed with the enrollments."""
    opportunity = uow.opportunities.owned(scope, opportunity_id)
    stage_before = opportunity.stage
    now = uow.clock.now()
    apply_fields(opportunity, dict(changes))
    opportunity.updated_at = now
    uow.triggers.opportunity_changed(scope, opportunity, stage_before=stage_before, now=now)
    uow.commit()
    return opportunity


def _about_contact(
    uow: Queries, scope: TenantScope, contact_id: int, *, location_id: int | None = None
) -> Contact:
    """The caller's contact a body names (else a field error naming `contact_id`); a location
    the body names too must be the contact's."""
    try:
        contact = uow.contacts.owned(scope, contact_id)
    except NotFound as exc:
        raise unknown_reference("contact_id", contact_id) from exc
    if location_id not in (None, contact.location_id):
        raise InvalidField("location_id", "differs from the contact's location")
    return contact
