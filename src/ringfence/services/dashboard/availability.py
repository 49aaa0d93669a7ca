"""When the Outbound tab appears: "once you have at least one Voice AI agent configured for
outbound and your first outbound call has been logged". Until then the page says which of
the two is missing, instead of an empty dashboard."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from ringfence.services.agent_readiness import Readiness, VoiceAiOverview
from ringfence.services.dashboard.metrics import has_outbound_call


@dataclass(frozen=True, slots=True)
class OutboundTab:
    agent_configured: bool
    first_call_logged: bool

    @property
    def visible(self) -> bool:
        return self.agent_configured and self.first_call_logged

    @property
    def missing(self) -> tuple[str, ...]:
        reasons: list[str] = []
        if not self.agent_configured:
            reasons.append(
                "No Voice AI agent at this location is configured for outbound calls "
                "(it needs a callback number and a valid outbound opening: see Voice AI)."
            )
        if not self.first_call_logged:
            reasons.append(
                "No outbound call has been logged yet: calls come only from a published "
                "workflow's Voice AI Outbound Call action."
            )
        return tuple(reasons)


def outbound_tab(session: Session, account_id: int, overview: VoiceAiOverview) -> OutboundTab:
    if overview.location is None:
        return OutboundTab(agent_configured=False, first_call_logged=False)
    configured = any(agent.readiness is not Readiness.CANNOT_CALL for agent in overview.agents)
    logged = has_outbound_call(session, account_id, overview.location.location_id)
    return OutboundTab(agent_configured=configured, first_call_logged=logged)
