"""Creating, editing, publishing and unpublishing workflows.

Saving validates the whole definition (field-named errors); publishing validates again
against the database as it is then, snapshots the draft as a new immutable version, and only
then can the workflow enroll anyone. Unpublishing stops it at once: open enrollments leave and
their queued or deferred calls are canceled.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ringfence.adapters.db.orm import Contact, Location, Tag
from ringfence.adapters.db.upsert import insert_missing
from ringfence.adapters.db.workflows import Enrollment, Workflow, WorkflowVersion
from ringfence.domain.workflows.audience import admit
from ringfence.domain.workflows.definition import WorkflowDefinition
from ringfence.domain.workflows.states import WorkflowStatus
from ringfence.services.call_jobs import cancel_pending
from ringfence.services.errors import Conflict, InvalidField
from ringfence.services.tenancy import referenced
from ringfence.services.unit_of_work import TenantScope
from ringfence.services.workflows import audit_trail
from ringfence.services.workflows.codec import dump_definition, parse_definition
from ringfence.services.workflows.contact_views import contact_views
from ringfence.services.workflows.exits import exit_where
from ringfence.services.workflows.templates import Template
from ringfence.services.workflows.validation import check_definition, tags_to_create
from ringfence.services.workflows.webhook_secrets import restore_secrets

# "Do not point a brand-new outbound workflow at your full contact database": publishing to
# more contacts than this asks for an explicit confirmation after showing the forecast.
CONFIRM_AUDIENCE_ABOVE = 200


class ConfirmationRequired(Exception):
    """Publishing needs `confirm_audience` because the audience is large."""

    def __init__(self, audience: int) -> None:
        super().__init__(
            f"the audience is {audience} contacts (more than {CONFIRM_AUDIENCE_ABOVE}): "
            "review the forecast, then publish again with confirm_audience set to that number"
        )
        self.audience = audience


def definition_of_draft(workflow: Workflow) -> WorkflowDefinition:
    return parse_definition(workflow.definition)


def create_workflow(
    session: Session,
    scope: TenantScope,
    *,
    name: str,
    location_id: int,
    definition: dict[str, Any],
    now: datetime,
) -> Workflow:
    referenced(session, Location, location_id, scope, field="location_id")
    parsed = parse_definition(definition)
    check_definition(session, scope, location_id=location_id, definition=parsed)
    workflow = Workflow(
        account_id=scope.account_id,
        location_id=location_id,
        name=name,
        status=WorkflowStatus.DRAFT,
        definition=dump_definition(parsed),
        trigger_kind=parsed.trigger.kind.value,
        created_at=now,
        updated_at=now,
    )
    session.add(workflow)
    session.flush()
    audit_trail.created(session, scope, workflow, at=now)
    return workflow


def create_from_template(
    session: Session,
    scope: TenantScope,
    *,
    template: Template,
    name: str,
    location_id: int,
    agent_id: int,
    from_number_id: int,
    now: datetime,
) -> Workflow:
    """A draft from one of the use-case templates, creating the tags it applies if missing."""
    insert_missing(
        session,
        Tag,
        [
            {"account_id": scope.account_id, "name": n, "created_at": now, "updated_at": now}
            for n in template.tags
        ],
    )
    return create_workflow(
        session,
        scope,
        name=name or template.name,
        location_id=location_id,
        definition=template.definition(agent_id=agent_id, from_number_id=from_number_id),
        now=now,
    )


def update_workflow(
    session: Session,
    scope: TenantScope,
    workflow: Workflow,
    *,
    name: str | None,
    definition: dict[str, Any] | None,
    now: datetime,
) -> None:
    """Edits change the draft; a published workflow keeps running its published version
    until it is published again. The audit log gets what changed (`audit_trail.edited`)."""
    name_before, definition_before = workflow.name, dict(workflow.definition or {})
    if name is not None:
        workflow.name = name
    if definition is not None:
        parsed = parse_definition(restore_secrets(definition, workflow.definition))
        check_definition(session, scope, location_id=workflow.location_id, definition=parsed)
        workflow.definition = dump_definition(parsed)
        workflow.trigger_kind = parsed.trigger.kind.value
    workflow.updated_at = now
    audit_trail.edited(
        session,
        scope,
        workflow,
        name_before=name_before,
        definition_before=definition_before,
        at=now,
    )


def has_unpublished_changes(session: Session, workflow: Workflow) -> bool:
    if workflow.published_version_id is None:
        return True
    version = session.get(WorkflowVersion, workflow.published_version_id)
    return version is None or version.definition != workflow.definition


def audience_ids(
    session: Session, workflow: Workflow, definition: WorkflowDefinition, now: datetime
) -> list[int]:
    """The location's contacts the audience filters admit right now (trigger conditions
    aside): who the workflow could reach."""
    ids = list(
        session.scalars(
            select(Contact.id).where(
                Contact.account_id == workflow.account_id,
                Contact.location_id == workflow.location_id,
            )
        )
    )
    views = contact_views(session, ids, now)
    audience = definition.audience
    if audience.appointment_statuses:
        # The trigger's appointment is not known before the event: judge the rest.
        audience = replace(audience, appointment_statuses=())
    return [
        cid
        for cid in ids
        if admit(audience, views[cid], now, test_mode=definition.test_mode).admitted
    ]


@dataclass(frozen=True, slots=True)
class Published:
    version: int
    audience: int


def publish(
    session: Session,
    scope: TenantScope,
    workflow: Workflow,
    *,
    now: datetime,
    confirm_audience: int | None = None,
) -> Published:
    definition = definition_of_draft(workflow)
    check_definition(session, scope, location_id=workflow.location_id, definition=definition)
    audience = len(audience_ids(session, workflow, definition, now))
    if audience > CONFIRM_AUDIENCE_ABOVE and confirm_audience != audience:
        if confirm_audience is not None:
            raise InvalidField(
                "confirm_audience",
                f"the audience is now {audience} contacts, not {confirm_audience}: "
                "review the forecast again",
            )
        raise ConfirmationRequired(audience)
    insert_missing(
        session,
        Tag,
        [
            {"account_id": scope.account_id, "name": name, "created_at": now, "updated_at": now}
            for name in sorted(tags_to_create(definition))
        ],
    )
    number = (
        session.scalar(
            select(func.max(WorkflowVersion.version)).where(
                WorkflowVersion.workflow_id == workflow.id
            )
        )
        or 0
    ) + 1
    version = WorkflowVersion(
        account_id=scope.account_id,
        workflow_id=workflow.id,
        version=number,
        trigger_kind=definition.trigger.kind.value,
        definition=workflow.definition,
        published_at=now,
    )
    session.add(version)
    session.flush()
    workflow.published_version_id = version.id
    workflow.status = WorkflowStatus.PUBLISHED
    workflow.published_at = now
    workflow.updated_at = now
    audit_trail.published(session, scope, workflow, version=number, audience=audience, at=now)
    return Published(number, audience)


def unpublish(session: Session, scope: TenantScope, workflow: Workflow, *, now: datetime) -> int:
    """Back to draft: open enrollments exit and every pending call of the workflow is
    canceled. Returns how many calls were canceled."""
    workflow.status = WorkflowStatus.DRAFT
    workflow.updated_at = now
    canceled = cancel_pending(
        session,
        account_id=scope.account_id,
        now=now,
        reason="workflow_unpublished",
        workflow_id=workflow.id,
    )
    exit_where(session, "the workflow was unpublished", now, Enrollment.workflow_id == workflow.id)
    audit_trail.unpublished(session, scope, workflow, canceled=canceled, at=now)
    return canceled


def ensure_deletable(workflow: Workflow) -> None:
    if workflow.status is WorkflowStatus.PUBLISHED:
        raise Conflict("unpublish the workflow before deleting it")


def delete_workflow(
    session: Session, scope: TenantScope, workflow: Workflow, *, now: datetime
) -> None:
    """Delete a workflow that is not published (`Conflict` otherwise); the audit log keeps
    its name (the event outlives the row)."""
    ensure_deletable(workflow)
    audit_trail.deleted(session, scope, workflow, at=now)
    session.delete(workflow)
