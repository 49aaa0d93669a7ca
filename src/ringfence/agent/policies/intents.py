"""Deterministic intent recognition for the embedded policy.

Checked in priority order on normalised clauses (first match wins): wrong number, not
interested, call back later, cancel, reschedule, question for staff, confirm, decline. The
guardrail intents (opt-out, AI question, clinical question) are not here: the runtime
detects them before any policy runs. `when` is the callee's own words for a day or time
("Thursday at 3 pm"), kept verbatim for staff.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from ringfence.agent.guardrails.identity import WRONG_NUMBER
from ringfence.agent.text import clauses


class Intent(StrEnum):
    CONFIRM = "confirm"
    DECLINE = "decline"
    RESCHEDULE = "reschedule"
    CANCEL = "cancel"
    CALL_BACK_LATER = "call_back_later"
    WRONG_NUMBER = "wrong_number"
    QUESTION_FOR_STAFF = "question_for_staff"
    NOT_INTERESTED = "not_interested"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class IntentMatch:
    intent: Intent
    when: str | None = None


# "i'm good for friday" keeps it; "i'm good for now" / "i'm all set, thanks" does not.
_NOT_NOW: Final = r"(?! (now|today|right now|the moment|the time being)\b)"
_RULES: Final = (
    (Intent.WRONG_NUMBER, WRONG_NUMBER),
    (
        Intent.NOT_INTERESTED,
        r"\b(not interested|no thanks|no thank you|i will pass|i am (good|all set|fine)"
        rf"(?! (for|with)\b{_NOT_NOW})|"
        r"not for me|do not need (it|that|anything)|not right now|maybe some other time|"
        r"i am not looking)\b",
    ),
    (
        Intent.CALL_BACK_LATER,
        r"\b(call (me )?(back|later|another time|again)|bad time|not a good time|"
        r"can not talk|i am (busy|driving|at work|in a meeting)|"
        r"try (me )?(again )?(later|tomorrow)|"
        r"ring me back|reach me later)\b",
    ),
    (
        Intent.CANCEL,
        # A negated cancel ("don't cancel it", "I don't want to cancel") is not a cancel.
        r"^(?!.*\b(not|never)\b[^,.]*\bcancel)(?=.*\bcancel\w*\b)|"
        r"\b(do not|no longer) (want|need) (the|my|this|that) (appointment|booking|visit)\b",
    ),
    (
        Intent.RESCHEDULE,
        r"\b(reschedul\w*|move (it|my|the|that)|change (it|my|the) (time|day|date|appointment)|"
        r"different (day|time|date)|another (day|time|date)|(push|bump|shift) (it|that|my)|"
        r"can not make it|not going to make it|will not make it|will not be able to|"
        r"can we do|could we do|how about|instead|can not come|unable to (come|make it)|"
        r"new time|pick a (new )?time)\b",
    ),
    (
        Intent.QUESTION_FOR_STAFF,
        r"\b(speak|talk) (to|with) (a|an|the|someone|somebody|your|a real|real)\b|"
        r"\b(how much|price|cost|pricing|payment|insurance|parking|address|directions|"
        r"where are you|your hours|are you open|open on|what time do you (open|close))\b",
    ),
    (
        Intent.CONFIRM,
        r"^(yes|yeah|yep|yup|yea|sure|correct|absolutely|definitely|of course|perfect|"
        r"sounds good|that works|okay|alright|all right|great|confirm\w*)\b|"
        r"\b(confirm\w*|i will be there|see you (then|there)|i can make it|that works|works for me|"
        r"sounds good|i would like that|let us do it|please do(?! not)|count me in|"
        r"i am (still )?coming|i will (still )?(come|be coming)|still coming|we are still on|"
        rf"still on for|i am (all )?(good|set) (for|with)\b{_NOT_NOW}|"
        r"keep (it|the appointment|my appointment|the booking))\b",
    ),
    (Intent.DECLINE, r"^(no|nope|nah|not really)\b"),
)
_COMPILED: Final = tuple(
    (intent, re.compile(p) if isinstance(p, str) else p) for intent, p in _RULES
)
_QUESTION_START: Final = re.compile(
    r"^(what|how|when|where|why|who|which|can|could|do(?! not)|does(?! not)|is|are|will|"
    r"would|should)\b"
)

_DAY = (
    r"(?:(?:next|this|on|coming) )?(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday|"
    r"tomorrow|today|tonight|next week|(?:this |the )?weekend)"
)
_PART = r"(?:in the )?(?:morning|afternoon|evening|noon|lunchtime|lunch)"
_CLOCK = (
    r"(?:at |around |after |before )?\d{1,2}(?::\d{2})?\s*(?:[ap]\.?m\.?)|(?:at |"
    r"around |after |before )\d{1,2}(?::\d{2})?\b"
)
_DATE = (
    r"(?:january|february|march|april|may|june|july|august|september|october|november|"
    r"december) \d{1,2}(?:st|nd|rd|th)?|the \d{1,2}(?:st|nd|rd|th)"
)
_WHEN: Final = re.compile(rf"\b(?:{_DAY}|{_PART}|{_DATE})\b|{_CLOCK}", re.IGNORECASE)


def extract_when(text: str) -> str | None:
    """The span from the first to the last day/time expression, verbatim, or None."""
    found = list(_WHEN.finditer(text))
    if not found:
        return None
    start, end = found[0].start(), found[0].end()
    for more in found[1:]:  # "Thursday at 3 pm", not "Thursday? I'm busy in the morning"
        if more.start() - end > 4 or any(c in text[end : more.start()] for c in ".?!"):
            break
        end = more.end()
    return text[start:end].strip(" ,.?!")


def recognize_intent(text: str) -> IntentMatch:
    parts = clauses(text)
    when = extract_when(text)
    for intent, pattern in _COMPILED:
        if any(pattern.search(clause) for clause in parts):
            return IntentMatch(intent, when)
    if when is not None:  # a bare time ("Thursday at 3") answers "when would work?"
        return IntentMatch(Intent.RESCHEDULE, when)
    if "?" in text or any(_QUESTION_START.search(clause) for clause in parts):
        return IntentMatch(Intent.QUESTION_FOR_STAFF, None)
    return IntentMatch(Intent.UNKNOWN, None)
