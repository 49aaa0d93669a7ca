"""A refused workflow step form shows every problem at once, each next to its field, in the
words of the form (never pydantic's text or a definition path); the inputs stop at the
definition's length limits."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from pydantic import TypeAdapter

from ringfence.bootstrap import Container
from ringfence.domain.workflows import definition as schema
from ringfence.entrypoints.web.routes.workflows.section_forms import AUDIENCE_FIELDS, TRIGGER_FIELDS
from ringfence.entrypoints.web.routes.workflows.step_forms import ACTIONS
from tests.conftest import Tenant
from tests.e2e.test_web_workflows_http import (
    create_from_template,
    post_form,
    ready,
    revision,
    signed_in,
    stored,
)

__all__ = ["ready", "signed_in"]  # fixtures, used by name

_MODELS = {
    "voice_ai_call": schema.VoiceAICall,
    "add_tag": schema.AddTag,
    "remove_tag": schema.RemoveTag,
    "create_task": schema.CreateTask,
    "move_opportunity": schema.MoveOpportunity,
    "add_note": schema.AddNote,
    "wait": schema.Wait,
}


def _error(page: str, name: str) -> str:
    found = re.search(rf'<p class="field-error" id="step-{name}-error">([^<]*)</p>', page)
    assert found is not None, f"no error next to {name}"
    return found.group(1)


def test_a_step_with_several_bad_fields_shows_each_by_its_field(
    signed_in: TestClient, container: Container, tenant: Tenant, ready: tuple[int, int]
) -> None:
    workflow_id = create_from_template(signed_in, tenant, *ready)
    before = stored(container, workflow_id).definition
    editor = signed_in.get(f"/app/workflows/{workflow_id}?at=0&type=create_task")
    task = {
        "revision": revision(editor),
        "type": "create_task",
        "at": "0",
        "title": "x" * 201,
        "assignee": "y" * 201,
        "due_in_hours": "soon",
        "priority": "normal",
    }
    response = post_form(signed_in, editor, f"/app/workflows/{workflow_id}/steps", task)
    assert response.status_code == 422
    page = response.text
    assert _error(page, "title") == "Title: at most 200 characters"
    assert _error(page, "assignee") == "Assignee: at most 200 characters"
    assert _error(page, "due_in_hours") == "Due in (hours): a whole number, e.g. 24"
    assert page.count('aria-invalid="true"') == 3
    for jargon in ("String should", "definition.steps", "Input should", "int_parsing"):
        assert jargon not in page
    assert stored(container, workflow_id).definition == before


def test_a_call_step_left_empty_and_a_wait_too_long_are_worded_for_people(
    signed_in: TestClient, tenant: Tenant, ready: tuple[int, int]
) -> None:
    workflow_id = create_from_template(signed_in, tenant, *ready)
    url = f"/app/workflows/{workflow_id}/steps"
    editor = signed_in.get(f"/app/workflows/{workflow_id}?at=0&type=voice_ai_call")
    call = {"revision": revision(editor), "type": "voice_ai_call", "at": "0"}
    page = post_form(signed_in, editor, url, call | {"action_name": "", "purpose": ""}).text
    assert _error(page, "action_name") == "Action Name is required"
    assert _error(page, "agent_id") == "AI Agent is required"
    assert _error(page, "from_number_id") == "From Phone Number is required"
    assert _error(page, "purpose") == "Call purpose is required"

    wait = {"revision": revision(editor), "type": "wait", "at": "0", "until": "duration"}
    page = post_form(signed_in, editor, url, wait | {"duration": "500", "duration_unit": "days"})
    assert _error(page.text, "duration") == "Duration: at most 400 days"


def test_step_inputs_stop_at_the_definitions_length_limits(
    signed_in: TestClient, tenant: Tenant, ready: tuple[int, int]
) -> None:
    for action in ACTIONS:
        properties = TypeAdapter(_MODELS[action.type]).json_schema()["properties"]
        for f in action.fields:
            prop = properties.get(f.name, {})
            limits = [prop.get("maxLength")] + [p.get("maxLength") for p in prop.get("anyOf", [])]
            assert f.max_length == next((n for n in limits if n), None), (action.type, f.name)
    workflow_id = create_from_template(signed_in, tenant, *ready)
    page = signed_in.get(f"/app/workflows/{workflow_id}?at=0&type=create_task").text
    assert re.search(r'<input id="step-title" name="title" required maxlength="200"', page)
    assert re.search(r'<textarea id="step-body" name="body" maxlength="5000"', page)


def test_checks_against_the_practice_show_every_field_at_once(
    signed_in: TestClient, tenant: Tenant, ready: tuple[int, int]
) -> None:
    """The agent and the caller ID of another location: both named, each by its field."""

    def post(path: str, body: dict[str, object]) -> int:
        made = signed_in.post(f"/api/v1{path}", json=body, headers=tenant.headers)
        assert made.status_code == 201, made.text
        return int(made.json()["id"])

    uptown = post("/locations", {"name": "Uptown", "time_zone": "America/New_York"})
    their_number = post("/phone-numbers", {"location_id": uptown, "e164": "+12125550188"})
    their_agent = post(
        "/voice-agents",
        {"location_id": uptown, "name": "Uptown desk", "practice_name": "Glow",
         "callback_number": "+12125550188"},
    )  # fmt: skip
    workflow_id = create_from_template(signed_in, tenant, *ready)
    editor = signed_in.get(f"/app/workflows/{workflow_id}?step=1")
    call = {
        "revision": revision(editor),
        "type": "voice_ai_call",
        "action_name": "Confirm",
        "agent_id": str(their_agent),
        "from_number_id": str(their_number),
        "purpose": "appointment_confirmation",
    }
    response = post_form(signed_in, editor, f"/app/workflows/{workflow_id}/steps/1", call)
    assert response.status_code == 422
    # The other location's choices are not in this form's lists: the messages say why.
    assert _error(response.text, "agent_id") == "AI Agent: the agent belongs to another location"
    assert _error(response.text, "from_number_id") == (
        "From Phone Number: +12125550188 belongs to another location"
    )


def test_the_new_workflow_form_shows_every_problem_at_once(
    signed_in: TestClient, tenant: Tenant, ready: tuple[int, int]
) -> None:
    _agent_id, number_id = ready
    form = signed_in.get(f"/app/workflows/new?location={tenant.location_id}")
    data = {
        "location_id": str(tenant.location_id),
        "template": "blank",
        "name": "VIP recall",
        "agent_id": "999999",  # no such agent
        "from_number_id": str(number_id),
        "trigger_kind": "contact_tag_added",
        "trigger_detail": "",  # the tag is missing
        "purpose": "lead_reactivation",
    }
    response = post_form(signed_in, form, "/app/workflows/new", data)
    assert response.status_code == 422
    assert re.search(r'id="new-trigger_detail-error">[^<]+', response.text)
    assert re.search(r'id="new-agent_id-error">[^<]+', response.text)


def test_trigger_and_audience_inputs_stop_at_the_definitions_limits(
    signed_in: TestClient, tenant: Tenant, ready: tuple[int, int]
) -> None:
    limits = {
        "tag": schema.MAX_NAME_LENGTH,
        "stage": schema.MAX_NAME_LENGTH,
        "event_name": schema.MAX_NAME_LENGTH,
        "service_contains": schema.MAX_SERVICE_LENGTH,
    }
    for f in TRIGGER_FIELDS:
        assert f.max_length == limits.get(f.name), f.name
    names = schema.MAX_NAMES * (schema.MAX_NAME_LENGTH + 2)  # typed with ", " between
    for f in AUDIENCE_FIELDS:
        if f.name in ("has_tags", "lacks_tags", "opportunity_stages"):
            assert f.max_length == names, f.name
    page = signed_in.get(f"/app/workflows/new?location={ready[0]}").text
    assert re.search(r'<input id="new-trigger_detail" name="trigger_detail" maxlength="200"', page)
    assert re.search(r'<input id="new-name" name="name" maxlength="200"', page)
    workflow_id = create_from_template(signed_in, tenant, *ready)
    page = signed_in.get(f"/app/workflows/{workflow_id}?section=audience").text
    assert re.search(r'<input id="[\w-]+" name="has_tags" maxlength="5100"', page)


def test_an_overlong_trigger_tag_or_too_many_audience_tags_are_refused_by_name(
    signed_in: TestClient, tenant: Tenant, ready: tuple[int, int]
) -> None:
    workflow_id = create_from_template(signed_in, tenant, *ready)
    url = f"/api/v1/workflows/{workflow_id}"
    got = signed_in.get(url, headers=tenant.headers).json()
    definition = got["definition"]
    long_tag = definition | {"trigger": {"kind": "contact_tag_added", "tag": "x" * 101}}
    many = definition | {"audience": {"has_tags": [f"tag {n}" for n in range(51)]}}
    for body, where, why in (
        (long_tag, ["trigger", "tag"], "at most 100 characters"),
        (many, ["audience", "has_tags"], "at most 50 items"),
    ):
        response = signed_in.patch(url, json={"definition": body}, headers=tenant.headers)
        assert response.status_code == 422, response.text
        errors = {tuple(e["loc"]): e["msg"] for e in response.json()["detail"]}
        assert errors[("body", "definition", *where)] == why
