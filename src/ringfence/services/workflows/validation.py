"""Checks on a workflow that need the database: the Voice AI Outbound Call action's agent and
caller ID exist at the workflow's location and the agent can open an outbound call; tags the
workflow reads or writes exist (a typo would silently match nobody)."""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import select
from sqlalchemy.orm import Session

from ringfence.adapters.db.orm import Form, PhoneNumber, Tag, VoiceAgent
from ringfence.domain.tags import QA_TEST_TAG
from ringfence.domain.workflows.checks import structural_problems
from ringfence.domain.workflows.definition import AddTag, RemoveTag, VoiceAICall, WorkflowDefinition
from ringfence.domain.workflows.walk import format_path, walk
from ringfence.services.agents import check_agent
from ringfence.services.errors import InvalidField, InvalidFields
from ringfence.services.unit_of_work import TenantScope


def check_definition(
    session: Session, scope: TenantScope, *, location_id: int, definition: WorkflowDefinition
) -> None:
    """Raise `InvalidFields` naming every problem (the first for each field), each field named
    the way parse_definition does (`definition.steps[1].agent_id`), so every error about a
    definition has one shape and a form shows them all at once."""
    found: dict[str, InvalidField] = {}
    for problem in _check(session, scope, location_id, definition):
        found.setdefault(problem.field, problem)
    if found:
        raise InvalidFields(
            [InvalidField(f"definition.{p.field}", p.message) for p in found.values()]
        )


def _check(
    session: Session, scope: TenantScope, location_id: int, definition: WorkflowDefinition
) -> Iterator[InvalidField]:
    for problem in structural_problems(definition):
        yield InvalidField(problem.field, problem.message)
    trigger = definition.trigger
    if trigger.form_id is not None:
        form = session.get(Form, trigger.form_id)
        if form is None or form.account_id != scope.account_id:
            yield InvalidField("trigger.form_id", f"no such form ({trigger.form_id})")
    yield from _check_tags(session, scope, definition)
    for path, step in walk(definition.steps):
        if isinstance(step, VoiceAICall):
            yield from _check_call_step(
                session, scope, location_id, format_path(path, definition), step
            )


def _check_call_step(
    session: Session, scope: TenantScope, location_id: int, name: str, step: VoiceAICall
) -> Iterator[InvalidField]:
    number = session.get(PhoneNumber, step.from_number_id)
    if number is None or number.account_id != scope.account_id:
        # Also what a draft reads whose number was removed since (removal only refuses
        # published workflows' numbers: `caller_id_removal.py`), so it says what to do.
        number_problem: str | None = (
            f"From Phone Number: no such number ({step.from_number_id}): it is not one of this "
            "account's caller IDs (it may have been removed); choose another From Phone Number"
        )
    elif number.location_id != location_id:
        number_problem = f"From Phone Number: {number.e164} belongs to another location"
    else:
        number_problem = None
    agent = session.get(VoiceAgent, step.agent_id)
    if agent is None or agent.account_id != scope.account_id:
        yield InvalidField(f"{name}.agent_id", f"AI Agent: no such agent ({step.agent_id})")
    elif agent.location_id != location_id:
        yield InvalidField(f"{name}.agent_id", "AI Agent: the agent belongs to another location")
    else:
        try:
            check_agent(session, agent)
        except InvalidField as exc:
            yield InvalidField(
                f"{name}.agent_id",
                f"AI Agent {agent.name!r} cannot place outbound calls yet: "
                f"{exc.field}: {exc.message}",
            )
    if number_problem is not None:
        yield InvalidField(f"{name}.from_number_id", number_problem)


def _check_tags(
    session: Session, scope: TenantScope, definition: WorkflowDefinition
) -> Iterator[InvalidField]:
    named: list[tuple[str, str]] = []
    if definition.trigger.tag:
        named.append(("trigger.tag", definition.trigger.tag))
    audience = definition.audience
    named += [(f"audience.has_tags[{i}]", t) for i, t in enumerate(audience.has_tags)]
    named += [(f"audience.lacks_tags[{i}]", t) for i, t in enumerate(audience.lacks_tags)]
    # Add-tag steps may create a new tag on purpose ("Confirmed by AI"); removing or
    # filtering on a tag that does not exist is always a mistake.
    named += [
        (f"{format_path(path, definition)}.tag", step.tag)
        for path, step in walk(definition.steps)
        if isinstance(step, RemoveTag)
    ]
    if not named:
        return
    existing = set(
        session.scalars(
            select(Tag.name).where(
                Tag.account_id == scope.account_id, Tag.name.in_({n for _, n in named})
            )
        )
    )
    for field, name in named:
        if name not in existing:
            yield InvalidField(field, f"unknown tag {name!r} (create it first)")


def tags_to_create(definition: WorkflowDefinition) -> set[str]:
    """Tags an add-tag step writes (created on publish if missing) plus the QA tag in test
    mode, so a test workflow can be pointed at it straight away."""
    names = {step.tag for _, step in walk(definition.steps) if isinstance(step, AddTag)}
    if definition.test_mode:
        names.add(QA_TEST_TAG)
    return names
