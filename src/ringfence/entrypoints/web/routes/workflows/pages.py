"""Automation → Workflows: the location's workflows with their Draft/Published switch, and a
new workflow from blank or from one of the five templates. The editor is editor.py.

Every change goes through `services/workflows/lifecycle.py`, called the way the JSON API calls it
(entrypoints/api/routes/workflows.py); a page only turns forms into its arguments and its
errors into messages next to the fields.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, status
from fastapi.responses import Response

from ringfence.adapters.db.workflows import Workflow
from ringfence.domain.workflows.definition import MAX_SERVICE_LENGTH, TriggerKind
from ringfence.entrypoints.deps import (
    ContainerDep,
    Uow,
)
from ringfence.entrypoints.web.deps import SignedIn, Web
from ringfence.entrypoints.web.flash import Flash, FlashLevel
from ringfence.entrypoints.web.pages import Viewer
from ringfence.entrypoints.web.redirects import safe_next
from ringfence.entrypoints.web.routes.workflows.editor_state import (
    WorkflowId,
    not_found,
    owned,
    redirect,
)
from ringfence.entrypoints.web.routes.workflows.form_errors import NO_ERRORS, FormErrors, where
from ringfence.entrypoints.web.routes.workflows.section_forms import TRIGGER_FIELDS
from ringfence.entrypoints.web.routes.workflows.step_forms import (
    ACTIONS_BY_TYPE,
    AGENT_FIELD,
    NUMBER_FIELD,
    FormField,
    Posted,
    Submitted,
    Widget,
    bind_choices,
)
from ringfence.entrypoints.web.routes.workflows.views import (
    LIST_PATH,
    LocationView,
    Resources,
    account_locations,
    choose_location,
    editor_path,
    forecast_view,
    list_path,
    location_view,
    resources_at,
    workflow_rows,
)
from ringfence.services.errors import Conflict, InvalidField, InvalidFields, NotFound
from ringfence.services.unit_of_work import UnitOfWork
from ringfence.services.workflows import forecast as forecasting
from ringfence.services.workflows import lifecycle, manage
from ringfence.services.workflows.codec import FIELD_LABELS
from ringfence.services.workflows.templates import BY_KEY, TEMPLATES

router = APIRouter()
BLANK = "blank"
MAX_WORKFLOW_NAME = 200  # the API's limit on a workflow's name (schemas.common.Name)
NEW_PATH = f"{LIST_PATH}/new"

# A blank workflow's trigger detail goes to the field its trigger kind reads.
_DETAIL_KEY = {
    TriggerKind.CONTACT_TAG_ADDED: "tag",
    TriggerKind.OPPORTUNITY_STAGE_CHANGED: "stage",
    TriggerKind.FORM_SUBMITTED: "form_id",
    TriggerKind.CUSTOM: "event_name",
}
# Where the new-workflow form shows an error about the definition it built.
_NEW_FORM_FIELDS = {
    "agent_id": AGENT_FIELD,
    "from_number_id": NUMBER_FIELD,
    "purpose": "purpose",
    "action_name": "name",
    "kind": "trigger_kind",
}


def _return_to(request: Request) -> str:
    query = request.url.query
    return request.url.path + (f"?{query}" if query else "")


@router.get(LIST_PATH, name="workflows")
def workflows_page(
    request: Request,
    web: Web,
    viewer: SignedIn,
    uow: Uow,
    location: Annotated[int | None, Query(ge=1)] = None,
) -> Response:
    account_id = viewer.scope.account_id
    locations = account_locations(uow.session, account_id)
    try:
        chosen = choose_location(locations, location)
    except NotFound:
        return not_found(request, web, viewer, "That location")
    context: dict[str, Any] = {
        "locations": locations,
        "location": chosen,
        "rows": (),
        "missing": (),
        "return_to": _return_to(request),
    }
    if chosen is not None:
        context["rows"] = workflow_rows(uow.session, account_id=account_id, location=chosen)
        resources = resources_at(uow.session, account_id=account_id, location_id=chosen.location_id)
        context["missing"] = resources.missing(chosen)
    return web.pages.render(request, "workflows.html", viewer=viewer, context=context)


# --- a new workflow ---------------------------------------------------------------------------


def _render_new(
    request: Request,
    web: Web,
    viewer: SignedIn,
    uow: UnitOfWork,
    location: LocationView,
    *,
    values: dict[str, str],
    errors: FormErrors = NO_ERRORS,
    status_code: int = status.HTTP_200_OK,
) -> Response:
    resources = resources_at(
        uow.session, account_id=viewer.scope.account_id, location_id=location.location_id
    )
    return web.pages.render(
        request,
        "workflows_new.html",
        viewer=viewer,
        context={
            "location": location,
            "templates": TEMPLATES,
            "blank": BLANK,
            "missing": resources.missing(location),
            "fields": _new_fields(resources),
            "values": values,
            "errors": errors,
        },
        status_code=status_code,
    )


def _new_fields(resources: Resources) -> dict[str, FormField]:
    call = {
        f.name: f
        for f in bind_choices(
            ACTIONS_BY_TYPE["voice_ai_call"].fields,
            {AGENT_FIELD: resources.agents, NUMBER_FIELD: resources.numbers},
        )
    }
    return {
        "name": FormField(
            "name",
            "Name",
            hint="Optional with a template: its name is used.",
            max_length=MAX_WORKFLOW_NAME,
        ),
        "agent": call[AGENT_FIELD],
        "number": call[NUMBER_FIELD],
        "trigger_kind": FormField(
            "trigger_kind",
            "Trigger",
            Widget.SELECT,
            choices=TRIGGER_FIELDS[0].choices,
            empty_choice="Choose a trigger",
        ),
        "trigger_detail": FormField(
            "trigger_detail",
            "Trigger detail",
            hint="The tag, stage, form id or custom event name the trigger needs; for an "
            'appointment trigger, a service to match (e.g. "Botox").',
            max_length=MAX_SERVICE_LENGTH,  # the longest of the four; each kind checks its own
        ),
        "purpose": call["purpose"],
    }


@router.get(NEW_PATH, name="new_workflow")
def new_workflow_page(
    request: Request,
    web: Web,
    viewer: SignedIn,
    uow: Uow,
    location: Annotated[int | None, Query(ge=1)] = None,
    template: Annotated[str, Query(max_length=60)] = "",
) -> Response:
    try:
        chosen = choose_location(account_locations(uow.session, viewer.scope.account_id), location)
    except NotFound:
        chosen = None
    if chosen is None:
        return not_found(request, web, viewer, "That location")
    values = {"template": template if template in BY_KEY else BLANK}
    return _render_new(request, web, viewer, uow, chosen, values=values)


@router.post(NEW_PATH)
def create_workflow(
    request: Request, web: Web, viewer: SignedIn, uow: Uow, form: Posted
) -> Response:
    raw_location = form.get("location_id")
    try:
        chosen = choose_location(
            account_locations(uow.session, viewer.scope.account_id),
            int(raw_location) if raw_location.isdecimal() else 0,
        )
    except NotFound:
        chosen = None
    if chosen is None:
        return not_found(request, web, viewer, "That location")
    names = ("template", "name", AGENT_FIELD, NUMBER_FIELD, "trigger_kind", "trigger_detail")
    values = {name: form.get(name).strip() for name in (*names, "purpose")}
    try:
        workflow = _create(uow, viewer, chosen, values)
    except InvalidField as exc:
        return _render_new(
            request,
            web,
            viewer,
            uow,
            chosen,
            values=values,
            errors=_new_form_errors(exc),
            status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
        )
    return redirect(
        request,
        web,
        editor_path(workflow.id),
        Flash(
            FlashLevel.SUCCESS,
            f"“{workflow.name}” was created as a draft. Review it, run the forecast, then publish.",
        ),
    )


def _create(
    uow: UnitOfWork, viewer: Viewer, location: LocationView, values: dict[str, str]
) -> Workflow:
    """As the API's POST /workflows and /workflows/from-template, from the form's values."""
    name = values["name"]
    if len(name) > MAX_WORKFLOW_NAME:
        raise InvalidField("name", f"at most {MAX_WORKFLOW_NAME} characters")
    key = values["template"]
    if key == BLANK:
        if not name:
            raise InvalidField("name", "a blank workflow needs a name")
        definition = _blank_definition(values)
    else:
        template = BY_KEY.get(key)
        if template is None:
            raise InvalidField("template", "choose a blank workflow or one of the templates")
        agent_id = _chosen_id(values[AGENT_FIELD], AGENT_FIELD)
        number_id = _chosen_id(values[NUMBER_FIELD], NUMBER_FIELD)
        return lifecycle.create_draft_from_template(
            uow=uow,
            scope=viewer.scope,
            template=template,
            name=name,
            location_id=location.location_id,
            agent_id=agent_id,
            from_number_id=number_id,
        )
    return lifecycle.create_draft(
        uow=uow,
        scope=viewer.scope,
        name=name,
        location_id=location.location_id,
        definition=definition,
    )


def _chosen_id(raw: str, field: str) -> int:
    # A template builds its own step from the ids: it needs numbers, not the form's text.
    if not raw.isdecimal():
        raise InvalidField(field, f"{FIELD_LABELS[field]} is required")
    return int(raw)


def _blank_definition(values: dict[str, str]) -> dict[str, Any]:
    """A trigger and one Voice AI Outbound Call (a saved workflow needs a step): the rest is
    added in the editor. The values go as typed, for the definition's validation to judge."""
    trigger: dict[str, Any] = {"kind": values["trigger_kind"]}
    kind = next((k for k in TriggerKind if k.value == values["trigger_kind"]), None)
    if values["trigger_detail"] and kind is not None:
        # The other kinds are about an appointment: the detail is the service to match.
        trigger[_DETAIL_KEY.get(kind, "service_contains")] = values["trigger_detail"]
    return {
        "trigger": trigger,
        "steps": [
            {
                "type": "voice_ai_call",
                "action_name": values["name"],
                "agent_id": values[AGENT_FIELD],
                "from_number_id": values[NUMBER_FIELD],
                "purpose": values["purpose"],
            }
        ],
    }


