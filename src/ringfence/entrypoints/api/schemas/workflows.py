"""Workflow, event and enrollment schemas. A workflow's `definition` is validated by the
service (domain/workflows/definition.py), so the API and the web editor report the same
field-named errors; its shape is documented in docs/workflows.md."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any, TypeVar

from pydantic import AwareDatetime, BaseModel, Field

from ringfence.domain.compliance import REASONS, WARNINGS, ReasonCode, ReasonInfo, WarningCode
from ringfence.domain.vocabulary import CallPurpose
from ringfence.domain.workflows.definition import TriggerKind
from ringfence.domain.workflows.states import EnrollmentState, WorkflowStatus
from ringfence.entrypoints.api.schemas.common import Body, Id, ListQuery, Name, Out
from ringfence.services.workflows.forecast import WorkflowForecast

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


class EnrollmentStepOut(Out):
    path: str
    step_type: str
    result: str
    detail: str
    at: datetime


class EnrollmentDetailOut(EnrollmentOut):
    steps: list[EnrollmentStepOut]


class ReasonCountOut(BaseModel):
    code: str = Field(description="The reason code (warning code for warnings)")
    text: str
    count: int


class NotReachedOut(BaseModel):
    reason: str
    count: int


class ScheduleDayOut(BaseModel):
    day: date = Field(description="The location's local calendar day")
    dials: int


class ForecastOut(BaseModel):
    """What the dispatcher would do with the workflow's calls if its audience enrolled now."""

    workflow_id: int
    as_of: datetime
    call_step: str | None = Field(description="The first Voice AI call step (null: none)")
    purpose: CallPurpose | None
    audience: int = Field(description="Contacts the draft's audience filters admit now")
    calls: int = Field(description="Audience contacts whose path reaches the call step")
    not_reached: list[NotReachedOut] = Field(
        description="Audience contacts whose path ends before the call step, by reason"
    )
    called: int = Field(description="Calls that would dial within the horizon")
    deferred: list[ReasonCountOut] = Field(
        description="Calls deferred at least once, by the reason of their first deferral (they "
        "may still dial later; waiting for the location's next one-minute slot is 'queued', "
        "not deferred)"
    )
    failed: list[ReasonCountOut] = Field(description="Calls that would fail, by reason")
    pending_at_horizon: int = Field(description="Calls neither dialed nor failed by the horizon")
    schedule: list[ScheduleDayOut] = Field(description="Expected dials per location-local day")
    fourteen_day_limit: int = Field(
        description="Calls to numbers whose dials in the last 14 days, plus their queued or "
        "deferred calls from any workflow, plus this call, exceed 4"
    )
    warnings: list[ReasonCountOut] = Field(description="Calls per risk warning (never blocking)")
    competing_jobs: int = Field(
        description="Calls already queued or deferred at the location, simulated first"
    )
    first_dial_at: datetime | None
    last_dial_at: datetime | None
    horizon_end: datetime

    @classmethod
    def build(cls, found: WorkflowForecast) -> ForecastOut:
        result = found.result
        return cls(
            workflow_id=found.workflow_id,
            as_of=found.as_of,
            call_step=found.call_step,
            purpose=found.purpose,
            audience=found.audience,
            calls=found.calls,
            not_reached=[
                NotReachedOut(reason=reason, count=count)
                for reason, count in sorted(found.not_reached.items(), key=_most_first)
            ],
            called=result.called,
            deferred=_counts(result.deferred, REASONS),
            failed=_counts(result.failed, REASONS),
            pending_at_horizon=result.pending,
            schedule=[ScheduleDayOut(day=day, dials=dials) for day, dials in result.schedule],
            fourteen_day_limit=found.fourteen_day_limit,
            warnings=_counts(result.warnings, WARNINGS),
            competing_jobs=found.competing_jobs,
            first_dial_at=result.first_dial_at,
            last_dial_at=result.last_dial_at,
            horizon_end=result.horizon_end,
        )


def _most_first(item: tuple[str, int]) -> tuple[int, str]:
    return -item[1], item[0]


CodeT = TypeVar("CodeT", ReasonCode, WarningCode)


def _counts(counts: Mapping[CodeT, int], info: Mapping[CodeT, ReasonInfo]) -> list[ReasonCountOut]:
    """Most frequent first, then by code, each with its sentence."""
    return [
        ReasonCountOut(code=code.value, text=info[code].sentence, count=count)
        for code, count in sorted(counts.items(), key=lambda item: (-item[1], item[0].value))
    ]
