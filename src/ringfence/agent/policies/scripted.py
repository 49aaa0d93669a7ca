"""The embedded dialogue policy: deterministic intents, templated replies from the profile.

Stages (carried in `PolicyReply.state` as "stage:misses"): `purpose` (the purpose question
was asked), `time` (a day and time was asked for), `rebook` (after "no" to a confirmation,
a new time was offered). Two replies it cannot place end the call politely.
"""

from __future__ import annotations

import re
from typing import Final

from ringfence.agent.events import (
    AppointmentConfirmed,
    BookingRequested,
    CallbackRequested,
    CancelRequested,
    FollowUpReason,
    NotInterested,
    PolicyOutcome,
    RescheduleRequested,
    StaffFollowUp,
    WrongNumber,
)
from ringfence.agent.policies.base import PolicyReply, PolicyRequest, Speaker
from ringfence.agent.policies.intents import Intent, IntentMatch, extract_when, recognize_intent
from ringfence.agent.profile import CallDirection
from ringfence.agent.text import normalized, sentences, unaccented
from ringfence.agent.understanding.labels import Label
from ringfence.domain.vocabulary import CallPurpose, TaskPriority

MAX_MISSES: Final = 2
# (understood, the rules' reading) pairs where the rules' more careful reading wins: a
# confirmation or a cancellation records something, so it stands only where the rules do
# not read the turn another specific way ("I can't make it" is never a confirmation; "no,
# don't cancel it, I'm coming" reads as a bare no to the rules and is never a cancellation).
_CAREFUL: Final = frozenset(
    {
        *((Intent.CONFIRM, rules) for rules in (
            Intent.RESCHEDULE, Intent.CANCEL, Intent.NOT_INTERESTED, Intent.WRONG_NUMBER,
            Intent.CALL_BACK_LATER,
        )),
        *((Intent.CANCEL, rules) for rules in (
            Intent.RESCHEDULE, Intent.DECLINE, Intent.CONFIRM, Intent.CALL_BACK_LATER,
        )),
    }
)  # fmt: skip
# A negated turn is a confirmation or a wrong number only if the rules read it so too.
_NEEDS_RULES_IF_NEGATED: Final = frozenset({Intent.CONFIRM, Intent.WRONG_NUMBER})
_NEGATION: Final = re.compile(r"\b(no|not|never|nope|nah|unfortunately|sadly)\b")
# Negations that refuse nothing: "don't cancel it", "no need to move it", "I'm not
# rescheduling", "no worries", "I won't miss it", "no changes", "no se preocupe", "cómo no".
# They are set aside before the rules read a confirmation and before `_NEGATION` is looked
# for, and so is a bare "no" beside one ("wait no, don't cancel it"); "no, I'm not coming" and
# "I can't change my shift" keep their negation.
_CHANGE: Final = r"(cancel|reschedul|move|moving|change|chang|cambi|mover|muev|borr)\w*"
_NOT_A_REFUSAL: Final = re.compile(
    rf"(?<!can )(?<!could )\b((i|we) )?(do not|did not|not|no|never|nunca|ni|no need to|"
    rf"no reason to|nada de|no hay que|no quiero)"
    rf"( need to| want to| going to| me vaya a| vaya a| me| la| lo)*"
    rf" {_CHANGE}( (it|that|anything|a thing)\b)?|"
    r"\bnever (said|asked( you)? to) cancel\w*|"
    r"(?<!can )(?<!could )\b(no|not) (worries|worry|problem|problemo|changes|doubt|complaints)\b|"
    r"\b(do not|never) (worry|worries)\b|"
    r"\b((will|would|am|is|are) not|not going to|never) (miss|forget|be late|flake)\w*|"
    r"\bhave not forgotten\b|\bno way i am (missing|skipping)\b|\bcan not wait\b|"
    r"\bno (se|te) preocupe\w*|\bcomo no\b|\bno hay (problema|cambios?)\b|"
    r"\bno (me )?(lo|la) (voy a )?(perder|pierdo)\b|\bno (voy a |pienso )?(falto|faltare|faltar)\b|"
    r"\bno (le |les )?(voy a )?fallar\b|\bno se me olvida\b"
)
_BARE_NO: Final = re.compile(r"((wait|oh|uh|um|ah) )?(no|nope|nah)( no)*")
# A cancellation the turn itself negates ("don't cancel it", "no la cancele").
_NEGATED_CANCEL: Final = re.compile(
    r"\b(do not|did not|not|no|never|nunca|ni) (want to |need to |quiero |la |lo |me la |me lo )*"
    r"cancel\w*"
)
_SOMEONE_ELSE: Final = re.compile(
    r"\b(she|he|her|him|his|wife|husband|mom|mother|dad|father|son|daughter|sister|brother|"
    r"roommate|number|here|home|name|person|line|phone|business|office|anymore|ella|el|esposa|"
    r"esposo|aqui|numero|casa|nombre|hermana|hermano|hija|hijo|mama|madre|papa|padre|abuela|"
    r"senora|senor|senorita|vive|conozco|equivoco|equivocado|equivocada|nadie|ninguna|ninguno|"
    r"ex|grandma|grandmother|aunt|uncle|girlfriend|boyfriend|cousin|niece|nephew|wrong|"
    r"not me|soy yo|know (any|anyone|anybody|nobody|no one)|this is not|there is no|no soy|"
    r"se equivoc\w*|patient|paciente|someone else|somebody else|otra persona|mixed up|"
    r"confusing|dialed|previous|owner)\b"
)
_UNDERSTOOD: Final[dict[Label | None, Intent]] = {
    Label.CONFIRM: Intent.CONFIRM,
    Label.RESCHEDULE: Intent.RESCHEDULE,
    Label.CANCEL: Intent.CANCEL,
    Label.WRONG_PERSON: Intent.WRONG_NUMBER,
}
_ANY_TIME: Final = re.compile(
    r"\b(whenever|any ?time|flexible|any day|either|does not matter|no preference)\b"
)


