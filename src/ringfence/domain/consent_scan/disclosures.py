"""Judges for the weighted elements: opt-out, marketing purpose, terms and privacy, SMS
disclosures (the autodialer is judged in `checks.py`, beside the voice). Same conventions as
`checks.py`, Spanish forms included.
"""

from __future__ import annotations

from typing import Final

from ringfence.domain.consent_scan.elements import Judgement, Status
from ringfence.domain.consent_scan.text import ConsentText, affirmed, bilingual

# --- opt_out --------------------------------------------------------------------------------

_ES_STOP_WORDS: Final = r"(?:stop|alto|baja|parar|cancelar|fin|basta)"
# A method that is an opt-out by itself.
_SELF_METHOD: Final = bilingual(
    [
        r"\b(?:reply|replying|text|texting|send|sending|respond|responding)\s+(?:with\s+)?"
        r"(?:the word\s+)?\"?(?:stop|end|quit|cancel|unsubscribe)\b",
        r"\b(?:say|saying|said|tell|telling|speak|speaking)\b[^.;]{0,30}?\"?(?:stop|remove|"
        r"opt out|no more)\b",
        r"\bany reasonable (?:means|method|way)\b",
        r"\bstop\"? to (?:cancel|opt[- ]?out|unsubscribe|end|quit|stop)\b",
        r"\bpress(?:ing)? (?:\d|one|nine|star|pound)\b[^.;]{0,40}?\b(?:stop|opt|remove|"
        r"unsubscribe)",
        r"\bunsubscribe link\b",
    ],
    [
        r"\b(?:diciendo|decir|diga|responda|responde|responder|respondiendo|envie|enviando|"
        rf"enviar|escriba|escribiendo|textee)\s+(?:con\s+)?(?:la palabra\s+)?\"?{_ES_STOP_WORDS}"
        r"\b",
        rf"\b{_ES_STOP_WORDS}\"? para (?:cancelar|darse de baja|dejar de recibir|no recibir)\b",
        r"\bcualquier (?:medio|forma|manera) razonable\b",
        r"\bmarque (?:el )?(?:\d|uno|nueve)\b[^.;]{0,40}?\b(?:dejar|cancelar|baja)",
    ],
)
_MENTION: Final = bilingual(
    [
        r"\bopt(?:ing)?[- ]?out\b",
        r"\brevok\w*",
        r"\brevocation\b",
        r"\bwithdraw\w*",
        r"\bunsubscrib\w*",
        r"\bcancel\w*",
        r"\bstop\b",
        r"\bend these (?:calls|messages|texts)\b",
        r"\bremove (?:me|you)\b",
    ],
    [
        r"\brevoc\w*",
        r"\bcancel\w*",
        r"\b(?:dar|darme|darse|darte) de baja\b",
        r"\bretir\w+ (?:mi|su|el) consentimiento\b",
        r"\bdejar de recibir\b",
        r"\bsuscripcion\b",
    ],
)
_METHOD: Final = bilingual(
    [
        r"\bby (?:calling|phoning|emailing|e-mailing|writing|texting|contacting|notifying|"
        r"mailing|visiting|replying|telling|letting)\b",
        r"\b(?:call|email|e-mail|write to|contact|text|notify|tell) us\b",
        r"\b(?:call|email|e-mail|contact)\b[^.;]{0,20}?(?:\d{3}|@)",
        r"\S+@\S+\.\w+",
        r"\bin writing\b",
        r"\btell(?:ing)? the (?:caller|agent|assistant)\b",
    ],
    [
        r"\b(?:llamando|escribiendo|enviando un correo|avisando|notificando|contactando|"
        r"comunicandose)\b",
        r"\bpor (?:correo|escrito|telefono)\b",
        r"\b(?:llame|llamar|escriba|escribir|comuniquese)\b[^.;]{0,25}?(?:\d{3}|@|clinica|"
        r"oficina|consultorio)",
    ],
)


def judge_opt_out(text: ConsentText) -> Judgement:
    lower = text.lower
    if next(affirmed(_SELF_METHOD.of(text), lower), None) is not None:
        return Judgement(Status.PRESENT, "Says how to opt out.")
    mention, method = _MENTION.of(text), _METHOD.of(text)
    for sentence in text.sentences:
        if mention.search(sentence) and method.search(sentence):
            return Judgement(Status.PRESENT, "Says how to opt out.")
    if mention.search(lower):
        return Judgement(Status.WEAK, "Mentions opting out, but not how to do it.")
    return Judgement(Status.MISSING, "Does not say how to opt out.")


# --- marketing_purpose ----------------------------------------------------------------------

_MARKETING: Final = bilingual(
    [
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
    ],
    [
        r"\bofertas?\b",
        r"\bpromocion(?:es|ales)?\b",
        r"\bmercadeo\b",
        r"\bmercadotecnia\b",
        r"\bpublicidad\b",
        r"\bpublicitari[oa]s?\b",
        r"\bdescuentos?\b",
    ],
)
_VAGUE_MARKETING: Final = bilingual(
    [
        r"\bnewsletters?\b",
        r"\bnew (?:treatments?|services?|products?|procedures?)\b",
        r"\bevents\b",
        r"\b(?:news|updates?|information|info|tips) (?:about|on|regarding) (?:our |new )?"
        r"(?:services?|treatments?|products?|procedures?)\b",
    ],
    [
        r"\bboletin(?:es)?\b",
        r"\bnovedades\b",
        r"\beventos\b",
        r"\bnuevos (?:tratamientos|servicios|productos)\b",
    ],
)