def _new_form_errors(exc: InvalidField) -> FormErrors:
    """Every problem the service found (`InvalidFields` holds several), each next to the new-
    workflow form's field it belongs to (the first one for each field); the rest in one line."""
    fields: dict[str, str] = {}
    general: list[str] = []
    for error in exc.errors if isinstance(exc, InvalidFields) else [exc]:
        target = _new_form_field(error.field)
        if target is None:
            general.append(f"{where(error.field)}: {error.message}")
        else:
            fields.setdefault(target, error.message)
    return FormErrors(fields=fields, general="; ".join(general) or None)


def _new_form_field(name: str) -> str | None:
    """The new-workflow form's field a service error names, or None (no field shows it)."""
    if name in {"name", "template", AGENT_FIELD, NUMBER_FIELD}:
        return name
    if name.startswith("definition.trigger"):
        return "trigger_kind" if name.endswith(".kind") else "trigger_detail"
    last = name.rsplit(".", 1)[-1]
    if name.startswith("definition.steps[") and last in _NEW_FORM_FIELDS:
        return _NEW_FORM_FIELDS[last]
    return None


# --- Draft ⇄ Published --------------------------------------------------------------------------


def _back(form: Submitted, workflow: Workflow) -> str:
    return safe_next(form.get("return_to"), default=list_path(workflow.location_id))


