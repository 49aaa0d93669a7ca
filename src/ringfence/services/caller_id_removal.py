"""Removing a caller ID, refused while something relies on it.

A published workflow's Voice AI call step dials from its From number, and an agent gives its
callback number on every call and voicemail. Removing either would make the next call fail, or
go out from (or give) a number nobody chose, which for a clinic is a compliance problem, so the
removal is refused (`Conflict`, what uses it in words) until that use is changed first. The API
(`DELETE /phone-numbers/{id}`) and the web page both remove through `remove_caller_id`.

Drafts are allowed to keep naming a removed number: a draft places no calls, refusing would
make a number hostage to every abandoned draft, and publishing checks the step's number again
(`workflows/validation.py`), so such a draft is refused at publish, by name, never run.

Past calls keep their history: `call_jobs.from_number_id` is a foreign key with ON DELETE SET
NULL on both databases; no other table refers to a caller ID by key (workflow steps name it
inside their JSON definition, which is what is checked here).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ringfence.adapters.db.orm import PhoneNumber, VoiceAgent
from ringfence.adapters.db.workflows import Workflow, WorkflowVersion
from ringfence.domain.workflows.definition import VoiceAICall
from ringfence.domain.workflows.states import WorkflowStatus
from ringfence.domain.workflows.walk import walk
from ringfence.services.contact_words import phone_display
from ringfence.services.errors import Conflict, InvalidField
from ringfence.services.tenancy import get_owned
from ringfence.services.unit_of_work import TenantScope, UnitOfWork
from ringfence.services.workflows.codec import parse_definition


def blocking_uses(session: Session, number: PhoneNumber) -> list[str]:
    """What relies on `number` and stops its removal, each in words with what to do first."""
    uses = [
        f"used as the From number of the published workflow “{name}”; "
        "unpublish it or change its step first"
        for name in _published_workflows_dialing_from(session, number)
    ]
    agents = session.scalars(
        select(VoiceAgent)
        .where(VoiceAgent.account_id == number.account_id)
        .order_by(VoiceAgent.name, VoiceAgent.id)
    ).all()
    uses += [
        f"used as the callback number of the voice agent “{agent.name}”; "
        "give the agent another callback number first"
        for agent in agents
        if agent.callback_number == number.e164
    ]
    if _only_number_of_its_location(session, number):
        # An agent with no number of its own gives the location's first caller ID; with
        # another one left it moves on to that (the confirm page says so), with none it
        # could not call at all.
        uses += [
            f"used as the callback number of the voice agent “{agent.name}” (the location's "
            "only caller ID, and the agent has no number of its own); give the agent a "
            "callback number or add another caller ID first"
            for agent in agents
            if not agent.callback_number and agent.location_id == number.location_id
        ]
    return uses


def refusal(session: Session, number: PhoneNumber) -> str | None:
    """Why `number` cannot be removed now, as one message; None when it can."""
    uses = blocking_uses(session, number)
    if not uses:
        return None
    return f"{phone_display(number.e164)} cannot be removed: it is " + (
        "; it is also ".join(uses) + "."
    )


def removal_refusal(session: Session, scope: TenantScope, number_id: int) -> str | None:
    """`refusal` for the caller's number `number_id` (else `NotFound`): the confirm page's."""
    return refusal(session, get_owned(session, PhoneNumber, number_id, scope))


def remove_caller_id(*, uow: UnitOfWork, scope: TenantScope, number_id: int) -> None:
    """Delete the caller's caller ID (`NotFound` for another account's), unless something
    relies on it (`Conflict`, naming it); committed."""
    number = get_owned(uow.session, PhoneNumber, number_id, scope)
    why_not = refusal(uow.session, number)
    if why_not is not None:
        raise Conflict(why_not)
    uow.session.delete(number)
    uow.session.flush()
    uow.commit()


def _published_workflows_dialing_from(session: Session, number: PhoneNumber) -> list[str]:
    """Names of the published workflows whose running version dials from `number`."""
    rows = session.execute(
        select(Workflow.name, WorkflowVersion.definition)
        .join(WorkflowVersion, WorkflowVersion.id == Workflow.published_version_id)
        .where(
            Workflow.account_id == number.account_id,
            Workflow.status == WorkflowStatus.PUBLISHED,
        )
        .order_by(Workflow.name, Workflow.id)
    ).all()
    names: list[str] = []
    for name, data in rows:
        try:
            definition = parse_definition(data)
        except InvalidField:
            continue  # a version that no longer reads cannot run (nor dial) either
        if any(
            isinstance(step, VoiceAICall) and step.from_number_id == number.id
            for _path, step in walk(definition.steps)
        ):
            names.append(name)
    return names


def _only_number_of_its_location(session: Session, number: PhoneNumber) -> bool:
    others = session.scalar(
        select(PhoneNumber.id)
        .where(PhoneNumber.location_id == number.location_id, PhoneNumber.id != number.id)
        .limit(1)
    )
    return others is None
