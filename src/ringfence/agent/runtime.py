"""ConversationRuntime: the turn-based core a telephony/speech layer drives.

    runtime = ConversationRuntime(profile, context, policy)
    first = runtime.start()                 # the greeting or opening, ready on "answered"
    turn = runtime.respond("callee words")  # -> AgentTurn(text, events, ended, end_reason)

Every callee turn is first *understood* (agent/understanding: the learned classifier and the
high-precision rules, `decide`), then acted on in this order (the guardrails come first and
last, the policy in between):
0. the answer to "Would you like us to stop calling this number?": anything but a clear no is
   an opt-out.
1. opt-out: acknowledge, end, OptOut - no policy, no objection. An opt-out *in doubt* is asked
   about first, and nothing else is said in that turn (no confirmation, offer or callback),
   except an urgent complication reported in the same words: flagged (a task, the 911 line).
2. "are you a robot?" or any doubt about it: disclose, then repeat the pending question.
3. clinical question: defer to staff, StaffFollowUp (URGENT ends the call with a 911 line).
4. identity check on outbound calls (guardrails/identity.py): no appointment talk before it;
   an inbound call with a recognised caller goes to agent/inbound.py instead (after 5).
5. a request for a person: a staff call-back task, said when to expect it, and goodbye.
6. the dialogue policy; a policy failure becomes a safe line and a staff task.
7. the outgoing filter (guardrails/outgoing.py) on whatever is about to be said.
A callee speaking Spanish gets the opt-out acknowledgement, the disclosure and the opt-out
question in Spanish, and one staff task for a Spanish-speaking call-back.
Pure: no I/O, no clock (the LLM policy's HTTP is the policy's business; the classifier is a
trained model held in memory).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Final

from ringfence.agent.events import (
    AgentEvent,
    AiDisclosed,
    CallEnded,
    CallerConfirmed,
    ConversationOutcome,
    DetectedBy,
    EndReason,
    FollowUpReason,
    IdentityConfirmed,
    OptOut,
    PatientUnavailable,
    PolicyFallback,
    PolicyOutputBlocked,
    StaffFollowUp,
    TransferRequested,
    WrongNumber,
    outcome_of,
)
from ringfence.agent.guardrails.clinical import ClinicalConcern, assess_clinical
from ringfence.agent.guardrails.disclosure import asks_if_ai, disclosure, disclosure_es
from ringfence.agent.guardrails.identity import IdentityAnswer, classify_identity_answer
from ringfence.agent.guardrails.opt_out import detect_opt_out
from ringfence.agent.guardrails.outgoing import (
    Screen,
    Withheld,
    screen_utterance,
    service_withheld,
    time_withheld,
)
from ringfence.agent.guardrails.verifier import Allowance, said_times, verify
from ringfence.agent.inbound import (
    DeskReply,
    InboundDesk,
    only_returns_our_call,
    returns_our_call,
    working_context,
)
from ringfence.agent.lines import (
    ANYTHING_ELSE,
    CLINICAL_DEFERRAL,
    CLINICAL_DEFERRAL_ES,
    EMERGENCY_LINE,
    EMERGENCY_LINE_ES,
    FALLBACK_LINE,
    HUMAN_CALLBACK,
    IDENTITY_AGAIN,
    IDENTITY_QUESTION,
    KEEP_CALLING,
    LEAVE_MESSAGE,
    OPT_OUT_ACK,
    OPT_OUT_ACK_ES,
    OPT_OUT_QUESTION,
    OPT_OUT_QUESTION_ES,
    TRANSFER_LINE,
    TRANSFER_LINE_ES,
    URGENT_DEFERRAL,
    URGENT_DEFERRAL_ES,
    URGENT_FLAG,
    URGENT_FLAG_ES,
    URGENT_GOODBYE,
    URGENT_GOODBYE_ES,
    WRONG_NUMBER_LINE,
)
from ringfence.agent.model_output import SAFE_LINE, check_model_reply
from ringfence.agent.policies.base import (
    DialoguePolicy,
    PolicyReply,
    PolicyRequest,
    Speaker,
    Turn,
)
from ringfence.agent.policies.intents import Intent, recognize_intent
from ringfence.agent.policies.scripted import purpose_prompt
from ringfence.agent.profile import AgentProfile, CallContext, CallDirection
from ringfence.agent.text import clauses, sentences, unaccented
from ringfence.agent.understanding.answers import (
    is_bare_answer,
    is_clear_no,
    keeps_the_calls,
)
from ringfence.agent.understanding.decision import LEARNED_CLINICAL, Understanding
from ringfence.agent.understanding.labels import Label, Language
from ringfence.agent.understanding.understander import LearnedUnderstander, Understander
from ringfence.agent.validation import AgentProblem, validate_agent
from ringfence.domain.staff_hours import DURING_BUSINESS_HOURS
from ringfence.domain.vocabulary import TaskPriority

MAX_IDENTITY_TRIES: Final = 2
_FOR_POLICY: Final = frozenset({Label.CONFIRM, Label.RESCHEDULE, Label.CANCEL, Label.WRONG_PERSON})
LEARNED: Final = "learned"  # the rule name when the classifier alone decided
CONFIRMED_ON_DOUBT: Final = "confirmed_on_doubt"  # anything but a clear no to our question
UNANSWERED_DOUBT: Final = "unanswered_doubt"  # in doubt, and no answer came (hang-up, no turn)
MIN_WORDS_FOR_LANGUAGE: Final = 3
# A clause is a request about our calls only if it names them (or the number, the list, a
# message): "stop talking" inside a clinical turn is not one.
_CONTACT_WORDS = re.compile(  # on accent-folded clauses
    r"\b(?:call\w*|phone\w*|number|list|contact\w*|message\w*|texts?|texting|hear from|"
    r"llam\w*|numero|lista|mensaje\w*|molest\w*|busqu\w*)\b"
)


def _is_call_back_task(event: AgentEvent) -> bool:
    return isinstance(event, StaffFollowUp) and event.reason is FollowUpReason.SPANISH_SPEAKER


def _asks_something(callee_text: str) -> bool:
    """A request for a person ends the call (a transfer or a call-back), so a bare word the
    model happens to read as one ("Please.", "Yes?") is not taken for it: it is heard as the
    answer it is, and the agent goes on."""
    return len(callee_text.split()) >= 2 and not is_bare_answer(callee_text)


def _negative(callee_text: str) -> bool:
    if is_clear_no(callee_text):
        return True
    return recognize_intent(callee_text).intent in (Intent.NOT_INTERESTED, Intent.DECLINE)


def _clinical_task(
    callee_text: str, concern: ClinicalConcern | None, *, urgent: bool
) -> StaffFollowUp:
    """The staff task for clinical words: URGENT (`possible_complication`) or a normal
    clinical question, with what was heard in them (`learned` when only the model heard)."""
    signals = concern.signals if concern is not None else (LEARNED,)
    if urgent:
        reason, priority = FollowUpReason.POSSIBLE_COMPLICATION, TaskPriority.URGENT
    else:
        reason, priority = FollowUpReason.CLINICAL_QUESTION, TaskPriority.NORMAL
    return StaffFollowUp(reason, priority, callee_text, signals)


def _as_an_answer(heard: Understanding, callee_text: str) -> Understanding:
    """An answer to the inbound agent's question ("My name is Tom Smith") is read as one when
    only the model, not the rules, heard an AI or clinical question in it (docs/agent.md)."""
    if heard.clinical is not None and heard.clinical.signals == (LEARNED_CLINICAL,):
        heard = replace(heard, clinical=None)  # only the model heard it: an answer's words
    if heard.ai_doubt and not asks_if_ai(callee_text):
        heard = replace(heard, ai_doubt=False)
        if heard.label is Label.AI_QUESTION:
            # Clinical words in it still go to staff ("Maria Lopez. My lip went white.").
            clinical = heard.clinical is not None
            heard = replace(heard, label=Label.CLINICAL_QUESTION if clinical else Label.OTHER)
    if heard.label is Label.CLINICAL_QUESTION and heard.clinical is None:
        heard = replace(heard, label=Label.OTHER)
    return heard


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
        understander: Understander | None = None,
        screen: Screen = screen_utterance,
    ) -> None:
        problems = validate_agent(profile)
        if problems:  # an unsaved or tampered profile never reaches a callee
            raise InvalidAgentProfile(problems)
        self.profile = profile
        self.context = context
        # An inbound call the shell recognised the caller of: the inbound rules (inbound.py).
        self._desk: InboundDesk | None = None
        if context.direction is CallDirection.INBOUND and context.caller is not None:
            self.context = working_context(context)
            self._desk = InboundDesk(profile, self.context)
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
        self._understander = understander or LearnedUnderstander()
        self._screen = screen
        self._asked_opt_out: str | None = None  # the question pending when we asked
        self._spanish = False
        self._asked_after_cancel = False  # the question followed a bare "cancel"
        self._asked_after_urgent = False  # ... or an urgent complication: the call ends next
        self._negative = False  # the callee said no, not interested, or like an opt-out

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

    @property
    def awaits_opt_out_answer(self) -> bool:
        """The agent asked "Would you like us to stop calling this number?" (one of
        `OPT_OUT_QUESTIONS`) and the next turn is its answer."""
        return self._asked_opt_out is not None

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
        heard = self._understander.understand(callee_text, appointment_call=self._appointment_call)
        if (
            self._desk is not None
            and self._asked_opt_out is None
            and heard.label is Label.OPT_OUT
            and heard.opt_out_rule is None
            and returns_our_call(callee_text)
        ):
            # "You called me": the model alone reads a bare returned call as a complaint
            # (docs/agent.md). Only a turn that says nothing else is set aside; with anything
            # more, the opt-out stays in play as a doubt, so the caller is asked, never ignored.
            if only_returns_our_call(callee_text):
                heard = replace(heard, label=Label.OTHER, doubt=False)
            else:
                heard = replace(heard, doubt=True)
        if self._desk is not None and self._desk.expects_answer:
            heard = _as_an_answer(heard, callee_text)
        clinical_too = (
            heard.label is Label.CLINICAL_QUESTION
            and self._asked_opt_out is None
            and self._opt_out_in_a_clause(callee_text)
        )
        if clinical_too:
            # "Deje de llamarme, tengo la cara hinchada...": the classifier hears the whole
            # turn as clinical, and the request not to be called is lost inside it.
            heard = replace(heard, label=Label.OPT_OUT, doubt=True)
        noted = self._note_language(heard, callee_text)
        if heard.label is Label.OPT_OUT or _negative(callee_text):
            self._negative = True  # no offer of any kind for the rest of the call
        if self._asked_opt_out is not None:
            pending, self._asked_opt_out = self._asked_opt_out, None
            bare_cancel, self._asked_after_cancel = self._asked_after_cancel, False
            urgent, self._asked_after_urgent = self._asked_after_urgent, False
            if heard.label is not Label.OPT_OUT and keeps_the_calls(callee_text):
                if urgent:
                    line = URGENT_GOODBYE_ES if self._spanish else URGENT_GOODBYE
                    return self._say(line, noted, EndReason.URGENT_FOLLOW_UP)
                if verify(pending, self._allowance()):  # e.g. an offer: not after a no
                    pending = ANYTHING_ELSE
                return self._say(f"{KEEP_CALLING} {pending}", noted)
            return self._opt_out(
                callee_text,
                CONFIRMED_ON_DOUBT,
                bare_cancel=bare_cancel,
                events=noted,
                urgent=urgent,
                concern=heard.clinical,
            )
        if heard.label is Label.OPT_OUT and heard.doubt:
            if self._callee_turns >= self._max_callee_turns:  # no turn left to hear the answer
                urgent_too = heard.clinical is not None and heard.clinical.urgent
                if heard.clinical is not None and not urgent_too:  # still deferred to staff
                    noted = [*noted, self._clinical_task(callee_text, heard, urgent=False)]
                return self._opt_out(
                    callee_text, UNANSWERED_DOUBT, events=noted, concern=heard.clinical
                )
            return self._ask_opt_out(callee_text, heard, noted, clinical_too=clinical_too)
        if heard.label is Label.OPT_OUT:
            rule = heard.opt_out_rule
            return self._opt_out(
                callee_text,
                rule.rule if rule is not None else LEARNED,
                bare_cancel=rule is not None and rule.words == "cancel",
                events=noted,
                concern=heard.clinical,
            )
        if heard.label is Label.AI_QUESTION or heard.ai_doubt:
            disclosed = [*noted, AiDisclosed(callee_text)]
            concern = heard.clinical
            if heard.label is Label.CLINICAL_QUESTION or concern is not None:
                # "Are you a real nurse? My lip is turning blue": the disclosure, and the
                # clinical words still go to staff (urgent when they report a complication).
                return self._defer_clinical(heard, callee_text, disclosed, self._disclosure())
            return self._say(f"{self._disclosure()} {self._pending_question()}", disclosed)
        if heard.label is Label.CLINICAL_QUESTION:
            return self._defer_clinical(heard, callee_text, noted)
        if heard.label is Label.HUMAN_REQUEST and _asks_something(callee_text):
            return self._to_a_person(callee_text, noted)  # before the identity check: staff verify
        if self._desk is not None:
            return self._desk_turn(self._desk.respond(callee_text, heard.label), noted)
        if self._awaiting_identity:
            return self._identity_turn(callee_text, noted)
        return self._policy_turn(callee_text, events=noted, understood=heard.label)

    def hears_opt_out(self, callee_text: str, *, certain: bool = False) -> bool:
        """Whether the learned understander reads `callee_text` as a request not to be called
        (certain or in doubt; with `certain`, only without doubt), without answering it. On
        words heard before anyone knows who answered (the greeting, while answering-machine
        detection listens) this is a doubt only: it reads many recordings' own words as one
        ("Leave your name and number."), so the speech pipeline acts on it only once a person
        is known to be there, or with what else it knows (`speech.pipeline`)."""
        heard = self._understander.understand(callee_text, appointment_call=self._appointment_call)
        return heard.label is Label.OPT_OUT and not (certain and heard.doubt)

    def rules_hear_opt_out(self, callee_text: str) -> bool:
        """Whether the opt-out *rules* find a request not to be called in `callee_text`: the
        high-precision reading, safe on a greeting that may be a recording's (they flag none
        of the AMD tuning sets' machine greetings at any word-prefix)."""
        found = detect_opt_out(callee_text, appointment_in_context=self._appointment_call)
        return found is not None

    def callee_hung_up(self) -> tuple[AgentEvent, ...]:
        """Record that the callee hung up; returns the event added (none if already ended)."""
        if self.ended:
            return ()
        added: list[AgentEvent] = []
        if self._asked_opt_out is not None:
            # Asked "Would you like us to stop calling?" and hung up: not a clear no. (An
            # urgent complication in the words asked about was raised with the question.)
            said = next(
                (t.text for t in reversed(self._history) if t.speaker is Speaker.CALLEE), ""
            )
            added += self._opt_out_events(said, UNANSWERED_DOUBT, self._asked_after_cancel, None)
            self._asked_opt_out = None
        self._ended_by = EndReason.CALLEE_HUNG_UP
        added.append(CallEnded(EndReason.CALLEE_HUNG_UP))
        self._events += added
        return tuple(added)

    # -- helpers ------------------------------------------------------------------------
    @property
    def _appointment_call(self) -> bool:
        """An inbound caller the shell recognised may be calling about an appointment, so a
        "cancel" is read as on an appointment call (docs/agent-labels.md)."""
        return self.context.has_appointment or self._desk is not None

    def _desk_turn(self, reply: DeskReply, noted: list[AgentEvent]) -> AgentTurn:
        events = [*noted, *reply.events]
        if reply.confirmed is not None and self._desk is not None:
            self._identity_confirmed = True
            self.context = self._desk.context  # now with the confirmed caller's first name
            events += [IdentityConfirmed(), CallerConfirmed(reply.confirmed.contact_id)]
        if reply.to_policy is not None:
            return self._policy_turn(
                reply.to_policy, prefix=reply.text, events=events, understood=reply.understood
            )
        return self._say(reply.text, events, reply.end)

    def _to_a_person(self, callee_text: str, noted: list[AgentEvent]) -> AgentTurn:
        """A warm transfer while staff are reachable (decided at dial time), else a call-back
        task and when to expect it. Nothing about the appointment is said either way."""
        staff = self.context.staff
        if staff is not None and staff.transfer_to:
            line = TRANSFER_LINE_ES if self._spanish else TRANSFER_LINE
            transfer = TransferRequested(staff.transfer_to, callee_text)
            return self._say(self._render(line), [*noted, transfer], EndReason.TRANSFERRED)
        when = staff.call_back_when if staff is not None else DURING_BUSINESS_HOURS
        task = StaffFollowUp(FollowUpReason.HUMAN_REQUESTED, TaskPriority.NORMAL, callee_text)
        line = self.profile.render(HUMAN_CALLBACK, when=when)
        return self._say(line, [*noted, task], EndReason.COMPLETED)

    def _note_language(self, heard: Understanding, callee_text: str) -> list[AgentEvent]:
        """The first Spanish turn: answer in Spanish from now on, and one staff task for a
        Spanish-speaking call-back (the rest of the script is English)."""
        if heard.language is not Language.ES or self._spanish:
            return []
        # A bare answer or a two-word turn says nothing about the language ("no" is both).
        if is_bare_answer(callee_text) or len(callee_text.split()) < MIN_WORDS_FOR_LANGUAGE:
            return []
        self._spanish = True
        return [StaffFollowUp(FollowUpReason.SPANISH_SPEAKER, TaskPriority.NORMAL, callee_text)]

    def _disclosure(self) -> str:
        practice = self.profile.practice_name
        return disclosure_es(practice) if self._spanish else disclosure(practice)

    def _defer_clinical(
        self,
        heard: Understanding,
        callee_text: str,
        noted: list[AgentEvent],
        prefix: str = "",
    ) -> AgentTurn:
        """A clinical question goes to staff; a possible complication as URGENT, with the 911
        line, and the call ends there."""
        concern = heard.clinical or ClinicalConcern(urgent=False, signals=(LEARNED,))
        spanish = self._says_it_in_spanish(heard)
        lead = f"{prefix} " if prefix else ""
        task = _clinical_task(callee_text, concern, urgent=concern.urgent)
        if concern.urgent:
            line = URGENT_DEFERRAL_ES if spanish else URGENT_DEFERRAL
            return self._say(f"{lead}{line}", [*noted, task], EndReason.URGENT_FOLLOW_UP)
        line = CLINICAL_DEFERRAL_ES if spanish else CLINICAL_DEFERRAL
        return self._say(f"{lead}{line} {self._pending_question()}", [*noted, task])

    def _says_it_in_spanish(self, heard: Understanding) -> bool:
        """The clinical and emergency lines follow the turn's own language too: "veo borroso"
        is too short to switch the call to Spanish (`_note_language`), and its 911 line must
        be understood."""
        return self._spanish or heard.language is Language.ES

    def _clinical_task(
        self, callee_text: str, heard: Understanding, *, urgent: bool
    ) -> StaffFollowUp:
        return _clinical_task(callee_text, heard.clinical, urgent=urgent)

    def _opt_out_in_a_clause(self, callee_text: str) -> bool:
        """One of the turn's clauses, on its own, is a certain request not to be called (a
        bare returned call, "you called?", is not: the model alone reads it as a complaint).
        Asked only of turns the classifier hears as clinical: on the intent corpus's training
        and development files it fires on none of ~600 other clinical turns once returned
        calls are set aside."""
        parts = clauses(callee_text)
        if len(parts) < 2:
            return False
        folded = clauses(unaccented(callee_text))  # "número" -> "numero", same clauses
        for part, plain in zip(parts, folded, strict=False):
            if only_returns_our_call(part) or not _CONTACT_WORDS.search(plain):
                continue
            read = self._understander.understand(part, appointment_call=self._appointment_call)
            if read.label is Label.OPT_OUT and not read.doubt:
                return True
        return False

    def _ask_opt_out(
        self,
        callee_text: str,
        heard: Understanding,
        events: list[AgentEvent],
        *,
        clinical_too: bool = False,
    ) -> AgentTurn:
        """A possible opt-out: ask, and say nothing else (never a confirmation, an offer or a
        callback); a doubt about talking to a machine is answered first."""
        self._asked_opt_out = self._pending_question()
        rule = heard.opt_out_rule
        self._asked_after_cancel = rule is not None and rule.words == "cancel"
        concern = heard.clinical
        if concern is not None and self._says_it_in_spanish(heard):
            # A complication or a clinical question reported in Spanish, too short to switch
            # the call ("me arde, ya no llamen"): the question, the goodbye after its answer
            # and the 911 line with the acknowledgement are said in Spanish too.
            self._spanish = True
        question = OPT_OUT_QUESTION_ES if self._spanish else OPT_OUT_QUESTION
        if concern is not None and concern.urgent:
            # "Stop calling me, my face is swollen and I can't breathe": never only a question.
            task = self._clinical_task(callee_text, heard, urgent=True)
            events = [*events, task]
            flag = URGENT_FLAG_ES if self._spanish else URGENT_FLAG
            question = f"{flag} {question}"
            self._asked_after_urgent = True
        elif clinical_too or concern is not None:  # deferred to staff, as any clinical turn
            events = [*events, self._clinical_task(callee_text, heard, urgent=False)]
            question = f"{CLINICAL_DEFERRAL_ES if self._spanish else CLINICAL_DEFERRAL} {question}"
        if heard.ai_doubt:
            said = [*events, AiDisclosed(callee_text)]
            return self._say(f"{self._disclosure()} {question}", said)
        return self._say(question, events)

    def _opt_out(
        self,
        callee_text: str,
        rule: str,
        *,
        bare_cancel: bool = False,
        detected_by: DetectedBy = DetectedBy.RUNTIME,
        events: list[AgentEvent] | None = None,
        urgent: bool = False,
        concern: ClinicalConcern | None,
    ) -> AgentTurn:
        """`urgent`: an urgent complication was flagged before (the 911 line is said again);
        `concern`: what the opting-out words themselves report (`Understanding.clinical`)."""
        # No call-back of any kind to someone who just opted out (the Spanish-speaker task).
        kept = [e for e in events or [] if not _is_call_back_task(e)]
        said = [*kept, *self._opt_out_events(callee_text, rule, bare_cancel, concern, detected_by)]
        ack = self._render(OPT_OUT_ACK_ES if self._spanish else OPT_OUT_ACK)
        if urgent or any(
            isinstance(e, StaffFollowUp) and e.priority is TaskPriority.URGENT for e in said
        ):
            emergency = EMERGENCY_LINE_ES if self._spanish else EMERGENCY_LINE
            ack = f"{ack.removesuffix(' Goodbye.').removesuffix(' Adiós.')} {emergency}"
        return self._say(ack, said, EndReason.OPT_OUT)

    def _opt_out_events(
        self,
        callee_text: str,
        rule: str,
        bare_cancel: bool,
        concern: ClinicalConcern | None,
        detected_by: DetectedBy = DetectedBy.RUNTIME,
    ) -> list[AgentEvent]:
        """The opt-out, the staff task a bare "cancel" needs, and an urgent clinical task when
        the same words report a possible complication (`concern`: an opt-out never drops it)."""
        events: list[AgentEvent] = [OptOut(callee_text, rule, detected_by)]
        if bare_cancel and self.context.has_appointment:
            events.append(
                StaffFollowUp(FollowUpReason.AMBIGUOUS_CANCEL, TaskPriority.NORMAL, callee_text)
            )
        if concern is not None and concern.urgent:
            events.append(_clinical_task(callee_text, concern, urgent=True))
        return events

    def _identity_turn(self, callee_text: str, events: list[AgentEvent]) -> AgentTurn:
        name = self.context.patient_first_name or ""
        answer = classify_identity_answer(callee_text, name)
        if answer is IdentityAnswer.UNCLEAR:
            self._identity_tries += 1
            if self._identity_tries < MAX_IDENTITY_TRIES:
                return self._say(self._render(IDENTITY_AGAIN), events)
            answer = IdentityAnswer.NOT_PATIENT
        if answer is IdentityAnswer.WRONG_NUMBER:
            return self._say(WRONG_NUMBER_LINE, [*events, WrongNumber()], EndReason.COMPLETED)
        if answer is IdentityAnswer.NOT_PATIENT:
            line = self._render(LEAVE_MESSAGE)
            return self._say(line, [*events, PatientUnavailable()], EndReason.COMPLETED)
        self._awaiting_identity = False
        self._identity_confirmed = True
        return self._policy_turn(None, events=[*events, IdentityConfirmed()])

    def _policy_turn(
        self,
        callee_text: str | None,
        *,
        prefix: str = "",
        events: list[AgentEvent] | None = None,
        understood: Label | None = None,
    ) -> AgentTurn:
        said: list[AgentEvent] = list(events or [])
        request = PolicyRequest(
            profile=self.profile,
            context=self.context,
            history=tuple(self._history),
            callee_text=callee_text,
            identity_confirmed=self._identity_confirmed,
            state=self._state,
            understood=understood if understood in _FOR_POLICY else None,
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
            # Nothing clinical reaches the policy (the runtime defers it first); the words are
            # read again all the same, so an opt-out never drops an urgent task. The turn's
            # events so far (an identity confirmed, a disclosure) are kept.
            return self._opt_out(
                callee_text or "",
                f"policy:{reply.outcome.rule}",
                detected_by=DetectedBy.POLICY,
                events=said,
                concern=assess_clinical(callee_text or ""),
            )
        checked = check_model_reply(
            reply,
            callee_text=callee_text,
            callee_turns=self._callee_turns_said(),
            understood=understood,
            allowance=self._allowance(),
            safe_line=self._render(SAFE_LINE),
            clinical_probability=self._clinical_probability,
        )
        reply = checked.reply  # grounded slots even when nothing was blocked
        if checked.blocked:
            said.append(PolicyOutputBlocked(checked.blocked))
            if callee_text is None:  # the model was to state the purpose: the template does
                reply = replace(reply, text=purpose_prompt(request))
            elif not reply.end_call:  # go on with the question pending, if it may be said now
                pending = self._pending_question()
                if verify(pending, self._allowance()):  # e.g. an earlier offer, after a no
                    pending = ANYTHING_ELSE
                reply = replace(reply, text=f"{reply.text} {pending}")
            if "human_claim" in checked.blocked:
                reply = replace(reply, text=f"{self._disclosure()} {reply.text}")
        if reply.outcome is not None:
            said.append(reply.outcome)
        self._state = reply.state
        end = EndReason.COMPLETED if reply.end_call else None
        return self._say(f"{prefix} {reply.text}".strip(), said, end)

    def _say(self, text: str, events: list[AgentEvent], end: EndReason | None = None) -> AgentTurn:
        if end is None and self._callee_turns >= self._max_callee_turns:
            text = f"{text} {self._render(self.profile.replies.closing)}"
            end = EndReason.MAX_TURNS
        screened = self._screen(
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

    def _callee_turns_said(self) -> list[str]:
        return [turn.text for turn in self._history if turn.speaker is Speaker.CALLEE]

    def _allowance(self) -> Allowance:
        """What a model's own words may mention on this call (guardrails/verifier.py)."""
        confirmed = self._identity_confirmed
        own_time = self.context.appointment_local_time if confirmed else None
        purpose = self.context.purpose
        return Allowance(
            practice_name=self.profile.practice_name,
            callback_number=self.profile.callback_number,
            first_name=self.context.patient_first_name,
            service=self.context.appointment_service if confirmed else None,
            times=(*((own_time,) if own_time else ()), *said_times(self._callee_turns_said())),
            marketing=purpose is not None and purpose.is_marketing and not self._negative,
        )

    def _clinical_probability(self, text: str) -> float:
        heard = self._understander.understand(text, appointment_call=True)
        return heard.probabilities.get(Label.CLINICAL_QUESTION, 0.0)

    def _allowed(self) -> tuple[str, ...]:
        service = self.context.appointment_service
        # The location's hours ("Friday") are the practice's, never the patient's.
        location = (self.context.location_text,) if self.context.location_text else ()
        return (*location, *((service,) if self._identity_confirmed and service else ()))

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
