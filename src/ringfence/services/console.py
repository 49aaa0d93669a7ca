"""The test console: staff play the callee and talk to an agent in text.

A test call is a call job of Call Type **Test** (kept out of the dashboard's metrics, visible
under the Test filter) with its transcript and triggered actions, but it is a **dry run**: it
reports every action a live call would apply (opt-out, tasks, appointment confirmed...) and
applies none of them to the CRM, so testing "stop calling me" against a real patient's record
cannot opt that patient out. It places no phone call and never counts toward any throttle.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from ringfence.adapters.db.calls import CallAction, CallEvent, CallJob, CallTranscript
from ringfence.adapters.db.orm import Contact, Location, VoiceAgent
from ringfence.agent.callee import AGENT_WPM
from ringfence.agent.events import (
    AgentEvent,
    AiDisclosed,
    AppointmentConfirmed,
    BookingRequested,
    CallbackRequested,
    CallEnded,
    CancelRequested,
    EndReason,
    HumanClaimBlocked,
    IdentityConfirmed,
    NotInterested,
    OptOut,
    PatientUnavailable,
    PhiBlocked,
    PolicyFallback,
    RescheduleRequested,
    StaffFollowUp,
    TransferFailed,
    TransferRequested,
    VoicemailLeft,
    WrongNumber,
)
from ringfence.agent.policies.base import DialoguePolicy
from ringfence.agent.profile import CallContext, CallDirection, PolicyName
from ringfence.agent.runtime import AgentTurn, ConversationRuntime
from ringfence.agent.session import AgentSession
from ringfence.agent.text import speech_seconds
from ringfence.domain.calls import check_transition
from ringfence.domain.compliance import zone
from ringfence.domain.vocabulary import (
    CallOutcome,
    CallPurpose,
    CallStatus,
    CallType,
    ContactSource,
)
from ringfence.services.agent_sessions import (
    SessionRequest,
    build_sessions,
    location_callback,
    profile_of,
    staff_of,
)
from ringfence.services.errors import Conflict, InvalidField
from ringfence.services.stored_sessions import MissingProfile, load_session, store_session
from ringfence.services.tenancy import get_owned, referenced
from ringfence.services.unit_of_work import TenantScope, UnitOfWork

CALLEE_WPM = 160.0
PolicyFactory = Callable[[PolicyName], DialoguePolicy]


@dataclass(frozen=True, slots=True)
class ConsoleEvent:
    type: str
    detail: dict[str, Any]


def console_events(events: tuple[AgentEvent, ...]) -> list[ConsoleEvent]:
    """The runtime's events in the console's vocabulary (what a live call would apply)."""
    out: list[ConsoleEvent] = []
    for event in events:
        match event:
            case OptOut():
                out.append(
                    ConsoleEvent(
                        "opt_out_applied", {"callee_said": event.callee_said, "rule": event.rule}
                    )
                )
            case AiDisclosed():
                out.append(ConsoleEvent("ai_disclosed", {}))
            case StaffFollowUp():
                out.append(ConsoleEvent("deferred_to_staff", {"reason": event.reason.value}))
                out.append(ConsoleEvent("task_created", {"priority": event.priority.value}))
            case AppointmentConfirmed():
                out.append(ConsoleEvent("appointment_confirmed", {}))
            case RescheduleRequested():
                out.append(ConsoleEvent("reschedule_requested", {"proposed": event.proposed}))
                out.append(ConsoleEvent("task_created", {"priority": "normal"}))
            case CancelRequested():
                out.append(ConsoleEvent("cancel_requested", {}))
                out.append(ConsoleEvent("task_created", {"priority": "normal"}))
            case CallbackRequested():
                out.append(ConsoleEvent("callback_requested", {"when": event.when}))
                out.append(ConsoleEvent("task_created", {"priority": "normal"}))
            case BookingRequested():
                out.append(ConsoleEvent("booking_requested", {"preferred": event.preferred}))
                out.append(ConsoleEvent("task_created", {"priority": "normal"}))
            case WrongNumber():
                out.append(ConsoleEvent("wrong_number", {}))
            case NotInterested():
                out.append(ConsoleEvent("not_interested", {}))
            case HumanClaimBlocked():
                out.append(ConsoleEvent("human_claim_blocked", {}))
            case PhiBlocked():
                out.append(ConsoleEvent("phi_blocked", {"terms": list(event.terms)}))
            case IdentityConfirmed():
                out.append(ConsoleEvent("identity_confirmed", {}))
            case PatientUnavailable():
                out.append(ConsoleEvent("patient_unavailable", {}))
            case PolicyFallback():
                out.append(ConsoleEvent("policy_fallback", {"error": event.error}))
            case VoicemailLeft():
                out.append(ConsoleEvent("voicemail_left", {}))
            case TransferRequested():
                out.append(ConsoleEvent("transferred", {"to": event.to}))
            case TransferFailed():
                out.append(ConsoleEvent("transfer_failed", {"why": event.why}))
                out.append(ConsoleEvent("task_created", {"priority": "normal"}))
            case CallEnded():
                out.append(ConsoleEvent("call_ended", {"reason": event.reason.value}))
    return out


# A test call with no turn for this long was left (the page closed): it is ended.
ABANDONED_AFTER: Final = timedelta(minutes=30)


class AgentConsole:
    """Holds live runtimes by test-call id (bounded); a call evicted or started in another
    process is rebuilt by replaying the callee's stored turns (exact for the scripted
    policy)."""

    def __init__(self, policy_factory: PolicyFactory, *, capacity: int = 256) -> None:
        self._policy_factory = policy_factory
        self._runtimes: OrderedDict[int, ConversationRuntime] = OrderedDict()
        self._capacity = capacity

    def start(
        self,
        *,
        uow: UnitOfWork,
        scope: TenantScope,
        agent_id: int,
        contact_id: int | None,
        phone: str | None,
        purpose: CallPurpose,
    ) -> tuple[int, AgentTurn]:
        """A new test call with the agent (`contact_id` as the callee, or `phone` for an
        unknown caller): its id and the agent's opening; committed."""
        started = self._start(
            uow.session,
            scope,
            agent_id=agent_id,
            contact_id=contact_id,
            phone=phone,
            purpose=purpose,
            now=uow.clock.now(),
        )
        uow.commit()
        return started

    def respond(self, *, uow: UnitOfWork, scope: TenantScope, call_id: int, text: str) -> AgentTurn:
        """The callee's words in, the agent's turn out (`Conflict` once ended); committed."""
        turn = self._respond(uow.session, scope, call_id=call_id, text=text, now=uow.clock.now())
        uow.commit()
        return turn

    def _start(
        self,
        session: Session,
        scope: TenantScope,
        *,
        agent_id: int,
        contact_id: int | None,
        phone: str | None,
        purpose: CallPurpose,
        now: datetime,
    ) -> tuple[int, AgentTurn]:
        agent = referenced(session, VoiceAgent, agent_id, scope, field="agent_id")
        if (contact_id is None) == (phone is None):
            raise InvalidField("contact_id", "give either contact_id or phone")
        if contact_id is not None:
            contact = referenced(session, Contact, contact_id, scope, field="contact_id")
            if contact.location_id != agent.location_id:
                raise InvalidField("contact_id", "the contact belongs to another location")
            built = build_sessions(
                session,
                [
                    SessionRequest(
                        job_id=0,
                        contact_id=contact.id,
                        location_id=contact.location_id,
                        agent_id=agent.id,
                        from_number_id=None,
                        purpose=purpose,
                        is_test=True,
                    )
                ],
                now=now,
            )
            agent_session = built.get(0) or self._bare_session(session, agent, purpose, now)
        else:
            contact = None
            agent_session = self._bare_session(session, agent, purpose, now)
        runtime = ConversationRuntime(
            agent_session.profile,
            agent_session.context,
            self._policy_factory(agent_session.profile.policy),
        )
        first = runtime.start()
        location = session.get(Location, agent.location_id)
        time_zone = location.time_zone if location is not None else "UTC"
        callee = contact.phone_e164 if contact is not None else (phone or None)
        stored = store_session(session, scope.account_id, agent_session, now=now)
        job = CallJob(
            account_id=scope.account_id,
            location_id=agent.location_id,
            contact_id=contact.id
            if contact
            else _placeholder_contact(session, scope, agent, phone or "", now),
            agent_id=agent.id,
            action_name="Test console",
            purpose=purpose,
            call_type=CallType.TEST,
            status=CallStatus.QUEUED,
            agent_session=stored.agent_session,
            agent_profile_digest=stored.agent_profile_digest,
            evaluations=0,
            # "Dialed" (no carrier is involved) so it is a call of the Test view: in the call
            # log, its filters and the CSV, never in a Live figure.
            phone_e164=callee,
            dialed_at=now,
            dialed_local_day=now.astimezone(zone(time_zone)).date(),
            created_at=now,
            updated_at=now,
        )
        session.add(job)
        session.flush()
        # No carrier is involved: the job goes straight through to in progress, logged.
        session.add(
            CallEvent(
                account_id=job.account_id,
                job_id=job.id,
                at=now,
                from_status=None,
                to_status=CallStatus.QUEUED,
                reason_code="test_console",
            )
        )
        for target in (CallStatus.DIALING, CallStatus.IN_PROGRESS):
            _move(session, job, target, now, "test_console")
        session.add(
            CallTranscript(
                account_id=scope.account_id,
                job_id=job.id,
                turns=_append([], "agent", first.text, _kinds(first)),
                created_at=now,
            )
        )
        self._after_turn(session, job, first, now)
        self._remember(job.id, runtime)
        return job.id, first

    def _respond(
        self, session: Session, scope: TenantScope, *, call_id: int, text: str, now: datetime
    ) -> AgentTurn:
        job = get_owned(session, CallJob, call_id, scope)
        if job.call_type is not CallType.TEST:
            raise InvalidField("call_id", "not a test call")
        if job.status is not CallStatus.IN_PROGRESS:
            raise Conflict(f"test call {job.id} has ended")
        transcript = session.query(CallTranscript).filter_by(job_id=job.id).one()
        runtime = self._runtimes.get(job.id) or self._replay(session, job, transcript)
        turn = runtime.respond(text)
        turns = _append(list(transcript.turns), "callee", text)
        transcript.turns = _append(turns, "agent", turn.text, _kinds(turn))
        self._after_turn(session, job, turn, now)
        if turn.ended:
            self._runtimes.pop(job.id, None)
        else:
            self._remember(job.id, runtime)
        return turn

    def _after_turn(self, session: Session, job: CallJob, turn: AgentTurn, now: datetime) -> None:
        for event in console_events(turn.events):
            session.add(
                CallAction(
                    account_id=job.account_id,
                    location_id=job.location_id,
                    job_id=job.id,
                    kind=event.type,
                    detail="dry run (test call): not applied",
                    at=now,
                )
            )
        if turn.ended:
            _finish(session, job, now, turn.end_reason.value if turn.end_reason else None)

    def hang_up(self, *, uow: UnitOfWork, scope: TenantScope, call_id: int) -> None:
        """The tester hangs up: the test call ends as a completed call (`Conflict` once
        ended); committed."""
        job = get_owned(uow.session, CallJob, call_id, scope)
        if job.call_type is not CallType.TEST:
            raise InvalidField("call_id", "not a test call")
        if job.status is not CallStatus.IN_PROGRESS:
            raise Conflict(f"test call {job.id} has ended")
        _finish(uow.session, job, uow.clock.now(), EndReason.CALLEE_HUNG_UP.value)
        self._runtimes.pop(job.id, None)
        uow.commit()

    def _replay(
        self, session: Session, job: CallJob, transcript: CallTranscript
    ) -> ConversationRuntime:
        try:
            agent_session = load_session(
                session, job.account_id, job.agent_session, job.agent_profile_digest
            )
        except MissingProfile as exc:
            raise Conflict(f"test call {job.id}: {exc}") from exc
        if agent_session is None:  # always set by start(); a guard for hand-made rows
            raise Conflict(f"test call {job.id} has no agent session")
        runtime = ConversationRuntime(
            agent_session.profile,
            agent_session.context,
            self._policy_factory(agent_session.profile.policy),
        )
        runtime.start()
        for line in transcript.turns:
            if line["speaker"] == "callee":
                runtime.respond(line["text"])
        return runtime

    def _remember(self, call_id: int, runtime: ConversationRuntime) -> None:
        self._runtimes[call_id] = runtime
        self._runtimes.move_to_end(call_id)
        while len(self._runtimes) > self._capacity:
            self._runtimes.popitem(last=False)

    @staticmethod
    def _bare_session(
        session: Session, agent: VoiceAgent, purpose: CallPurpose, now: datetime
    ) -> AgentSession:
        callback = agent.callback_number or location_callback(session, agent.location_id)
        if callback is None:
            raise InvalidField("agent_id", "the agent has no callback number")
        location = session.get(Location, agent.location_id)
        staff = None if location is None else staff_of(agent, now=now, time_zone=location.time_zone)
        return AgentSession(
            profile=profile_of(agent, callback),
            context=CallContext(CallDirection.OUTBOUND, purpose, is_test=True, staff=staff),
        )