def judge_marketing(text: ConsentText) -> Judgement:
    lower = text.lower
    if next(affirmed(_MARKETING.of(text), lower), None) is not None:
        return Judgement(Status.PRESENT, "Says the calls may be marketing or offers.")
    if next(affirmed(_VAGUE_MARKETING.of(text), lower), None) is not None:
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

_TERMS: Final = bilingual(
    [
        r"(?<!in )\bterms\b(?! of (?:this|the) (?:consent|agreement))",
        r"\bt&cs?\b",
    ],
    [r"\bterminos\b", r"\bcondiciones de (?:uso|servicio)\b"],
)
_PRIVACY: Final = bilingual(
    [
        r"\bprivacy\s+(?:policy|notice|statement|practices|page)\b",
        r"\bterms\s+(?:&|and)\s+privacy\b",
        r"\bprivacy\s*(?::|\||$)",
    ],
    [r"\b(?:politica|aviso|declaracion) de privacidad\b"],
)


def judge_terms_privacy(text: ConsentText) -> Judgement:
    terms = _TERMS.of(text).search(text.lower) is not None
    privacy = _PRIVACY.of(text).search(text.lower) is not None
    if terms and privacy:
        return Judgement(Status.PRESENT, "Refers to the terms and the privacy policy.")
    if terms:
        return Judgement(Status.WEAK, "Refers to the terms, but not to the privacy policy.")
    if privacy:
        return Judgement(Status.WEAK, "Refers to the privacy policy, but not to the terms.")
    return Judgement(Status.MISSING, "Refers to neither terms nor a privacy policy.")


# --- sms_disclosures ------------------------------------------------------------------------

_ES_REPLY: Final = r"(?:responda|responde|responder|respondiendo|envie|enviar|escriba|textee)"
_SMS_PARTS: Final = (
    ("message and data rates", bilingual(
        [r"\bdata rates\b", r"\b(?:msg|message|messaging|text|sms|carrier) rates\b"],
        [
            r"\btarifas (?:de|por) (?:mensajes|mensajeria|datos|sms)\b",
            r"\b(?:cargos|costos|tarifas) (?:estandar )?(?:de|por) (?:mensajes|datos)\b",
        ],
    )),
    ("message frequency", bilingual(
        [
            r"\b(?:msg|message|messaging|text|sms)s? frequency\b",
            r"\bfrequency (?:varies|may vary)\b",
            r"\bup to \d+ (?:msgs?|messages|texts)\b",
            r"\b\d+ (?:msgs?|messages|texts) ?(?:/|per|a|each) ?(?:day|week|wk|month|mo)\b",
        ],
        [
            r"\bfrecuencia (?:de (?:los )?(?:mensajes|sms|textos) )?(?:varia|puede variar|"
            r"variable)\b",
            r"\bla frecuencia de (?:los )?(?:mensajes|sms|textos)\b",
            r"\bhasta \d+ (?:mensajes|sms|textos) (?:al|por|a la|cada) (?:dia|semana|mes)\b",
        ],
    )),
    ("STOP", bilingual(
        [
            r"\b(?:reply|replying|text|texting|send|respond)\s+(?:with\s+)?\"?stop\b",
            r"\bstop\"? to (?:cancel|opt|unsubscribe|end|quit|stop)\b",
        ],
        [
            rf"\b{_ES_REPLY}\s+(?:con\s+)?(?:la palabra\s+)?\"?(?:stop|alto|baja|parar|"
            r"cancelar)\b",
            r"\b(?:stop|alto|baja)\"? para (?:cancelar|darse de baja|dejar de recibir)\b",
        ],
    )),
    ("HELP", bilingual(
        [
            r"\b(?:reply|replying|text|texting|send|respond)\s+(?:with\s+)?\"?help\b",
            r"\bhelp\"? for (?:help|info|more|assistance|support)\b",
        ],
        [
            rf"\b{_ES_REPLY}\s+(?:con\s+)?(?:la palabra\s+)?\"?(?:ayuda|help)\b",
            r"\b(?:ayuda|help)\"? para (?:obtener )?(?:ayuda|informacion|asistencia)\b",
        ],
    )),
)  # fmt: skip


def judge_sms(text: ConsentText, *, applies: bool) -> Judgement:
    if not applies:
        return Judgement(Status.PRESENT, "Not applicable: the consent does not cover texts.")
    found = [name for name, pattern in _SMS_PARTS if pattern.of(text).search(text.lower)]
    missing = [name for name, _ in _SMS_PARTS if name not in found]
    if not missing:
        return Judgement(Status.PRESENT, "Rates, frequency, STOP and HELP are all disclosed.")
    status = Status.MISSING if not found else Status.WEAK
    return Judgement(
        status, f"Texts are covered, but these are not disclosed: {', '.join(missing)}."
    )
