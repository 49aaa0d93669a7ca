"""Saving a voice agent: its openings, greeting and voicemail must pass the guardrails.

"The opening line for outbound should immediately identify your practice and the reason for
calling" is checked when the agent is saved, not discovered on a patient's phone.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from ringfence.adapters.db.orm import VoiceAgent
from ringfence.agent.validation import validate_agent
from ringfence.domain.vocabulary import CallPurpose
from ringfence.services.agent_sessions import location_callback, saved_profile
from ringfence.services.errors import InvalidField


def check_agent(session: Session, agent: VoiceAgent) -> None:
    """Raise InvalidField (naming the field) for the first problem with `agent`."""
    callback = agent.callback_number or location_callback(session, agent.location_id)
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
