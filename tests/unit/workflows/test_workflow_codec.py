"""A workflow definition to and from JSON (services/workflows/codec.py): pure, no database.
Errors name the field the way the editor shows it."""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

import pytest

from ringfence.domain.workflows.walk import format_path, walk
from ringfence.services.errors import InvalidField, InvalidFields
from ringfence.services.workflows.codec import dump_definition, parse_definition
from ringfence.services.workflows.templates import TEMPLATES

from .test_workflow_walk import TREE


def _call(**fields: Any) -> dict[str, Any]:
    return {
        "type": "voice_ai_call",
        "action_name": "Call patient to confirm Botox appointment",
        "agent_id": 3,
        "from_number_id": 7,
        "purpose": "appointment_confirmation",
    } | fields


def _definition(*steps: dict[str, Any]) -> dict[str, Any]:
    return {"trigger": {"kind": "appointment_scheduled"}, "steps": list(steps)}


def _error(data: Any) -> InvalidField:
    with pytest.raises(InvalidField) as caught:
        parse_definition(data)
    return caught.value


@pytest.mark.parametrize(
    ("field", "label"),
    [
        ("action_name", "Action Name"),
        ("agent_id", "AI Agent"),
        ("from_number_id", "From Phone Number"),
    ],
)
def test_each_required_field_of_the_call_action(field: str, label: str) -> None:
    call = _call()
    del call[field]
    error = _error(_definition({"type": "wait", "minutes": 5}, call))
    assert error.field == f"definition.steps[1].{field}"
    assert error.message == f"{label} is required"
    assert str(error) == f"definition.steps[1].{field}: {label} is required"


def test_a_required_field_inside_a_branch_case_names_the_nested_step() -> None:
    call = _call()
    del call["agent_id"]
    branch = {"type": "branch", "cases": [{"when": ["voicemail"], "steps": [call]}]}
    error = _error(_definition(_call(), branch))
    assert error.field == "definition.steps[1].cases[0].steps[0].agent_id"
    assert error.message == "AI Agent is required"


def test_a_required_field_inside_otherwise_names_the_otherwise_path() -> None:
    call = _call()
    del call["from_number_id"]
    branch = {"type": "branch", "cases": [{"when": ["voicemail"]}], "otherwise": [call]}
    error = _error(_definition(_call(), branch))
    assert error.field == "definition.steps[1].otherwise[0].from_number_id"


@pytest.mark.parametrize(
    ("where", "field"),
    [
        (lambda d: d["steps"][0].update(colour="red"), "definition.steps[0].colour"),
        (lambda d: d["trigger"].update(tagg="Botox"), "definition.trigger.tagg"),
        (lambda d: d.update(audience={"has_tag": ["VIP"]}), "definition.audience.has_tag"),
        (lambda d: d.update(test_mod=True), "definition.test_mod"),
    ],
)
def test_an_unknown_field_is_an_error_naming_it(where: Any, field: str) -> None:
    data = _definition(_call())
    where(data)
    error = _error(data)
    assert error.field == field
    assert error.message == "not a field this part of a workflow has"


def test_an_invalid_value_names_its_label() -> None:
    error = _error(_definition(_call(agent_id=0)))
    assert error.field == "definition.steps[0].agent_id"
    assert error.message.startswith("AI Agent: ")
    error = _error(_definition(_call(action_name="x" * 201)))
    assert error.field == "definition.steps[0].action_name"
    assert error.message.startswith("Action Name: ")


@pytest.mark.parametrize(
    ("field", "value", "label"),
    [
        ("action_name", None, "Action Name"),
        ("action_name", "", "Action Name"),
        ("action_name", "   ", "Action Name"),
        ("agent_id", None, "AI Agent"),
        ("agent_id", "", "AI Agent"),
        ("from_number_id", None, "From Phone Number"),
    ],
)
def test_a_field_left_empty_is_required_too(field: str, value: object, label: str) -> None:
    """What an editor sends for an empty text box or an unselected dropdown."""
    error = _error(_definition(_call(**{field: value})))
    assert (error.field, error.message) == (f"definition.steps[0].{field}", f"{label} is required")


def test_the_action_name_is_kept_without_surrounding_blanks() -> None:
    [step] = parse_definition(_definition(_call(action_name="  Confirm Botox  "))).steps
    assert getattr(step, "action_name", None) == "Confirm Botox"


def test_an_unknown_step_type_names_the_step() -> None:
    error = _error(_definition({"type": "send_sms", "body": "hi"}))
    assert error.field == "definition.steps[0]"


def test_the_field_prefix_is_configurable() -> None:
    with pytest.raises(InvalidField) as caught:
        parse_definition(_definition(_call(purpose="cold_call")), field_prefix="")
    assert caught.value.field == "steps[0].purpose"
    assert caught.value.message.startswith("Call purpose: ")


def test_round_trip_keeps_every_field() -> None:
    assert parse_definition(dump_definition(TREE)) == TREE
    dumped = dump_definition(TREE)
    assert dump_definition(parse_definition(dumped)) == dumped
    assert dumped["steps"][1] == _call(
        action_name="Confirm", agent_id=1, from_number_id=1
    )  # JSON as the API takes it


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda t: t.key)
def test_round_trip_of_every_template(template: Any) -> None:
    data = template.definition(agent_id=4, from_number_id=5)
    parsed = parse_definition(data)
    assert parse_definition(dump_definition(parsed)) == parsed


def test_every_step_name_resolves_in_the_json() -> None:
    """format_path with the definition names each step the way the stored JSON holds it, so
    a database check's error lands on the same field as a schema error."""
    dumped = dump_definition(TREE)
    for path, step in walk(TREE.steps):
        node: Any = dumped
        for part in format_path(path, TREE).split("."):
            found = re.fullmatch(r"(\w+)\[(\d+)\]", part)
            assert found is not None, part
            node = node[found[1]][int(found[2])]
        assert node == dump_definition(replace(TREE, steps=(step,)))["steps"][0]


def test_a_validators_own_reason_reaches_the_field() -> None:
    """A refusal our validators word (a webhook to a private address) keeps its words: the
    plain-words rewrite must not turn it into a generic "not a value this field accepts"."""
    data = {
        "trigger": {"kind": "manual"},
        "steps": [{"type": "send_webhook", "url": "http://127.0.0.1/hook", "secret": "s" * 24}],
    }
    with pytest.raises(InvalidFields) as refused:
        parse_definition(data)
    messages = {error.field: error.message for error in refused.value.errors}
    assert messages["definition.steps[0].url"] == "127.0.0.1 is not a public internet address"


def test_a_stored_definition_past_the_input_limits_still_loads() -> None:
    """The limits are checked when a definition is saved: one saved before them (a published
    version the dispatcher and the event ingestion read) must still parse."""
    from ringfence.domain.workflows.checks import structural_problems

    data = _definition(_call()) | {
        "trigger": {"kind": "contact_tag_added", "tag": "x" * 101},
        "audience": {"lacks_tags": ["y" * 101], "has_tags": [f"t{n}" for n in range(51)]},
    }
    parsed = parse_definition(data)
    assert parsed.trigger.tag == "x" * 101
    problems = {p.field: p.message for p in structural_problems(parsed)}
    assert problems == {
        "trigger.tag": "at most 100 characters",
        "audience.has_tags": "at most 50 items",
        "audience.lacks_tags": "each at most 100 characters",
    }
