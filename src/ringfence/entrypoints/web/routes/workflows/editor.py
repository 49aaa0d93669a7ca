"""The workflow editor: the trigger, the audience and the steps as a vertical flow, a "+"
between steps that opens the action picker, a form per action, and the forecast panel.

Plain pages that work without JavaScript (the query opens what htmx would load into the page);
htmx loads the picker, a step's form and the forecast in place. Saving is saves.py.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from ringfence.entrypoints.deps import (
    ContainerDep,
    Uow,
)
from ringfence.entrypoints.web.deps import SignedIn, Web
from ringfence.entrypoints.web.routes.workflows.editor_state import (
    EDITOR,
    SECTIONS,
    Picker,
    StepForm,
    WorkflowId,
    edit_step_form,
    editor_of,
    new_step_form,
    not_found,
    owned,
    render_editor,
    render_fragment,
    section_form_of,
)
from ringfence.entrypoints.web.routes.workflows.step_forms import ACTIONS_BY_TYPE, find_actions
from ringfence.entrypoints.web.routes.workflows.views import forecast_view
from ringfence.services.workflows import forecast as forecasting
from ringfence.services.workflows import lifecycle

router = APIRouter()
Position = Annotated[int | None, Query(ge=0, le=1000)]


# --- the page and its pieces ------------------------------------------------------------------


@router.get(EDITOR, name="workflow_editor")
def editor_page(
    request: Request,
    web: Web,
    viewer: SignedIn,
    uow: Uow,
    workflow_id: WorkflowId,
    at: Position = None,
    q: Annotated[str, Query(max_length=100)] = "",
    kind: Annotated[str, Query(alias="type", max_length=40)] = "",
    step: Position = None,
    section: Annotated[str, Query(max_length=20)] = "",
) -> Response:
    """The editor; without JavaScript the query opens the picker (`at`, `q`), a new step's
    form (`at`, `type`), a step's form (`step`) or the trigger/audience form (`section`)."""
    workflow = owned(uow, viewer, workflow_id)
    if workflow is None:
        return not_found(request, web, viewer)
    editor = editor_of(uow, viewer, workflow)
    picker: Picker | None = None
    step_form: StepForm | None = None
    if at is not None and at in editor.positions:
        action = ACTIONS_BY_TYPE.get(kind)
        if action is not None:
            step_form = new_step_form(action, at, editor.resources)
        else:
            picker = Picker(at, q, find_actions(q))
    elif step is not None:
        step_form = edit_step_form(workflow, step, editor.resources)
    section_form = section_form_of(workflow, section) if section in SECTIONS else None
    return render_editor(
        request,
        web,
        viewer,
        editor,
        picker=picker,
        step_form=step_form,
        section_form=section_form,
    )


@router.get(f"{EDITOR}/picker")
def picker_fragment(
    request: Request,
    web: Web,
    viewer: SignedIn,
    uow: Uow,
    workflow_id: WorkflowId,
    at: Annotated[int, Query(ge=0, le=1000)],
    q: Annotated[str, Query(max_length=100)] = "",
    results: bool = False,
) -> Response:
    """The action picker for the "+" at `at` (htmx); `results=true`: only its filtered list,
    as the search box asks for while typing."""
    workflow = owned(uow, viewer, workflow_id)
    if workflow is None:
        return not_found(request, web, viewer)
    editor = editor_of(uow, viewer, workflow)
    picker = Picker(at, q, find_actions(q))
    name = "_picker_results.html" if results else "_picker.html"
    return render_fragment(request, web, viewer, name, {"editor": editor, "picker": picker})


@router.get(f"{EDITOR}/step-form")
def step_form_fragment(
    request: Request,
    web: Web,
    viewer: SignedIn,
    uow: Uow,
    workflow_id: WorkflowId,
    at: Position = None,
    kind: Annotated[str, Query(alias="type", max_length=40)] = "",
    step: Position = None,
) -> Response:
    """A new step's form (`at` and `type`) or a saved step's (`step`), for htmx."""
    workflow = owned(uow, viewer, workflow_id)
    if workflow is None:
        return not_found(request, web, viewer)
    editor = editor_of(uow, viewer, workflow)
    action = ACTIONS_BY_TYPE.get(kind)
    form: StepForm | None = None
    if at is not None and action is not None:
        form = new_step_form(action, at, editor.resources)
    elif step is not None:
        form = edit_step_form(workflow, step, editor.resources)
    if form is None:
        return not_found(request, web, viewer)
    return render_fragment(
        request, web, viewer, "_step_form.html", {"editor": editor, "form": form}
    )


@router.get(f"{EDITOR}/section-form")
def section_form_fragment(
    request: Request,
    web: Web,
    viewer: SignedIn,
    uow: Uow,
    workflow_id: WorkflowId,
    section: Annotated[str, Query(max_length=20)],
) -> Response:
    workflow = owned(uow, viewer, workflow_id)
    if workflow is None or section not in SECTIONS:
        return not_found(request, web, viewer)
    editor = editor_of(uow, viewer, workflow)
    form = section_form_of(workflow, section)
    return render_fragment(
        request, web, viewer, "_section_form.html", {"editor": editor, "form": form}
    )


@router.post(f"{EDITOR}/forecast")
def run_forecast(
    request: Request,
    web: Web,
    viewer: SignedIn,
    uow: Uow,
    container: ContainerDep,
    workflow_id: WorkflowId,
) -> Response:
    """The pre-flight forecast of the draft as saved, as the API's: dials and enrolls nobody.
    For htmx the panel alone, otherwise the editor with it."""
    workflow = owned(uow, viewer, workflow_id)
    if workflow is None:
        return not_found(request, web, viewer)
    found = lifecycle.forecast(
        uow=uow,
        scope=viewer.scope,
        workflow_id=workflow.id,
        cadence=forecasting.dispatch_cadence(container.settings.dispatch_interval),
    )
    editor = editor_of(uow, viewer, workflow)
    forecast = forecast_view(found, editor.location.time_zone)
    if request.headers.get("HX-Request") == "true":
        return render_fragment(
            request, web, viewer, "_forecast.html", {"editor": editor, "forecast": forecast}
        )
    return render_editor(request, web, viewer, editor, forecast=forecast)
