"""What the staff app's test console shows: the agents and patients to test with, and one
test call as it stands (its transcript, what the agent did, whether it is over).

Reads only; the calls themselves are started and advanced by `services/console.py`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import func, or_, select

from ringfence.adapters.db.calls import CallAction, CallEvent, CallJob, CallTranscript
from ringfence.adapters.db.orm import Contact, Location, VoiceAgent
from ringfence.domain.dashboard.statuses import action_label
from ringfence.domain.vocabulary import CallPurpose, CallStatus, CallType
from ringfence.services.errors import InvalidField
from ringfence.services.tenancy import get_owned
from ringfence.services.unit_of_work import TenantScope, UnitOfWork

CONTACTS_SHOWN: Final = 50  # the picker lists this many; a search narrows them


@dataclass(frozen=True, slots=True)
class Choice:
    id: int
    label: str


@dataclass(frozen=True, slots=True)
class ConsoleChoices:
    agents: tuple[Choice, ...]
    agent_id: int | None  # the chosen one (the first when none was asked for)
    contacts: tuple[Choice, ...]  # patients at the chosen agent's location


def console_choices(
    *, uow: UnitOfWork, scope: TenantScope, agent_id: int | None, search: str = ""
) -> ConsoleChoices:
    """The account's agents, and the patients of the chosen agent's location (by name or
    number, `search` narrowing them) to play in a test call."""
    rows = uow.session.execute(
        select(VoiceAgent.id, VoiceAgent.name, Location.name, VoiceAgent.location_id)
        .join(Location, Location.id == VoiceAgent.location_id)
        .where(VoiceAgent.account_id == scope.account_id)
        .order_by(Location.name, VoiceAgent.name, VoiceAgent.id)
    ).all()
    agents = tuple(Choice(i, f"{name} ({location})") for i, name, location, _ in rows)
    locations = {i: location_id for i, _, _, location_id in rows}
    if agent_id is not None and agent_id not in locations:
        raise InvalidField("agent", "no such agent in this account")
    chosen = agent_id if agent_id is not None else (rows[0][0] if rows else None)
    contacts: tuple[Choice, ...] = ()
    if chosen is not None:
        query = select(Contact.id, Contact.first_name, Contact.last_name, Contact.phone_e164).where(
            Contact.account_id == scope.account_id, Contact.location_id == locations[chosen]
        )
        words = search.strip().lower()
        if words:
            matches = [func.lower(Contact.first_name + " " + Contact.last_name).like(f"%{words}%")]
            digits = "".join(c for c in words if c.isdigit())
            if len(digits) >= 3:  # part of a number: "555 0142", "(212) 555"
                matches.append(Contact.phone_e164.like(f"%{digits}%"))
            query = query.where(or_(*matches))
        found = uow.session.execute(
            query.order_by(Contact.first_name, Contact.last_name, Contact.id).limit(CONTACTS_SHOWN)
        ).all()
        contacts = tuple(
            Choice(i, f"{' '.join(p for p in (first, last) if p) or '(no name)'} · {phone}")
            for i, first, last, phone in found
        )
    return ConsoleChoices(agents, chosen, contacts)


@dataclass(frozen=True, slots=True)
class Done:
    """Something the agent did (as a live call would apply it; here a dry run)."""

    kind: str
    label: str


@dataclass(frozen=True, slots=True)
class Line:
    speaker: str  # "agent" or "callee"
    text: str
    # What the agent did after this line (a callee's words, or the agent's opening), from the
    # events the console stored with the agent's reply.
    then: tuple[Done, ...] = ()


# The console's events (services/console.console_events) as the tester reads them.
EVENT_TEXTS: Final = {
    "opt_out_applied": "Opted the number out (stops every call to it)",
    "ai_disclosed": "Said it is an AI assistant",
    "deferred_to_staff": "Deferred the question to staff",
    "task_created": "Created a task for staff",
    "appointment_confirmed": "Confirmed the appointment",
    "reschedule_requested": "Asked staff to reschedule",
    "cancel_requested": "Asked staff to confirm a cancellation",
    "callback_requested": "Asked staff to call back",
    "booking_requested": "Asked staff to book",
    "wrong_number": "Marked a wrong number",
    "not_interested": "Noted: not interested",
    "human_claim_blocked": "Blocked a reply that claimed to be a person",
    "phi_blocked": "Blocked a reply with clinical details",
    "identity_confirmed": "Confirmed who it is speaking with",
    "patient_unavailable": "Noted: the patient is not available",
    "policy_fallback": "Fell back to a safe line",
    "voicemail_left": "Left a voicemail",
    "transferred": "Transferred the call to staff",
    "transfer_failed": "Could not transfer the call, so asked staff to call back",
    "call_ended": "Ended the call",
}

# Why a test call ended (its last state change's reason), as a sentence.
ENDED_WHY: Final = {
    "opt_out": "the patient asked not to be called, so the agent opted the number out and "
    "said goodbye",
    "completed": "the agent finished the conversation and said goodbye",
    "urgent_follow_up": "the agent handed an urgent matter to staff and closed the call",
    "policy_failure": "the agent could not go on safely, so it closed the call",
    "max_turns": "the conversation reached the most turns the agent holds",
    "callee_hung_up": "you hung up",
    "voicemail": "the agent left a voicemail",
    "transferred": "the agent transferred the caller to staff",
    "abandoned": "nobody spoke for 30 minutes, so it was closed",
}


def event_text(kind: str) -> str:
    return EVENT_TEXTS.get(kind, kind.replace("_", " ").capitalize())


def ended_text(why: str | None) -> str:
    reason = ENDED_WHY.get(why or "")
    return f"The call has ended: {reason}." if reason else "The call has ended."


@dataclass(frozen=True, slots=True)
class ConsoleCallView:
    id: int
    agent_id: int | None
    purpose: CallPurpose
    lines: tuple[Line, ...]
    done: tuple[Done, ...]
    ended: bool
    ended_why: str | None  # the last state change's reason ("opt_out", "callee_hung_up", ...)

    @property
    def ended_text(self) -> str:
        return ended_text(self.ended_why)


def console_call_view(*, uow: UnitOfWork, scope: TenantScope, call_id: int) -> ConsoleCallView:
    """One test call of the account (`NotFound` for anything else, another account's too)."""
    job = get_owned(uow.session, CallJob, call_id, scope)
    if job.call_type is not CallType.TEST:
        raise InvalidField("call_id", "not a test call")
    turns = uow.session.scalar(select(CallTranscript.turns).where(CallTranscript.job_id == job.id))
    actions = uow.session.scalars(
        select(CallAction.kind).where(CallAction.job_id == job.id).order_by(CallAction.id)
    ).all()
    ended = job.status is CallStatus.COMPLETED
    why = None
    if ended:
        why = uow.session.scalar(
            select(CallEvent.reason_code)
            .where(CallEvent.job_id == job.id)
            .order_by(CallEvent.id.desc())
            .limit(1)
        )
    return ConsoleCallView(
        id=job.id,
        agent_id=job.agent_id,
        purpose=job.purpose,
        lines=_lines(turns or []),
        done=tuple(Done(kind, action_label(kind)) for kind in actions),
        ended=ended,
        ended_why=why,
    )


def _lines(turns: list[dict[str, Any]]) -> tuple[Line, ...]:
    """The transcript's lines, each callee line with what the agent did after it (stored on
    the agent's reply, the next line), the opening with what it did itself."""
    lines: list[Line] = []
    for i, turn in enumerate(turns):
        speaker = str(turn["speaker"])
        source = turns[i + 1] if speaker == "callee" and i + 1 < len(turns) else turn
        own = speaker == "callee" or i == 0
        kinds = source.get("events", []) if own and source["speaker"] == "agent" else []
        then = tuple(Done(str(kind), event_text(str(kind))) for kind in kinds)
        lines.append(Line(speaker, str(turn["text"]), then))
    return tuple(lines)
