"""The output verifier: free text from a model is said only if it passes every check.

A dialogue policy backed by a language model may write its own words (`PolicyReply.free_text`).
The sentence filters (guardrails/outgoing.py) drop what they recognise; this verifier is
stricter and **fails closed**: one problem anywhere and the whole reply is replaced by a safe
line. It allows only what the call's context allows:

- `phone_number`: no phone number but the practice's own call-back number;
- `date_or_time`: no day, date or time but the callee's own appointment time (after the
  identity check) and the days and times the callee said themselves in this call;
- `name_or_service`: no name, brand or treatment but the practice's name, the callee's first
  name and their own appointment's service (after the identity check);
- `price`: no price, percentage or "free";
- `human_claim`: no claim to be a person (guardrails/disclosure.py);
- `clinical`: no clinical content: the clinical rules, the PHI terms, aftercare and medicine
  words, and the understanding's clinical probability on the agent's own text;
- `marketing`: no offer, deal or promotion on an informational call, or on any call once the
  callee has said no, not interested, or anything like an opt-out.

Pure; the probability function is injected (`clinical_probability`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Final

from ringfence.agent.guardrails.clinical import assess_clinical
from ringfence.agent.guardrails.disclosure import claims_human
from ringfence.agent.guardrails.phi import phi_terms_in
from ringfence.agent.text import sentences

_PHONE: Final = re.compile(
    r"(?:\+?1[\s.-]?)?\(?\d{3}\)?[\s.-]?\d{3}[\s.-]?\d{4}|\b\d{3}[\s.-]\d{4}\b|\d{7,}|"
    r"\b(?:(?:zero|oh|one|two|three|four|five|six|seven|eight|nine)[\s,-]+){6,}"
    r"(?:zero|oh|one|two|three|four|five|six|seven|eight|nine)\b",
    re.IGNORECASE,
)
_DAYS: Final = (
    r"monday|tuesday|wednesday|thursday|friday|saturday|sunday|tomorrow|today|tonight|"
    r"weekend|next week"
)
_MONTHS: Final = (
    r"january|february|march|april|may|june|july|august|september|october|november|december|"
    r"jan|feb|mar|apr|jun|jul|aug|sept|sep|oct|nov|dec"
)
_TIME_PIECE: Final = re.compile(
    rf"\b(?:{_DAYS})\b|\b(?:{_MONTHS})\.? \d{{1,2}}(?:st|nd|rd|th)?\b|"
    r"\b(?:(?:at|by|around|after|before) )?\d{1,2}(?::\d{2})?\s*(?:a\.?m\b\.?|p\.?m\b\.?)|"
    r"\b(?:at|by|around|after|before) \d{1,2}(?::\d{2})?\b|\b\d{1,2}(?:st|nd|rd|th)\b|"
    r"\b\d{1,2}/\d{1,2}\b|\bnoon\b|\bmidnight\b|"
    r"\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve) o'?clock\b|"
    r"\b(?:half|quarter) (?:past|to|after) \w+\b|"
    r"\b(?:the )?(?:first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|"
    r"eleventh|twelfth|thirteenth|fourteenth|fifteenth|sixteenth|seventeenth|eighteenth|"
    r"nineteenth|twentieth|twenty[- ]\w+|thirtieth|thirty[- ]first)\b(?= of| at|,|\.|$| for)",
    re.IGNORECASE,
)
_PREPOSITION: Final = re.compile(r"^(?:at|by|around|after|before)\s+", re.IGNORECASE)
_SERVICES: Final = re.compile(
    r"\b(botox|dysport|xeomin|jeuveau|daxxify|filler|fillers|juvederm|juvéderm|restylane|"
    r"radiesse|sculptra|kybella|coolsculpting|emsculpt|morpheus8|microneedling|"
    r"hydrafacial|chemical peel|peel|laser|ipl|bbl|prp|prf|facelift|rhinoplasty|"
    r"blepharoplasty|liposuction|lipo|tummy tuck|breast augmentation|augmentation|implants?|"
    r"lip flip|thread lift|dermaplaning|semaglutide|ozempic|wegovy|tretinoin|retin-a)\b",
    re.IGNORECASE,
)
_PRICE: Final = re.compile(
    r"\$\s?\d|\b\d+(?:\.\d+)?\s?(?:dollars|bucks|usd|percent|%)|\bfree\b|\bhalf off\b|"
    r"\b\d+\s?off\b|\bcomplimentary\b",
    re.IGNORECASE,
)
_AFTERCARE: Final = re.compile(
    r"\b(ibuprofen|advil|motrin|tylenol|acetaminophen|aspirin|arnica|antibiotics?|"
    r"benadryl|antihistamine|steroid|cortisone|hyaluronidase|ice (it|the area|pack)|"
    r"cold compress|warm compress|massage (it|the area)|avoid (exercise|alcohol|the sun|sun|"
    r"makeup|working out|lying down|heat|saunas?)|no (exercise|alcohol|makeup|working out)|"
    r"\d+ ?(mg|milligrams|units|ml|cc)\b|dose|dosage|should (go away|resolve|subside)|"
    r"is (normal|expected|common) after|apply|ointment|cream)\b",
    re.IGNORECASE,
)
_MARKETING: Final = re.compile(
    r"\b(offer|offers|offering|discount\w*|special|specials|promo\w*|deal|deals|sale|"
    r"limited[- ]time|package|packages|membership|bundle|save|savings|book (now|today)|"
    r"don't miss|do not miss|exclusive|upgrade|add[- ]on|refer a friend|gift card)\b",
    re.IGNORECASE,
)
_CAPITALIZED: Final = re.compile(r"\b[A-Z][a-zA-Z'-]+\b")
# A title before a name ("Dr. Patel", "doctor patel"): the name must be an allowed word.
_TITLED: Final = re.compile(r"\b(?:dr|doctor|mr|mrs|ms|miss|nurse)\.?\s+([a-z][\w'-]*)", re.I)
# Capitalized words any reply may use.
_COMMON: Final = frozenset({"I", "I'm", "I'll", "I've", "I'd", "AI", "OK", "Okay"})
# Words a sentence may start with, capitalized (any other capitalized word is judged as a
# name, first in its sentence or not).
_OPENER_WORDS: Final = """
a about absolutely actually after again all alright also although an and any anything are
as at awesome be because before but by can certainly could did do does done each either
enjoy even every everything excellent fantastic feel few fine for from glad good goodbye
got great had happy has have hello hey hi hope how however if in is it its just let lovely
may maybe me more most my no nope not nothing noted now of oh ok okay on once one only or
our perfect please quick quite really right see shall she should so some someone something
sorry sounds still sure take thank thanks that the their then there these they this those
to today tomorrow totally understood unfortunately until we well welcome were what when
where whether which while who why will with would wonderful yes yeah yep yet you your
"""
_OPENERS: Final = frozenset(_OPENER_WORDS.split())

CLINICAL_BAR: Final = 0.5


@dataclass(frozen=True, slots=True)
class Allowance:
    """What this call's context lets the agent say."""

    practice_name: str
    callback_number: str = ""  # E.164 or as spoken
    first_name: str | None = None
    service: str | None = None  # the callee's own appointment, after the identity check
    times: tuple[str, ...] = ()  # the appointment time (after the check) and callee's words
    marketing: bool = False  # a marketing call with no negative signal so far


