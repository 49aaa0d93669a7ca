"""The fixed statements of event ingestion (`services.workflows.events`): built once, with
bound parameters only, compiled once per dialect and run on the driver's cursor (`Prepared`:
SQLAlchemy's per-execution work cost more than SQLite's; docs/operations.md, "CPU per
event"). Each is read by one step of `events.ingest`.
"""

from __future__ import annotations

from sqlalchemy import Text, and_, bindparam, cast, exists, insert, literal, or_, select
from sqlalchemy.dialects import postgresql, sqlite

from ringfence.adapters.db.orm import Contact
from ringfence.adapters.db.prepared import Prepared
from ringfence.adapters.db.workflows import (
    Enrollment,
    EnrollmentStep,
    Workflow,
    WorkflowEvent,
    WorkflowVersion,
)
from ringfence.domain.workflows.states import OPEN, WorkflowStatus

_TABLES = Contact.metadata.tables
_CONTACTS = _TABLES[Contact.__tablename__]
_WORKFLOWS = _TABLES[Workflow.__tablename__]
_VERSIONS = _TABLES[WorkflowVersion.__tablename__]
_EVENTS = _TABLES[WorkflowEvent.__tablename__]
_ENROLLMENTS = _TABLES[Enrollment.__tablename__]
_STEPS = _TABLES[EnrollmentStep.__tablename__]

# SQLite plans without statistics: `workflow_id + 0` keeps it off the (workflow_id, state)
# index, whose entries grow with every enrollment of the workflow, and on the contact's.
_RUNS_IT = _ENROLLMENTS.c.workflow_id + 0
_OPEN_STATES = sorted(OPEN)
# `state IN (...)` over a fixed list, as plain equalities with their values bound once here: an
# `in_()` list is an "expanding" parameter that SQLAlchemy rewrites into the SQL on every
# execution (docs/operations.md, "CPU per event").
_IS_OPEN = or_(
    *(_ENROLLMENTS.c.state == literal(state, _ENROLLMENTS.c.state.type) for state in _OPEN_STATES)
)

# The contact (none: not this account's), with one row per published workflow of its location;
# the version columns are null where the published version has another trigger kind.
CONTACT_AND_WORKFLOWS = Prepared(
    select(
        _CONTACTS.c.id,
        _CONTACTS.c.dnd_voice,
        _CONTACTS.c.opted_out_at,
        _CONTACTS.c.last_contacted_at,
        _CONTACTS.c.location_id,
        _WORKFLOWS.c.id,
        _VERSIONS.c.id,
        # The stored text: the parsed-definition cache's key, and parsed only on a miss.
        cast(_VERSIONS.c.definition, Text),
        # Whether the contact runs this workflow now (the common answer, no, needs no lock).
        exists()
        .where(
            _ENROLLMENTS.c.contact_id == _CONTACTS.c.id,
            _WORKFLOWS.c.id == _RUNS_IT,
            _IS_OPEN,
        )
        .label("running"),
    )
    .select_from(
        _CONTACTS.outerjoin(
            _WORKFLOWS,
            and_(
                _WORKFLOWS.c.account_id == _CONTACTS.c.account_id,
                _WORKFLOWS.c.status == WorkflowStatus.PUBLISHED,
                _WORKFLOWS.c.location_id == _CONTACTS.c.location_id,
            ),
        ).outerjoin(
            _VERSIONS,
            and_(
                _VERSIONS.c.id == _WORKFLOWS.c.published_version_id,
                _VERSIONS.c.trigger_kind == bindparam("kind"),
            ),
        )
    )
    .where(
        _CONTACTS.c.id == bindparam("contact_id"),
        _CONTACTS.c.account_id == bindparam("account_id"),
    )
    .order_by(_WORKFLOWS.c.id)
)

# Read again, locked, where the contact runs the workflow: a superseded enrollment is exited by
# this transaction, and a concurrent change to one is waited for.
OPEN_ENROLLMENTS = (
    select(Enrollment)
    .where(
        Enrollment.contact_id == bindparam("contact_id"),
        _RUNS_IT.in_(bindparam("workflow_ids", expanding=True)),
        Enrollment.state.in_(_OPEN_STATES),
    )
    .order_by(Enrollment.id)
    .with_for_update()
)

_STORED_COLUMNS = (
    "account_id", "external_id", "kind", "contact_id", "payload", "occurred_at", "received_at",
    "enrolled", "skipped",
)  # fmt: skip
STORE = {
    dialect: Prepared(
        insert_of(_EVENTS).on_conflict_do_nothing().returning(_EVENTS.c.id),
        column_keys=_STORED_COLUMNS,
    )
    for dialect, insert_of in (("postgresql", postgresql.insert), ("sqlite", sqlite.insert))
}

FIRST_DELIVERY = Prepared(
    select(_EVENTS.c.id, _ENROLLMENTS.c.id, _EVENTS.c.skipped)
    .select_from(
        _EVENTS.outerjoin(
            _ENROLLMENTS,
            # The contact's enrollments (an index), not every enrollment's event id (none).
            and_(
                _ENROLLMENTS.c.contact_id == _EVENTS.c.contact_id,
                _ENROLLMENTS.c.event_id == _EVENTS.c.id,
            ),
        )
    )
    .where(
        _EVENTS.c.account_id == bindparam("account_id"),
        _EVENTS.c.external_id == bindparam("external_id"),
    )
    .order_by(_ENROLLMENTS.c.id)
)

# One statement per workflow enrolled in (one or two, usually): a multi-row INSERT with
# RETURNING goes through SQLAlchemy's "insertmanyvalues", which renders its SQL every time.
ENROLL = Prepared(
    insert(_ENROLLMENTS).returning(_ENROLLMENTS.c.id),
    column_keys=(
        "account_id", "location_id", "workflow_id", "version_id", "contact_id", "event_id",
        "appointment_id", "opportunity_id", "state", "cursor", "step_entered_at", "resume_at",
        "created_at", "updated_at",
    ),
)  # fmt: skip
FIRST_STEP = Prepared(
    insert(_STEPS),
    column_keys=("account_id", "enrollment_id", "path", "step_type", "result", "detail", "at"),
)
