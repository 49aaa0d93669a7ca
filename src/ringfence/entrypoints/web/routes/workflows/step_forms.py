"""The workflow editor's forms: the action picker's catalogue, each action's fields, turning a
posted form into a step's JSON (and a saved step back into form values).

No rules live here: every value goes to `manage.update_workflow` as typed, and what it refuses
comes back as `InvalidField("definition.steps[2].agent_id", ...)`, which `form_errors.py` maps
to the field the user filled. Branch and Send Webhook steps have no form (they are shown
read-only).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Annotated, Any, Final

from fastapi import Depends, Request
from starlette.datastructures import FormData

from ringfence.domain.vocabulary import CallPurpose, TaskPriority
from ringfence.domain.workflows.definition import ShortNotice, WaitUntil


@dataclass(frozen=True, slots=True)
class Submitted:
    """A posted form's text fields (uploads ignored), every value of each name."""

    values: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    @classmethod
    def of(cls, form: FormData) -> Submitted:
        values: dict[str, list[str]] = {}
        for name, value in form.multi_items():
            if isinstance(value, str):
                values.setdefault(name, []).append(value)
        return cls({name: tuple(items) for name, items in values.items()})

    def get(self, name: str) -> str:
        found = self.values.get(name, ())
        return found[0] if found else ""

    def getall(self, name: str) -> tuple[str, ...]:
        return self.values.get(name, ())


class Widget(StrEnum):
    TEXT = "text"
    TEXTAREA = "textarea"
    NUMBER = "number"
    SELECT = "select"
    CHECKBOX = "checkbox"
    CHECKBOXES = "checkboxes"  # several values of one name


@dataclass(frozen=True, slots=True)
class Choice:
    value: str
    label: str


@dataclass(frozen=True, slots=True)
class FormField:
    """One form control. `errors_for`: the definition's fields whose errors are shown next to
    it (default: its own name). `group`: the Wait kind it belongs to (shown for that kind)."""

    name: str
    label: str
    widget: Widget = Widget.TEXT
    required: bool = False
    hint: str = ""
    choices: tuple[Choice, ...] = ()
    empty_choice: str = ""  # a select's first, empty option ("Choose an agent")
    errors_for: tuple[str, ...] = ()
    group: str = ""
    max_length: int | None = None  # the definition's own limit, so the browser stops there

    @property
    def error_keys(self) -> tuple[str, ...]:
        return self.errors_for or (self.name,)


@dataclass(frozen=True, slots=True)
class Action:
    """An entry of the action picker: a step type the editor can add."""

    type: str
    name: str
    description: str
    keywords: str
    fields: tuple[FormField, ...]

    @property
    def search_text(self) -> str:
        return f"{self.name} {self.keywords}".lower()


def choices_of(pairs: Iterable[tuple[str, str]]) -> tuple[Choice, ...]:
    return tuple(Choice(value, label) for value, label in pairs)


def label_of(value: str) -> str:
    return value.replace("_", " ").capitalize()


PURPOSE_CHOICES: Final = choices_of((p.value, label_of(p.value)) for p in CallPurpose)
AGENT_FIELD: Final = "agent_id"
NUMBER_FIELD: Final = "from_number_id"

# Minutes per unit of a duration wait's amount.
DURATION_UNITS: Final = {"minutes": 1, "hours": 60, "days": 24 * 60}

_VOICE_AI_CALL = Action(
    type="voice_ai_call",
    name="Voice AI Outbound Call",
    description="Your AI agent phones the contact; the compliance checks decide when.",
    keywords="phone call dial ai agent outbound",
    fields=(
        FormField(
            "action_name",
            "Action Name",
            required=True,
            max_length=200,
            hint='A label to know this call by, e.g. "Call patient to confirm Botox appointment".',
        ),
        FormField(
            AGENT_FIELD,
            "AI Agent",
            Widget.SELECT,
            required=True,
            hint="The agent that holds the call; the same agent can answer inbound calls.",
            empty_choice="Choose an agent",
        ),
        FormField(
            NUMBER_FIELD,
            "From Phone Number",
            Widget.SELECT,
            required=True,
            hint="The caller ID it dials from: a local number answers best.",
            empty_choice="Choose a number",
        ),
        FormField(
            "purpose",
            "Call purpose",
            Widget.SELECT,
            required=True,
            choices=PURPOSE_CHOICES,
            empty_choice="Choose a purpose",
        ),
    ),
)

