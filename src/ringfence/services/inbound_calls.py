"""The record of an inbound call, whichever carrier brought it (issue 19): the sandbox's
simulated calls (services/inbound_sandbox.py) and live SIP / Twilio calls
(services/inbound_live.py) are opened and closed here alike.

`open_inbound_call` routes the call by `answer_incoming` (the practice line, the likely
caller); a refused call writes nothing. An answered one is ONE call job, in progress while it
lasts, like an outbound call: direction inbound, call type live; `close_inbound_call` completes
it (connected, or unanswered when the caller left first) with its encrypted transcript,
sentiment and actions; the conversation's outcome is applied by `apply_conversation`, the
very code outbound outcomes go through ("stop calling me" suppresses the number practice-wide
and cancels the pending outbound calls to it; reschedule / cancel / call-back requests become
the same tasks).

Records, on purpose:
- An inbound call is never *dialed*: `dialed_at` / `dialed_local_day` stay empty, so it
  takes no pacing slot, counts toward no per-number cap, and is in none of the outbound
  dashboard's figures (whose rollups key on the dial day); the direction filters in
  services/facts.py and services/dashboard/scope.py say the same explicitly.
- Its minutes are on the record (`duration_seconds`); no carrier carried it, so it bills 0
  seconds and books nothing in the minutes ledger, which stays the ledger of outbound dials
  (as test-console calls do).
- A caller no contact has is recorded against a "caller" contact created for the number at
  the called location (no consent: it can never be dialed). `call_jobs.contact_id` stays
  NOT NULL: making it nullable rebuilds the table on SQLite, which drops the dashboard's
  rollup triggers (migration 0008).
- `purpose` (NOT NULL on call jobs) is the purpose of our call being returned, else
  appointment confirmation, the informational default.
"""

from __future__ import annotations

import math
import secrets
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Final

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from ringfence.adapters.db.calls import CallEvent, CallJob
from ringfence.adapters.db.orm import Contact, Location, PhoneNumber, VoiceAgent
from ringfence.agent.callee import (
    Conversation,
    TranscriptLine,
)
from ringfence.agent.events import (
    CallerConfirmed,
    CallerMessage,
    ConversationOutcome,
    EndReason,
)
from ringfence.agent.profile import CallContext, CallDirection
from ringfence.agent.session import AgentSession
from ringfence.domain.calls import IN_FLIGHT
from ringfence.domain.inbound import (
    UNKNOWN_CALLER_NAME,
    WITHHELD_CALLER_NAME,
    LikelyCaller,
    Refused,
)
from ringfence.domain.staff_hours import parse_staff_hours, spoken_hours
from ringfence.domain.vocabulary import CallDirection as RecordDirection
from ringfence.domain.vocabulary import (
    CallOutcome,
    CallPurpose,
    CallStatus,
    CallType,
    ContactSource,
)
from ringfence.services.agent_sessions import SessionRequest, build_sessions, profile_of, staff_of
from ringfence.services.call_outcomes import FinishedCall, apply_conversation
from ringfence.services.inbound_routing import AnsweredCall, answer_incoming
from ringfence.services.inbound_transfers import keep_for_dial_report, transfer_under_way
from ringfence.services.stored_sessions import store_session
from ringfence.services.unit_of_work import UnitOfWork

INBOUND_ANSWERED: Final = "inbound_call"
INBOUND_ENDED: Final = "inbound_call"
INBOUND_LOST: Final = "inbound_call_lost"
# A record still in progress this long after its answer was left by a worker that stopped:
# longer than any call may last (RINGFENCE_SIP_MAX_CALL_SECONDS is at most 2 hours).
LOST_AFTER: Final = timedelta(hours=2, minutes=10)


@dataclass(frozen=True, slots=True)
class NoAgent:
    """The line belongs to a location without a voice agent: nobody can answer."""

    location_id: int

    @property
    def explanation(self) -> str:
        return "the location that owns the dialed number has no voice agent to answer it"


@dataclass(frozen=True, slots=True)
class InboundCallResult:
    job_id: int
    account_id: int
    location_id: int
    contact_id: int
    recognised: bool  # an existing contact (not a "caller" contact made for this call)
    transcript: tuple[TranscriptLine, ...]
    outcome: ConversationOutcome
    ended_by: EndReason
    duration_seconds: int


