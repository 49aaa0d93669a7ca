"""The service's field-named errors put next to the workflow form field they are about (step,
trigger and audience forms, and the new-workflow page), worded with that field's label; what
no field owns is the form's general error, saying where in the definition it is."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Final

from ringfence.entrypoints.web.routes.workflows.step_forms import FormField
from ringfence.services.errors import InvalidField, InvalidFields
from ringfence.services.workflows.codec import DefinitionError

_FIELD_NAME = re.compile(r"^([A-Za-z_]+)")
_STEP_INDEX = re.compile(r"^steps\[(\d+)\]\.?(.*)$")


@dataclass(frozen=True, slots=True)
class FormErrors:
    """Messages by form field, and one for the form as a whole (a problem no field owns)."""

    fields: Mapping[str, str] = field(default_factory=dict)
    general: str | None = None

    def __bool__(self) -> bool:
        return bool(self.fields) or self.general is not None


NO_ERRORS: Final = FormErrors()


def form_errors(exc: InvalidField, *, prefix: str, fields: Iterable[FormField]) -> FormErrors:
    """Place every one of the service's errors (`InvalidFields` holds several): `prefix` is
    where the form's values sit in the definition (`definition.steps[2]`,
    `definition.trigger`); an error on one of its fields goes next to the form field showing
    it, worded with that field's label, anything else is the form's general error, saying
    where. A field shows its first error; the general line joins the rest."""
    problems = exc.errors if isinstance(exc, InvalidFields) else [exc]
    placed: dict[str, str] = {}
    general: list[str] = []
    for problem in problems:
        target = _field_of(problem.field, prefix, fields)
        if target is None:
            general.append(f"{where(problem.field)}: {problem.message}")
        elif target.name not in placed:
            placed[target.name] = _worded(problem, target)
    return FormErrors(fields=placed, general="; ".join(general) or None)


def _field_of(name: str, prefix: str, fields: Iterable[FormField]) -> FormField | None:
    if not name.startswith(prefix + "."):
        return None
    match = _FIELD_NAME.match(name[len(prefix) + 1 :])
    if match is None:
        return None
    return next((f for f in fields if match.group(1) in f.error_keys), None)


def _worded(problem: InvalidField, f: FormField) -> str:
    """The schema's plain reason under the form's own label ("Title: at most 200
    characters"; "AI Agent is required"). A check made against the database already words
    its message ("unknown tag 'VIP' (create it first)")."""
    if not isinstance(problem, DefinitionError):
        return problem.message
    if problem.required:
        return f"{f.label} is required"
    return f"{f.label}: {problem.reason}"


def where(field_name: str) -> str:
    """A definition's field name in words: `definition.steps[1].until` → "Step 2 (until)"."""
    name = field_name.removeprefix("definition.")
    step = _STEP_INDEX.match(name)
    if step is not None:
        rest = step.group(2)
        return f"Step {int(step.group(1)) + 1}" + (f" ({rest})" if rest else "")
    head, _, rest = name.partition(".")
    return head.replace("_", " ").capitalize() + (f" ({rest})" if rest else "")