_WAIT = Action(
    type="wait",
    name="Wait",
    description="Pause for a while, until before the appointment, or after the last treatment.",
    keywords="delay pause timer days hours minutes appointment treatment",
    fields=(
        FormField(
            "until",
            "Kind of wait",
            Widget.SELECT,
            choices=(
                Choice(WaitUntil.DURATION.value, "For a duration"),
                Choice(WaitUntil.BEFORE_APPOINTMENT.value, "Until before the appointment"),
                Choice(WaitUntil.AFTER_LAST_TREATMENT.value, "Until after the last treatment"),
            ),
        ),
        FormField(
            "duration",
            "Duration",
            Widget.NUMBER,
            errors_for=("minutes",),
            group=WaitUntil.DURATION.value,
        ),
        FormField(
            "duration_unit",
            "Unit",
            Widget.SELECT,
            choices=choices_of((unit, unit) for unit in DURATION_UNITS),
            group=WaitUntil.DURATION.value,
        ),
        FormField(
            "earliest_hours_before",
            "Earliest, hours before",
            Widget.NUMBER,
            hint="Wakes this many hours before the appointment (48 by default).",
            group=WaitUntil.BEFORE_APPOINTMENT.value,
        ),
        FormField(
            "latest_hours_before",
            "Latest, hours before",
            Widget.NUMBER,
            hint="The next call must dial before this (24 by default).",
            group=WaitUntil.BEFORE_APPOINTMENT.value,
        ),
        FormField(
            "short_notice",
            "Booked at shorter notice",
            Widget.SELECT,
            choices=(
                Choice(ShortNotice.SKIP.value, "Skip the call"),
                Choice(ShortNotice.CALL_NOW.value, "Call as soon as allowed"),
            ),
            group=WaitUntil.BEFORE_APPOINTMENT.value,
        ),
        FormField(
            "days",
            "Days after the last treatment",
            Widget.NUMBER,
            group=WaitUntil.AFTER_LAST_TREATMENT.value,
        ),
        FormField(
            "service_contains",
            "Treatment (service contains)",
            hint='e.g. "Botox"; empty: any completed appointment.',
            max_length=200,
            group=WaitUntil.AFTER_LAST_TREATMENT.value,
        ),
    ),
)

ACTIONS: Final = (
    _VOICE_AI_CALL,
    Action(
        type="add_tag",
        name="Add Tag",
        description="Put a tag on the contact (a new tag is created when the workflow publishes).",
        keywords="label contact segment",
        fields=(FormField("tag", "Tag", required=True, max_length=100),),
    ),
    Action(
        type="remove_tag",
        name="Remove Tag",
        description="Take a tag off the contact (the tag must exist).",
        keywords="untag label contact segment",
        fields=(FormField("tag", "Tag", required=True, max_length=100),),
    ),
    Action(
        type="create_task",
        name="Create Task",
        description="A to-do for staff on the contact.",
        keywords="todo to-do staff follow up assign",
        fields=(
            FormField("title", "Title", required=True, max_length=200),
            FormField("body", "Details", Widget.TEXTAREA, max_length=5000),
            FormField("assignee", "Assignee", max_length=200),
            FormField("due_in_hours", "Due in (hours)", Widget.NUMBER, hint="24 by default."),
            FormField(
                "priority",
                "Priority",
                Widget.SELECT,
                choices=choices_of((p.value, label_of(p.value)) for p in TaskPriority),
            ),
        ),
    ),
    Action(
        type="move_opportunity",
        name="Move Opportunity",
        description="Move the contact's opportunity to a pipeline stage.",
        keywords="pipeline stage deal",
        fields=(FormField("stage", "Stage", required=True, max_length=100),),
    ),
    Action(
        type="add_note",
        name="Add Note",
        description="Write a note on the contact record.",
        keywords="record comment",
        fields=(FormField("body", "Note", Widget.TEXTAREA, required=True, max_length=5000),),
    ),
    _WAIT,
)

