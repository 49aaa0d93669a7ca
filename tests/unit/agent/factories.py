"""Shared builders for the agent's unit tests."""

from __future__ import annotations

from ringfence.agent.profile import AgentProfile, CallContext, CallDirection
from ringfence.domain.vocabulary import CallPurpose

PRACTICE = "Glow Med Spa"
CALLBACK = "+13055550123"


def profile(**changes: object) -> AgentProfile:
    values: dict[str, object] = {"practice_name": PRACTICE, "callback_number": CALLBACK}
    values.update(changes)
    return AgentProfile(**values)  # type: ignore[arg-type]


def outbound(
    purpose: CallPurpose = CallPurpose.APPOINTMENT_CONFIRMATION,
    *,
    first_name: str | None = "Jane",
    service: str | None = "Botox touch-up",
    time: str | None = "Friday at 2 PM",
) -> CallContext:
    return CallContext(CallDirection.OUTBOUND, purpose, first_name, service, time)


def inbound() -> CallContext:
    return CallContext(CallDirection.INBOUND, None, "Jane", "Botox touch-up", "Friday at 2 PM")
