"""The CRM actions a workflow step performs: tags, tasks, opportunity stages, notes and
webhooks. When the enrollment's path follows a call, each action is also recorded on that call
as one of its "Actions Triggered" (the dashboard's tile)."""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from ringfence.adapters.db.calls import CallAction, CallJob
from ringfence.adapters.db.orm import Contact, Note, Opportunity, Tag, Task, contact_tags
from ringfence.adapters.db.upsert import insert_missing
from ringfence.adapters.db.workflows import Enrollment, WebhookDelivery, Workflow
from ringfence.domain.compliance import SuppressionSource
from ringfence.domain.tags import OPT_OUT_TAG
from ringfence.domain.workflows.definition import (
    AddNote,
    AddTag,
    CreateTask,
    MoveOpportunity,
    RemoveTag,
    SendWebhook,
)
from ringfence.domain.workflows.states import DeliveryStatus
from ringfence.services.suppression import suppress_number, suppressed_now
from ringfence.services.unit_of_work import TenantScope
from ringfence.services.workflows.run_log import host_of

Action = AddTag | RemoveTag | CreateTask | MoveOpportunity | AddNote | SendWebhook


@dataclass(frozen=True, slots=True)
class ActionResult:
    done: bool  # False: nothing to act on (e.g. no opportunity to move); the path goes on
    detail: str
    # A CRM change other workflows may trigger on: (kind, tag or stage, opportunity id).
    follow_up: tuple[str, str, int | None] | None = None


def run_action(
    session: Session, workflow: Workflow, enrollment: Enrollment, step: Action, now: datetime
) -> ActionResult:
    match step:
        case AddTag():
            result = _add_tag(session, enrollment, step.tag, now)
        case RemoveTag():
            result = _remove_tag(session, enrollment, step.tag, now)
        case CreateTask():
            result = _create_task(session, workflow, enrollment, step, now)
        case MoveOpportunity():
            result = _move_opportunity(session, enrollment, step.stage, now)
        case AddNote():
            note = Note(
                account_id=enrollment.account_id,
                location_id=enrollment.location_id,
                contact_id=enrollment.contact_id,
                body=step.body,
                author=f"workflow: {workflow.name}",
                created_at=now,
                updated_at=now,
            )
            session.add(note)
            session.flush()
            _on_call(session, enrollment, "note_added", step.body[:200], "note", note.id, now)
            result = ActionResult(True, "note added")
        case SendWebhook():
            result = _queue_webhook(session, workflow, enrollment, step, now)
    return result


def _add_tag(session: Session, enrollment: Enrollment, name: str, now: datetime) -> ActionResult:
    insert_missing(
        session,
        Tag,
        [{"account_id": enrollment.account_id, "name": name, "created_at": now, "updated_at": now}],
    )
    tag_id = session.scalars(
        select(Tag.id).where(Tag.account_id == enrollment.account_id, Tag.name == name)
    ).first()
    assert tag_id is not None  # just inserted or already there
    has = session.scalars(
        select(contact_tags.c.tag_id).where(
            contact_tags.c.contact_id == enrollment.contact_id, contact_tags.c.tag_id == tag_id
        )
    ).first()
    if has is not None:
        return ActionResult(False, f"already tagged {name!r}")
    session.execute(contact_tags.insert().values(contact_id=enrollment.contact_id, tag_id=tag_id))
    _on_call(session, enrollment, "tag_applied", name, "tag", tag_id, now)
    if name == OPT_OUT_TAG:
        # The opt-out tag is an opt-out: the number is suppressed for the whole practice.
        contact = session.get(Contact, enrollment.contact_id)
        assert contact is not None  # the enrollment's foreign key
        session.expire(contact, ["tags"])  # the tag went in through Core: reload them
        suppress_number(
            session,
            TenantScope(enrollment.account_id, f"workflow:{enrollment.workflow_id}"),
            contact.phone_e164,
            at=now,
            source=SuppressionSource.OPT_OUT_TAG,
            contact_id=enrollment.contact_id,
            note="tag added by a workflow step",
        )
    return ActionResult(True, f"tagged {name!r}", ("contact_tag_added", name, None))


