"""Judges for the blocking elements other than the business name (`business_name.py`):
automated/AI voice, the number on the form, not a condition of purchase, the affirmative act.

Each judge reads `ConsentText.lower` (lower case, accents folded, contractions expanded: "isn't"
is "is not") and returns a `Judgement`. A few Spanish forms are recognised for bilingual forms;
anything else in another language reads as absent.
"""

from __future__ import annotations

import re
from typing import Final

from ringfence.domain.consent_scan.elements import Judgement, Status
from ringfence.domain.consent_scan.text import (
    ConsentText,
    affirmed,
    is_negated,
    rx,
)

# --- automated_or_ai_voice ------------------------------------------------------------------

# Terms that are about the voice itself (FCC 24-17: an AI-generated voice is an "artificial"
# voice). Excluding one of these explicitly rules out Ringfence's calls.
_VOICE_TERMS: Final = rx(
    r"\bartificial\b",
    r"\bai\b",
    r"\ba\.i\.",
    r"\bpre-?recorded\b",
    r"\brecorded (?:voice|messages?)\b",
    r"\bsynthe(?:tic|sized) voices?\b",
    r"\bcomputer-generated\b",
    r"\bvirtual (?:assistant|agent|receptionist)\b",
    r"\b(?:chat)?bots?\b",
    r"\bvoz artificial\b",
    r"\bgrabad[oa]s?\b",
    r"\bia\b",
)
_DIALER_TERMS: Final = rx(
    r"\bauto-?dial\w*",
    r"\bauto dial\w*",
    r"\batds\b",
    r"\bautomat(?:ed|ic|ically|ion)\b",
    r"\brobo-?calls?\b",
    r"\bautomatizad[oa]s?\b",
    r"\bmarcador automatico\b",
)
_CALL_WORDS: Final = rx(
    r"\bcall(?:s|ed|ing)?\b",
    r"\bvoice\b",
    r"\bvoicemails?\b",
    r"\bdial\w*",
    r"\btelephone\b",
    r"\bring\b",
    r"\brobo-?calls?\b",
    r"\bllamad[ao]s?\b",
    r"\bllame\b",
)
_TEXT_WORDS: Final = rx(
    r"\btexts\b",
    r"\btexting\b",
    r"\btexted\b",
    r"\btext messag\w*",
    r"\bsms\b",
    r"\bmms\b",
    r"\btext (?:me|you|us|alerts?|reminders?)\b",
    r"\b(?:by|via|or|and|a|any) text\b",
    r"\bmensajes? de texto\b",
)
_CONSENT_WORDS: Final = rx(
    r"\bmay\b",
    r"\bcan\b",
    r"\bcould\b",
    r"\bwill\b",
    r"\bwould\b",
    r"\bagree\w*",
    r"\bconsent\w*",
    r"\bauthori[sz]\w*",
    r"\bpermission\b",
    r"\baccept\w*",
    r"\bok(?:ay)? with\b",
    r"\bopt(?:ing)?[- ]in\b",
    r"\bacepto\b",
    r"\byes\b",
    r"\bby (?:checking|ticking|signing|submitting|clicking|providing)\b",
    r"\bautorizo\b",
)


def covers_texts(text: ConsentText) -> bool:
    """The consent mentions texts (text messages, SMS, MMS)."""
    return _TEXT_WORDS.search(text.lower) is not None


def _scope(text: ConsentText, match: re.Match[str]) -> str:
    """The kind of message ("call", "text" or "any") an automation term is attached to, read
    from the words right after it, then the words before it, within its sentence ("automated
    text messages" -> text; "calls and texts may be sent with automated technology" -> call).
    """
    lower = text.lower
    if _VOICE_TERMS.fullmatch(match.group()) and "voice" in lower[match.end() : match.end() + 8]:
        return "call"
    begin, end = text.sentence_at(match.start())
    after = " ".join(lower[match.end() : end].split()[:4])
    before = " ".join(lower[begin : match.start()].split()[-10:])
    for window in (after, before):
        if _CALL_WORDS.search(window):
            return "call"
        if _TEXT_WORDS.search(window) or re.search(r"\bmsgs?\b", window):
            return "text"
    return "any"