class ScriptedPolicy:
    """Deterministic and fast (tens of microseconds a turn): the default policy."""

    name: Final = "scripted"

    def respond(self, request: PolicyRequest) -> PolicyReply:
        if request.callee_text is None:
            return PolicyReply(purpose_prompt(request), state="purpose:0")
        stage, misses = _parse(request.state)
        text = request.callee_text
        t = request.profile.replies
        match = scheduling_intent(text, request.understood)
        intent, when = match.intent, match.when
        if stage == "time" and intent in (Intent.CONFIRM, Intent.RESCHEDULE, Intent.UNKNOWN):
            if when:
                return _timed(request, when)
            if _ANY_TIME.search(normalized(text)):  # "whenever works": staff pick a time
                return _timed(request, None)
        if intent is Intent.WRONG_NUMBER:
            return _end(request, t.wrong_number, WrongNumber())
        if intent is Intent.NOT_INTERESTED:
            return _end(request, t.not_interested, NotInterested())
        if intent is Intent.CALL_BACK_LATER:
            later = render_reply(request, t.callback_noted, proposed=when or "at a better time")
            return PolicyReply(later, CallbackRequested(when), end_call=True)
        if intent is Intent.CANCEL:
            return _end(request, t.canceled, CancelRequested())
        if intent is Intent.RESCHEDULE:
            if when:
                return _timed(request, when)
            return PolicyReply(render_reply(request, t.ask_time), state="time:0")
        if intent is Intent.QUESTION_FOR_STAFF:
            follow_up = StaffFollowUp(FollowUpReason.QUESTION_FOR_STAFF, TaskPriority.NORMAL, text)
            reply = " ".join([render_reply(request, t.staff_question), _pending_question(request)])
            return PolicyReply(reply.strip(), follow_up, state=request.state)
        if intent is Intent.CONFIRM:
            return _yes(request, stage)
        if intent is Intent.DECLINE:
            return _no(request, stage)
        if misses + 1 >= MAX_MISSES:
            return PolicyReply(render_reply(request, t.closing), end_call=True)
        again = " ".join([render_reply(request, t.not_understood), _pending_question(request)])
        return PolicyReply(again.strip(), state=f"{stage}:{misses + 1}")