def _remove_tag(session: Session, enrollment: Enrollment, name: str, now: datetime) -> ActionResult:
    tag_id = session.scalars(
        select(Tag.id).where(Tag.account_id == enrollment.account_id, Tag.name == name)
    ).first()
    if tag_id is None:
        return ActionResult(False, f"no tag {name!r}")
    if name == OPT_OUT_TAG:
        contact = session.get(Contact, enrollment.contact_id)
        if contact is not None and suppressed_now(session, contact, now):
            # The tag mirrors the number's suppression; only new consent lifts both.
            return ActionResult(False, f"kept {name!r}: the number opted out, no consent since")
    removed = session.execute(
        delete(contact_tags).where(
            contact_tags.c.contact_id == enrollment.contact_id, contact_tags.c.tag_id == tag_id
        )
    ).rowcount  # type: ignore[attr-defined]
    if removed:
        _on_call(session, enrollment, "tag_removed", name, "tag", tag_id, now)
    return ActionResult(
        bool(removed), f"removed tag {name!r}" if removed else f"not tagged {name!r}"
    )


def _create_task(
    session: Session, workflow: Workflow, enrollment: Enrollment, step: CreateTask, now: datetime
) -> ActionResult:
    task = Task(
        account_id=enrollment.account_id,
        location_id=enrollment.location_id,
        contact_id=enrollment.contact_id,
        title=step.title,
        body=step.body or f"Created by the workflow {workflow.name!r}.",
        assignee=step.assignee,
        due_at=now + timedelta(hours=step.due_in_hours),
        priority=step.priority,
        created_at=now,
        updated_at=now,
    )
    session.add(task)
    session.flush()
    detail = f"{step.priority.value}: {step.title}"
    _on_call(session, enrollment, "task_created", detail, "task", task.id, now)
    return ActionResult(True, f"task {task.id} created")


def _move_opportunity(
    session: Session, enrollment: Enrollment, stage: str, now: datetime
) -> ActionResult:
    query = select(Opportunity).where(Opportunity.contact_id == enrollment.contact_id)
    if enrollment.opportunity_id is not None:
        query = query.where(Opportunity.id == enrollment.opportunity_id)
    opportunity = session.scalars(
        query.order_by(Opportunity.updated_at.desc(), Opportunity.id.desc())
    ).first()
    if opportunity is None:
        return ActionResult(False, "the contact has no opportunity to move")
    if opportunity.stage == stage:
        return ActionResult(False, f"opportunity {opportunity.id} is already in {stage!r}")
    before = opportunity.stage
    opportunity.stage = stage
    opportunity.updated_at = now
    _on_call(
        session,
        enrollment,
        "opportunity_moved",
        f"{before} → {stage}",
        "opportunity",
        opportunity.id,
        now,
    )
    return ActionResult(
        True,
        f"opportunity {opportunity.id} moved from {before!r} to {stage!r}",
        ("opportunity_stage_changed", stage, opportunity.id),
    )


def sign(secret: str, body: str) -> str:
    digest = hmac.new(secret.encode(), body.encode(), hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def _queue_webhook(
    session: Session, workflow: Workflow, enrollment: Enrollment, step: SendWebhook, now: datetime
) -> ActionResult:
    # Ids and outcomes only: transcripts and clinical details never leave in a webhook.
    call: dict[str, object] | None = None
    if enrollment.call_job_id is not None:
        job = session.get(CallJob, enrollment.call_job_id)
        if job is not None:
            call = {
                "id": job.id,
                "status": job.status.value,
                "outcome": job.outcome.value if job.outcome else None,
                "reason_code": job.reason_code,
                "produced": job.produced or [],
            }
    body = json.dumps(
        {
            "type": "workflow.webhook",
            "workflow": {"id": workflow.id, "name": workflow.name},
            "enrollment_id": enrollment.id,
            "contact_id": enrollment.contact_id,
            "call": call,
            "sent_at": now.isoformat(),
        },
        sort_keys=True,
    )
    delivery = WebhookDelivery(
        account_id=enrollment.account_id,
        enrollment_id=enrollment.id,
        call_job_id=enrollment.call_job_id,
        url=step.url,
        body=body,
        signature=sign(step.secret, body),
        status=DeliveryStatus.PENDING,
        attempts=0,
        next_attempt_at=now,
        created_at=now,
    )
    session.add(delivery)
    session.flush()
    # The host only, in the call's actions and the run log: the URL's path or query string
    # may carry the receiver's token.
    host = host_of(step.url)
    _on_call(session, enrollment, "webhook_sent", host, "webhook_delivery", delivery.id, now)
    return ActionResult(True, f"webhook {delivery.id} queued for {host}")


def _on_call(
    session: Session,
    enrollment: Enrollment,
    kind: str,
    detail: str,
    entity_type: str,
    entity_id: int,
    now: datetime,
) -> None:
    if enrollment.call_job_id is None:
        return
    session.add(
        CallAction(
            account_id=enrollment.account_id,
            location_id=enrollment.location_id,
            job_id=enrollment.call_job_id,
            kind=kind,
            detail=detail,
            entity_type=entity_type,
            entity_id=entity_id,
            at=now,
        )
    )
