"""The agent's inbound role: what it says to someone who calls the practice (issue 19, item 2).

The runtime (runtime.py) answers opt-outs, AI questions, clinical questions and requests for
a person first, exactly as on an outbound call; every other inbound turn comes here when the
shell told the runtime who may be calling (`CallContext.caller`). The rules, in order:

1. An answer to the identity question we asked is read as one (a likely caller: a clear yes
   to "Am I speaking with Maria?"; a shared line: `match_spoken_name` on "Who am I speaking
   with?"); a message we asked a name for takes the turn as the name.
2. Hours or location ("what time do you close", "¿a qué hora abren?"): the location's text.
3. "You called me" / "I missed a call from this number": `reason_for_our_call`, the generic
   courtesy wording until identity is confirmed for the very contact we called.
4. Anything about their appointment: identity first (asked only now, never in the greeting),
   then the dialogue policy with the request, so confirm / reschedule / cancel produce the
   same outcomes as on an outbound call. An unknown caller is never told any detail: the
   agent takes a message (name and reason) for a staff call-back.
5. Anything else from a caller not confirmed: a message for a staff call-back.

Nothing here names a contact, a service or a time before identity is confirmed, apart from the
one yes/no question to a likely caller (the shell's recognition, domain/inbound.py, says whom
to ask about); the runtime's outgoing filter withholds the service and time regardless.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Final

from ringfence.agent.events import (
    AgentEvent,
    CallerMessage,
    EndReason,
    FollowUpReason,
    StaffFollowUp,
)
from ringfence.agent.guardrails.identity import IdentityAnswer, classify_identity_answer
from ringfence.agent.policies.intents import Intent
from ringfence.agent.policies.scripted import scheduling_intent
from ringfence.agent.profile import AgentProfile, CallContext
from ringfence.agent.text import normalized, unaccented
from ringfence.agent.understanding.answers import is_bare_answer, is_clear_no
from ringfence.agent.understanding.labels import Label
from ringfence.domain.inbound import (
    CallerCandidate,
    LikelyCaller,
    SharedLine,
    UnknownCaller,
    match_spoken_name,
    reason_for_our_call,
)
from ringfence.domain.staff_hours import DURING_BUSINESS_HOURS
from ringfence.domain.vocabulary import TaskPriority

ANYTHING_ELSE: Final = "Is there anything else I can help you with?"
WHO_IS_CALLING: Final = "Sure, I can help with that. Who am I speaking with?"
WHO_AGAIN: Final = "Sorry, could you tell me your first and last name?"
LIKELY_IDENTITY: Final = "Sure, I can help with that. Am I speaking with {first_name}?"
LIKELY_AGAIN: Final = "Sorry, am I speaking with {first_name}?"
TAKE_MESSAGE: Final = (
    "I'm not able to look up details on this call, but I can take a message for our team. "
    "May I have your name?"
)
MESSAGE_TAKEN: Final = (
    "Thank you. I'll ask a member of our team at {practice} to call you back {when}. Goodbye."
)
APPOINTMENT_LINE: Final = "Thanks, {first_name}. Your {service} is on {time}."
NO_APPOINTMENT: Final = (
    "Thanks, {first_name}. I'll have a member of our team call you back about that {when}. Goodbye."
)
MAKE_IT: Final = "Will you be able to make it?"
NO_LOCATION: Final = (
    "I don't have our hours and address to hand, so a member of our team will call you back "
    "with them."
)
NOT_CAUGHT: Final = "Sorry, I didn't catch that. How can I help you today?"
GOODBYE: Final = "Thank you for calling {practice}. Goodbye."
MAX_TRIES: Final = 2

# High-precision inbound-only rules (docs/agent.md, "Inbound calls: the agent's role"), read on
# `normalized` text (lower case, contractions expanded, accents kept).
LOCATION_QUESTION: Final = re.compile(
    r"\bwhat time (do|does|are) (you|y all|the (office|clinic|spa|practice)) "
    r"(open|close|closing|opening)\b|"
    r"\b(your|the|office|clinic|opening|business) hours\b|\bare you (open|closed)\b|"
    r"\bwhen (are you|is the (office|clinic|spa)) open\b|\bwhen do you (open|close)\b|"
    r"\bwhere (are you|is your (office|clinic|spa|practice)|is the (office|clinic|spa|practice))"
    r"( located| guys)?\b|\b(your|the) (address|location)\b|\bdirections\b|"
    r"\bhow do i get (there|to you)\b|"
    r"\ba que hora (abren|cierran|abre|cierra)\b|\bhorarios?\b|"
    r"\bdonde (estan|quedan|se encuentran|queda)\b|\bdireccion\b"
)
RETURNING_CALL: Final = re.compile(
    r"\b(you|you guys|someone|somebody|your (office|clinic|practice|team|spa)|this number)"
    r"( from (there|your (office|clinic|practice|spa)))? (just |recently )?"
    r"(called|rang|phoned|tried (to call|calling)|left (me )?a (message|voicemail))\b|"
    r"\b(missed|got|received|had) (a|your|the|an) (call|missed call|voicemail|message) from\b|"
    r"\breturning (a|your|the) (call|message|voicemail)\b|"
    r"\b(i am|just) calling (you )?back\b|"
    r"\bwhy did (you|someone|somebody) call\b|\bwhat (did|were) you call(ing)? (me )?(about|for)\b|"
    r"\b(me|nos) (llamaron|llamo|marcaron|dejaron un mensaje)\b|\bllamada perdida\b|"
    r"\bdevolviendo (la|su) llamada\b"
)
# Words that make a mention of our call a complaint: such a turn is never read as a returned
# call, so the opt-out path keeps it (docs/agent-labels.md: doubt resolves to opt-out).
_COMPLAINT: Final = re.compile(
    r"\b(stop|keep|keeps|again|quit|no more|never|remove|take me off|do not|leave me alone|"
    r"enough|harass\w*|every day|so many|too many|dejen|no me llamen|otra vez|basta)\b"
)
APPOINTMENT_WORDS: Final = re.compile(
    r"\b(appointment|appt|booking|booked|reservation|reschedul\w*|cancel\w*|confirm\w*|"
    r"my (visit|treatment|session|consult\w*)|cita|reserva|consulta)\b"
)
_APPOINTMENT_LABELS: Final = frozenset({Label.CONFIRM, Label.RESCHEDULE, Label.CANCEL})
_NAME_LEAD: Final = re.compile(
    r"^((yes|yeah|hi|hello|hey|oh|sure|ok|okay),? )*(my name is|my name's|the name is|"
    r"this is|it is|it's|i am|i'm|me llamo|soy|mi nombre es),? ",
    re.IGNORECASE,
)
_DONE: Final = re.compile(
    r"\b(that is (all|it)|nothing else|i am (good|all set|fine)|no thanks|no thank you|"
    r"eso es todo|nada mas)\b"
)


def _plain(text: str) -> str:
    """`normalized` without accents, so the Spanish rules read "qué" and "que" alike."""
    return normalized(unaccented(text))


def asks_location(text: str) -> bool:
    return LOCATION_QUESTION.search(_plain(text)) is not None


def returns_our_call(text: str) -> bool:
    """Whether `text` returns our call ("you called me") without complaining about it."""
    said = _plain(text)
    return RETURNING_CALL.search(said) is not None and _COMPLAINT.search(said) is None


# What may stand beside "you called me" in a turn that says nothing else.
_SMALL_TALK: Final = re.compile(
    r"\b(hi|hello|hey|yes|yeah|um+|uh+|oh|so|and|also|ok|okay|well|earlier|today|this (morning|"
    r"afternoon|evening)|yesterday|just|me|i am|i|from|this number|here|there|hola|si|"
    r"buenas|bueno|de este numero)\b"
)


def only_returns_our_call(text: str) -> bool:
    """Whether the turn is a returned call and nothing more ("Hi, I missed a call from this
    number."): the one turn the model's opt-out reading may be set aside for. Anything more
    ("you called me, I want no calls from you") keeps the opt-out in play (runtime.py)."""
    said = _plain(text)
    if not returns_our_call(text):
        return False
    rest = _SMALL_TALK.sub(" ", RETURNING_CALL.sub(" ", said))
    return not re.sub(r"[\W_]+", "", rest)


def spoken_name(text: str) -> str:
    """The caller's own words for their name, without "my name is" (for the task's text)."""
    plain = " ".join(text.replace(".", " ").replace("\u2019", "'").split()).strip(" ,!?")
    return _NAME_LEAD.sub("", plain).strip(" ,!?") or plain


class Stage(StrEnum):
    OPEN = "open"  # listening for what the caller wants
    ASKED_IDENTITY = "asked_identity"  # "Am I speaking with Maria?" / "Who am I speaking with?"
    ASKED_NAME = "asked_name"  # taking a message: the next turn is the caller's name


class Pending(StrEnum):
    APPOINTMENT = "appointment"
    RETURNED_CALL = "returned_call"


@dataclass(frozen=True, slots=True)
class DeskReply:
    """What the runtime says (then screens) for one inbound turn."""

    text: str
    events: tuple[AgentEvent, ...] = ()
    end: EndReason | None = None
    confirmed: CallerCandidate | None = None  # identity confirmed on this turn
    # Hand this request to the dialogue policy after `text` (confirm/reschedule/cancel).
    to_policy: str | None = None
    understood: Label | None = None


def working_context(context: CallContext) -> CallContext:
    """The context the runtime works with before identity: no name to render, and appointment
    details only for a likely caller (the shell loads them for no one else)."""
    keep = isinstance(context.caller, LikelyCaller)
    return replace(
        context,
        patient_first_name=None,
        appointment_service=context.appointment_service if keep else None,
        appointment_local_time=context.appointment_local_time if keep else None,
    )


class InboundDesk:
    """The inbound dialogue's own state; the runtime owns one per inbound call with a caller."""

    def __init__(self, profile: AgentProfile, context: CallContext) -> None:
        self.profile = profile
        self.context = context
        self.caller = context.caller or UnknownCaller(withheld=False)
        self.stage = Stage.OPEN
        self.pending: Pending | None = None
        self.pending_text = ""
        self.pending_label: Label | None = None
        self.confirmed: CallerCandidate | None = None
        self.refused = False  # the identity check failed: handled as an unknown caller
        self.tries = 0
        self.misses = 0
        self.asked_anything_else = False
        self.in_dialogue = False  # the last question was the policy's (or "make it?")
        self.said_appointment = False

    @property
    def expects_answer(self) -> bool:
        """The next turn answers our question (who is calling, or a name for a message)."""
        return self.stage is not Stage.OPEN

    # -- the turn -----------------------------------------------------------------------
    def respond(self, text: str, label: Label) -> DeskReply:
        asked_else, self.asked_anything_else = self.asked_anything_else, False
        in_dialogue, self.in_dialogue = self.in_dialogue, False
        if self.stage is Stage.ASKED_NAME:
            return self._message_taken(spoken_name(text))
        if asks_location(text):
            return self._location()
        if self.stage is Stage.ASKED_IDENTITY:
            return self._identity_answer(text)
        if returns_our_call(text):
            return self._returned_call(text)
        if self.confirmed is not None and in_dialogue:  # answering the policy's question
            return self._to_policy(text, label)
        if label in _APPOINTMENT_LABELS or APPOINTMENT_WORDS.search(_plain(text)):
            return self._appointment(text, label)
        if asked_else and (is_clear_no(text) or _DONE.search(_plain(text))):
            return DeskReply(self.profile.render(GOODBYE), end=EndReason.COMPLETED)
        if is_bare_answer(text) or len(text.split()) < 2:
            self.misses += 1
            if self.misses >= MAX_TRIES:
                closing = self.profile.render(self.profile.replies.closing)
                return DeskReply(closing, end=EndReason.COMPLETED)
            return DeskReply(NOT_CAUGHT)
        if self.confirmed is not None:
            return self._to_policy(text, label)
        return self._take_message(text)

    # -- the rules ----------------------------------------------------------------------
    def _location(self) -> DeskReply:
        after = self._again() if self.stage is Stage.ASKED_IDENTITY else self._anything_else()
        if self.context.location_text:
            return DeskReply(f"{self.context.location_text} {after}")
        task = StaffFollowUp(
            FollowUpReason.QUESTION_FOR_STAFF, TaskPriority.NORMAL, "hours and address"
        )
        return DeskReply(f"{NO_LOCATION} {after}", (task,))

    def _returned_call(self, text: str) -> DeskReply:
        call = self.context.returned_call
        reason = self._reason()
        if self.confirmed is not None or call is None or self.refused:
            return self._after_reason(reason)
        caller = self.caller
        if isinstance(caller, LikelyCaller) and caller.candidate.contact_id == call.contact_id:
            return self._ask_identity(Pending.RETURNED_CALL, text, None, prefix=reason)
        if isinstance(caller, SharedLine) and any(
            c.contact_id == call.contact_id for c in caller.candidates
        ):
            return self._ask_identity(Pending.RETURNED_CALL, text, None, prefix=reason)
        return DeskReply(f"{reason} {self._anything_else()}")

    def _appointment(self, text: str, label: Label) -> DeskReply:
        if self.confirmed is not None:
            if self.said_appointment:
                return self._to_policy(text, label)
            return self._appointment_reply(text, label, prefix="")
        if self.refused or isinstance(self.caller, UnknownCaller):
            return self._take_message(text)
        return self._ask_identity(Pending.APPOINTMENT, text, label)

    def _identity_answer(self, text: str) -> DeskReply:
        caller = self.caller
        found: CallerCandidate | None = None
        if isinstance(caller, LikelyCaller):
            answer = classify_identity_answer(text, caller.candidate.first_name)
            if answer is IdentityAnswer.CONFIRMED:
                found = caller.candidate
            elif answer is IdentityAnswer.UNCLEAR and self.tries + 1 < MAX_TRIES:
                self.tries += 1
                return DeskReply(self._again())
        elif isinstance(caller, SharedLine):
            found = match_spoken_name(text, caller.candidates)
            if found is None and self.tries + 1 < MAX_TRIES:
                self.tries += 1
                return DeskReply(WHO_AGAIN)
        if found is None:  # not the contact, or not matched: an unknown caller from now on
            self.refused = True
            self.stage = Stage.OPEN
            if isinstance(caller, SharedLine):  # they gave a name: the message is complete
                return self._message_taken(spoken_name(text))
            self.stage = Stage.ASKED_NAME
            return DeskReply(f"No problem. {TAKE_MESSAGE}")
        self.confirmed = found
        self.stage = Stage.OPEN
        self.context = replace(self.context, patient_first_name=found.first_name)
        return self._after_confirmed(found)

    def _after_confirmed(self, found: CallerCandidate) -> DeskReply:
        if self.pending is Pending.RETURNED_CALL:
            reply = self._after_reason(self._reason())
            return replace(reply, confirmed=found)
        reply = self._appointment_reply(self.pending_text, self.pending_label, prefix="")
        return replace(reply, confirmed=found)

    def _appointment_reply(self, text: str, label: Label | None, *, prefix: str) -> DeskReply:
        """Identity confirmed: the appointment in words, then the request to the policy (the
        same outcomes as outbound); no appointment on file: a staff call-back."""
        context = self.context
        name = context.patient_first_name or ""
        if not context.appointment_service or not context.appointment_local_time:
            line = self.profile.render(NO_APPOINTMENT, first_name=name, when=self._when())
            task = StaffFollowUp(FollowUpReason.QUESTION_FOR_STAFF, TaskPriority.NORMAL, text)
            return DeskReply(f"{prefix} {line}".strip(), (task,), EndReason.COMPLETED)
        said = self.profile.render(
            APPOINTMENT_LINE,
            first_name=name,
            service=context.appointment_service,
            time=context.appointment_local_time,
        )
        self.said_appointment = self.in_dialogue = True
        intent = scheduling_intent(text, label).intent
        if intent in (Intent.CONFIRM, Intent.RESCHEDULE, Intent.CANCEL):
            return DeskReply(f"{prefix} {said}".strip(), to_policy=text, understood=label)
        return DeskReply(f"{prefix} {said} {MAKE_IT}".strip())

    def _after_reason(self, reason: str) -> DeskReply:
        call = self.context.returned_call
        confirmed = self.confirmed
        if confirmed is not None and call is not None and call.contact_id == confirmed.contact_id:
            context = self.context
            if context.appointment_service and context.appointment_local_time:
                said = self.profile.render(
                    APPOINTMENT_LINE,
                    first_name=confirmed.first_name,
                    service=context.appointment_service,
                    time=context.appointment_local_time,
                )
                self.said_appointment = self.in_dialogue = True
                return DeskReply(f"{reason} {said} {MAKE_IT}")
        return DeskReply(f"{reason} {self._anything_else()}")

    def _ask_identity(
        self, pending: Pending, text: str, label: Label | None, *, prefix: str = ""
    ) -> DeskReply:
        self.pending, self.pending_text, self.pending_label = pending, text, label
        self.stage, self.tries = Stage.ASKED_IDENTITY, 0
        caller = self.caller
        if isinstance(caller, LikelyCaller):
            question = self.profile.render(LIKELY_IDENTITY, first_name=caller.candidate.first_name)
        else:
            question = WHO_IS_CALLING
        if prefix:  # after the generic reason, no "I can help with that"
            question = question.removeprefix("Sure, I can help with that. ")
        return DeskReply(f"{prefix} {question}".strip())

    def _to_policy(self, text: str, label: Label) -> DeskReply:
        self.in_dialogue = True
        return DeskReply("", to_policy=text, understood=label)

    def _take_message(self, text: str) -> DeskReply:
        self.pending_text = self.pending_text or text
        self.stage = Stage.ASKED_NAME
        return DeskReply(TAKE_MESSAGE)

    def _message_taken(self, name: str) -> DeskReply:
        self.stage = Stage.OPEN
        message = CallerMessage(caller_name=name, reason=self.pending_text)
        line = self.profile.render(MESSAGE_TAKEN, when=self._when())
        return DeskReply(line, (message,), EndReason.COMPLETED)

    # -- wording ------------------------------------------------------------------------
    def _reason(self) -> str:
        confirmed = self.confirmed.contact_id if self.confirmed is not None else None
        practice = self.context.returned_call_practice or self.profile.practice_name
        return reason_for_our_call(
            self.context.returned_call, practice=practice, identity_confirmed_for=confirmed
        )

    def _again(self) -> str:
        if isinstance(self.caller, LikelyCaller):
            return self.profile.render(LIKELY_AGAIN, first_name=self.caller.candidate.first_name)
        return WHO_AGAIN

    def _anything_else(self) -> str:
        self.asked_anything_else = True
        return ANYTHING_ELSE

    def _when(self) -> str:
        staff = self.context.staff
        return staff.call_back_when if staff is not None else DURING_BUSINESS_HOURS