def judge_automation(text: ConsentText) -> Judgement:
    lower = text.lower
    voice_matches = list(_VOICE_TERMS.finditer(lower))
    if any(is_negated(lower, m.start()) for m in voice_matches):
        return Judgement(
            Status.MISSING,
            "The text rules out artificial or AI voices, which Ringfence's calls use.",
        )
    mentions = [
        m
        for m in [*voice_matches, *_DIALER_TERMS.finditer(lower)]
        if not is_negated(lower, m.start())
    ]
    if not mentions:
        negated = any(is_negated(lower, m.start()) for m in _DIALER_TERMS.finditer(lower))
        return Judgement(
            Status.MISSING,
            "The text rules out automated calls."
            if negated
            else "No consent to calls using automated technology or an artificial/AI voice.",
        )
    agreeing = {s for s in text.spans if _CONSENT_WORDS.search(lower, s[0], s[1])}
    in_consent = [m for m in mentions if text.sentence_at(m.start()) in agreeing]
    if not in_consent:
        return Judgement(
            Status.WEAK,
            "Automation or AI is mentioned only as a notice, not in what the person agrees to.",
        )
    scopes = {_scope(text, m) for m in in_consent}
    calls_mentioned = _CALL_WORDS.search(lower) is not None or (
        not covers_texts(text) and re.search(r"\bcontact\w*", lower) is not None
    )
    if "call" in scopes or ("any" in scopes and calls_mentioned):
        return Judgement(
            Status.PRESENT, "Consent covers calls using automated technology or an AI voice."
        )
    return Judgement(
        Status.WEAK,
        "Automated messages are covered only for texts; calls with an automated or AI voice "
        "are not mentioned.",
    )


# --- phone_number ---------------------------------------------------------------------------

_NUMBER_NOUN: Final = (
    r"(?:numbers?(?:\(s\))?|phone|mobile|cell(?:phone)?|telephone|wireless|contact details)"
)
_PROVIDED: Final = (
    r"(?:provided|provide|entered|enter|given|give|gave|submitted|submit|supplied|supply|"
    r"listed|list|shared|share|typed|type|put|filled)"
)
_FORM_NUMBER: Final = rx(
    rf"\b{_NUMBER_NOUN}\b(?:\s+\S+){{0,3}}?\s+(?:i|you|we)\s+(?:have\s+|had\s+)?"
    rf"{_PROVIDED}\b",
    r"\bnumbers?(?:\(s\))?\s+(?:provided|entered|given|submitted|supplied|listed|shown|"
    r"above|below|on (?:this|the) form|in (?:this|the) form)\b",
    r"\b(?:above|below)[- ](?:listed |provided |entered )?(?:phone |mobile |cell |telephone )?"
    r"numbers?\b",
    r"\b(?:this|that|such|said) (?:phone |mobile |cell |telephone )?numbers?\b",
    r"\bnumero (?:que )?(?:proporcione|proporciono|indique|ingrese|escribi)\b",
)
_ANY_NUMBER: Final = rx(
    r"\bmy (?:\w+ ){0,2}?(?:phone|mobile|cell|cellphone|cellular|wireless|telephone)\b",
    r"\byour (?:\w+ ){0,2}?(?:phone|mobile|cell|cellphone|cellular|wireless|telephone)\b",
    r"\b(?:phone|mobile|cell|telephone|wireless) numbers?\b",
)


def judge_phone_number(text: ConsentText) -> Judgement:
    if _FORM_NUMBER.search(text.lower):
        return Judgement(Status.PRESENT, "Consent covers the number given on the form.")
    if _ANY_NUMBER.search(text.lower):
        return Judgement(
            Status.WEAK,
            "A phone number is mentioned, but not as the one the person entered on this form.",
        )
    return Judgement(Status.MISSING, "The consent does not say which phone number it covers.")


# --- not_condition_of_purchase --------------------------------------------------------------