def _try_publish(
    uow: UnitOfWork, viewer: Viewer, workflow: Workflow, confirm: int | None
) -> manage.Published | manage.ConfirmationRequired:
    try:
        return lifecycle.publish(
            uow=uow, scope=viewer.scope, workflow_id=workflow.id, confirm_audience=confirm
        )
    except manage.ConfirmationRequired as exc:
        return exc


@router.post(f"{LIST_PATH}/{{workflow_id}}/publish")
def publish_workflow(
    request: Request,
    web: Web,
    viewer: SignedIn,
    uow: Uow,
    container: ContainerDep,
    workflow_id: WorkflowId,
    form: Posted,
) -> Response:
    """Draft → Published. A large audience first shows the forecast and asks to confirm."""
    workflow = owned(uow, viewer, workflow_id)
    if workflow is None:
        return not_found(request, web, viewer, "That workflow")
    back = _back(form, workflow)
    raw_confirm = form.get("confirm_audience")
    note: str | None = None
    try:
        try:
            result = _try_publish(
                uow, viewer, workflow, int(raw_confirm) if raw_confirm.isdecimal() else None
            )
        except InvalidField as exc:
            if exc.field != "confirm_audience":
                raise
            # The audience changed since it was confirmed: ask again with the new numbers.
            note = f"The audience changed since the confirmation: {exc.message}."
            result = _try_publish(uow, viewer, workflow, None)
    except InvalidField as exc:
        message = f"“{workflow.name}” was not published: {where(exc.field)}: {exc.message}"
        return redirect(request, web, back, Flash(FlashLevel.ERROR, message))
    if isinstance(result, manage.ConfirmationRequired):
        found = lifecycle.forecast(
            uow=uow,
            scope=viewer.scope,
            workflow_id=workflow.id,
            cadence=forecasting.dispatch_cadence(container.settings.dispatch_interval),
        )
        location = location_view(uow.session, workflow.location_id)
        return web.pages.render(
            request,
            "workflows_confirm.html",
            viewer=viewer,
            context={
                "workflow": workflow,
                "audience": result.audience,
                "limit": manage.CONFIRM_AUDIENCE_ABOVE,
                "forecast": forecast_view(found, location.time_zone),
                "note": note,
                "return_to": back,
            },
        )
    people = f"{result.audience} contact{'' if result.audience == 1 else 's'}"
    return redirect(
        request,
        web,
        back,
        Flash(
            FlashLevel.SUCCESS,
            f"“{workflow.name}” is published (version {result.version}); its audience is "
            f"{people} right now.",
        ),
    )