def scheduling_intent(text: str, understood: Label | None) -> IntentMatch:
    """The intent the policy acts on. The runtime's learned understanding decides for the
    scheduling labels it is sure of ("we're good for friday" has no confirm phrase); the rules
    read the rest. A confirmation or a cancellation records something, so where the rules
    read the turn another specific way they win (`_CAREFUL`). Compared by cross-validation on
    the training corpus (docs/agent-evaluation.md)."""
    plain = unaccented(text)  # the rules read no accents ("cancélela")
    match = recognize_intent(plain)
    said = normalized(plain)
    negated_cancel = _NEGATED_CANCEL.search(said) is not None
    if match.intent is Intent.CANCEL and negated_cancel:  # "no la cancele": not a cancel
        match = IntentMatch(Intent.UNKNOWN, match.when)
    hinted = _UNDERSTOOD.get(understood)
    kept = _kept_clauses(said)
    refused = negated_cancel if hinted is Intent.CANCEL else _refuses_no_change(said)
    if hinted in (Intent.CANCEL, Intent.RESCHEDULE) and refused:
        # "no, don't cancel it, I'm coming", "no need to reschedule, thursday's good": the
        # model heard the change word, the turn keeps the appointment (docs/agent-labels.md).
        # A confirmation only where no other change is asked for ("no la cancele, nomás
        # cámbiela") and the rules, reading as for one, find nothing against it.
        kept_as_is = scheduling_intent(text, Label.CONFIRM)
        asks_a_change = any(re.search(_CHANGE, clause) for clause in kept)
        if kept_as_is.intent is Intent.CONFIRM and not asks_a_change:
            return kept_as_is
    if hinted is Intent.CONFIRM:
        # A confirmation is checked against what the rules read once the negations that
        # refuse nothing ("no need to move it") and a day or time alone ("see you friday":
        # their weakest reading, a reschedule) are set aside; "can we do friday" still reads
        # as a reschedule.
        rest = ", ".join(kept)
        when = extract_when(rest)
        reading = recognize_intent(rest.replace(when, " ") if when else rest).intent
        if when and recognize_intent(rest).intent is Intent.NOT_INTERESTED:
            reading = Intent.NOT_INTERESTED  # "i'm good for today, thanks" is no yes
        match = IntentMatch(reading, match.when)
    if hinted is None or (hinted, match.intent) in _CAREFUL:
        return match
    # "don't cancel it" is never a cancellation on the model's word; "no, I'm not coming" is
    # never a confirmation; "unfortunately no" is no wrong number ("she's not home" is: it
    # names who is not there).
    if hinted is Intent.CANCEL and negated_cancel:
        return match
    vetoed = hinted is Intent.CONFIRM or not _SOMEONE_ELSE.search(said)
    negated = any(_NEGATION.search(clause) for clause in kept)
    if hinted in _NEEDS_RULES_IF_NEGATED and hinted is not match.intent and vetoed and negated:
        return match
    return IntentMatch(hinted, match.when)


def _refuses_no_change(said: str) -> bool:
    """Whether `said` negates a change ("no need to reschedule", "no quiero cambiarla")."""
    return any(re.search(_CHANGE, found.group()) for found in _NOT_A_REFUSAL.finditer(said))


def _kept_clauses(said: str) -> list[str]:
    """The clauses of `said` (normalised) without the negations that refuse nothing
    (`_NOT_A_REFUSAL`), and without a bare "no" beside one."""
    parts = said.split(" | ")
    kept = [" ".join(_NOT_A_REFUSAL.sub(" ", part).split()) for part in parts]
    if kept != parts:
        kept = [part for part in kept if not _BARE_NO.fullmatch(part)]
    return [part for part in kept if part]