_PURCHASE_OBJECT: Final = (
    r"(?:purchas\w*|buy\w*|receiv\w*|obtain\w*|services?|treatments?|goods|products?|property|"
    r"care|book\w*|appointments?|schedul\w*|visits?)"
)
_NOT_CONDITION: Final = rx(
    r"\bnot\b(?:\s+\S+){0,3}?\s+(?:a\s+|an\s+)?(?:condition|requirement|required|obligated|"
    rf"needed|necessary|prerequisite)\b(?:\s+\S+){{0,10}}?\s+{_PURCHASE_OBJECT}",
    rf"\bnot (?:have|need) to (?:agree|consent|give|provide|sign)\b(?:\s+\S+){{0,10}}?\s+"
    rf"{_PURCHASE_OBJECT}",
    r"\bno purchase (?:is )?(?:necessary|required)\b",
    r"\b(?:purchase|buy|receive|book)\w*\b(?:\s+\S+){0,6}?\s+without (?:giving |providing )?"
    r"(?:this |your |my )?(?:consent|agreeing|consenting)",
    r"\bno es (?:una )?(?:condicion|requisito) (?:de|para)\b",
)
_OPTIONAL: Final = rx(
    r"\boptional\b",
    r"\bvoluntary\b",
    r"\bnot (?:a )?(?:condition|required|requirement|mandatory)\b",
)


def judge_not_condition(text: ConsentText) -> Judgement:
    if _NOT_CONDITION.search(text.lower):
        return Judgement(Status.PRESENT, "Says consent is not a condition of purchase.")
    if _OPTIONAL.search(text.lower):
        return Judgement(
            Status.WEAK,
            "Says consent is optional, but not that it is no condition of purchase or service.",
        )
    return Judgement(Status.MISSING, "Does not say that consent is not a condition of purchase.")


# --- affirmative_checkbox -------------------------------------------------------------------

_PRECHECKED: Final = rx(
    r"\bun-?(?:check|tick|select)(?:ing)?\b(?! by default)",
    r"\bpre-?(?:checked|selected|ticked|filled)\b",
    r"\b(?:checked|selected|ticked) by default\b",
    r"\bleav(?:e|ing) (?:this|the) box (?:checked|ticked)\b",
)
_CHECKBOX: Final = rx(
    r"\b(?:check|checking|checked|tick|ticking|ticked|select|selecting|mark|marking|click|"
    r"clicking)\s+(?:on\s+)?(?:this|the|that|a|each|below|above)?\s*(?:\w+\s+)?"
    r"(?:box|checkbox|check box|tickbox|tick box)\b",
    r"\bcheckbox\b",
    r"\u2610|\[ \]",
    r"\bby signing\b(?! up)",
    r"\bsign(?:ing)? below\b",
    r"\bsignature\b",
    r"\belectronic(?:ally)? sign\w*",
    r"\bmarca(?:r|ndo) (?:esta|la) casilla\b",
)
_IMPLIED: Final = rx(
    r"\bby (?:submitting|clicking|pressing|tapping|providing|entering|completing|filling|"
    r"sending|continuing|using|signing up|registering|opting in|giving)\b",
    r"\bsubmission of (?:this|the) form\b",
    r"\bsubmitting (?:this|the) form\b",
)


def prechecked(text: ConsentText) -> bool:
    """The consent box is shown checked (HTML `checked`, or "uncheck to opt out" wording)."""
    return any(text.checkboxes) or _PRECHECKED.search(text.lower) is not None


def judge_checkbox(text: ConsentText) -> Judgement:
    lower = text.lower
    if prechecked(text):
        return Judgement(
            Status.MISSING,
            "The box is pre-checked; consent needs a box the person checks themselves.",
        )
    if text.checkboxes or next(affirmed(_CHECKBOX, lower), None) is not None:
        return Judgement(
            Status.PRESENT, "Consent is given by a separate act (checking a box or signing)."
        )
    if _IMPLIED.search(lower):
        return Judgement(
            Status.WEAK,
            "Consent is implied by submitting the form, not given by a separate checkbox.",
        )
    return Judgement(Status.MISSING, "The text does not say how consent is given.")