@router.post(f"{LIST_PATH}/{{workflow_id}}/unpublish")
def unpublish_workflow(
    request: Request, web: Web, viewer: SignedIn, uow: Uow, workflow_id: WorkflowId, form: Posted
) -> Response:
    """Published → Draft: open enrollments exit; queued and deferred calls are canceled."""
    workflow = owned(uow, viewer, workflow_id)
    if workflow is None:
        return not_found(request, web, viewer, "That workflow")
    canceled = lifecycle.unpublish(uow=uow, scope=viewer.scope, workflow_id=workflow.id)
    if canceled == 0:
        calls = "no queued or deferred calls needed canceling"
    elif canceled == 1:
        calls = "1 queued or deferred call was canceled"
    else:
        calls = f"{canceled} queued or deferred calls were canceled"
    return redirect(
        request,
        web,
        _back(form, workflow),
        Flash(FlashLevel.SUCCESS, f"“{workflow.name}” is back to Draft: {calls}."),
    )


@router.post(f"{LIST_PATH}/{{workflow_id}}/delete")
def delete_workflow(
    request: Request, web: Web, viewer: SignedIn, uow: Uow, workflow_id: WorkflowId
) -> Response:
    workflow = owned(uow, viewer, workflow_id)
    if workflow is None:
        return not_found(request, web, viewer, "That workflow")
    name, location_id = workflow.name, workflow.location_id
    try:
        lifecycle.delete_draft(uow=uow, scope=viewer.scope, workflow_id=workflow_id)
    except Conflict as exc:
        return redirect(
            request, web, editor_path(workflow_id), Flash(FlashLevel.ERROR, f"Not deleted: {exc}.")
        )
    return redirect(
        request, web, list_path(location_id), Flash(FlashLevel.SUCCESS, f"“{name}” was deleted.")
    )