@dataclass(frozen=True, slots=True)
class OpenedInbound:
    """An answered inbound call on record (status in progress) and the agent that holds it."""

    job_id: int
    key: str  # the job's idempotency key: a carrier's media stream finds the call by it
    account_id: int
    location_id: int
    contact_id: int  # provisional: the likely caller's, else an unknown caller's contact
    likely_contact_id: int | None
    answered: AnsweredCall
    agent_session: AgentSession
    answered_at: datetime


def open_inbound_call(
    uow: UnitOfWork,
    *,
    dialed: str,
    caller: str | None,
    carrier_call_id: str | None = None,
) -> OpenedInbound | Refused | NoAgent:
    """Route a call ringing on `dialed` from `caller` and, when the location's agent can answer
    it, put it on record as a call in progress (committed), so it shows as live and counts
    toward the concurrent-call limit while it lasts. A refused call writes nothing."""
    session = uow.session
    now = uow.clock.now()
    answered = answer_incoming(session, dialed=dialed, caller=caller, now=now)
    if isinstance(answered, Refused):
        return answered
    line = answered.line
    agent = session.scalars(
        select(VoiceAgent)
        .where(VoiceAgent.account_id == line.account_id, VoiceAgent.location_id == line.location_id)
        .order_by(VoiceAgent.id)
        .limit(1)
    ).first()
    if agent is None:
        return NoAgent(line.location_id)
    location = session.get(Location, line.location_id)
    time_zone = location.time_zone if location is not None else "UTC"
    likely = (
        answered.recognition.candidate.contact_id
        if isinstance(answered.recognition, LikelyCaller)
        else None
    )
    purpose = answered.returning.purpose if answered.returning else None
    agent_session = _agent_session(session, agent, line.number_id, likely, time_zone, now)
    hours = parse_staff_hours(agent.staff_hours) if agent.staff_hours else None
    context = replace(
        agent_session.context,
        purpose=None,
        # What the agent's inbound desk decides on (agent/inbound.py): who may be calling,
        # our call being returned, and the hours it may say.
        caller=answered.recognition,
        returned_call=answered.returning,
        location_text=spoken_hours(hours) if hours is not None else None,
    )
    agent_session = replace(agent_session, context=context)
    contact_id = likely if likely is not None else _caller_contact(session, answered, now)
    key = f"in-{secrets.token_hex(16)}"
    stored = store_session(session, line.account_id, agent_session, now=now)
    job = CallJob(
        account_id=line.account_id,
        location_id=line.location_id,
        contact_id=contact_id,
        agent_id=agent.id,
        from_number_id=line.number_id,  # the practice line that was called
        action_name="Inbound call",
        purpose=purpose or CallPurpose.APPOINTMENT_CONFIRMATION,
        call_type=CallType.LIVE,
        direction=RecordDirection.INBOUND,
        status=CallStatus.IN_PROGRESS,
        evaluations=0,
        phone_e164=answered.caller,
        idempotency_key=key,
        carrier_call_id=carrier_call_id,
        agent_session=stored.agent_session,
        agent_profile_digest=stored.agent_profile_digest,
        created_at=now,
        updated_at=now,
    )
    session.add(job)
    session.flush()
    session.add(_event(job, now, None, CallStatus.IN_PROGRESS, INBOUND_ANSWERED))
    uow.commit()
    return OpenedInbound(
        job_id=job.id,
        key=key,
        account_id=line.account_id,
        location_id=line.location_id,
        contact_id=contact_id,
        likely_contact_id=likely,
        answered=answered,
        agent_session=agent_session,
        answered_at=now,
    )