def _yes(request: PolicyRequest, stage: str) -> PolicyReply:
    t = request.profile.replies
    purpose = request.context.purpose
    if stage == "time":
        return _timed(request, None)
    if stage == "rebook" or purpose is CallPurpose.NO_SHOW_RECOVERY:
        return PolicyReply(render_reply(request, t.ask_time), state="time:0")
    if purpose is CallPurpose.APPOINTMENT_CONFIRMATION or purpose is None:
        return _end(request, t.confirmed, AppointmentConfirmed())
    return PolicyReply(render_reply(request, t.ask_preferred_time), state="time:0")


def _no(request: PolicyRequest, stage: str) -> PolicyReply:
    t = request.profile.replies
    if stage == "rebook":
        return _end(request, t.canceled, CancelRequested())
    if stage == "time":
        return _timed(request, None)
    if request.context.purpose is CallPurpose.APPOINTMENT_CONFIRMATION:
        return PolicyReply(render_reply(request, t.offer_reschedule), state="rebook:0")
    return _end(request, t.not_interested, NotInterested())


def _timed(request: PolicyRequest, when: str | None) -> PolicyReply:
    t = request.profile.replies
    outcome: PolicyOutcome
    if request.context.purpose is not None and request.context.purpose.is_marketing:
        outcome, template = BookingRequested(when), t.booking_noted
    else:
        outcome, template = RescheduleRequested(when), t.reschedule_noted
    if when is None:
        template = t.staff_will_call
    return PolicyReply(render_reply(request, template, proposed=when or ""), outcome, end_call=True)


def _end(request: PolicyRequest, template: str, outcome: PolicyOutcome) -> PolicyReply:
    return PolicyReply(render_reply(request, template), outcome, end_call=True)


_PROMPTS: Final = {
    CallPurpose.APPOINTMENT_CONFIRMATION: ("ask_confirm", "appointment"),
    CallPurpose.NO_SHOW_RECOVERY: ("ask_rebook", "appointment"),
    CallPurpose.CONSULT_FOLLOW_UP: ("ask_consult_booking", ""),
    CallPurpose.TREATMENT_REMINDER: ("ask_treatment_booking", "treatment"),
    CallPurpose.LEAD_REACTIVATION: ("ask_lead_booking", ""),
}


def purpose_prompt(request: PolicyRequest) -> str:
    purpose = request.context.purpose
    if purpose is None or request.context.direction is CallDirection.INBOUND:
        return render_reply(request, request.profile.replies.inbound_help)
    name, generic_service = _PROMPTS[purpose]
    template: str = getattr(request.profile.replies, name)
    return render_reply(request, template, generic_service=generic_service)


def render_reply(
    request: PolicyRequest,
    template: str,
    *,
    proposed: str = "",
    generic_service: str = "appointment",
) -> str:
    context = request.context
    details = request.identity_confirmed
    service = context.appointment_service if details and context.appointment_service else None
    time = context.appointment_local_time if details and context.appointment_local_time else None
    text = request.profile.render(
        template,
        first_name=context.patient_first_name or "",
        service=service or generic_service,
        time=time or "the day we have on file",
        proposed=proposed,
    )
    return _tidy(text)


def _tidy(text: str) -> str:
    text = re.sub(r"\s+", " ", text)
    text = re.sub(r"\s*,\s*([.!?])", r"\1", text)  # "Thanks, ." -> "Thanks."
    return re.sub(r"\s+([.,!?])", r"\1", text).strip()


def _pending_question(request: PolicyRequest) -> str:
    for turn in reversed(request.history):
        if turn.speaker is Speaker.AGENT:
            questions = [s for s in sentences(turn.text) if s.endswith("?")]
            return questions[-1] if questions else ""
    return ""


def _parse(state: str) -> tuple[str, int]:
    stage, _, misses = state.partition(":")
    return stage, int(misses) if misses.isdigit() else 0
