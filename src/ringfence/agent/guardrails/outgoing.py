"""The outgoing-text filter: runs on every utterance, after the policy, before it is spoken.

Sentence by sentence: a sentence claiming to be human is replaced by the AI disclosure; a
sentence with a PHI term (guardrails/phi.py) or a withheld detail (the service or the time
before the patient's identity is confirmed; anything about the patient in a voicemail) is
dropped and replaced, once, by a neutral line. Events name the rule or term labels only, so
the withheld words are never stored a second time.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, Protocol

from ringfence.agent.events import HumanClaimBlocked, PhiBlocked
from ringfence.agent.guardrails.disclosure import claims_human, disclosure
from ringfence.agent.guardrails.phi import mentions, phi_terms_in
from ringfence.agent.text import sentences

NEUTRAL_LINE: Final = "I can't go into details on this call, but our team will be glad to help."
_NAME_MASK: Final = "\u2060PRACTICE\u2060"
_GENERIC_SERVICE_WORDS: Final = frozenset(
    {
        "appointment",
        "session",
        "treatment",
        "consult",
        "consultation",
        "follow",
        "touch",
        "visit",
        "with",
        "your",
        "their",
        "from",
        "follow-up",
        "touch-up",
        "check",
        "review",
    }
)
_TIME_PIECES: Final = re.compile(
    r"\d{1,2}(:\d{2})?\s*([ap]\.?m\.?)|\b(monday|tuesday|wednesday|thursday|friday|saturday|"
    r"sunday|tomorrow|today)\b|\b(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)\w*\.? \d{1,2}",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class Withheld:
    label: str  # e.g. "appointment_service"
    phrases: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Screened:
    text: str
    events: tuple[HumanClaimBlocked | PhiBlocked, ...]


class Screen(Protocol):
    """`screen_utterance`'s signature: what the runtime calls on each utterance (a caller may
    pass a memo of it, as the simulated callee's conversations do)."""

    def __call__(
        self,
        text: str,
        *,
        practice_name: str,
        allowed: Sequence[str] = (),
        withheld: Sequence[Withheld] = (),
    ) -> Screened: ...


def service_withheld(service: str) -> Withheld:
    words = [w for w in re.findall(r"[\w-]+", service) if len(w) >= 4]
    specific = [w for w in words if w.lower() not in _GENERIC_SERVICE_WORDS]
    if not specific:  # "Consultation" says nothing the opening does not already say
        return Withheld("appointment_service", ())
    return Withheld("appointment_service", (service, *specific))


def time_withheld(local_time: str) -> Withheld:
    pieces = [m.group(0) for m in _TIME_PIECES.finditer(local_time)]
    return Withheld("appointment_time", (local_time, *pieces))


def screen_utterance(
    text: str,
    *,
    practice_name: str,
    allowed: Sequence[str] = (),
    withheld: Sequence[Withheld] = (),
) -> Screened:
    """`text` as it may be said, and the events for what was replaced."""
    name = practice_name.strip()
    masked = text.replace(name, _NAME_MASK) if name else text
    kept: list[str] = []
    events: list[HumanClaimBlocked | PhiBlocked] = []
    terms: list[str] = []
    disclosed = neutral = False
    for sentence in sentences(masked):
        plain = sentence.replace(_NAME_MASK, name)
        rule = claims_human(plain)
        if rule is not None:
            events.append(HumanClaimBlocked(rule))
            if not disclosed:
                kept.append(disclosure(name))
                disclosed = True
            continue
        found = list(phi_terms_in(plain, allowed=allowed))
        found += [
            w.label for w in withheld if any(_says(plain, phrase, allowed) for phrase in w.phrases)
        ]
        if found:
            terms += [t for t in found if t not in terms]
            if not neutral:
                kept.append(NEUTRAL_LINE)
                neutral = True
            continue
        kept.append(plain)
    if terms:
        events.append(PhiBlocked(tuple(terms)))
    return Screened(" ".join(kept) if kept else NEUTRAL_LINE, tuple(events))


def _says(sentence: str, phrase: str, allowed: Sequence[str]) -> bool:
    if not phrase.strip():
        return False
    for ok in allowed:  # a withheld piece inside an allowed phrase is fine
        if ok.strip():
            sentence = re.sub(re.escape(ok), " ", sentence, flags=re.IGNORECASE)
    if " " in phrase.strip() or not phrase.isalpha():
        return mentions(sentence, phrase)
    return re.search(rf"\b{re.escape(phrase)}\b", sentence, re.IGNORECASE) is not None
