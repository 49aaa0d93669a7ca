"""Opt-out detection: any request to stop calling ends the call at once, with no objection
handling (spec, Call scripting guardrails: 'The agent should handle "stop calling me" /
"remove me" / "I don't want this" requests immediately with no objection-handling'; FCC 24-24:
revocation "by any reasonable means", including the words stop, quit, end, revoke, opt out,
cancel, unsubscribe).

Rules (docs/agent.md, "Opt-out phrase rules"), checked clause by clause on normalised text:

1. PHRASE: an explicit request anywhere in a sentence ("stop calling", "remove me", "take me
   off", "do not call me", "no more calls", "I don't want this", "leave me alone",
   "unsubscribe", "opt out", "revoke", "withdraw my consent", "do not call list" ...).
2. Revocation words stop / quit / end / cancel count "in context":
   a. ALONE: the clause is the word plus filler ("stop", "please just stop", "I said stop").
   b. ASKED: the clause ends with it after "you", "said", "want/like/need to", "you to"
      ("I want you to stop", "can you stop").
   c. LEADING: "stop" opens the clause and is not "stop by/in/at/over/for..." or "stop
      <doing something else>" ("stop I'm not interested", as speech-to-text often drops
      commas).
3. NOT an opt-out: a word or phrase directly negated in its clause ("don't stop, go on",
   "the swelling won't stop", "I don't want to opt out"); "cancel" with an object other than
   the calls ("cancel my appointment", "cancel it", "I need to cancel") while an appointment
   is being discussed - that is a cancel request. Without an appointment in context, "I
   want to cancel" / "cancel it" are revocations. A bare "cancel" is always honoured as an
   opt-out (the runtime also opens a staff task when an appointment was being discussed).

Honouring a doubtful revocation costs one contact; missing a real one is a TCPA violation:
where the rules must guess, they guess opt-out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from ringfence.agent.guardrails.opt_out_es import NEGATED_ES, PAST_ES, PHRASES_ES
from ringfence.agent.text import clauses, unaccented


class OptOutRule(StrEnum):
    PHRASE = "phrase"
    ALONE = "revocation_word_alone"
    ASKED = "revocation_word_asked"
    LEADING = "revocation_word_leading"


@dataclass(frozen=True, slots=True)
class OptOutMatch:
    rule: OptOutRule
    words: str  # the normalised words that matched


_CONTACT = (
    r"(robo ?)?(phone )?(calls|calling|call|contacting|contact|phoning|ringing|texting|texts|"
    r"messages|bothering|harassing|bugging|pestering|hounding)"
)
_DET = (
    r"(the |these |this |those |all |all the |all these |your |all your |any |"
    r"with the |with these |with )?"
)
_ME = (
    r"(me|us|my (phone |cell |mobile )?number|my name|my info|my information|"
    r"my details|this number|my contact)"
)
# "I don't want this <object>" is about something else: "this appointment", "that time".
_NOT_THE_CALLS = (
    r"appointment|appt|time|day|date|slot|treatment|service|one|ones|to|much|many|kind|type|"
    r"filler|botox|procedure|week|weekend|morning|afternoon|evening|monday|tuesday|wednesday|"
    r"thursday|friday|saturday|sunday|visit|session|consult|consultation|provider|doctor|"
    r"injector|place|location|area|look|result|results|package|deal|offer|color|shade"
)
# The practice as the object of "nothing to do with your ...".
_PRACTICE = r"(clinic|office|practice|spa|company|business|people|calls)"
_PHRASE_TEXT: Final = (
    rf"\b(stop|quit|cease|end|cancel) ((receiving|getting|freaking|fucking|effing|frigging|damn) )?"
    rf"{_DET}{_CONTACT}\b",
    rf"\b(done|sick|tired) (with|of) {_DET}(robo ?)?(phone )?(calls|calling)\b",
    r"\b(removed|taken) (off|out of|from) (your|the|this|that|all|any) (calling |call |contact |"
    r"phone |mailing |marketing |reminder )?lists?\b",
    r"\b(do not|no longer) want to be on (your|the|this|that) "
    r"(calling |call |contact |phone |reminder )?list\b",
    r"\b(rather|prefer) not (to )?be (called|contacted)\b",
    rf"\b(remove|delete|erase) {_ME}\b",
    rf"\btake {_ME} (off|out|of (your|the|this) (\w+ )?list)\b",
    r"\b(get|keep) me (off|out of)\b",
    r"\b(off|out of) (your|the|this|that) (calling |call |contact |phone |mailing |"
    r"marketing )?list\b",
    r"\bdo not call (list|registry)\b",
    r"\bdnc\b",
    r"\bput me on (your|the|a) do not call\b",
    r"\bdo not (ever )?(call|contact|phone|ring|text|bother) (me|us|here|"
    r"this number|again|anymore)\b",
    r"\b(please |just )?do not (ever )?call$",
    r"\bnever (call|contact|phone|ring) (me|us|here|this number|again)\b",
    r"\bnot (to )?(call|contact|phone) (me|us|here|this number) (again|anymore|any more|ever)\b",
    r"\bno (more|further) (phone |robo ?)?(calls|contact|calling)\b",
    r"\bi do not want (this|these|that|those|it)( call| calls| anymore| any more)?\b"
    rf"(?! ({_NOT_THE_CALLS}))",
    r"\bdo not want (to (receive|get|keep getting) )?"
    r"(any more |anymore |any |your |these |those |the |more |"
    r"further )?(phone |robo ?)?(calls|calling|to be (called|contacted))\b",
    r"\bdo not want (you )?(to )?(call|contact|phone) me\b",
    r"\bleave me alone\b",
    # Nothing more to do with the practice, the clause ending there ("...with you anymore"):
    # never "with your office manager", "with your clinic's new laser", a third person's ("my
    # husband wants nothing..."), nor a question or a clause about it ("do you think I want
    # nothing to do with you?", "it's not that I want...").
    r"(?<!think )(?<!that )(?<!if )\b(i|we) ((really|just|absolutely|honestly|seriously) )?"
    r"(want nothing|want no part|do not want anything|do not want nothing|dont want anything|"
    r"dont want nothing)( more| else)?( to do)? (with|of) (you|you all|you people|you guys|y all|"
    rf"yall|y'all|your {_PRACTICE})( or your {_PRACTICE})?( (anymore|any more|again|"
    r"ever again|at all|ever|now|please|okay|ok|thanks|thank you))*$",
    # "there's no point calling me": the calls pointless; not when only mistimed or unneeded
    # once ("no point calling me before noon", "...me to confirm, I already did", "...me
    # later, just email"). Found without punctuation around it too (speech-to-text drops it).
    r"\b(no (point|sense|use)|pointless|useless) (in |to )?(you |y all |you all )?"
    r"(keep |keep on |ever |even )?(calling|call|contacting|contact|phoning|phone|ringing|ring) "
    r"(me|us|this number)\b(?! (back|before|after|until|till|at(?! all)|on|in|today|tomorrow|"
    r"tonight|this|next|during|while|between|about|for|from|first|yet|if|unless|when|to|later|"
    r"til|now|right now)\b)",
    # "No reason to call me" alone is about one call ("..., my daughter made the appointment"):
    # only with "keep", "ever" or "anymore".
    r"\bno reason (for you )?to ((keep|keep on|ever|even) (calling|call|contacting|contact) "
    r"(me|us|this number)|(call|contact) (me|us|this number) (anymore|any more|again|ever "
    r"again|at all))\b",
    r"\b(lose|delete|forget|erase) my (phone |cell )?number\b",
    r"\bunsubscribe\w*\b",
    r"\bopt(ing|ed)? (me )?out\b",
    r"\boptout\b",
    r"\brevok\w*\b",
    r"\bwithdraw\w* (my )?(consent|permission)\b",
    r"\bi (do not|no longer) (consent|give (you )?permission)\b",
    r"\b(cancel\w*|rescind\w*) (my )?(consent|permission|subscription)\b",
    r"\bquit it\b",
)
_PHRASES: Final = tuple(re.compile(p) for p in _PHRASE_TEXT)
_PHRASES_ES: Final = tuple(re.compile(p) for p in PHRASES_ES)

_WORDS: Final = frozenset({"stop", "quit", "end", "cancel"})
_NEGATORS: Final = frozenset({"not", "never", "without"})
# Words between a negator and what it negates: "do not want to stop", "never going to quit".
_BRIDGES: Final = frozenset({"want", "to", "need", "going", "wish", "ever", "even", "just"})
_FILLER: Final = frozenset(
    {
        "please",
        "just",
        "now",
        "right",
        "okay",
        "all",
        "it",
        "this",
        "that",
        "already",
        "then",
        "yes",
        "yeah",
        "no",
        "nope",
        "hey",
        "oh",
        "i",
        "said",
        "say",
        "saying",
        "you",
        "man",
        "sir",
        "maam",
        "miss",
        "seriously",
        "god",
        "thanks",
        "thank",
        "so",
        "well",
        "um",
        "uh",
        "hmm",
        "the",
        "call",
        "calls",
        "calling",
        "here",
        "again",
        "immediately",
        "enough",
        "there",
        "guys",
        "damn",
        "lady",
        "dude",
        "and",
        "for",
        "stop",
        "quit",
        "end",
        "cancel",
        "them",
        "everything",
        "asap",
    }
)
_CANCEL_OBJECTS: Final = frozenset({"it", "this", "that", "everything", "them"})
_ASKED_TO_AFTER: Final = frozenset({"want", "like", "need", "you", "wish"})
_NOT_LEADING: Final = frozenset({"by", "in", "at", "over", "off", "for", "and", "to", "on", "from"})
_VISIT_GERUND_OK: Final = frozenset({"calling", "contacting", "bothering", "harassing", "texting"})


def detect_opt_out(text: str, *, appointment_in_context: bool = False) -> OptOutMatch | None:
    """The first opt-out request in `text`, or None. Pure; about 50 microseconds."""
    for clause in clauses(text):
        words = clause.split()
        for pattern in _PHRASES:
            for found in pattern.finditer(clause):
                start = len(clause[: found.start()].split())
                if not _negated(words, start):
                    return OptOutMatch(OptOutRule.PHRASE, found.group(0))
        match = _revocation_word(words, appointment_in_context)
        if match is not None:
            return match
    # Spanish (`opt_out_es`), on the clauses without their accents.
    for clause in clauses(unaccented(PAST_ES.sub(r"\1aste", text))):
        for pattern in _PHRASES_ES:
            for found in pattern.finditer(clause):
                if not NEGATED_ES.search(clause, 0, found.start()):
                    return OptOutMatch(OptOutRule.PHRASE, found.group(0))
    return None


def _negated(words: list[str], index: int) -> bool:
    """Whether words[index] is directly negated: "not stop", "not want to opt out"."""
    i = index - 1
    while i >= 0 and words[i] in _BRIDGES:
        i -= 1
    return i >= 0 and words[i] in _NEGATORS


def _revocation_word(words: list[str], appointment_in_context: bool) -> OptOutMatch | None:
    for i, word in enumerate(words):
        if word not in _WORDS or _negated(words, i):
            continue
        others = words[:i] + words[i + 1 :]
        if word == "cancel" and appointment_in_context:
            # Only a bare "cancel" (plus politeness) revokes; "cancel it" is the appointment.
            if all(w in _FILLER and w not in _CANCEL_OBJECTS for w in others):
                return OptOutMatch(OptOutRule.ALONE, word)
            continue
        if all(w in _FILLER for w in others):
            return OptOutMatch(OptOutRule.ALONE, " ".join(words))
        if _asked(words, i):
            return OptOutMatch(OptOutRule.ASKED, " ".join(words[max(0, i - 2) : i + 1]))
        if word == "stop" and _leading(words, i):
            return OptOutMatch(OptOutRule.LEADING, " ".join(words[i : i + 2]))
    return None


def _asked(words: list[str], i: int) -> bool:
    tail = words[i + 1 :]
    if any(w not in _FILLER for w in tail):
        return False
    before = [w for w in words[:i] if w not in {"please", "just"}]
    if not before:
        return False
    if before[-1] in {"you", "said"}:
        return True
    return before[-1] == "to" and len(before) >= 2 and before[-2] in _ASKED_TO_AFTER


def _leading(words: list[str], i: int) -> bool:
    if any(w not in _FILLER for w in words[:i]):
        return False
    if i + 1 >= len(words):
        return True
    following = words[i + 1]
    if following in _NOT_LEADING:
        return False
    return not (following.endswith("ing") and following not in _VISIT_GERUND_OK)
