"""The use cases of the records about a contact (appointments, opportunities, tasks, notes) on
the fake unit of work: each is kept at its contact's location, and appointment and opportunity
changes reach the workflow triggers. No database."""

from __future__ import annotations

from datetime import timedelta
from typing import get_type_hints

import pytest

from ringfence.domain.vocabulary import AppointmentStatus, TaskPriority, TaskStatus
from ringfence.entrypoints.api.schemas import records as r
from ringfence.services.contact_records import (
    AppointmentFields,
    OpportunityFields,
    TaskFields,
    create_appointment,
    create_note,
    create_opportunity,
    create_task,
    update_appointment,
    update_opportunity,
)
from ringfence.services.errors import InvalidField, NotFound
from ringfence.services.unit_of_work import TenantScope
from tests.unit.services.fakes import (
    ACCOUNT,
    ELSEWHERE,
    HERE,
    OTHER,
    SCOPE,
    START,
    THERE,
    Booked,
    FakeUnitOfWork,
    Staged,
    two_locations_and_a_rival,
)

TOMORROW = START + timedelta(days=1)


@pytest.fixture
def uow() -> FakeUnitOfWork:
    return two_locations_and_a_rival()


def _task(title: str = "Call back") -> TaskFields:
    return {
        "title": title,
        "body": "",
        "assignee": None,
        "due_at": None,
        "status": TaskStatus.OPEN,
        "priority": TaskPriority.NORMAL,
    }


def _appointment() -> AppointmentFields:
    return {"starts_at": TOMORROW, "service": "Botox", "status": AppointmentStatus.SCHEDULED}


def _field_error(refused: pytest.ExceptionInfo[InvalidField]) -> tuple[str, str]:
    return refused.value.field, refused.value.message


# -- where a record is kept -------------------------------------------------------------------


def test_a_task_with_no_contact_and_no_location_is_refused(uow: FakeUnitOfWork) -> None:
    with pytest.raises(InvalidField) as refused:
        create_task(uow=uow, scope=SCOPE, contact_id=None, location_id=None, fields=_task())
    assert _field_error(refused) == ("location_id", "required when the task has no contact_id")
    assert uow.tasks.rows == {}
    assert uow.commits == 0


def test_a_task_with_no_contact_is_kept_at_the_callers_location(uow: FakeUnitOfWork) -> None:
    task = create_task(uow=uow, scope=SCOPE, contact_id=None, location_id=THERE, fields=_task())
    assert uow.tasks.rows[task.id] is task
    assert (task.account_id, task.location_id, task.contact_id) == (ACCOUNT, THERE, None)
    assert task.created_at == task.updated_at == uow.clock.now()
    assert uow.commits == 1
    with pytest.raises(InvalidField) as refused:
        create_task(uow=uow, scope=SCOPE, contact_id=None, location_id=ELSEWHERE, fields=_task())
    assert _field_error(refused) == ("location_id", f"no such location ({ELSEWHERE})")
    assert uow.commits == 1


def test_a_record_naming_another_location_than_its_contacts_is_refused(
    uow: FakeUnitOfWork,
) -> None:
    contact = uow.add_contact(ACCOUNT, HERE)
    with pytest.raises(InvalidField) as refused:
        create_task(uow=uow, scope=SCOPE, contact_id=contact.id, location_id=THERE, fields=_task())
    assert _field_error(refused) == ("location_id", "differs from the contact's location")
    assert uow.tasks.rows == {}
    assert uow.commits == 0


@pytest.mark.parametrize("location_id", [None, HERE])
def test_a_task_about_a_contact_is_kept_at_the_contacts_location(
    uow: FakeUnitOfWork, location_id: int | None
) -> None:
    contact = uow.add_contact(ACCOUNT, HERE)
    task = create_task(
        uow=uow, scope=SCOPE, contact_id=contact.id, location_id=location_id, fields=_task()
    )
    assert (task.location_id, task.contact_id) == (HERE, contact.id)
    assert uow.commits == 1


def test_a_record_about_another_accounts_contact_names_the_contact_id(
    uow: FakeUnitOfWork,
) -> None:
    theirs = uow.add_contact(OTHER, ELSEWHERE)
    for contact_id in (theirs.id, 999):
        with pytest.raises(InvalidField) as refused:
            create_appointment(uow=uow, scope=SCOPE, contact_id=contact_id, fields=_appointment())
        assert _field_error(refused) == ("contact_id", f"no such contact ({contact_id})")
        with pytest.raises(InvalidField, match="contact_id: no such contact"):
            create_note(uow=uow, scope=SCOPE, contact_id=contact_id, body="Prefers mornings")
    assert (uow.appointments.rows, uow.notes.rows) == ({}, {})
    assert uow.triggers.appointments == []
    assert uow.commits == 0