def _placeholder_contact(
    session: Session, scope: TenantScope, agent: VoiceAgent, phone: str, now: datetime
) -> int:
    """A test call by phone number is logged against a contact for that number (created
    once, with no consent: it can never be dialed for real)."""
    existing = (
        session.query(Contact).filter_by(location_id=agent.location_id, phone_e164=phone).first()
    )
    if existing is not None:
        return existing.id
    contact = Contact(
        account_id=scope.account_id,
        location_id=agent.location_id,
        first_name="Test console",
        last_name="",
        phone_e164=phone,
        source=ContactSource.MANUAL,
        created_at=now,
        updated_at=now,
    )
    session.add(contact)
    session.flush()
    return contact.id


def _finish(session: Session, job: CallJob, now: datetime, reason: str | None) -> None:
    """End a test call: completed, connected (a person, the tester, was on the line), lasting
    from its start to now, so the call log shows it as any finished call."""
    _move(session, job, CallStatus.COMPLETED, now, reason)
    job.outcome = CallOutcome.CONNECTED
    job.ended_at = now
    started = job.dialed_at or job.created_at
    job.duration_seconds = max(0, math.ceil((now - started).total_seconds()))
    job.billable_seconds = 0  # no carrier: no minutes


def close_abandoned(*, uow: UnitOfWork, idle: timedelta = ABANDONED_AFTER) -> int:
    """End the test calls left in progress with no turn for `idle` (the tester closed the
    page, or their last message was refused): they must not show "In progress" forever. Each
    ends at its last turn; committed. Returns how many."""
    now = uow.clock.now()
    stale = uow.session.scalars(
        select(CallJob).where(
            CallJob.call_type == CallType.TEST,
            CallJob.status == CallStatus.IN_PROGRESS,
            CallJob.updated_at <= now - idle,
        )
    ).all()
    for job in stale:
        _finish(uow.session, job, job.updated_at, "abandoned")
    uow.commit()
    return len(stale)


def _move(
    session: Session, job: CallJob, target: CallStatus, at: datetime, reason: str | None
) -> None:
    check_transition(job.status, target)
    session.add(
        CallEvent(
            account_id=job.account_id,
            job_id=job.id,
            at=at,
            from_status=job.status,
            to_status=target,
            reason_code=reason,
        )
    )
    job.status = target
    job.updated_at = at


def _kinds(turn: AgentTurn) -> list[str]:
    return [event.type for event in console_events(turn.events)]


def _append(
    turns: list[dict[str, Any]], speaker: str, text: str, events: list[str] | None = None
) -> list[dict[str, Any]]:
    start = turns[-1]["end"] + 0.6 if turns else 0.5
    wpm = AGENT_WPM if speaker == "agent" else CALLEE_WPM
    end = round(start + speech_seconds(text, wpm), 2)
    line: dict[str, Any] = {"speaker": speaker, "text": text, "start": round(start, 2), "end": end}
    if events:
        # What the agent did with the line before it: the console shows it under each turn,
        # after a reload too (the call's actions alone do not say which turn made them).
        line["events"] = events
    return [*turns, line]
