"""Outbound readiness of a location's voice agents: what the Voice AI page shows.

Read-only. An agent is judged exactly as a call would use it: its saved profile through
`validate_agent` (the save-time check) with the callback number a call would give. Openings that
fail it are replaced by the built-in safe opening when a call starts (`profile_of`), so such an
agent still calls, but not with the words the practice wrote; an agent without any callback
number cannot hold a call at all (`build_sessions` skips it).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from ringfence.adapters.db.orm import Account, Location, VoiceAgent
from ringfence.agent.profile import DEFAULT_VOICEMAIL, AgentProfile
from ringfence.agent.validation import validate_agent
from ringfence.domain.staff_hours import parse_staff_hours
from ringfence.domain.vocabulary import CallPurpose, KycStatus
from ringfence.services.agent_sessions import location_callback, profile_of, saved_profile
from ringfence.services.agent_words import field_label, policy_words
from ringfence.services.errors import NotFound

_OPENINGS_FIELD = "outbound_openings."


class Readiness(StrEnum):
    READY = "ready"  # every text passes the guardrails; calls say what the practice wrote
    NEEDS_ATTENTION = "needs_attention"  # calls go out, with built-in texts for the failing ones
    CANNOT_CALL = "cannot_call"  # no callback number: no call can be held


class OpeningSource(StrEnum):
    PURPOSE = "purpose"  # the agent's opening for this purpose
    DEFAULT = "default"  # the agent's single default opening (appointment confirmation)
    BUILT_IN = "built_in"  # none written: the built-in safe opening


@dataclass(frozen=True, slots=True)
class OpeningStatus:
    purpose: CallPurpose
    source: OpeningSource
    problems: tuple[str, ...]  # empty: the opening passes
    spoken: str  # what a call says (the built-in opening when this one fails), for staff to read

    @property
    def valid(self) -> bool:
        return not self.problems


@dataclass(frozen=True, slots=True)
class AgentProblemLine:
    field: str
    message: str

    @property
    def label(self) -> str:
        """The field as the edit page labels it ("Voicemail script"), never its code."""
        return field_label(self.field)


@dataclass(frozen=True, slots=True)
class AgentReadiness:
    agent_id: int
    name: str
    practice_name: str
    dialogue_policy: str
    dialogue_policy_words: str  # as the edit page's select names it
    callback_number: str | None
    callback_from_location: bool  # the agent has none of its own: the location's caller ID
    transfer_number: str | None  # the staff line callers asking for a person are handed to
    staff_hours: str | None  # its business hours, summarized ("Mon 09:00-17:00; ...")
    readiness: Readiness
    openings: tuple[OpeningStatus, ...]
    other_problems: tuple[AgentProblemLine, ...]  # greeting, voicemail, prompt, numbers
    voicemail: str  # what a voicemail says (rendered; the built-in one when the agent's fails)
    own_voicemail: bool  # the agent's own script is the one used


@dataclass(frozen=True, slots=True)
class LocationChoice:
    location_id: int
    name: str
    time_zone: str


@dataclass(frozen=True, slots=True)
class VoiceAiOverview:
    outbound_enabled: bool
    kyc_status: KycStatus
    locations: tuple[LocationChoice, ...]
    location: LocationChoice | None  # None: the account has no location yet
    agents: tuple[AgentReadiness, ...]

    @property
    def ready_count(self) -> int:
        return sum(1 for agent in self.agents if agent.readiness is Readiness.READY)


def voice_ai_overview(
    session: Session, *, account_id: int, location_id: int | None
) -> VoiceAiOverview:
    """The account's outbound switch and the agents of one of its locations (default: the
    first). Another account's location answers NotFound, like a missing one."""
    account = session.get(Account, account_id)
    if account is None:
        raise NotFound(f"account {account_id} does not exist")
    locations = tuple(
        LocationChoice(location_id=row.id, name=row.name, time_zone=row.time_zone)
        for row in session.scalars(
            select(Location).where(Location.account_id == account_id).order_by(Location.id)
        )
    )
    if location_id is None:
        chosen = locations[0] if locations else None
    else:
        chosen = next((c for c in locations if c.location_id == location_id), None)
        if chosen is None:
            raise NotFound(f"location {location_id} does not exist")
    agents: tuple[AgentReadiness, ...] = ()
    if chosen is not None:
        rows = session.scalars(
            select(VoiceAgent)
            .where(
                VoiceAgent.account_id == account_id,
                VoiceAgent.location_id == chosen.location_id,
            )
            .order_by(VoiceAgent.name, VoiceAgent.id)
        ).all()
        fallback = location_callback(session, chosen.location_id) if rows else None
        agents = tuple(assess(agent, location_number=fallback) for agent in rows)
    return VoiceAiOverview(
        outbound_enabled=account.outbound_enabled,
        kyc_status=account.kyc_status,
        locations=locations,
        location=chosen,
        agents=agents,
    )


