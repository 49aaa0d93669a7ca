"""The CRM's record resources: which schemas and list filters each one uses, and the service
use case behind each write (the rules and the transaction are the services'). A resource
without an `update` changes by field (`crud.py`'s default).

A body reaches its service as the service's TypedDict, a cast of `model_dump()`: the schemas'
field names are its keys, which `tests/unit/services` checks.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import ColumnElement, func, or_

from ringfence.adapters.db import orm
from ringfence.entrypoints.api.crud import Resource
from ringfence.entrypoints.api.schemas import contacts as c
from ringfence.entrypoints.api.schemas import practice as p
from ringfence.entrypoints.api.schemas import records as r
from ringfence.services import agents as agent_rules
from ringfence.services import caller_id_removal
from ringfence.services import caller_ids as caller_id_rules
from ringfence.services import contact_records as record_rules
from ringfence.services import contacts as contact_rules
from ringfence.services import forms as form_rules
from ringfence.services import locations as location_rules
from ringfence.services import tags as tag_rules
from ringfence.services.unit_of_work import TenantScope, UnitOfWork


def _eq(column: Any, value: object) -> list[ColumnElement[bool]]:
    return [] if value is None else [column == value]


# --- locations, caller IDs, agents: services/locations.py, caller_ids.py, agents.py ------------


locations: Resource[orm.Location, p.LocationCreate, p.LocationUpdate, p.LocationQuery] = Resource(
    path="/locations",
    tag="practice",
    row_type=orm.Location,
    out=p.LocationOut,
    create_body=p.LocationCreate,
    update_body=p.LocationUpdate,
    query=p.LocationQuery,
    create=lambda uow, scope, body: location_rules.create_location(
        uow=uow, scope=scope, name=body.name, time_zone=body.time_zone
    ),
    deletable=False,  # deleting would cascade to consent evidence, which is kept
)


phone_numbers: Resource[
    orm.PhoneNumber, p.PhoneNumberCreate, p.PhoneNumberUpdate, p.PhoneNumberQuery
] = Resource(
    path="/phone-numbers",
    tag="practice",
    row_type=orm.PhoneNumber,
    out=p.PhoneNumberOut,
    create_body=p.PhoneNumberCreate,
    update_body=p.PhoneNumberUpdate,
    query=p.PhoneNumberQuery,
    create=lambda uow, scope, body: caller_id_rules.create_caller_id(
        uow=uow, scope=scope, location_id=body.location_id, e164=body.e164, label=body.label
    ),
    # Refused (409, naming the use) while a published workflow dials from it or an agent
    # gives it as its callback number.
    delete=lambda uow, scope, number_id: caller_id_removal.remove_caller_id(
        uow=uow, scope=scope, number_id=number_id
    ),
    filters=lambda q: _eq(orm.PhoneNumber.location_id, q.location_id),
    description="A caller ID of the location. Local presence improves answer rates.",
)


voice_agents: Resource[
    orm.VoiceAgent, p.VoiceAgentCreate, p.VoiceAgentUpdate, p.VoiceAgentQuery
] = Resource(
    path="/voice-agents",
    tag="practice",
    row_type=orm.VoiceAgent,
    out=p.VoiceAgentOut,
    create_body=p.VoiceAgentCreate,
    update_body=p.VoiceAgentUpdate,
    query=p.VoiceAgentQuery,
    create=lambda uow, scope, body: agent_rules.create_agent(
        uow=uow,
        scope=scope,
        location_id=body.location_id,
        fields=cast(agent_rules.AgentFields, body.model_dump(exclude={"location_id"})),
    ),
    update=lambda uow, scope, agent_id, body: agent_rules.update_agent(
        uow=uow,
        scope=scope,
        agent_id=agent_id,
        changes=cast(agent_rules.AgentFields, body.model_dump(exclude_unset=True)),
    ),
    filters=lambda q: _eq(orm.VoiceAgent.location_id, q.location_id),
    description=(
        "One agent serves inbound and outbound calls. Openings, greeting and voicemail are "
        "checked against the guardrails when saved (e.g. an outbound opening must name the "
        "practice in its first sentence): problems are 422 with the field named."
    ),
)


# --- forms (versioned consent text): services/forms.py -----------------------------------------


forms: Resource[orm.Form, p.FormCreate, p.FormUpdate, p.FormQuery] = Resource(
    path="/forms",
    tag="practice",
    row_type=orm.Form,
    out=p.FormOut,
    create_body=p.FormCreate,
    update_body=p.FormUpdate,
    query=p.FormQuery,
    create=lambda uow, scope, body: form_rules.create_form(
        uow=uow,
        scope=scope,
        location_id=body.location_id,
        name=body.name,
        consent_text=body.consent_text,
    ),
    update=lambda uow, scope, form_id, body: form_rules.update_form(
        uow=uow,
        scope=scope,
        form_id=form_id,
        changes=cast(form_rules.FormChanges, body.model_dump(exclude_unset=True)),
    ),
    filters=lambda q: _eq(orm.Form.location_id, q.location_id),
    deletable=False,  # consent evidence refers to form versions
    description="A CRM-hosted form; changing its consent text creates a new version.",
)


# --- tags and contacts: their rules and transactions are services/tags.py, contacts.py ---------


def _tag_changes(body: c.TagUpdate) -> tag_rules.TagChanges:
    return {"name": body.name} if "name" in body.model_fields_set else {}


tags: Resource[orm.Tag, c.TagCreate, c.TagUpdate, c.TagQuery] = Resource(
    path="/tags",
    tag="contacts",
    row_type=orm.Tag,
    out=c.TagOut,
    create_body=c.TagCreate,
    update_body=c.TagUpdate,
    query=c.TagQuery,
    create=lambda uow, scope, body: tag_rules.create_tag(uow=uow, scope=scope, name=body.name),
    update=lambda uow, scope, tag_id, body: tag_rules.update_tag(
        uow=uow, scope=scope, tag_id=tag_id, changes=_tag_changes(body)
    ),
    delete=lambda uow, scope, tag_id: tag_rules.delete_tag(uow=uow, scope=scope, tag_id=tag_id),
    filters=lambda q: _eq(orm.Tag.name, q.name),
)


def _contact_fields(dumped: dict[str, Any]) -> contact_rules.ContactFields:
    # The schemas' field names are ContactFields' keys: tests/unit/services checks it.
    return cast(contact_rules.ContactFields, dumped)


def _create_contact(uow: UnitOfWork, scope: TenantScope, body: c.ContactCreate) -> orm.Contact:
    fields = _contact_fields(body.model_dump(exclude={"location_id"}))
    return contact_rules.create_contact(
        uow=uow, scope=scope, location_id=body.location_id, fields=fields
    )


def _update_contact(
    uow: UnitOfWork, scope: TenantScope, contact_id: int, body: c.ContactUpdate
) -> orm.Contact:
    changes = _contact_fields(body.model_dump(exclude_unset=True))
    return contact_rules.update_contact(
        uow=uow, scope=scope, contact_id=contact_id, changes=changes
    )


def _contact_filters(q: c.ContactQuery) -> Sequence[ColumnElement[bool]]:
    clauses = [
        *_eq(orm.Contact.location_id, q.location_id),
        *_eq(orm.Contact.source, q.source),
        *_eq(orm.Contact.dnd_voice, q.dnd_voice),
        *_eq(orm.Contact.phone_e164, q.phone),
    ]
    if q.opted_out is not None:
        is_out = orm.Contact.opted_out_at.is_not(None)
        clauses.append(is_out if q.opted_out else orm.Contact.opted_out_at.is_(None))
    if q.tag is not None:
        clauses.append(orm.Contact.tags.any(orm.Tag.name == q.tag))
    if q.q is not None:
        pattern = f"%{q.q.lower()}%"
        clauses.append(
            or_(
                func.lower(orm.Contact.first_name).like(pattern),
                func.lower(orm.Contact.last_name).like(pattern),
            )
        )
    return clauses


contacts: Resource[orm.Contact, c.ContactCreate, c.ContactUpdate, c.ContactQuery] = Resource(
    path="/contacts",
    tag="contacts",
    row_type=orm.Contact,
    out=c.ContactOut,
    create_body=c.ContactCreate,
    update_body=c.ContactUpdate,
    query=c.ContactQuery,
    create=_create_contact,
    update=_update_contact,
    delete=lambda uow, scope, contact_id: contact_rules.delete_contact(
        uow=uow, scope=scope, contact_id=contact_id
    ),
    filters=_contact_filters,
    description="Phones are stored as E.164. Changes to DND and opt-out are audited.",
)


# --- records about a contact: services/contact_records.py ---------------------------------------


appointments: Resource[
    orm.Appointment, r.AppointmentCreate, r.AppointmentUpdate, r.AppointmentQuery
] = Resource(
    path="/appointments",
    tag="records",
    row_type=orm.Appointment,
    out=r.AppointmentOut,
    create_body=r.AppointmentCreate,
    update_body=r.AppointmentUpdate,
    query=r.AppointmentQuery,
    create=lambda uow, scope, body: record_rules.create_appointment(
        uow=uow,
        scope=scope,
        contact_id=body.contact_id,
        fields=cast(record_rules.AppointmentFields, body.model_dump(exclude={"contact_id"})),
    ),
    update=lambda uow, scope, appointment_id, body: record_rules.update_appointment(
        uow=uow,
        scope=scope,
        appointment_id=appointment_id,
        changes=cast(record_rules.AppointmentFields, body.model_dump(exclude_unset=True)),
    ),
    filters=lambda q: [
        *_eq(orm.Appointment.location_id, q.location_id),
        *_eq(orm.Appointment.contact_id, q.contact_id),
        *_eq(orm.Appointment.status, q.status),
        *([] if q.starts_after is None else [orm.Appointment.starts_at >= q.starts_after]),
        *([] if q.starts_before is None else [orm.Appointment.starts_at < q.starts_before]),
    ],
)

opportunities: Resource[
    orm.Opportunity, r.OpportunityCreate, r.OpportunityUpdate, r.OpportunityQuery
] = Resource(
    path="/opportunities",
    tag="records",
    row_type=orm.Opportunity,
    out=r.OpportunityOut,
    create_body=r.OpportunityCreate,
    update_body=r.OpportunityUpdate,
    query=r.OpportunityQuery,
    create=lambda uow, scope, body: record_rules.create_opportunity(
        uow=uow,
        scope=scope,
        contact_id=body.contact_id,
        fields=cast(record_rules.OpportunityFields, body.model_dump(exclude={"contact_id"})),
    ),
    update=lambda uow, scope, opportunity_id, body: record_rules.update_opportunity(
        uow=uow,
        scope=scope,
        opportunity_id=opportunity_id,
        changes=cast(record_rules.OpportunityFields, body.model_dump(exclude_unset=True)),
    ),
    filters=lambda q: [
        *_eq(orm.Opportunity.location_id, q.location_id),
        *_eq(orm.Opportunity.contact_id, q.contact_id),
        *_eq(orm.Opportunity.stage, q.stage),
    ],
)


tasks: Resource[orm.Task, r.TaskCreate, r.TaskUpdate, r.TaskQuery] = Resource(
    path="/tasks",
    tag="records",
    row_type=orm.Task,
    out=r.TaskOut,
    create_body=r.TaskCreate,
    update_body=r.TaskUpdate,
    query=r.TaskQuery,
    create=lambda uow, scope, body: record_rules.create_task(
        uow=uow,
        scope=scope,
        contact_id=body.contact_id,
        location_id=body.location_id,
        fields=cast(
            record_rules.TaskFields, body.model_dump(exclude={"contact_id", "location_id"})
        ),
    ),
    filters=lambda q: [
        *_eq(orm.Task.location_id, q.location_id),
        *_eq(orm.Task.contact_id, q.contact_id),
        *_eq(orm.Task.status, q.status),
        *_eq(orm.Task.priority, q.priority),
    ],
)


notes: Resource[orm.Note, r.NoteCreate, r.NoteUpdate, r.NoteQuery] = Resource(
    path="/notes",
    tag="records",
    row_type=orm.Note,
    out=r.NoteOut,
    create_body=r.NoteCreate,
    update_body=r.NoteUpdate,
    query=r.NoteQuery,
    create=lambda uow, scope, body: record_rules.create_note(
        uow=uow, scope=scope, contact_id=body.contact_id, body=body.body
    ),
    filters=lambda q: _eq(orm.Note.contact_id, q.contact_id),
)

ALL: tuple[Resource[Any, Any, Any, Any], ...] = (
    locations,
    phone_numbers,
    voice_agents,
    forms,
    tags,
    contacts,
    appointments,
    opportunities,
    tasks,
    notes,
)
