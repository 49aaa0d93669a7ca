"""Workflows over the API: the only way Ringfence places calls. Create (or start from a
template), edit the draft, publish, unpublish, follow enrollments, and send trigger events."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response, status
from fastapi.responses import JSONResponse
from sqlalchemy import ColumnElement

from ringfence.adapters.db.workflows import Enrollment, Workflow
from ringfence.domain.workflows.states import WorkflowStatus
from ringfence.entrypoints.api.crud import list_page
from ringfence.entrypoints.api.deps import (
    Scope,
)
from ringfence.entrypoints.api.schemas.common import Page
from ringfence.entrypoints.api.schemas.workflows import (
    EnrollmentDetailOut,
    EnrollmentOut,
    EnrollmentQuery,
    EnrollmentStepOut,
    EventIn,
    EventOut,
    PublishBody,
    PublishedOut,
    SkippedOut,
    TemplateOut,
    UnpublishedOut,
    WorkflowCreate,
    WorkflowFromTemplate,
    WorkflowOut,
    WorkflowQuery,
    WorkflowUpdate,
)
from ringfence.entrypoints.deps import (
    ContainerDep,
    Uow,
    container_of,
)
from ringfence.entrypoints.forecast import ForecastOut
from ringfence.services.errors import InvalidField
from ringfence.services.tenancy import get_owned
from ringfence.services.workflows import forecast as forecasting
from ringfence.services.workflows import lifecycle, manage
from ringfence.services.workflows.events import TriggerEvent, receive
from ringfence.services.workflows.run_log import step_lines
from ringfence.services.workflows.templates import BY_KEY, TEMPLATES
from ringfence.services.workflows.webhook_secrets import hide_secrets

router = APIRouter(tags=["workflows"])
# `POST /events` alone, included before every other API router: FastAPI tries an app's routes
# in order, each included router's whole list, and this busiest route came after about a
# hundred others (docs/operations.md, "Event ingestion"). No other route matches its path.
events_router = APIRouter(tags=["workflows"])
RowId = Annotated[int, Path(ge=1, le=2**31 - 1)]


def _out(uow: Uow, workflow: Workflow) -> WorkflowOut:
    out = WorkflowOut.model_validate(workflow)
    out.definition = hide_secrets(out.definition)
    out.has_unpublished_changes = manage.has_unpublished_changes(uow.session, workflow)
    return out


@router.get("/workflows", response_model=Page[WorkflowOut], summary="List workflows")
def list_workflows(uow: Uow, scope: Scope, query: Annotated[WorkflowQuery, Query()]) -> Any:
    clauses: list[ColumnElement[bool]] = []
    if query.status is not None:
        clauses.append(Workflow.status == query.status)
    if query.location_id is not None:
        clauses.append(Workflow.location_id == query.location_id)
    rows, next_cursor = list_page(uow.session, Workflow, scope, clauses, query)
    return {"items": [_out(uow, row) for row in rows], "next_cursor": next_cursor}


@router.post(
    "/workflows", response_model=WorkflowOut, status_code=201, summary="Create a draft workflow"
)
def create_workflow(uow: Uow, scope: Scope, body: WorkflowCreate) -> WorkflowOut:
    """Saved as a draft: the definition is validated in full (a missing Action Name, AI Agent
    or From Phone Number is a 422 naming the step's field); drafts never enroll or dial."""
    workflow = lifecycle.create_draft(
        uow=uow,
        scope=scope,
        name=body.name,
        location_id=body.location_id,
        definition=body.definition,
    )
    return _out(uow, workflow)


@router.get("/workflow-templates", response_model=list[TemplateOut], summary="Workflow templates")
def list_templates() -> list[TemplateOut]:
    """Ready-made workflows for the five use cases."""
    return [TemplateOut.model_validate(t, from_attributes=True) for t in TEMPLATES]


@router.post(
    "/workflows/from-template",
    response_model=WorkflowOut,
    status_code=201,
    summary="Create a draft workflow from a template",
)
def create_from_template(uow: Uow, scope: Scope, body: WorkflowFromTemplate) -> WorkflowOut:
    template = BY_KEY.get(body.template)
    if template is None:
        raise InvalidField("template", f"unknown template; one of {', '.join(BY_KEY)}")
    workflow = lifecycle.create_draft_from_template(
        uow=uow,
        scope=scope,
        template=template,
        name=body.name or "",
        location_id=body.location_id,
        agent_id=body.agent_id,
        from_number_id=body.from_number_id,
    )
    return _out(uow, workflow)


@router.get("/workflows/{workflow_id}", response_model=WorkflowOut, summary="Read a workflow")
def read_workflow(uow: Uow, scope: Scope, workflow_id: RowId) -> WorkflowOut:
    return _out(uow, get_owned(uow.session, Workflow, workflow_id, scope))


@router.patch("/workflows/{workflow_id}", response_model=WorkflowOut, summary="Edit the draft")
def update_workflow(uow: Uow, scope: Scope, workflow_id: RowId, body: WorkflowUpdate) -> Any:
    """A published workflow keeps running its published version until published again."""
    workflow = lifecycle.edit_draft(
        uow=uow, scope=scope, workflow_id=workflow_id, name=body.name, definition=body.definition
    )
    return _out(uow, workflow)


@router.delete("/workflows/{workflow_id}", status_code=204, summary="Delete a draft workflow")
def delete_workflow(uow: Uow, scope: Scope, workflow_id: RowId) -> Response:
    lifecycle.delete_draft(uow=uow, scope=scope, workflow_id=workflow_id)
    return Response(status_code=204)


@router.post(
    "/workflows/{workflow_id}/publish",
    response_model=PublishedOut,
    summary="Publish (Draft → Publish)",
    responses={409: {"description": "The audience exceeds 200: confirm it"}},
)
def publish_workflow(
    uow: Uow, scope: Scope, workflow_id: RowId, body: PublishBody | None = None
) -> Any:
    """Validates the draft again and makes it the running version. An audience above 200
    contacts needs `confirm_audience` (409 with the audience size otherwise; run the forecast
    first)."""
    try:
        published = lifecycle.publish(
            uow=uow,
            scope=scope,
            workflow_id=workflow_id,
            confirm_audience=body.confirm_audience if body else None,
        )
    except manage.ConfirmationRequired as exc:
        return JSONResponse(
            {"detail": str(exc), "audience": exc.audience, "confirm": "confirm_audience"},
            status_code=status.HTTP_409_CONFLICT,
        )
    return PublishedOut(
        status=WorkflowStatus.PUBLISHED, version=published.version, audience=published.audience
    )


@router.post(
    "/workflows/{workflow_id}/forecast",
    response_model=ForecastOut,
    summary="Forecast the calls (dials and enrolls nobody)",
)
def forecast_workflow(
    uow: Uow, scope: Scope, container: ContainerDep, workflow_id: RowId
) -> ForecastOut:
    """Runs the draft's audience, as it is now, through the compliance engine and the
    dispatcher's pacing (1 call a minute, 100 a day per location, overflow to the next day,
    per-number caps), after the calls already waiting at the location, for up to 30 days: how
    many would be called, deferred or failed (by reason), the day-by-day dial schedule, the
    calls that would pass the 4-in-14-days limit and the risk warnings. Changes nothing."""
    found = lifecycle.forecast(
        uow=uow,
        scope=scope,
        workflow_id=workflow_id,
        cadence=forecasting.dispatch_cadence(container.settings.dispatch_interval),
    )
    return ForecastOut.build(found)


@router.post(
    "/workflows/{workflow_id}/unpublish",
    response_model=UnpublishedOut,
    summary="Unpublish (back to Draft)",
)
def unpublish_workflow(uow: Uow, scope: Scope, workflow_id: RowId) -> UnpublishedOut:
    """Stops the workflow: open enrollments exit and its queued and deferred calls are
    canceled (calls already ringing finish)."""
    canceled = lifecycle.unpublish(uow=uow, scope=scope, workflow_id=workflow_id)
    return UnpublishedOut(status=WorkflowStatus.DRAFT, calls_canceled=canceled)


@router.get(
    "/workflows/{workflow_id}/enrollments",
    response_model=Page[EnrollmentOut],
    summary="A workflow's enrollments",
)
def list_enrollments(
    uow: Uow, scope: Scope, workflow_id: RowId, query: Annotated[EnrollmentQuery, Query()]
) -> Any:
    get_owned(uow.session, Workflow, workflow_id, scope)
    clauses: list[ColumnElement[bool]] = [Enrollment.workflow_id == workflow_id]
    if query.state is not None:
        clauses.append(Enrollment.state == query.state)
    if query.contact_id is not None:
        clauses.append(Enrollment.contact_id == query.contact_id)
    rows, next_cursor = list_page(uow.session, Enrollment, scope, clauses, query)
    return {"items": [EnrollmentOut.model_validate(r) for r in rows], "next_cursor": next_cursor}


@router.get(
    "/workflow-enrollments/{enrollment_id}",
    response_model=EnrollmentDetailOut,
    summary="One enrollment with every step it ran",
)
def read_enrollment(uow: Uow, scope: Scope, enrollment_id: RowId) -> EnrollmentDetailOut:
    enrollment = get_owned(uow.session, Enrollment, enrollment_id, scope)
    # Webhook steps carry their delivery's outcome (delivered, or failed and why).
    steps = step_lines(uow.session, enrollment.account_id, [enrollment.id]).get(enrollment.id, [])
    out = EnrollmentDetailOut.model_validate(
        {
            **EnrollmentOut.model_validate(enrollment).model_dump(),
            "steps": [EnrollmentStepOut.model_validate(s) for s in steps],
        }
    )
    return out


@events_router.post(
    "/events",
    response_model=EventOut,
    status_code=201,
    summary="Send a trigger event",
    responses={200: {"description": "A redelivery: the first delivery's result"}},
)
def post_event(request: Request, scope: Scope, body: EventIn) -> Response:
    """Enrolls the contact in every published workflow of their location whose trigger
    matches and whose audience admits them. Idempotent by `event_id`."""
    # The API's busiest route (docs/operations.md, "Event ingestion"): its unit of work is
    # opened here, not taken as a dependency (a generator dependency costs two more trips
    # through the thread pool), the container comes from the request (one sub-dependency less
    # for FastAPI to solve) and its answer is serialised once, here.
    with container_of(request).uow() as uow:
        result = receive(
            uow=uow,
            scope=scope,
            event=TriggerEvent(
                external_id=body.event_id,
                kind=body.type,
                contact_id=body.contact_id,
                occurred_at=body.occurred_at,
                appointment_id=body.appointment_id,
                opportunity_id=body.opportunity_id,
                tag=body.tag,
                stage=body.stage,
                form_id=body.form_id,
                name=body.name,
            ),
        )
    out = EventOut(
        event_id=body.event_id,
        duplicate=result.duplicate,
        enrollment_ids=list(result.enrollment_ids),
        skipped=[
            SkippedOut(workflow_id=s.workflow_id, reasons=list(s.reasons)) for s in result.skipped
        ],
    )
    return Response(
        out.model_dump_json(),
        status_code=status.HTTP_200_OK if result.duplicate else status.HTTP_201_CREATED,
        media_type="application/json",
    )
