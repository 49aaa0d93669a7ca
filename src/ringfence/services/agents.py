"""Saving a voice agent: its openings, greeting and voicemail must pass the guardrails.

"The opening line for outbound should immediately identify your practice and the reason for
calling" is checked when the agent is saved, not discovered on a patient's phone.
"""

from __future__ import annotations

from typing import Any, Final, TypedDict

from sqlalchemy.orm import Session

from ringfence.adapters.db.orm import VoiceAgent
from ringfence.agent.validation import validate_agent
from ringfence.domain.vocabulary import CallPurpose
from ringfence.services.agent_sessions import location_callback, saved_profile
from ringfence.services.audit import changed_fields
from ringfence.services.errors import InvalidField
from ringfence.services.fields import apply_fields
from ringfence.services.locations import referenced_location
from ringfence.services.repositories import Queries
from ringfence.services.unit_of_work import AbstractUnitOfWork, TenantScope


class AgentFields(TypedDict, total=False):
    """An agent's fields as a caller gives them: all of them for a new agent, only those that
    change for an update (a key present with None clears the field, or is refused where the
    agent always has one)."""

    name: str | None
    practice_name: str | None
    system_prompt: str | None
    inbound_greeting: str | None
    outbound_opening: str | None
    outbound_openings: dict[CallPurpose, str] | None
    callback_number: str | None
    voicemail_script: str | None
    dialogue_policy: str | None
    transfer_number: str | None
    staff_hours: dict[str, list[str]] | None


# What the audit log keeps of an agent: every field staff can set (what it says on calls is
# what a clinic answers for, so the words themselves are kept, before and after).
AUDITED: Final = (
    "location_id",
    "name",
    "practice_name",
    "system_prompt",
    "inbound_greeting",
    "outbound_opening",
    "outbound_openings",
    "callback_number",
    "voicemail_script",
    "dialogue_policy",
    "transfer_number",
    "staff_hours",
)


def _audited(agent: VoiceAgent, fields: tuple[str, ...] = AUDITED) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name in fields:
        value = getattr(agent, name)
        if isinstance(value, dict):  # openings keyed by CallPurpose: plain JSON keys
            value = {str(k): v for k, v in value.items()}
        values[name] = value
    return values


def create_agent(
    *, uow: AbstractUnitOfWork, scope: TenantScope, location_id: int, fields: AgentFields
) -> VoiceAgent:
    """A new agent at one of the caller's locations, checked against the guardrails;
    committed."""
    referenced_location(uow, scope, location_id)
    now = uow.clock.now()
    agent = VoiceAgent(
        account_id=scope.account_id,
        location_id=location_id,
        **fields,
        created_at=now,
        updated_at=now,
    )
    uow.voice_agents.add(agent)
    _check(uow, agent)
    uow.audit.record(
        scope,
        entity_type="voice_agent",
        entity_id=agent.id,
        action="voice_agent.created",
        at=now,
        after=_audited(agent),
    )
    uow.commit()
    return agent


def update_agent(
    *, uow: AbstractUnitOfWork, scope: TenantScope, agent_id: int, changes: AgentFields
) -> VoiceAgent:
    """Change the fields present in `changes`; the agent as changed is checked again;
    committed."""
    agent = uow.voice_agents.owned(scope, agent_id)
    named = tuple(key for key in AUDITED if key in changes)
    before = _audited(agent, named)
    apply_fields(agent, dict(changes))
    agent.updated_at = uow.clock.now()
    _check(uow, agent)
    # Before and after of the fields that really changed; a PATCH that sends the values
    # already saved leaves no event.
    changed = changed_fields(before, _audited(agent, named))
    if changed is not None:
        uow.audit.record(
            scope,
            entity_type="voice_agent",
            entity_id=agent.id,
            action="voice_agent.updated",
            at=agent.updated_at,
            before=changed[0],
            after=changed[1],
        )
    uow.commit()
    return agent


def _check(uow: Queries, agent: VoiceAgent) -> None:
    ensure_valid(agent, agent.callback_number or uow.caller_ids.first_at(agent.location_id))


def check_agent(session: Session, agent: VoiceAgent) -> None:
    """Raise InvalidField (naming the field) for the first problem with `agent` (for callers
    that hold a session rather than a unit of work: the workflow validation)."""
    ensure_valid(agent, agent.callback_number or location_callback(session, agent.location_id))


def ensure_valid(agent: VoiceAgent, callback: str | None) -> None:
    """Raise InvalidField (naming the field) for the first problem with `agent`; `callback` is
    the number it gives on calls (its own, else its location's first caller ID)."""
    if callback is None:
        raise InvalidField(
            "callback_number",
            "required: the agent gives it on every call and voicemail "
            "(or add a caller ID to the location first)",
        )
    if agent.transfer_number and not agent.staff_hours:
        raise InvalidField(
            "staff_hours",
            "required with transfer_number: callers are only transferred while the office is open",
        )
    own = agent.outbound_openings or {}
    uses_default = bool(agent.outbound_opening) and (
        CallPurpose.APPOINTMENT_CONFIRMATION.value not in own
    )
    profile = saved_profile(agent, callback)
    for problem in validate_agent(profile):
        field = problem.field
        if uses_default and field == "outbound_openings.appointment_confirmation":
            field = "outbound_opening"
        raise InvalidField(field, problem.message)
