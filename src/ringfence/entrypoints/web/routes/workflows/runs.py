"""Automation → Workflows → a workflow's runs: its latest enrollments, each with the steps it
ran, and each webhook step with how its delivery went (delivered with the receiver's status,
or failed and why, and whether it will be retried: `services/workflows/run_log.py`)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import select

from ringfence.adapters.db.orm import Location
from ringfence.adapters.db.workflows import Enrollment
from ringfence.entrypoints.deps import Uow
from ringfence.entrypoints.web.deps import SignedIn, Web
from ringfence.entrypoints.web.routes.workflows.editor_state import WorkflowId, not_found, owned
from ringfence.entrypoints.web.routes.workflows.views import editor_path, list_path
from ringfence.services.workflows.run_log import step_lines

router = APIRouter()
# The newest runs; older ones are in the API (`GET /api/v1/workflows/{id}/enrollments`).
SHOWN = 50


@router.get("/app/workflows/{workflow_id}/runs", name="workflow_runs")
def runs_page(
    request: Request, web: Web, viewer: SignedIn, uow: Uow, workflow_id: WorkflowId
) -> Response:
    workflow = owned(uow, viewer, workflow_id)
    if workflow is None:
        return not_found(request, web, viewer)
    session, account_id = uow.session, viewer.scope.account_id
    location = session.get(Location, workflow.location_id)
    enrollments = session.scalars(
        select(Enrollment)
        .where(Enrollment.account_id == account_id, Enrollment.workflow_id == workflow.id)
        .order_by(Enrollment.id.desc())
        .limit(SHOWN)
    ).all()
    lines = step_lines(session, account_id, [e.id for e in enrollments])
    context: dict[str, Any] = {
        "workflow": workflow,
        "tz": location.time_zone if location is not None else "UTC",
        "editor_path": editor_path(workflow.id),
        "list_path": list_path(workflow.location_id),
        "runs": [(e, lines.get(e.id, [])) for e in enrollments],
        "shown": SHOWN,
    }
    return web.pages.render(request, "workflows/runs.html", viewer=viewer, context=context)