def close_inbound_call(
    uow: UnitOfWork,
    opened: OpenedInbound,
    conversation: Conversation | None,
    *,
    ended_at: datetime,
    recording_path: str | None = None,
    recording_seconds: float | None = None,
    transfer_reported_later: bool = False,
) -> InboundCallResult:
    """The call is over: filed under the caller it turned out to be, completed, and its
    conversation applied (committed). Without a conversation (the caller hung up before the
    agent's first words) it is completed unanswered. `transfer_reported_later`: the carrier
    tells how a hand-over to staff ended after this (Twilio's `<Dial>`), so a conversation
    with one under way is kept for that report (services/inbound_transfers.py)."""
    session = uow.session
    job = session.get(CallJob, opened.job_id)
    if job is None:
        raise LookupError(f"inbound call {opened.job_id} is not on record")
    # A call the reconcile pass took for lost (it outlived LOST_AFTER) is still closed with
    # its conversation: an opt-out said in it must never be dropped.
    before = CallStatus.COMPLETED if _settled_as_lost(session, job) else CallStatus.IN_PROGRESS
    if job.status is not before:
        raise LookupError(f"inbound call {opened.job_id} is not in progress")
    duration = max(0, math.ceil((ended_at - opened.answered_at).total_seconds()))
    if conversation is None:
        job.status, job.outcome = CallStatus.COMPLETED, CallOutcome.NO_ANSWER
        job.carrier_reason = "the caller hung up before the agent answered"
        job.ended_at, job.duration_seconds, job.billable_seconds = ended_at, 0, 0
        job.updated_at = ended_at
        session.add(_event(job, ended_at, before, CallStatus.COMPLETED, INBOUND_ENDED))
        uow.commit()
        return InboundCallResult(
            job_id=job.id,
            account_id=opened.account_id,
            location_id=opened.location_id,
            contact_id=job.contact_id,
            recognised=opened.likely_contact_id is not None,
            transcript=(),
            outcome=ConversationOutcome.NO_RESOLUTION,
            ended_by=EndReason.CALLEE_HUNG_UP,
            duration_seconds=0,
        )
    # Filed under the contact the agent confirmed (on a shared line, the one who said their
    # name), else the one contact with the number, unless the caller turned out to be someone
    # else ("no, this is her husband": they left a message as an unknown caller), else an
    # unknown caller's contact: a stranger's words never land in a patient's record.
    confirmed = next(
        (e.contact_id for e in conversation.events if isinstance(e, CallerConfirmed)), None
    )
    someone_else = any(isinstance(e, CallerMessage) for e in conversation.events)
    likely = opened.likely_contact_id
    known = confirmed if confirmed is not None else (None if someone_else else likely)
    contact_id = known if known is not None else _caller_contact(session, opened.answered, ended_at)
    job.contact_id = contact_id
    job.status, job.outcome = CallStatus.COMPLETED, CallOutcome.CONNECTED
    job.carrier_reason = None
    job.ended_at, job.duration_seconds = ended_at, duration
    job.billable_seconds = 0  # what the carrier bills is the carrier's (module docstring)
    job.updated_at = ended_at
    session.add(_event(job, ended_at, before, CallStatus.COMPLETED, INBOUND_ENDED))
    apply_conversation(
        session,
        FinishedCall(
            job_id=job.id,
            account_id=opened.account_id,
            location_id=opened.location_id,
            contact_id=contact_id,
            outcome=CallOutcome.CONNECTED,
            answered_at=opened.answered_at,
            ended_at=ended_at,
            recording_path=recording_path,
            recording_seconds=recording_seconds,
        ),
        conversation,
    )
    if transfer_reported_later and transfer_under_way(conversation):
        keep_for_dial_report(session, opened.key, conversation, at=ended_at)
    uow.commit()
    return InboundCallResult(
        job_id=job.id,
        account_id=opened.account_id,
        location_id=opened.location_id,
        contact_id=contact_id,
        recognised=known is not None,
        transcript=conversation.transcript,
        outcome=conversation.outcome,
        ended_by=conversation.ended_by,
        duration_seconds=duration,
    )


def settle_lost_inbound_calls(session: Session, *, now: datetime, after: timedelta) -> int:
    """Complete inbound calls still "in progress" `after` their answer (at least LOST_AFTER,
    longer than any call may last): the process holding them stopped without closing them (a
    crash), and they must not hold a line of the concurrent-call limit forever. Their
    conversation died with that process, unless the call was still live after all: then its
    close still applies it (`close_inbound_call`). Failed, not connected: nobody knows whether
    the caller was ever talked to (a Twilio call whose stream never came was not)."""
    after = max(after, LOST_AFTER)
    jobs = session.scalars(
        select(CallJob).where(
            CallJob.direction == RecordDirection.INBOUND,
            CallJob.status == CallStatus.IN_PROGRESS,
            CallJob.created_at <= now - after,
        )
    ).all()
    for job in jobs:
        job.status, job.outcome = CallStatus.COMPLETED, CallOutcome.FAILED
        job.carrier_reason = "call lost: the worker holding it stopped before it ended"
        job.ended_at, job.updated_at = now, now
        session.add(_event(job, now, CallStatus.IN_PROGRESS, CallStatus.COMPLETED, INBOUND_LOST))
    return len(jobs)