def verify(
    text: str,
    allowance: Allowance,
    *,
    clinical_probability: Callable[[str], float] | None = None,
) -> tuple[str, ...]:
    """The checks `text` fails (empty when it may be said)."""
    problems: list[str] = []
    if _phone_numbers(text, allowance):
        problems.append("phone_number")
    if _times(text, allowance):
        problems.append("date_or_time")
    if _names_or_services(text, allowance):
        problems.append("name_or_service")
    if _PRICE.search(text):
        problems.append("price")
    if any(claims_human(s) for s in sentences(text)):
        problems.append("human_claim")
    if _clinical(text, clinical_probability):
        problems.append("clinical")
    if not allowance.marketing and _MARKETING.search(text):
        problems.append("marketing")
    return tuple(problems)


def _digits(text: str) -> str:
    return "".join(c for c in text if c.isdigit())


def _phone_numbers(text: str, allowance: Allowance) -> bool:
    own = _digits(allowance.callback_number)[-10:]
    return any(not own or _digits(found.group(0))[-10:] != own for found in _PHONE.finditer(text))


def time_key(piece: str) -> str:
    """A day or time piece compared loosely: "at 9 AM", "9am" and "9 a.m." are one time."""
    return re.sub(r"[\s.]", "", _PREPOSITION.sub("", piece.lower()))


def time_pieces(text: str) -> list[str]:
    """The day and time pieces of `text`, as written."""
    return [found.group(0) for found in _TIME_PIECE.finditer(text)]


def _times(text: str, allowance: Allowance) -> bool:
    allowed = {time_key(piece) for phrase in allowance.times for piece in time_pieces(phrase)}
    return any(time_key(piece) not in allowed for piece in time_pieces(text))


def _allowed_words(allowance: Allowance) -> set[str]:
    """Lower-cased words a capitalized token may be (names are compared case-insensitively)."""
    words = {w.lower() for w in _COMMON} | {"am", "pm", "a.m", "p.m"}
    phrases = (allowance.practice_name, allowance.first_name or "", allowance.service or "")
    for phrase in (*phrases, *allowance.times):
        words.update(w.lower() for w in re.findall(r"[\w'-]+", phrase))
    return words


def _names_or_services(text: str, allowance: Allowance) -> bool:
    allowed = _allowed_words(allowance)
    service = (allowance.service or "").lower()
    for found in _SERVICES.finditer(text):
        if found.group(0).lower() not in service:
            return True
    for found in _TITLED.finditer(text):
        if found.group(1).lower() not in allowed:
            return True
    for sentence in sentences(text):
        for found in _CAPITALIZED.finditer(sentence):
            word = found.group(0)
            if word.lower() in allowed or _TIME_PIECE.fullmatch(word):
                continue  # days and months are judged by `_times`
            if found.start() == 0 and word.lower().split("'")[0] in _OPENERS:
                continue
            return True
    return False


def _clinical(text: str, probability: Callable[[str], float] | None) -> bool:
    if assess_clinical(text) is not None or list(phi_terms_in(text)) or _AFTERCARE.search(text):
        return True
    return probability is not None and any(
        probability(sentence) >= CLINICAL_BAR for sentence in sentences(text)
    )


def said_times(callee_turns: Iterable[str]) -> tuple[str, ...]:
    """The day and time pieces the callee said: the agent may repeat those."""
    return tuple(piece for turn in callee_turns for piece in time_pieces(turn))
