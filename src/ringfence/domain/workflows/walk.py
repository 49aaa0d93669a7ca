"""Positions in a workflow's step tree, and moving between them.

A `StepPath` alternates list indexes and case indexes: `(3,)` is the fourth top-level step;
`(3, 1, 0)` is the first step of the second case of the branch at `(3,)`; a case index equal
to the number of cases is the `otherwise` path. Branches end their list, so when a path runs
out of steps the enrollment is complete.
"""

from __future__ import annotations

from collections.abc import Iterator

from ringfence.domain.workflows.definition import Branch, Step, WorkflowDefinition

StepPath = tuple[int, ...]


def _steps_of(branch: Branch, case_index: int) -> tuple[Step, ...]:
    if case_index == len(branch.cases):
        return branch.otherwise
    return branch.cases[case_index].steps


def _list_at(definition: WorkflowDefinition, prefix: StepPath) -> tuple[Step, ...]:
    """The step list a path's last index points into."""
    steps = definition.steps
    for i in range(0, len(prefix), 2):
        step = steps[prefix[i]]
        if not isinstance(step, Branch):
            raise LookupError(f"no branch at {format_path(prefix[: i + 1])}")
        steps = _steps_of(step, prefix[i + 1])
    return steps


def step_at(definition: WorkflowDefinition, path: StepPath) -> Step:
    if not path or len(path) % 2 == 0:
        raise LookupError(f"not a step position: {path!r}")
    return _list_at(definition, path[:-1])[path[-1]]


def first_path(definition: WorkflowDefinition) -> StepPath | None:
    return (0,) if definition.steps else None


def next_path(definition: WorkflowDefinition, path: StepPath) -> StepPath | None:
    """The step after `path` in its own list, or None at the end of the path."""
    siblings = _list_at(definition, path[:-1])
    following = path[-1] + 1
    return (*path[:-1], following) if following < len(siblings) else None


def case_path(definition: WorkflowDefinition, branch_path: StepPath, case: int) -> StepPath | None:
    """The first step of case `case` of the branch at `branch_path` (None if it is empty)."""
    branch = step_at(definition, branch_path)
    if not isinstance(branch, Branch):
        raise LookupError(f"no branch at {format_path(branch_path)}")
    return (*branch_path, case, 0) if _steps_of(branch, case) else None


def walk(steps: tuple[Step, ...], prefix: StepPath = ()) -> Iterator[tuple[StepPath, Step]]:
    """Every step with its path, depth first, in the order a reader sees them."""
    for index, step in enumerate(steps):
        path = (*prefix, index)
        yield path, step
        if isinstance(step, Branch):
            for case in range(len(step.cases) + 1):
                yield from walk(_steps_of(step, case), (*path, case))


def format_path(path: StepPath, definition: WorkflowDefinition | None = None) -> str:
    """The API's field name for a step: `steps[3].cases[1].steps[0]`. With the definition,
    a step of a branch's `otherwise` path is named the way the JSON holds it
    (`steps[3].otherwise[0]`), not as a case index past the last case."""
    parts = [f"steps[{path[0]}]"] if path else []
    step: Step | None = definition.steps[path[0]] if definition is not None and path else None
    for i in range(1, len(path) - 1, 2):
        case, index = path[i], path[i + 1]
        if isinstance(step, Branch) and case == len(step.cases):
            parts.append(f"otherwise[{index}]")
        else:
            parts.append(f"cases[{case}].steps[{index}]")
        step = _steps_of(step, case)[index] if isinstance(step, Branch) else None
    return ".".join(parts)
