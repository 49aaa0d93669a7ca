"""Saving the editor's forms: a step added, edited or deleted, the name, the trigger, the
audience. Each is one `lifecycle.edit_draft` call with the whole edited definition, as the
API's PATCH makes it; when it refuses, the editor comes back (422) with the form as typed and
the error next to the field it names, and nothing is saved. A form made for an older version
of the draft (edited elsewhere meanwhile) saves nothing.
"""

from __future__ import annotations

import copy
from typing import Annotated, Any, Final

from fastapi import APIRouter, Path, Request, status
from fastapi.responses import Response

from ringfence.adapters.db.workflows import Workflow
from ringfence.entrypoints.deps import (
    Uow,
)
from ringfence.entrypoints.web.deps import SignedIn, Web
from ringfence.entrypoints.web.flash import Flash, FlashLevel
from ringfence.entrypoints.web.pages import Viewer
from ringfence.entrypoints.web.routes.workflows.editor_state import (
    EDITOR,
    SectionForm,
    StepForm,
    WorkflowId,
    dynamic_choices,
    editor_of,
    not_found,
    owned,
    redirect,
    render_editor,
    revision_of,
)
from ringfence.entrypoints.web.routes.workflows.form_errors import form_errors, where
from ringfence.entrypoints.web.routes.workflows.section_forms import (
    AUDIENCE_FIELDS,
    TRIGGER_FIELDS,
    audience_data,
    trigger_data,
)
from ringfence.entrypoints.web.routes.workflows.step_forms import (
    ACTIONS_BY_TYPE,
    FormField,
    Posted,
    Submitted,
    bind_choices,
    step_data,
)
from ringfence.entrypoints.web.routes.workflows.views import editor_path
from ringfence.services.errors import InvalidField
from ringfence.services.unit_of_work import UnitOfWork
from ringfence.services.workflows import lifecycle

router = APIRouter()
StepIndex = Annotated[int, Path(ge=0, le=1000)]
_NAME_MAX: Final = 200


def _save(
    uow: UnitOfWork,
    viewer: Viewer,
    workflow: Workflow,
    definition: dict[str, Any] | None,
    name: str | None = None,
) -> None:
    lifecycle.edit_draft(
        uow=uow, scope=viewer.scope, workflow_id=workflow.id, name=name, definition=definition
    )


def _stale(request: Request, web: Web, workflow: Workflow, form: Submitted) -> Response | None:
    """The form was made for another version of the draft (edited elsewhere meanwhile)."""
    if form.get("revision") == revision_of(workflow.definition):
        return None
    return redirect(
        request,
        web,
        editor_path(workflow.id),
        Flash(
            FlashLevel.ERROR,
            "This workflow was changed elsewhere after the form was opened, so nothing was "
            "saved. Here it is as it is now.",
        ),
    )


def _draft(workflow: Workflow) -> dict[str, Any]:
    draft: dict[str, Any] = copy.deepcopy(workflow.definition)
    return draft


def _saved(request: Request, web: Web, workflow_id: int, text: str, anchor: str) -> Response:
    return redirect(
        request, web, f"{editor_path(workflow_id)}#{anchor}", Flash(FlashLevel.SUCCESS, text)
    )


@router.post(f"{EDITOR}/steps")
def insert_step(
    request: Request, web: Web, viewer: SignedIn, uow: Uow, workflow_id: WorkflowId, form: Posted
) -> Response:
    """A new step at position `at` (0: before the first)."""
    workflow = owned(uow, viewer, workflow_id)
    if workflow is None:
        return not_found(request, web, viewer)
    raw_at = form.get("at")
    at = int(raw_at) if raw_at.isdecimal() else -1
    return _save_step(request, web, viewer, uow, workflow, form, at=at, index=None)


@router.post(f"{EDITOR}/steps/{{index}}")
def replace_step(
    request: Request,
    web: Web,
    viewer: SignedIn,
    uow: Uow,
    workflow_id: WorkflowId,
    index: StepIndex,
    form: Posted,
) -> Response:
    workflow = owned(uow, viewer, workflow_id)
    if workflow is None:
        return not_found(request, web, viewer)
    return _save_step(request, web, viewer, uow, workflow, form, at=None, index=index)