def assess(agent: VoiceAgent, *, location_number: str | None) -> AgentReadiness:
    """One agent's readiness, given the caller ID a call from its location would show."""
    callback = agent.callback_number or location_number
    own = agent.outbound_openings or {}
    by_field: dict[str, list[str]] = defaultdict(list)
    if callback is not None:
        for problem in validate_agent(saved_profile(agent, callback)):
            by_field[problem.field].append(problem.message)
    # What calls will say: the texts that pass, the built-in ones for those that do not. With
    # no callback number no call is held; the texts are shown with the number left as written.
    spoken = profile_of(agent, callback) if callback is not None else None
    openings = tuple(
        OpeningStatus(
            purpose=purpose,
            source=_source(agent, own, purpose),
            problems=tuple(by_field.pop(_OPENINGS_FIELD + purpose.value, ())),
            spoken=_said(spoken, agent, _opening_template(spoken, agent, purpose)),
        )
        for purpose in CallPurpose
    )
    own_voicemail = bool(agent.voicemail_script) and "voicemail_script" not in by_field
    others = tuple(
        AgentProblemLine(field, message)
        for field, messages in by_field.items()
        for message in messages
    )
    if callback is None:
        readiness = Readiness.CANNOT_CALL
    elif others or not all(opening.valid for opening in openings):
        readiness = Readiness.NEEDS_ATTENTION
    else:
        readiness = Readiness.READY
    return AgentReadiness(
        agent_id=agent.id,
        name=agent.name,
        practice_name=agent.practice_name,
        dialogue_policy=agent.dialogue_policy,
        dialogue_policy_words=policy_words(agent.dialogue_policy),
        callback_number=callback,
        callback_from_location=not agent.callback_number and callback is not None,
        transfer_number=agent.transfer_number,
        staff_hours=parse_staff_hours(agent.staff_hours).summary() if agent.staff_hours else None,
        readiness=readiness,
        openings=openings,
        other_problems=others,
        voicemail=_said(
            spoken, agent, agent.voicemail_script if own_voicemail else DEFAULT_VOICEMAIL
        ),
        own_voicemail=own_voicemail,
    )


def _opening_template(profile: AgentProfile | None, agent: VoiceAgent, purpose: CallPurpose) -> str:
    if profile is not None:
        return profile.opening_template(purpose)
    return saved_profile(agent, "").opening_template(purpose)


def _said(profile: AgentProfile | None, agent: VoiceAgent, template: str) -> str:
    """`template` as a call says it (practice name and callback number filled in); as written
    when it cannot be filled (no callback number, or a placeholder the checks refused)."""
    if profile is None:
        return template.replace("{practice}", agent.practice_name)
    try:
        return profile.render(template)
    except (KeyError, ValueError, IndexError):
        return template


def _source(agent: VoiceAgent, own: dict[str, str], purpose: CallPurpose) -> OpeningSource:
    if own.get(purpose.value):
        return OpeningSource.PURPOSE
    if purpose is CallPurpose.APPOINTMENT_CONFIRMATION and agent.outbound_opening:
        return OpeningSource.DEFAULT
    return OpeningSource.BUILT_IN
