"""The workflow editor's state and rendering, shared by its pages (editor.py) and its
saves (saves.py): the editor's view of a workflow, which picker or form is open, and
the page helpers of the Workflows routes."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Final

from fastapi import Path, Request, status
from fastapi.responses import RedirectResponse, Response

from ringfence.adapters.db.workflows import Workflow
from ringfence.domain.workflows.states import WorkflowStatus
from ringfence.entrypoints.web.deps import Web
from ringfence.entrypoints.web.flash import Flash
from ringfence.entrypoints.web.pages import Viewer
from ringfence.entrypoints.web.routes.workflows.form_errors import NO_ERRORS, FormErrors
from ringfence.entrypoints.web.routes.workflows.section_forms import (
    AUDIENCE_FIELDS,
    TRIGGER_FIELDS,
    audience_checked,
    audience_values,
)
from ringfence.entrypoints.web.routes.workflows.step_forms import (
    ACTIONS,
    ACTIONS_BY_TYPE,
    AGENT_FIELD,
    NUMBER_FIELD,
    Action,
    FormField,
    bind_choices,
    default_values,
    step_values,
    text_of,
)
from ringfence.entrypoints.web.routes.workflows.views import (
    LIST_PATH,
    ForecastView,
    LocationView,
    Resources,
    StepCard,
    audience_lines,
    editor_path,
    insert_positions,
    location_view,
    resources_at,
    step_cards,
    trigger_text,
)
from ringfence.services.errors import NotFound
from ringfence.services.tenancy import get_owned
from ringfence.services.unit_of_work import UnitOfWork
from ringfence.services.workflows import manage

WorkflowId = Annotated[int, Path(ge=1, le=2**31 - 1)]
EDITOR: Final = f"{LIST_PATH}/{{workflow_id}}"
SECTIONS: Final = ("trigger", "audience")


# --- what the editor shows ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Editor:
    workflow_id: int
    name: str
    published: bool
    unpublished_changes: bool
    location: LocationView
    revision: str  # the draft's fingerprint: a form saved over a changed draft is refused
    trigger: str
    audience: tuple[str, ...]
    cards: tuple[StepCard, ...]
    positions: frozenset[int]
    resources: Resources

    @property
    def path(self) -> str:
        return editor_path(self.workflow_id)

    @property
    def missing(self) -> tuple[str, ...]:
        return self.resources.missing(self.location)


@dataclass(frozen=True, slots=True)
class Picker:
    at: int
    query: str
    actions: tuple[Action, ...]


@dataclass(frozen=True, slots=True)
class StepForm:
    """A step's form: a new step at `at`, or the step at `index` edited."""

    action: Action
    fields: tuple[FormField, ...]
    values: Mapping[str, str]
    errors: FormErrors
    at: int | None = None
    index: int | None = None

    @property
    def position(self) -> int:
        return self.at if self.at is not None else self.index or 0


@dataclass(frozen=True, slots=True)
class SectionForm:
    """The trigger's or the audience's form."""

    section: str
    fields: tuple[FormField, ...]
    values: Mapping[str, str]
    checked: tuple[str, ...]
    errors: FormErrors


def revision_of(definition: Mapping[str, Any]) -> str:
    return hashlib.sha256(json.dumps(definition, sort_keys=True).encode()).hexdigest()[:16]


def editor_of(uow: UnitOfWork, viewer: Viewer, workflow: Workflow) -> Editor:
    definition = manage.definition_of_draft(workflow)
    location = location_view(uow.session, workflow.location_id)
    resources = resources_at(
        uow.session, account_id=viewer.scope.account_id, location_id=workflow.location_id
    )
    return Editor(
        workflow_id=workflow.id,
        name=workflow.name,
        published=workflow.status is WorkflowStatus.PUBLISHED,
        unpublished_changes=manage.has_unpublished_changes(uow.session, workflow),
        location=location,
        revision=revision_of(workflow.definition),
        trigger=trigger_text(definition.trigger),
        audience=audience_lines(definition),
        cards=step_cards(definition, resources),
        positions=insert_positions(definition),
        resources=resources,
    )


def dynamic_choices(resources: Resources) -> dict[str, Any]:
    return {AGENT_FIELD: resources.agents, NUMBER_FIELD: resources.numbers}


def new_step_form(action: Action, at: int, resources: Resources) -> StepForm:
    return StepForm(
        action=action,
        fields=bind_choices(action.fields, dynamic_choices(resources)),
        values=default_values(action),
        errors=NO_ERRORS,
        at=at,
    )


def edit_step_form(workflow: Workflow, index: int, resources: Resources) -> StepForm | None:
    steps = workflow.definition.get("steps", [])
    if index >= len(steps):
        return None
    action = ACTIONS_BY_TYPE.get(steps[index].get("type", ""))
    if action is None:
        return None  # shown read-only
    return StepForm(
        action=action,
        fields=bind_choices(action.fields, dynamic_choices(resources)),
        values=step_values(steps[index]),
        errors=NO_ERRORS,
        index=index,
    )


def section_form_of(workflow: Workflow, section: str) -> SectionForm:
    definition = workflow.definition
    if section == "trigger":
        values = {name: text_of(value) for name, value in definition["trigger"].items()}
        return SectionForm(section, TRIGGER_FIELDS, values, (), NO_ERRORS)
    audience = definition.get("audience", {})
    return SectionForm(
        section,
        AUDIENCE_FIELDS,
        audience_values(audience, bool(definition.get("test_mode"))),
        audience_checked(audience),
        NO_ERRORS,
    )


def render_editor(
    request: Request,
    web: Web,
    viewer: Viewer,
    editor: Editor,
    *,
    picker: Picker | None = None,
    step_form: StepForm | None = None,
    section_form: SectionForm | None = None,
    name_error: str | None = None,
    name_value: str | None = None,
    forecast: ForecastView | None = None,
    status_code: int = status.HTTP_200_OK,
) -> Response:
    return web.pages.render(
        request,
        "workflows_editor.html",
        viewer=viewer,
        context={
            "editor": editor,
            "picker": picker,
            "step_form": step_form,
            "section_form": section_form,
            "name_error": name_error,
            "name_value": editor.name if name_value is None else name_value,
            "forecast": forecast,
            "all_actions": ACTIONS,
        },
        status_code=status_code,
    )


def render_fragment(
    request: Request, web: Web, viewer: Viewer, name: str, context: dict[str, Any]
) -> Response:
    return web.pages.render(request, f"workflows/{name}", viewer=viewer, context=context)


def owned(uow: UnitOfWork, viewer: Viewer, workflow_id: int) -> Workflow | None:
    try:
        return get_owned(uow.session, Workflow, workflow_id, viewer.scope)
    except NotFound:
        return None


def not_found(request: Request, web: Web, viewer: Viewer, what: str = "That workflow") -> Response:
    return web.pages.not_found(request, viewer=viewer, what=what)


def redirect(request: Request, web: Web, target: str, flash: Flash | None = None) -> Response:
    response = RedirectResponse(target, status_code=status.HTTP_303_SEE_OTHER)
    if flash is not None:
        web.flashes.add(request, response, flash)
    return response
