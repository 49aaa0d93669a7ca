"""A workflow definition to and from JSON, with errors that name the field in the editor's
words ("steps[1].agent_id: AI Agent is required")."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from pydantic import TypeAdapter, ValidationError

from ringfence.domain.workflows.definition import WorkflowDefinition
from ringfence.services.errors import InvalidField

# The product description's names for the Voice AI Outbound Call action's required fields.
FIELD_LABELS = {
    "action_name": "Action Name",
    "agent_id": "AI Agent",
    "from_number_id": "From Phone Number",
    "purpose": "Call purpose",
}


@lru_cache(maxsize=1)
def _adapter() -> TypeAdapter[WorkflowDefinition]:
    return TypeAdapter(WorkflowDefinition)


def parse_definition(data: Any, *, field_prefix: str = "definition") -> WorkflowDefinition:
    try:
        return _adapter().validate_python(data)
    except ValidationError as exc:
        error = exc.errors()[0]
        raise InvalidField(_field_name(field_prefix, error["loc"]), _message(error)) from exc


def dump_definition(definition: WorkflowDefinition) -> dict[str, Any]:
    dumped: dict[str, Any] = _adapter().dump_python(definition, mode="json")
    return dumped


def _field_name(prefix: str, loc: tuple[int | str, ...]) -> str:
    # pydantic puts the union member's tag in the path (steps.0.voice_ai_call.agent_id);
    # the editor knows the step by its position only.
    parts: list[str] = [prefix] if prefix else []
    tags = {
        "voice_ai_call",
        "add_tag",
        "remove_tag",
        "create_task",
        "move_opportunity",
        "add_note",
        "send_webhook",
        "wait",
        "branch",
    }
    for item in loc:
        if isinstance(item, int):
            parts[-1] = f"{parts[-1]}[{item}]"
        elif item not in tags:
            parts.append(item)
    return ".".join(parts)


def _message(error: Any) -> str:
    field = error["loc"][-1] if error["loc"] else ""
    label = FIELD_LABELS.get(str(field))
    if error["type"] == "missing":
        return f"{label} is required" if label else "required"
    if label and _blank(error.get("input")):
        # What an editor sends for a field left empty: null, or an empty text box.
        return f"{label} is required"
    text = str(error["msg"])
    return f"{label}: {text}" if label else text


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())
