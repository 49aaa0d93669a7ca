"""The CRM's record resources: which schemas, filters and service rules each one uses."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import ColumnElement, func, or_, select

from ringfence.adapters.db import orm
from ringfence.entrypoints.api.crud import Resource, default_update, ruled_create, ruled_update
from ringfence.entrypoints.api.schemas import contacts as c
from ringfence.entrypoints.api.schemas import practice as p
from ringfence.entrypoints.api.schemas import records as r
from ringfence.services import audit
from ringfence.services import contacts as contact_rules
from ringfence.services import forms as form_rules
from ringfence.services import tags as tag_rules
from ringfence.services.agents import check_agent
from ringfence.services.consent_review import scan_version
from ringfence.services.errors import Conflict, InvalidField
from ringfence.services.fields import apply_fields
from ringfence.services.tenancy import referenced
from ringfence.services.unit_of_work import TenantScope, UnitOfWork
from ringfence.services.workflows import crm_events


def _stamp(uow: UnitOfWork, row: Any) -> None:
    now = uow.clock.now()
    row.created_at = now
    row.updated_at = now


def _located(
    uow: UnitOfWork, scope: TenantScope, model: type[Any], body: Any, **extra: object
) -> Any:
    """A new row of `model` at the body's location (checked to be the caller's)."""
    data = body.model_dump()
    referenced(uow.session, orm.Location, data["location_id"], scope, field="location_id")
    row = model(account_id=scope.account_id, **data, **extra)
    _stamp(uow, row)
    uow.session.add(row)
    uow.session.flush()
    return row


def _about_contact(
    uow: UnitOfWork, scope: TenantScope, model: type[Any], body: Any, **extra: object
) -> Any:
    """A new row of `model` hanging off the body's contact, at that contact's location."""
    data = body.model_dump()
    contact = referenced(uow.session, orm.Contact, data["contact_id"], scope, field="contact_id")
    if data.get("location_id") not in (None, contact.location_id):
        raise InvalidField("location_id", "differs from the contact's location")
    data["location_id"] = contact.location_id
    row = model(account_id=scope.account_id, **data, **extra)
    _stamp(uow, row)
    uow.session.add(row)
    uow.session.flush()
    return row


def _eq(column: Any, value: object) -> list[ColumnElement[bool]]:
    return [] if value is None else [column == value]


# --- locations, caller IDs, agents -------------------------------------------------------


def _new_location(uow: UnitOfWork, scope: TenantScope, body: p.LocationCreate) -> orm.Location:
    row = orm.Location(account_id=scope.account_id, **body.model_dump())
    _stamp(uow, row)
    uow.session.add(row)
    uow.session.flush()
    return row


locations: Resource[orm.Location, p.LocationCreate, p.LocationUpdate, p.LocationQuery] = Resource(
    path="/locations",
    tag="practice",
    row_type=orm.Location,
    out=p.LocationOut,
    create_body=p.LocationCreate,
    update_body=p.LocationUpdate,
    query=p.LocationQuery,
    create=ruled_create(_new_location),
    deletable=False,  # deleting would cascade to consent evidence, which is kept
)


def _new_phone_number(
    uow: UnitOfWork, scope: TenantScope, body: p.PhoneNumberCreate
) -> orm.PhoneNumber:
    # Unique within the account: whether another tenant uses the number is not this one's to
    # learn. Within the account the answer does not say at which location either.
    taken = uow.session.scalar(
        select(orm.PhoneNumber.id).where(
            orm.PhoneNumber.account_id == scope.account_id, orm.PhoneNumber.e164 == body.e164
        )
    )
    if taken is not None:
        raise Conflict(f"e164: {body.e164} is already one of this account's caller IDs")
    row: orm.PhoneNumber = _located(uow, scope, orm.PhoneNumber, body)
    return row


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
    create=ruled_create(_new_phone_number),
    filters=lambda q: _eq(orm.PhoneNumber.location_id, q.location_id),
    description="A caller ID of the location. Local presence improves answer rates.",
)


def _new_agent(uow: UnitOfWork, scope: TenantScope, body: p.VoiceAgentCreate) -> orm.VoiceAgent:
    agent: orm.VoiceAgent = _located(uow, scope, orm.VoiceAgent, body)
    check_agent(uow.session, agent)
    return agent


def _update_agent(
    uow: UnitOfWork, _scope: TenantScope, agent: orm.VoiceAgent, body: p.VoiceAgentUpdate
) -> None:
    apply_fields(agent, body.model_dump(exclude_unset=True))
    agent.updated_at = uow.clock.now()
    check_agent(uow.session, agent)


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
    create=ruled_create(_new_agent),
    update=ruled_update(orm.VoiceAgent, _update_agent),
    filters=lambda q: _eq(orm.VoiceAgent.location_id, q.location_id),
    description=(
        "One agent serves inbound and outbound calls. Openings, greeting and voicemail are "
        "checked against the guardrails when saved (e.g. an outbound opening must name the "
        "practice in its first sentence): problems are 422 with the field named."
    ),
)


# --- forms (versioned consent text) --------------------------------------------------------


def _new_form(uow: UnitOfWork, scope: TenantScope, body: p.FormCreate) -> orm.Form:
    referenced(uow.session, orm.Location, body.location_id, scope, field="location_id")
    now = uow.clock.now()
    form = orm.Form(
        account_id=scope.account_id,
        location_id=body.location_id,
        name=body.name,
        current_version=0,
        created_at=now,
        updated_at=now,
    )
    version = form_rules.set_consent_text(form, body.consent_text, now=now)
    uow.session.add(form)
    uow.session.flush()
    if version is not None:
        _scan(uow, scope, form, version, now)
    return form


def _scan(
    uow: UnitOfWork, scope: TenantScope, form: orm.Form, version: orm.FormVersion, now: datetime
) -> None:
    """The consent scanner runs on every new version of the text; its verdict is kept on the
    version and in the audit log (a form with a blocking gap cannot give voice consent)."""
    account = uow.session.get(orm.Account, scope.account_id)
    assert account is not None  # the key's account
    result = scan_version(version, account)
    gaps = [f.element.value for f in result.findings if f.blocking and f.status != "present"]
    audit.record(
        uow.session, scope, entity_type="form", entity_id=form.id,
        action="form.consent_scanned", at=now,
        after={
            "version": version.version, "score": result.score,
            "valid_for_voice_opt_in": result.valid_for_voice_opt_in,
            "gaps": gaps,
        },
    )  # fmt: skip


def _update_form(uow: UnitOfWork, scope: TenantScope, form: orm.Form, body: p.FormUpdate) -> None:
    changes = body.model_dump(exclude_unset=True)
    text = changes.pop("consent_text", None)
    if "consent_text" in body.model_fields_set and text is None:
        raise InvalidField("consent_text", "may not be null")
    apply_fields(form, changes)
    form.updated_at = uow.clock.now()
    if text is not None:
        version = form_rules.set_consent_text(form, text, now=uow.clock.now())
        if version is not None:
            uow.session.flush()
            _scan(uow, scope, form, version, uow.clock.now())


forms: Resource[orm.Form, p.FormCreate, p.FormUpdate, p.FormQuery] = Resource(
    path="/forms",
    tag="practice",
    row_type=orm.Form,
    out=p.FormOut,
    create_body=p.FormCreate,
    update_body=p.FormUpdate,
    query=p.FormQuery,
    create=ruled_create(_new_form),
    update=ruled_update(orm.Form, _update_form),
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


# --- records about a contact ---------------------------------------------------------------
# Booking, moving or closing an appointment and moving an opportunity are trigger events for
# workflows: the change and the enrollments it causes commit in one transaction.


def _new_appointment(
    uow: UnitOfWork, scope: TenantScope, body: r.AppointmentCreate
) -> orm.Appointment:
    row: orm.Appointment = _about_contact(uow, scope, orm.Appointment, body)
    crm_events.on_appointment_created(uow.session, scope, row, uow.clock.now())
    return row


def _update_appointment(
    uow: UnitOfWork, scope: TenantScope, row: orm.Appointment, body: r.AppointmentUpdate
) -> None:
    starts_before, status_before = row.starts_at, row.status
    default_update(uow, scope, row, body)
    uow.session.flush()
    crm_events.on_appointment_changed(
        uow.session,
        scope,
        row,
        starts_before=starts_before,
        status_before=status_before,
        now=uow.clock.now(),
    )


def _new_opportunity(
    uow: UnitOfWork, scope: TenantScope, body: r.OpportunityCreate
) -> orm.Opportunity:
    row: orm.Opportunity = _about_contact(uow, scope, orm.Opportunity, body)
    return row


def _update_opportunity(
    uow: UnitOfWork, scope: TenantScope, row: orm.Opportunity, body: r.OpportunityUpdate
) -> None:
    stage_before = row.stage
    default_update(uow, scope, row, body)
    uow.session.flush()
    crm_events.on_opportunity_changed(
        uow.session, scope, row, stage_before=stage_before, now=uow.clock.now()
    )


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
    create=ruled_create(_new_appointment),
    update=ruled_update(orm.Appointment, _update_appointment),
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
    create=ruled_create(_new_opportunity),
    update=ruled_update(orm.Opportunity, _update_opportunity),
    filters=lambda q: [
        *_eq(orm.Opportunity.location_id, q.location_id),
        *_eq(orm.Opportunity.contact_id, q.contact_id),
        *_eq(orm.Opportunity.stage, q.stage),
    ],
)


def _new_task(uow: UnitOfWork, scope: TenantScope, body: r.TaskCreate) -> orm.Task:
    if body.contact_id is not None:
        task: orm.Task = _about_contact(uow, scope, orm.Task, body)
        return task
    if body.location_id is None:
        raise InvalidField("location_id", "required when the task has no contact_id")
    located: orm.Task = _located(uow, scope, orm.Task, body)
    return located


tasks: Resource[orm.Task, r.TaskCreate, r.TaskUpdate, r.TaskQuery] = Resource(
    path="/tasks",
    tag="records",
    row_type=orm.Task,
    out=r.TaskOut,
    create_body=r.TaskCreate,
    update_body=r.TaskUpdate,
    query=r.TaskQuery,
    create=ruled_create(_new_task),
    filters=lambda q: [
        *_eq(orm.Task.location_id, q.location_id),
        *_eq(orm.Task.contact_id, q.contact_id),
        *_eq(orm.Task.status, q.status),
        *_eq(orm.Task.priority, q.priority),
    ],
)


def _new_note(uow: UnitOfWork, scope: TenantScope, body: r.NoteCreate) -> orm.Note:
    note: orm.Note = _about_contact(uow, scope, orm.Note, body, author=scope.actor)
    return note


notes: Resource[orm.Note, r.NoteCreate, r.NoteUpdate, r.NoteQuery] = Resource(
    path="/notes",
    tag="records",
    row_type=orm.Note,
    out=r.NoteOut,
    create_body=r.NoteCreate,
    update_body=r.NoteUpdate,
    query=r.NoteQuery,
    create=ruled_create(_new_note),
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
