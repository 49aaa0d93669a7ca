"""ConversationRuntime: the turn-based core a telephony/speech layer drives.

    runtime = ConversationRuntime(profile, context, policy)
    first = runtime.start()                 # the greeting or opening, ready on "answered"
    turn = runtime.respond("callee words")  # -> AgentTurn(text, events, ended, end_reason)

Order of every callee turn (the guardrails come first and last, the policy in between):
1. opt-out (guardrails/opt_out.py): acknowledge, end, OptOut - no policy, no objection.
2. "are you a robot?" (guardrails/disclosure.py): disclose, then repeat the pending question.
3. clinical question (guardrails/clinical.py): defer to staff, StaffFollowUp (URGENT ends
   the call with a 911 line).
4. identity check on outbound calls (guardrails/identity.py): no appointment talk before it.
5. the dialogue policy; a policy failure becomes a safe line and a staff task.
6. the outgoing filter (guardrails/outgoing.py) on whatever is about to be said.
Pure: no I/O, no clock (the LLM policy's HTTP is the policy's business).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from ringfence.agent.events import (
    AgentEvent,
    AiDisclosed,
    CallEnded,
    ConversationOutcome,
    DetectedBy,
    EndReason,
    FollowUpReason,
    IdentityConfirmed,
    OptOut,
    PatientUnavailable,
    PolicyFallback,
    StaffFollowUp,
    WrongNumber,
    outcome_of,
)
from ringfence.agent.guardrails.clinical import assess_clinical
from ringfence.agent.guardrails.disclosure import asks_if_ai, disclosure
from ringfence.agent.guardrails.identity import IdentityAnswer, classify_identity_answer
from ringfence.agent.guardrails.opt_out import detect_opt_out
from ringfence.agent.guardrails.outgoing import (
    Withheld,
    screen_utterance,
    service_withheld,
    time_withheld,
)
from ringfence.agent.policies.base import (
    DialoguePolicy,
    PolicyReply,
    PolicyRequest,
    Speaker,
    Turn,
)
from ringfence.agent.profile import AgentProfile, CallContext, CallDirection
from ringfence.agent.text import sentences
from ringfence.agent.validation import AgentProblem, validate_agent
from ringfence.domain.vocabulary import TaskPriority

OPT_OUT_ACK: Final = "Understood. You won't receive any more calls from {practice}. Goodbye."
CLINICAL_DEFERRAL: Final = (
    "That's a question for our clinical team, so I'll have a staff member call you back about it."
)
URGENT_DEFERRAL: Final = (
    "I'm not able to give medical advice, so I'm flagging this as urgent for our clinical team, "
    "and someone will call you back as soon as possible. If this feels like an emergency, "
    "please hang up and call 911. Goodbye."
)
FALLBACK_LINE: Final = (
    "I'm sorry, I'm having trouble on my end. A member of our team at {practice} will call "
    "you back. Goodbye."
)
ANYTHING_ELSE: Final = "Is there anything else I can help you with?"
IDENTITY_QUESTION: Final = "Am I speaking with {first_name}?"
IDENTITY_AGAIN: Final = "Sorry, I'm calling for {first_name}. Am I speaking with {first_name}?"
LEAVE_MESSAGE: Final = (
    "No problem. Please ask {first_name} to call {practice} at {callback_number}. "
    "Thank you, goodbye."
)
WRONG_NUMBER_LINE: Final = "I'm sorry about that. We'll update our records. Goodbye."
MAX_IDENTITY_TRIES: Final = 2


class InvalidAgentProfile(ValueError):
    def __init__(self, problems: list[AgentProblem]) -> None:
        super().__init__("; ".join(f"{p.field}: {p.message}" for p in problems))
        self.problems = problems


class ConversationOver(RuntimeError):
    """`respond` was called after the call ended."""


@dataclass(frozen=True, slots=True)
class AgentTurn:
    text: str
    events: tuple[AgentEvent, ...]
    ended: bool = False
    end_reason: EndReason | None = None


class ConversationRuntime:
    def __init__(
        self,
        profile: AgentProfile,
        context: CallContext,
        policy: DialoguePolicy,
        *,
        max_callee_turns: int = 12,
    ) -> None:
        problems = validate_agent(profile)
        if problems:  # an unsaved or tampered profile never reaches a callee
            raise InvalidAgentProfile(problems)
        self.profile = profile
        self.context = context
        self._policy = policy
        self._max_callee_turns = max_callee_turns
        self._history: list[Turn] = []
        self._events: list[AgentEvent] = []
        self._state = ""
        self._identity_confirmed = False
        self._awaiting_identity = context.needs_identity_check
        self._identity_tries = 0
        self._callee_turns = 0
        self._ended_by: EndReason | None = None

    # -- what the shell reads -------------------------------------------------------------
    @property
    def ended(self) -> bool:
        return self._ended_by is not None

    @property
    def ended_by(self) -> EndReason | None:
        return self._ended_by

    @property
    def events(self) -> tuple[AgentEvent, ...]:
        return tuple(self._events)

    @property
    def history(self) -> tuple[Turn, ...]:
        return tuple(self._history)

    @property
    def outcome(self) -> ConversationOutcome:
        return outcome_of(self._events)

    @property
    def identity_confirmed(self) -> bool:
        return self._identity_confirmed

    # -- the turns ----------------------------------------------------------------------
    def start(self) -> AgentTurn:
        """The first utterance: the inbound greeting, or the outbound opening followed by
        the identity question (or, without a name to confirm, the policy's first line)."""
        if self._history:
            raise RuntimeError("the conversation has already started")
        if self.context.direction is CallDirection.INBOUND or self.context.purpose is None:
            return self._say(self.profile.greeting(), [])
        opening = self.profile.opening(self.context.purpose)
        if self._awaiting_identity:
            return self._say(f"{opening} {self._render(IDENTITY_QUESTION)}", [])
        return self._policy_turn(None, prefix=opening)

    def respond(self, callee_text: str) -> AgentTurn:
        if self.ended:
            raise ConversationOver(f"the call ended ({self._ended_by})")
        if not self._history:
            raise RuntimeError("call start() first")
        self._history.append(Turn(Speaker.CALLEE, callee_text))
        self._callee_turns += 1
        opt_out = detect_opt_out(callee_text, appointment_in_context=self.context.has_appointment)
        if opt_out is not None:
            return self._opt_out(callee_text, opt_out.rule, bare_cancel=opt_out.words == "cancel")
        if asks_if_ai(callee_text):
            text = f"{disclosure(self.profile.practice_name)} {self._pending_question()}"
            return self._say(text, [AiDisclosed(callee_text)])
        concern = assess_clinical(callee_text)
        if concern is not None:
            priority = TaskPriority.URGENT if concern.urgent else TaskPriority.NORMAL
            reason = (
                FollowUpReason.POSSIBLE_COMPLICATION
                if concern.urgent
                else FollowUpReason.CLINICAL_QUESTION
            )
            task = StaffFollowUp(reason, priority, callee_text, concern.signals)
            if concern.urgent:
                return self._say(URGENT_DEFERRAL, [task], EndReason.URGENT_FOLLOW_UP)
            return self._say(f"{CLINICAL_DEFERRAL} {self._pending_question()}", [task])
        if self._awaiting_identity:
            return self._identity_turn(callee_text)
        return self._policy_turn(callee_text)

    def callee_hung_up(self) -> tuple[AgentEvent, ...]:
        """Record that the callee hung up; returns the event added (none if already ended)."""
        if self.ended:
            return ()
        self._ended_by = EndReason.CALLEE_HUNG_UP
        event = CallEnded(EndReason.CALLEE_HUNG_UP)
        self._events.append(event)
        return (event,)

    # -- helpers ------------------------------------------------------------------------
    def _opt_out(
        self,
        callee_text: str,
        rule: str,
        *,
        bare_cancel: bool = False,
        detected_by: DetectedBy = DetectedBy.RUNTIME,
    ) -> AgentTurn:
        events: list[AgentEvent] = [OptOut(callee_text, rule, detected_by)]
        if bare_cancel and self.context.has_appointment:
            events.append(
                StaffFollowUp(FollowUpReason.AMBIGUOUS_CANCEL, TaskPriority.NORMAL, callee_text)
            )
        return self._say(self._render(OPT_OUT_ACK), events, EndReason.OPT_OUT)

    def _identity_turn(self, callee_text: str) -> AgentTurn:
        name = self.context.patient_first_name or ""
        answer = classify_identity_answer(callee_text, name)
        if answer is IdentityAnswer.UNCLEAR:
            self._identity_tries += 1
            if self._identity_tries < MAX_IDENTITY_TRIES:
                return self._say(self._render(IDENTITY_AGAIN), [])
            answer = IdentityAnswer.NOT_PATIENT
        if answer is IdentityAnswer.WRONG_NUMBER:
            return self._say(WRONG_NUMBER_LINE, [WrongNumber()], EndReason.COMPLETED)
        if answer is IdentityAnswer.NOT_PATIENT:
            line = self._render(LEAVE_MESSAGE)
            return self._say(line, [PatientUnavailable()], EndReason.COMPLETED)
        self._awaiting_identity = False
        self._identity_confirmed = True
        return self._policy_turn(None, events=[IdentityConfirmed()])

    def _policy_turn(
        self, callee_text: str | None, *, prefix: str = "", events: list[AgentEvent] | None = None
    ) -> AgentTurn:
        said: list[AgentEvent] = list(events or [])
        request = PolicyRequest(
            profile=self.profile,
            context=self.context,
            history=tuple(self._history),
            callee_text=callee_text,
            identity_confirmed=self._identity_confirmed,
            state=self._state,
        )
        try:
            reply: PolicyReply = self._policy.respond(request)
        except Exception as exc:  # any policy failure: a safe line, never a dead call
            said += [
                PolicyFallback(f"{type(exc).__name__}: {exc}"[:200]),
                StaffFollowUp(
                    FollowUpReason.POLICY_FAILURE, TaskPriority.NORMAL, callee_text or ""
                ),
            ]
            line = f"{prefix} {self._render(FALLBACK_LINE)}".strip()
            return self._say(line, said, EndReason.POLICY_FAILURE)
        if isinstance(reply.outcome, OptOut):  # a policy may add opt-outs, never remove them
            return self._opt_out(
                callee_text or "", f"policy:{reply.outcome.rule}", detected_by=DetectedBy.POLICY
            )
        if reply.outcome is not None:
            said.append(reply.outcome)
        self._state = reply.state
        end = EndReason.COMPLETED if reply.end_call else None
        return self._say(f"{prefix} {reply.text}".strip(), said, end)

    def _say(self, text: str, events: list[AgentEvent], end: EndReason | None = None) -> AgentTurn:
        if end is None and self._callee_turns >= self._max_callee_turns:
            text = f"{text} {self._render(self.profile.replies.closing)}"
            end = EndReason.MAX_TURNS
        screened = screen_utterance(
            text,
            practice_name=self.profile.practice_name,
            allowed=self._allowed(),
            withheld=self._withheld(),
        )
        said = [*events, *screened.events]
        if end is not None:
            said.append(CallEnded(end))
            self._ended_by = end
        self._history.append(Turn(Speaker.AGENT, screened.text))
        self._events += said
        return AgentTurn(screened.text, tuple(said), end is not None, end)

    def _allowed(self) -> tuple[str, ...]:
        service = self.context.appointment_service
        return (service,) if self._identity_confirmed and service else ()

    def _withheld(self) -> tuple[Withheld, ...]:
        if self._identity_confirmed:
            return ()
        found: list[Withheld] = []
        if self.context.appointment_service:
            found.append(service_withheld(self.context.appointment_service))
        if self.context.appointment_local_time:
            found.append(time_withheld(self.context.appointment_local_time))
        return tuple(found)

    def _pending_question(self) -> str:
        for turn in reversed(self._history):
            if turn.speaker is Speaker.AGENT:
                questions = [s for s in sentences(turn.text) if s.endswith("?")]
                return questions[-1] if questions else ANYTHING_ELSE
        return ANYTHING_ELSE

    def _render(self, template: str) -> str:
        return self.profile.render(template, first_name=self.context.patient_first_name or "")
