"""Workflow, event and enrollment schemas. A workflow's `definition` is validated by the
service (domain/workflows/definition.py), so the API and the web editor report the same
field-named errors; its shape is documented in docs/workflows.md."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import AwareDatetime, Field

from ringfence.domain.workflows.definition import TriggerKind
from ringfence.domain.workflows.states import DeliveryStatus, EnrollmentState, WorkflowStatus
from ringfence.entrypoints.api.schemas.common import Body, Id, ListQuery, Name, Out

_DEFINITION_DOC = (
    "trigger, audience, steps and test_mode (see docs/workflows.md). Each step has a `type`: "
    "voice_ai_call (action_name, agent_id, from_number_id, purpose), add_tag, remove_tag, "
    "create_task, move_opportunity, add_note, send_webhook, wait, branch."
)


class WorkflowCreate(Body):
    name: Name
    location_id: Id
    definition: dict[str, Any] = Field(description=_DEFINITION_DOC)


class WorkflowFromTemplate(Body):
    template: str = Field(min_length=1, max_length=60)
    location_id: Id
    agent_id: Id
    from_number_id: Id
    name: Name | None = None


class WorkflowUpdate(Body):
    name: Name | None = None
    definition: dict[str, Any] | None = Field(default=None, description=_DEFINITION_DOC)


class WorkflowQuery(ListQuery):
    status: WorkflowStatus | None = None
    location_id: Id | None = None


class WorkflowOut(Out):
    id: int
    location_id: int
    name: str
    status: WorkflowStatus
    definition: dict[str, Any]
    published_version_id: int | None
    published_at: datetime | None
    has_unpublished_changes: bool = False
    created_at: datetime
    updated_at: datetime


class PublishBody(Body):
    confirm_audience: int | None = Field(
        default=None,
        ge=0,
        description="Required when the audience exceeds 200 contacts: the audience size the "
        "forecast showed (publishing refuses if it has changed since).",
    )


class PublishedOut(Out):
    status: WorkflowStatus
    version: int
    audience: int


class UnpublishedOut(Out):
    status: WorkflowStatus
    calls_canceled: int


class TemplateOut(Out):
    key: str
    name: str
    description: str
    purpose: str


class EventIn(Body):
    event_id: str = Field(
        min_length=1,
        max_length=100,
        description="Your id for the event: a redelivery with the same id changes nothing.",
    )
    type: TriggerKind
    contact_id: Id
    occurred_at: AwareDatetime | None = None
    appointment_id: Id | None = None
    opportunity_id: Id | None = None
    tag: str | None = Field(default=None, max_length=100)
    stage: str | None = Field(default=None, max_length=100)
    form_id: Id | None = None
    name: str | None = Field(default=None, max_length=100, description="Custom event's name")


class SkippedOut(Out):
    workflow_id: int
    reasons: list[str]


class EventOut(Out):
    event_id: str
    duplicate: bool
    enrollment_ids: list[int]
    skipped: list[SkippedOut]


class EnrollmentQuery(ListQuery):
    state: EnrollmentState | None = None
    contact_id: Id | None = None


class EnrollmentOut(Out):
    id: int
    workflow_id: int
    contact_id: int
    state: EnrollmentState
    cursor: list[int] | None
    resume_at: datetime | None
    call_job_id: int | None
    exit_reason: str | None
    appointment_id: int | None
    opportunity_id: int | None
    created_at: datetime
    ended_at: datetime | None


class WebhookDeliveryOut(Out):
    """A webhook step's delivery, as it stands now (attempted after the step, and retried)."""

    delivery_id: int
    host: str = Field(description="The receiver's host (the rest of the URL is not shown)")
    status: DeliveryStatus = Field(
        description="pending (not sent yet, or failed and will be retried), delivered, or "
        "failed (gave up: not retried)"
    )
    http_status: int | None = Field(
        description="The receiver's HTTP status at the last attempt it answered"
    )
    error: str | None = Field(description="Why the last attempt failed, in words")
    attempts: int
    will_retry: bool
    next_attempt_at: datetime | None
    summary: str = Field(description="The outcome in one sentence, as the runs page shows it")


class EnrollmentStepOut(Out):
    path: str
    step_type: str
    result: str
    detail: str
    at: datetime
    delivery: WebhookDeliveryOut | None = Field(
        default=None, description="A send_webhook step's delivery outcome"
    )


class EnrollmentDetailOut(EnrollmentOut):
    steps: list[EnrollmentStepOut]
