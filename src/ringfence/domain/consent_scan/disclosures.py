"""Judges for the weighted elements: opt-out, marketing purpose, terms and privacy, SMS
disclosures. Same conventions as `checks.py`.
"""

from __future__ import annotations

from typing import Final

from ringfence.domain.consent_scan.elements import Judgement, Status
from ringfence.domain.consent_scan.text import ConsentText, affirmed, rx

# --- opt_out --------------------------------------------------------------------------------

# A method that is an opt-out by itself.
_SELF_METHOD: Final = rx(
    r"\b(?:reply|replying|text|texting|send|sending|respond|responding)\s+(?:with\s+)?"
    r"(?:the word\s+)?\"?(?:stop|end|quit|cancel|unsubscribe)\b",
    r"\b(?:say|saying|said|tell|telling|speak|speaking)\b[^.;]{0,30}?\"?(?:stop|remove|opt out|"
    r"no more)\b",
    r"\bany reasonable (?:means|method|way)\b",
    r"\bstop\"? to (?:cancel|opt[- ]?out|unsubscribe|end|quit|stop)\b",
    r"\bpress(?:ing)? (?:\d|one|nine|star|pound)\b[^.;]{0,40}?\b(?:stop|opt|remove|unsubscribe)",
    r"\bunsubscribe link\b",
    r"\b(?:diciendo|respondiendo|responda|responde)\s+\"?(?:stop|alto|basta)\b",
)
_MENTION: Final = rx(
    r"\bopt(?:ing)?[- ]?out\b",
    r"\brevok\w*",
    r"\brevocation\b",
    r"\bwithdraw\w*",
    r"\bunsubscrib\w*",
    r"\bcancel\w*",
    r"\bstop\b",
    r"\bend these (?:calls|messages|texts)\b",
    r"\bremove (?:me|you)\b",
)
_METHOD: Final = rx(
    r"\bby (?:calling|phoning|emailing|e-mailing|writing|texting|contacting|notifying|mailing|"
    r"visiting|replying|telling|letting)\b",
    r"\b(?:call|email|e-mail|write to|contact|text|notify|tell) us\b",
    r"\b(?:call|email|e-mail|contact)\b[^.;]{0,20}?(?:\d{3}|@)",
    r"\S+@\S+\.\w+",
    r"\bin writing\b",
    r"\btell(?:ing)? the (?:caller|agent|assistant)\b",
)


def judge_opt_out(text: ConsentText) -> Judgement:
    lower = text.lower
    if next(affirmed(_SELF_METHOD, lower), None) is not None:
        return Judgement(Status.PRESENT, "Says how to opt out.")
    for sentence in text.sentences:
        if _MENTION.search(sentence) and _METHOD.search(sentence):
            return Judgement(Status.PRESENT, "Says how to opt out.")
    if _MENTION.search(lower):
        return Judgement(Status.WEAK, "Mentions opting out, but not how to do it.")
    return Judgement(Status.MISSING, "Does not say how to opt out.")


# --- marketing_purpose ----------------------------------------------------------------------

_MARKETING: Final = rx(
    r"\bmarketing\b",
    r"\btelemarketing\b",
    r"\bpromo(?:s|tion|tions|tional)?\b",
    r"\boffers\b",
    r"\b(?:special|exclusive|limited-time|limited time) offers?\b",
    r"\bspecials\b",
    r"\bdeals\b",
    r"\bdiscounts?\b",
    r"\badvertis\w*",
    r"\bsales\b",
    r"\bofertas?\b",
    r"\bpromociones\b",
)
_VAGUE_MARKETING: Final = rx(
    r"\bnewsletters?\b",
    r"\bnew (?:treatments?|services?|products?|procedures?)\b",
    r"\bevents\b",
    r"\b(?:news|updates?|information|info|tips) (?:about|on|regarding) (?:our |new )?"
    r"(?:services?|treatments?|products?|procedures?)\b",
)


def judge_marketing(text: ConsentText) -> Judgement:
    lower = text.lower
    if next(affirmed(_MARKETING, lower), None) is not None:
        return Judgement(Status.PRESENT, "Says the calls may be marketing or offers.")
    if next(affirmed(_VAGUE_MARKETING, lower), None) is not None:
        return Judgement(
            Status.WEAK,
            "Hints at promotional content, but does not say the calls may be marketing.",
        )
    return Judgement(
        Status.MISSING,
        "Does not say the calls may be marketing; needed for consult follow-ups, treatment "
        "reminders and lead reactivation.",
    )


# --- terms_privacy --------------------------------------------------------------------------

_TERMS: Final = rx(
    r"(?<!in )\bterms\b(?! of (?:this|the) (?:consent|agreement))",
    r"\bt&cs?\b",
    r"\bterminos\b",
)
_PRIVACY: Final = rx(
    r"\bprivacy\s+(?:policy|notice|statement|practices|page)\b",
    r"\bterms\s+(?:&|and)\s+privacy\b",
    r"\bprivacy\s*(?::|\||$)",
    r"\bpolitica de privacidad\b",
)


def judge_terms_privacy(text: ConsentText) -> Judgement:
    terms = _TERMS.search(text.lower) is not None
    privacy = _PRIVACY.search(text.lower) is not None
    if terms and privacy:
        return Judgement(Status.PRESENT, "Refers to the terms and the privacy policy.")
    if terms:
        return Judgement(Status.WEAK, "Refers to the terms, but not to the privacy policy.")
    if privacy:
        return Judgement(Status.WEAK, "Refers to the privacy policy, but not to the terms.")
    return Judgement(Status.MISSING, "Refers to neither terms nor a privacy policy.")


# --- sms_disclosures ------------------------------------------------------------------------

_SMS_PARTS: Final = (
    ("message and data rates", rx(r"\bdata rates\b", r"\b(?:msg|message|messaging|text|sms|"
                                   r"carrier) rates\b")),
    ("message frequency", rx(
        r"\b(?:msg|message|messaging|text|sms)s? frequency\b",
        r"\bfrequency (?:varies|may vary)\b",
        r"\bup to \d+ (?:msgs?|messages|texts)\b",
        r"\b\d+ (?:msgs?|messages|texts) ?(?:/|per|a|each) ?(?:day|week|wk|month|mo)\b",
    )),
    ("STOP", rx(
        r"\b(?:reply|replying|text|texting|send|respond)\s+(?:with\s+)?\"?stop\b",
        r"\bstop\"? to (?:cancel|opt|unsubscribe|end|quit|stop)\b",
    )),
    ("HELP", rx(
        r"\b(?:reply|replying|text|texting|send|respond)\s+(?:with\s+)?\"?help\b",
        r"\bhelp\"? for (?:help|info|more|assistance|support)\b",
    )),
)  # fmt: skip


def judge_sms(text: ConsentText, *, applies: bool) -> Judgement:
    if not applies:
        return Judgement(Status.PRESENT, "Not applicable: the consent does not cover texts.")
    found = [name for name, pattern in _SMS_PARTS if pattern.search(text.lower)]
    missing = [name for name, _ in _SMS_PARTS if name not in found]
    if not missing:
        return Judgement(Status.PRESENT, "Rates, frequency, STOP and HELP are all disclosed.")
    status = Status.MISSING if not found else Status.WEAK
    return Judgement(
        status, f"Texts are covered, but these are not disclosed: {', '.join(missing)}."
    )