def test_a_note_is_kept_at_its_contacts_location_and_signed_by_the_caller(
    uow: FakeUnitOfWork,
) -> None:
    contact = uow.add_contact(ACCOUNT, THERE)
    note = create_note(uow=uow, scope=SCOPE, contact_id=contact.id, body="Prefers mornings")
    assert (note.location_id, note.contact_id, note.author) == (THERE, contact.id, SCOPE.actor)
    assert uow.commits == 1


# -- workflow triggers --------------------------------------------------------------------------


def test_a_booking_and_its_change_reach_the_triggers_in_their_transaction(
    uow: FakeUnitOfWork,
) -> None:
    contact = uow.add_contact(ACCOUNT, HERE)
    appointment = create_appointment(
        uow=uow, scope=SCOPE, contact_id=contact.id, fields=_appointment()
    )
    assert (appointment.location_id, appointment.contact_id) == (HERE, contact.id)
    assert uow.triggers.appointments == [Booked(appointment.id, None, None)]
    assert uow.commits == 1

    uow.clock.advance(timedelta(minutes=5))
    later = TOMORROW + timedelta(hours=2)
    update_appointment(
        uow=uow, scope=SCOPE, appointment_id=appointment.id, changes={"starts_at": later}
    )
    assert appointment.starts_at == later
    assert appointment.updated_at == uow.clock.now() != appointment.created_at
    assert uow.triggers.appointments[1:] == [
        Booked(appointment.id, TOMORROW, AppointmentStatus.SCHEDULED)
    ]
    assert uow.commits == 2


def test_an_appointment_change_clearing_a_required_field_is_refused(
    uow: FakeUnitOfWork,
) -> None:
    contact = uow.add_contact(ACCOUNT, HERE)
    appointment = create_appointment(
        uow=uow, scope=SCOPE, contact_id=contact.id, fields=_appointment()
    )
    with pytest.raises(InvalidField) as refused:
        update_appointment(
            uow=uow, scope=SCOPE, appointment_id=appointment.id, changes={"status": None}
        )
    assert _field_error(refused) == ("status", "may not be null")
    assert len(uow.triggers.appointments) == 1  # the booking only
    assert uow.commits == 1


def test_an_opportunity_moved_reaches_the_triggers(uow: FakeUnitOfWork) -> None:
    contact = uow.add_contact(ACCOUNT, HERE)
    fields: OpportunityFields = {
        "name": "Filler",
        "pipeline": "default",
        "stage": "lead",
        "value_cents": None,
    }
    opportunity = create_opportunity(uow=uow, scope=SCOPE, contact_id=contact.id, fields=fields)
    assert opportunity.location_id == HERE
    update_opportunity(
        uow=uow, scope=SCOPE, opportunity_id=opportunity.id, changes={"stage": "booked"}
    )
    assert uow.triggers.opportunities == [Staged(opportunity.id, "lead", "booked")]
    assert uow.commits == 2


def test_another_accounts_record_reads_as_missing(uow: FakeUnitOfWork) -> None:
    theirs = uow.add_contact(OTHER, ELSEWHERE)
    their_scope = TenantScope(account_id=OTHER, actor="api_key:theirs")
    appointment = create_appointment(
        uow=uow, scope=their_scope, contact_id=theirs.id, fields=_appointment()
    )
    with pytest.raises(NotFound, match=f"appointments {appointment.id} not found"):
        update_appointment(
            uow=uow, scope=SCOPE, appointment_id=appointment.id, changes={"service": "Mine"}
        )
    assert appointment.service == "Botox"
    assert uow.commits == 1


# -- the API's schemas and the service's fields ------------------------------------------------


def test_the_api_schemas_name_the_services_fields() -> None:
    # The routes hand the schemas' fields over as these TypedDicts (a cast): the names agree.
    assert set(r.AppointmentCreate.model_fields) - {"contact_id"} == set(
        get_type_hints(AppointmentFields)
    )
    assert set(r.AppointmentUpdate.model_fields) <= set(get_type_hints(AppointmentFields))
    assert set(r.OpportunityCreate.model_fields) - {"contact_id"} == set(
        get_type_hints(OpportunityFields)
    )
    assert set(r.OpportunityUpdate.model_fields) <= set(get_type_hints(OpportunityFields))
    assert set(r.TaskCreate.model_fields) - {"contact_id", "location_id"} == set(
        get_type_hints(TaskFields)
    )