def _save_step(
    request: Request,
    web: Web,
    viewer: Viewer,
    uow: UnitOfWork,
    workflow: Workflow,
    form: Submitted,
    *,
    at: int | None,
    index: int | None,
) -> Response:
    stale = _stale(request, web, workflow, form)
    if stale is not None:
        return stale
    action = ACTIONS_BY_TYPE.get(form.get("type"))
    draft = _draft(workflow)
    steps: list[Any] = list(draft.get("steps", []))
    position = at if at is not None else index
    in_range = position is not None and 0 <= position <= len(steps) - (at is None)
    if action is None or position is None or not in_range:
        return redirect(
            request,
            web,
            editor_path(workflow.id),
            Flash(FlashLevel.ERROR, "That step form is out of date: nothing was saved."),
        )
    data = step_data(action, form)
    if at is not None:
        steps.insert(position, data)
    else:
        steps[position] = data
    draft["steps"] = steps
    try:
        _save(uow, viewer, workflow, draft)
    except InvalidField as exc:
        editor = editor_of(uow, viewer, workflow)
        fields = bind_choices(action.fields, dynamic_choices(editor.resources))
        step_form = StepForm(
            action=action,
            fields=fields,
            values={f.name: form.get(f.name) for f in fields},
            errors=form_errors(exc, prefix=f"definition.steps[{position}]", fields=fields),
            at=at,
            index=index,
        )
        return render_editor(
            request,
            web,
            viewer,
            editor,
            step_form=step_form,
            status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
        )
    verb = "added" if at is not None else "saved"
    return _saved(
        request, web, workflow.id, f"Step {position + 1} {verb}: {action.name}.", f"step-{position}"
    )


@router.post(f"{EDITOR}/steps/{{index}}/delete")
def delete_step(
    request: Request,
    web: Web,
    viewer: SignedIn,
    uow: Uow,
    workflow_id: WorkflowId,
    index: StepIndex,
    form: Posted,
) -> Response:
    workflow = owned(uow, viewer, workflow_id)
    if workflow is None:
        return not_found(request, web, viewer)
    stale = _stale(request, web, workflow, form)
    if stale is not None:
        return stale
    draft = _draft(workflow)
    steps: list[Any] = list(draft.get("steps", []))
    if index >= len(steps):
        return not_found(request, web, viewer)
    del steps[index]
    draft["steps"] = steps
    try:
        _save(uow, viewer, workflow, draft)
    except InvalidField as exc:
        return redirect(
            request,
            web,
            f"{editor_path(workflow.id)}#step-{index}",
            Flash(
                FlashLevel.ERROR,
                f"Step {index + 1} was not deleted: without it, {where(exc.field)}: {exc.message}.",
            ),
        )
    return _saved(request, web, workflow.id, f"Step {index + 1} deleted.", "flow")


@router.post(f"{EDITOR}/name")
def rename(
    request: Request, web: Web, viewer: SignedIn, uow: Uow, workflow_id: WorkflowId, form: Posted
) -> Response:
    workflow = owned(uow, viewer, workflow_id)
    if workflow is None:
        return not_found(request, web, viewer)
    name = form.get("name").strip()
    # What the API's `Name` type enforces on the same field.
    error = None if name else "Name is required"
    if len(name) > _NAME_MAX:
        error = f"Name: at most {_NAME_MAX} characters"
    if error is not None:
        return render_editor(
            request,
            web,
            viewer,
            editor_of(uow, viewer, workflow),
            name_error=error,
            name_value=form.get("name"),
            status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
        )
    _save(uow, viewer, workflow, None, name=name)
    return _saved(request, web, workflow.id, f"Renamed to “{name}”.", "main")


@router.post(f"{EDITOR}/trigger")
def save_trigger(
    request: Request, web: Web, viewer: SignedIn, uow: Uow, workflow_id: WorkflowId, form: Posted
) -> Response:
    return _save_section(request, web, viewer, uow, workflow_id, "trigger", form)


@router.post(f"{EDITOR}/audience")
def save_audience(
    request: Request, web: Web, viewer: SignedIn, uow: Uow, workflow_id: WorkflowId, form: Posted
) -> Response:
    """The audience filters, with test mode."""
    return _save_section(request, web, viewer, uow, workflow_id, "audience", form)


def _save_section(
    request: Request,
    web: Web,
    viewer: Viewer,
    uow: UnitOfWork,
    workflow_id: int,
    section: str,
    form: Submitted,
) -> Response:
    workflow = owned(uow, viewer, workflow_id)
    if workflow is None:
        return not_found(request, web, viewer)
    stale = _stale(request, web, workflow, form)
    if stale is not None:
        return stale
    draft = _draft(workflow)
    fields: tuple[FormField, ...]
    if section == "trigger":
        draft["trigger"] = trigger_data(form)
        fields = TRIGGER_FIELDS
    else:
        draft["audience"], draft["test_mode"] = audience_data(form)
        fields = AUDIENCE_FIELDS
    try:
        _save(uow, viewer, workflow, draft)
    except InvalidField as exc:
        section_form = SectionForm(
            section=section,
            fields=fields,
            values={f.name: form.get(f.name) for f in fields},
            checked=form.getall("appointment_statuses"),
            errors=form_errors(exc, prefix=f"definition.{section}", fields=fields),
        )
        return render_editor(
            request,
            web,
            viewer,
            editor_of(uow, viewer, workflow),
            section_form=section_form,
            status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
        )
    return _saved(request, web, workflow.id, f"The {section} was saved.", section)
