"""A workflow definition to and from JSON, with errors that name the field in the editor's
words ("steps[1].agent_id: AI Agent is required"), every problem at once, in plain words (a
practice manager reads them next to the form's fields: never pydantic's own text)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Final

from pydantic import TypeAdapter, ValidationError

from ringfence.domain.workflows.definition import WorkflowDefinition
from ringfence.services.errors import InvalidField, InvalidFields

# The product description's names for the Voice AI Outbound Call action's required fields.
FIELD_LABELS = {
    "action_name": "Action Name",
    "agent_id": "AI Agent",
    "from_number_id": "From Phone Number",
    "purpose": "Call purpose",
}
# Fields holding the id of something chosen from a list: a bad value is a bad choice, not a
# number out of range.
_CHOSEN_IDS: Final = frozenset({"agent_id", "from_number_id", "form_id"})
# Whole-number fields' units, so a bound reads "at most 400 days", not "at most 576000".
_UNITS: Final = {
    "due_in_hours": "hours",
    "earliest_hours_before": "hours",
    "latest_hours_before": "hours",
    "days": "days",
    "last_contacted_more_than_days": "days",
}
_STEP_TAGS: Final = frozenset(
    {
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
)


class DefinitionError(InvalidField):
    """A schema problem: `reason` in plain words without the field's name ("at most 200
    characters"), and whether the field was simply left empty, so a form can word it with its
    own label ("Title: at most 200 characters"); `message` is the API's wording."""

    def __init__(self, field: str, message: str, *, reason: str, required: bool) -> None:
        super().__init__(field, message)
        self.reason = reason
        self.required = required


@lru_cache(maxsize=1)
def _adapter() -> TypeAdapter[WorkflowDefinition]:
    return TypeAdapter(WorkflowDefinition)


def parse_definition(data: Any, *, field_prefix: str = "definition") -> WorkflowDefinition:
    """The definition, or `InvalidFields` naming every field that is wrong (one entry per
    field: the first problem pydantic found with it)."""
    try:
        return _adapter().validate_python(data)
    except ValidationError as exc:
        problems: dict[str, DefinitionError] = {}
        for error in exc.errors():
            name = _field_name(field_prefix, error["loc"])
            problems.setdefault(name, _problem(name, error))
        raise InvalidFields(list(problems.values())) from exc


def dump_definition(definition: WorkflowDefinition) -> dict[str, Any]:
    dumped: dict[str, Any] = _adapter().dump_python(definition, mode="json")
    return dumped


def _field_name(prefix: str, loc: tuple[int | str, ...]) -> str:
    # pydantic puts the union member's tag in the path (steps.0.voice_ai_call.agent_id);
    # the editor knows the step by its position only.
    parts: list[str] = [prefix] if prefix else []
    for item in loc:
        if isinstance(item, int):
            parts[-1] = f"{parts[-1]}[{item}]"
        elif item not in _STEP_TAGS:
            parts.append(item)
    return ".".join(parts)


def _problem(name: str, error: Any) -> DefinitionError:
    field = str(error["loc"][-1]) if error["loc"] else ""
    label = FIELD_LABELS.get(field)
    required = error["type"] == "missing" or (
        _blank(error.get("input")) and (label is not None or error["type"] == "string_too_short")
    )
    if required:
        # What an editor sends for a field left empty: null, or an empty text box.
        message = f"{label} is required" if label else "required"
        return DefinitionError(name, message, reason="required", required=True)
    reason = plain_reason(field, error["type"], error.get("ctx") or {})
    message = f"{label}: {reason}" if label else reason
    return DefinitionError(name, message, reason=reason, required=False)


def plain_reason(field: str, kind: str, ctx: dict[str, Any]) -> str:
    """Why a value was refused, in words a practice manager reads (pydantic's error `kind`
    and its context; a field's unit where it has one)."""
    if field in _CHOSEN_IDS:
        return "not one of the choices: choose again from the list"
    match kind:
        case "string_too_long":
            return f"at most {_count(ctx.get('max_length'), 'character')}"
        case "too_long":  # a list: its items, not its characters
            return f"at most {_count(ctx.get('max_length'), 'item')}"
        case "string_too_short":
            return f"at least {_count(ctx.get('min_length'), 'character')}"
        case "too_short":
            return f"at least {_count(ctx.get('min_length'), 'item')}"
        case "int_parsing" | "int_type" | "int_from_float" | "float_parsing" | "float_type":
            return "a whole number, e.g. 24"
        case "greater_than_equal":
            return f"at least {_amount(field, ctx.get('ge'))}"
        case "greater_than":
            return f"more than {_amount(field, ctx.get('gt'))}"
        case "less_than_equal":
            return f"at most {_amount(field, ctx.get('le'))}"
        case "less_than":
            return f"less than {_amount(field, ctx.get('lt'))}"
        case "enum" | "literal_error":
            return "not one of the choices: choose again from the list"
        case "bool_parsing" | "bool_type":
            return "yes or no"
        case "string_pattern_mismatch":
            return "not in the expected form (a web address starts with https://)"
        case "string_type":
            return "text"
        case "value_error" | "assertion_error" if ctx.get("error") is not None:
            # Our own validators' words (a webhook URL's refusal says which address and why).
            return str(ctx["error"])
        case "union_tag_invalid":
            return "not a kind of step this editor knows"
        case "union_tag_not_found":
            return "the step does not say what kind it is"
        case "extra_forbidden" | "unexpected_keyword_argument":
            return "not a field this part of a workflow has"
        case "tuple_type" | "list_type":
            return "a list of values"
        case "dataclass_type" | "dict_type" | "model_type" | "dataclass_exact_type":
            return "a group of fields"
        case _:
            return "not a value this field accepts"


def _count(n: object, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def _amount(field: str, n: object) -> str:
    if field == "minutes" and isinstance(n, int) and n > 0:
        # Durations are typed in days, hours or minutes: say the bound in the largest unit
        # that holds it exactly.
        for unit, size in (("days", 24 * 60), ("hours", 60)):
            if n % size == 0:
                return f"{n // size} {unit}"
        return f"{n} minutes"
    named = _UNITS.get(field)
    return f"{n} {named}" if named else str(n)


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())
