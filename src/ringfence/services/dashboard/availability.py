"""When the Outbound tab appears: "once you have at least one Voice AI agent configured for
outbound and your first outbound call has been logged". Until then the page says which of
the two is missing, instead of an empty dashboard. The Inbound tab is always there; until the
location's first inbound call it says what makes calls arrive."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from ringfence.adapters.db.calls import CallJob
from ringfence.adapters.db.orm import PhoneNumber
from ringfence.domain.vocabulary import CallDirection
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


@dataclass(frozen=True, slots=True)
class InboundTab:
    """Whether the location has answered a call yet, and if not, what it takes."""

    has_agent: bool
    has_number: bool
    first_call_logged: bool

    @property
    def missing(self) -> tuple[str, ...]:
        """What stands between the location and its first inbound call, in plain words."""
        reasons: list[str] = []
        if not self.has_agent:
            reasons.append(
                "This location has no Voice AI agent to answer calls (add one under Voice AI)."
            )
        if not self.has_number:
            reasons.append(
                "This location has no practice phone number (add one under Settings → Phone "
                "numbers, and route it to Ringfence at your carrier)."
            )
        return tuple(reasons)


def inbound_tab(session: Session, account_id: int, overview: VoiceAiOverview) -> InboundTab:
    if overview.location is None:
        return InboundTab(has_agent=False, has_number=False, first_call_logged=False)
    location_id = overview.location.location_id
    here = (CallJob.account_id == account_id, CallJob.location_id == location_id)
    logged = session.scalar(
        select(CallJob.id).where(*here, CallJob.direction == CallDirection.INBOUND).limit(1)
    )
    number = session.scalar(
        select(PhoneNumber.id)
        .where(PhoneNumber.account_id == account_id, PhoneNumber.location_id == location_id)
        .limit(1)
    )
    return InboundTab(
        has_agent=bool(overview.agents),
        has_number=number is not None,
        first_call_logged=logged is not None,
    )
