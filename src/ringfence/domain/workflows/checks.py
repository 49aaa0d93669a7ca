"""Structural rules of a workflow definition that a schema cannot express.

Each problem names the field the way the API does (`steps[2].latest_hours_before`), so the
editor can put the message next to the field. Checks that need the database (the agent and
number exist at the location, tags exist) are in services/workflows/validation.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from ringfence.domain.workflows.definition import (
    MAX_NAME_LENGTH,
    MAX_NAMES,
    MAX_SERVICE_LENGTH,
    Branch,
    Step,
    TriggerKind,
    VoiceAICall,
    Wait,
    WaitUntil,
    WorkflowDefinition,
)
from ringfence.domain.workflows.walk import StepPath, format_path


@dataclass(frozen=True, slots=True)
class Problem:
    field: str
    message: str


_NEEDS = {
    TriggerKind.CONTACT_TAG_ADDED: ("tag", "the tag whose addition starts the workflow"),
    TriggerKind.OPPORTUNITY_STAGE_CHANGED: ("stage", "the stage the opportunity moves to"),
    TriggerKind.CUSTOM: ("event_name", "the custom event's name"),
}


def structural_problems(definition: WorkflowDefinition) -> list[Problem]:
    problems: list[Problem] = []
    trigger = definition.trigger
    needed = _NEEDS.get(trigger.kind)
    if needed is not None and not getattr(trigger, needed[0]):
        problems.append(Problem(f"trigger.{needed[0]}", f"required: {needed[1]}"))
    if definition.audience.appointment_statuses and not trigger.kind.about_appointment:
        problems.append(
            Problem(
                "audience.appointment_statuses",
                "only an appointment trigger has an appointment to filter on",
            )
        )
    if not definition.steps:
        problems.append(Problem("steps", "a workflow needs at least one step"))
    problems.extend(_over_limits(definition))
    _check_list(definition, definition.steps, (), False, problems)
    return problems


def _over_limits(definition: WorkflowDefinition) -> Iterator[Problem]:
    """The trigger's and audience's texts past their input limits (definition.MAX_*)."""
    trigger = definition.trigger
    for name, most in (
        ("tag", MAX_NAME_LENGTH),
        ("stage", MAX_NAME_LENGTH),
        ("event_name", MAX_NAME_LENGTH),
        ("service_contains", MAX_SERVICE_LENGTH),
    ):
        value: str | None = getattr(trigger, name)
        if value is not None and len(value) > most:
            yield Problem(f"trigger.{name}", f"at most {most} characters")
    for name in ("has_tags", "lacks_tags", "opportunity_stages"):
        names: tuple[str, ...] = getattr(definition.audience, name)
        if len(names) > MAX_NAMES:
            yield Problem(f"audience.{name}", f"at most {MAX_NAMES} items")
        elif any(len(n) > MAX_NAME_LENGTH for n in names):
            yield Problem(f"audience.{name}", f"each at most {MAX_NAME_LENGTH} characters")


def _check_list(
    definition: WorkflowDefinition,
    steps: tuple[Step, ...],
    prefix: StepPath,
    called_before: bool,
    problems: list[Problem],
) -> None:
    for index, step in enumerate(steps):
        path = (*prefix, index)
        name = format_path(path, definition)
        match step:
            case VoiceAICall():
                called_before = True
            case Wait():
                _check_wait(definition, step, name, problems)
            case Branch():
                if index != len(steps) - 1:
                    problems.append(
                        Problem(
                            name,
                            "a branch must be the last step of its path (each "
                            "case holds the rest of that path)",
                        )
                    )
                if not called_before:
                    problems.append(
                        Problem(
                            name,
                            "a branch on the call's outcome needs a Voice AI "
                            "Outbound Call step before it",
                        )
                    )
                for case in range(len(step.cases) + 1):
                    inner = step.otherwise if case == len(step.cases) else step.cases[case].steps
                    _check_list(definition, inner, (*path, case), called_before, problems)
            case _:
                pass


def _check_wait(
    definition: WorkflowDefinition, step: Wait, name: str, problems: list[Problem]
) -> None:
    if step.until is WaitUntil.BEFORE_APPOINTMENT:
        if not definition.trigger.kind.about_appointment:
            problems.append(
                Problem(f"{name}.until", "waiting for an appointment needs an appointment trigger")
            )
        if step.latest_hours_before >= step.earliest_hours_before:
            problems.append(
                Problem(
                    f"{name}.latest_hours_before",
                    "must be less than earliest_hours_before (e.g. 24 and 48)",
                )
            )
    elif step.until is WaitUntil.DURATION and step.minutes == 0:
        problems.append(Problem(f"{name}.minutes", "a duration wait needs minutes > 0"))