ACTIONS_BY_TYPE: Final = {action.type: action for action in ACTIONS}
# Shown read-only in the flow: created from templates or through the API.
READ_ONLY_TYPES: Final = frozenset({"branch", "send_webhook"})


def find_actions(query: str) -> tuple[Action, ...]:
    """The actions whose name or keywords contain every word of `query` (any case)."""
    words = query.lower().split()
    return tuple(a for a in ACTIONS if all(word in a.search_text for word in words))


def bind_choices(
    fields: Iterable[FormField], dynamic: Mapping[str, tuple[Choice, ...]]
) -> tuple[FormField, ...]:
    """The fields with the location's choices (agents, numbers) filled in."""
    return tuple(replace(f, choices=dynamic[f.name]) if f.name in dynamic else f for f in fields)


# --- form values → a step's JSON ---------------------------------------------------------------


def step_data(action: Action, form: Submitted) -> dict[str, Any]:
    """The step as the definition's JSON holds it, with the values as typed: the definition's
    own validation converts and judges them (an empty required field stays empty, so that the
    error is the service's "AI Agent is required")."""
    if action.type == "wait":
        return _wait_data(form)
    data: dict[str, Any] = {"type": action.type}
    for f in action.fields:
        value = form.get(f.name).strip()
        if value or f.required:
            data[f.name] = value
    return data


def _wait_data(form: Submitted) -> dict[str, Any]:
    until = form.get("until").strip() or WaitUntil.DURATION.value
    data: dict[str, Any] = {"type": "wait", "until": until}
    names: tuple[str, ...] = ()
    if until == WaitUntil.DURATION.value:
        amount = form.get("duration").strip()
        unit = DURATION_UNITS.get(form.get("duration_unit"), 1)
        if amount:
            # A number is converted; anything else goes as typed, for the validator to name.
            data["minutes"] = int(amount) * unit if amount.isdecimal() else amount
    elif until == WaitUntil.BEFORE_APPOINTMENT.value:
        names = ("earliest_hours_before", "latest_hours_before", "short_notice")
    elif until == WaitUntil.AFTER_LAST_TREATMENT.value:
        names = ("days", "service_contains")
    for name in names:
        value = form.get(name).strip()
        if value:
            data[name] = value
    return data


# --- a saved step → form values ----------------------------------------------------------------


def step_values(step: Mapping[str, Any]) -> dict[str, str]:
    """The values a saved step (its JSON) shows in its form."""
    values = {name: text_of(value) for name, value in step.items() if name != "type"}
    if step.get("type") == "wait":
        minutes = step.get("minutes")
        if isinstance(minutes, int) and minutes > 0:
            unit = next(u for u in ("days", "hours", "minutes") if minutes % DURATION_UNITS[u] == 0)
            values["duration"] = str(minutes // DURATION_UNITS[unit])
            values["duration_unit"] = unit
    return values


def text_of(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "on" if value else ""
    return str(value)


def default_values(action: Action) -> dict[str, str]:
    """A new step's form: the definition's defaults where it has them."""
    if action.type == "wait":
        return {
            "until": WaitUntil.DURATION.value,
            "duration_unit": "days",
            "earliest_hours_before": "48",
            "latest_hours_before": "24",
            "short_notice": ShortNotice.SKIP.value,
            "days": "90",
        }
    if action.type == "create_task":
        return {"due_in_hours": "24", "priority": TaskPriority.NORMAL.value}
    return {}


async def posted_form(request: Request) -> Submitted:
    # Starlette caches the parsed form, so the CSRF check's read of it is reused here.
    return Submitted.of(await request.form())


Posted = Annotated[Submitted, Depends(posted_form)]