def _settled_as_lost(session: Session, job: CallJob) -> bool:
    if job.status is not CallStatus.COMPLETED or job.outcome is not CallOutcome.FAILED:
        return False
    last = session.scalars(
        select(CallEvent.reason_code)
        .where(CallEvent.job_id == job.id)
        .order_by(CallEvent.id.desc())
        .limit(1)
    ).first()
    return last == INBOUND_LOST


def calls_in_flight(session: Session) -> int:
    """Calls holding a line now: outbound calls dialed and not over, and inbound calls being
    answered (test-console calls have no dial stamp: they hold none)."""
    count = session.scalar(
        select(func.count())
        .select_from(CallJob)
        .where(
            CallJob.status.in_(IN_FLIGHT),
            or_(CallJob.dialed_at.is_not(None), CallJob.direction == RecordDirection.INBOUND),
        )
    )
    return int(count or 0)


def _event(
    job: CallJob, at: datetime, before: CallStatus | None, after: CallStatus, reason: str
) -> CallEvent:
    return CallEvent(
        account_id=job.account_id,
        job_id=job.id,
        at=at,
        from_status=before,
        to_status=after,
        reason_code=reason,
    )


def _agent_session(
    session: Session,
    agent: VoiceAgent,
    number_id: int,
    contact_id: int | None,
    time_zone: str,
    now: datetime,
) -> AgentSession:
    """The agent's profile and an inbound context, built the way outbound calls build theirs
    (a known caller's first name and upcoming appointment), then turned inbound."""
    if contact_id is not None:
        built = build_sessions(
            session,
            [
                SessionRequest(
                    job_id=0,
                    contact_id=contact_id,
                    location_id=agent.location_id,
                    agent_id=agent.id,
                    from_number_id=number_id,
                    purpose=CallPurpose.APPOINTMENT_CONFIRMATION,
                    is_test=False,
                )
            ],
            now=now,
        ).get(0)
        if built is not None:
            return replace(built, context=replace(built.context, direction=CallDirection.INBOUND))
    callback = agent.callback_number or _number(session, number_id)
    return AgentSession(
        profile=profile_of(agent, callback),
        context=CallContext(
            direction=CallDirection.INBOUND,
            staff=staff_of(agent, now=now, time_zone=time_zone),
        ),
    )


def _number(session: Session, number_id: int) -> str:
    number = session.get(PhoneNumber, number_id)
    return number.e164 if number is not None else ""


def _caller_contact(session: Session, answered: AnsweredCall, now: datetime) -> int:
    """The "caller" contact an unknown caller's call is filed under, created once with no
    consent, so it can never be dialed: one per number at the called location, one for every
    withheld number, and one (without a number) for people calling from a number a patient of
    the location holds (a location holds a number once, and a stranger's words never go in the
    patient's record)."""
    line = answered.line
    name, phone = (
        (UNKNOWN_CALLER_NAME, answered.caller)
        if answered.caller
        else (
            WITHHELD_CALLER_NAME,
            None,
        )
    )
    at_location = (Contact.account_id == line.account_id, Contact.location_id == line.location_id)
    if phone is not None:
        holder = session.scalars(
            select(Contact).where(*at_location, Contact.phone_e164 == phone).limit(1)
        ).first()
        if holder is not None:
            if holder.first_name == UNKNOWN_CALLER_NAME and not holder.last_name:
                return holder.id
            phone = None  # a patient's number: filed under the location's number-less caller
    found = session.scalars(
        select(Contact.id)
        .where(
            *at_location,
            Contact.first_name == name,
            Contact.last_name == "",
            Contact.phone_e164 == phone if phone is not None else Contact.phone_e164.is_(None),
        )
        .order_by(Contact.id)
        .limit(1)
    ).first()
    if found is not None:
        return found
    contact = Contact(
        account_id=line.account_id,
        location_id=line.location_id,
        first_name=name,
        last_name="",
        phone_e164=phone,
        source=ContactSource.MANUAL,
        created_at=now,
        updated_at=now,
    )
    session.add(contact)
    session.flush()
    return contact.id
