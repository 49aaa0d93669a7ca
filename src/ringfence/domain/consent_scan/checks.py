"""Judges for the blocking elements other than the business name (`business_name.py`):
artificial voice, the number on the form, not a condition of purchase, the affirmative act;
and for the weighted `autodialer`, which shares the voice's reading of scope and negation.

Each judge reads `ConsentText.lower` (lower case, accents folded, contractions expanded: "isn't"
is "is not") and returns a `Judgement`. Every element has Spanish forms too (`Bilingual`: read
when the text has Spanish in it), judged by the same rubric.
"""

from __future__ import annotations

import re
from typing import Final

from ringfence.domain.consent_scan.elements import Judgement, Status
from ringfence.domain.consent_scan.text import (
    ConsentText,
    affirmed,
    bilingual,
    negated,
)

# --- artificial_voice and autodialer --------------------------------------------------------

# AI and artificial voices (FCC 24-17: an AI-generated voice is an "artificial" voice).
# Ringfence's calls use one, so excluding any of these explicitly rules its calls out.
_AI_VOICE: Final = bilingual(
    [
        r"\bartificial\b",
        r"\bai\b",
        r"\ba\.i\.",
        r"\bsynthe(?:tic|sized|sised) voices?\b",
        r"\bcomputer[- ]generated\b",
        r"\b(?:automated|robotic|digital|cloned) voices?\b",
        r"\bvirtual (?:assistant|agent|receptionist)s?\b",
        r"\b(?:chat)?bots?\b",
    ],
    [
        r"\bia\b",
        r"\bvo(?:z|ces) (?:sintetic|sintetizad|generad|automatizad|digital)\w*",
        r"\b(?:asistente|agente|recepcionista)s? virtual(?:es)?\b",
    ],
)
# Prerecorded voices: artificial voices too, but excluding only these leaves an AI voice open.
_RECORDED_VOICE: Final = bilingual(
    [r"\bpre-?recorded\b", r"\brecorded (?:voices?|messages?)\b"],
    [r"\bpre-?grabad\w*", r"\b(?:mensajes?|llamadas?|voz|voces) (?:pre-?)?grabad\w*"],
)
# Dialing technology: not a voice.
_DIALER: Final = bilingual(
    [
        r"\bauto-?dial\w*",
        r"\bauto dial\w*",
        r"\batds\b",
        r"\bautomat(?:ed|ic|ically|ion)\b",
        r"\brobo-?calls?\b",
        r"\bpredictive dial\w*",
        r"\b(?:dialing|dialer) (?:system|equipment|technology|software|platform)s?\b",
    ],
    [
        r"\bautomatizad[oa]s?\b",
        r"\bautomatic[oa]s?\b",
        r"\bautomaticamente\b",
        r"\bautomatizacion\b",
        r"\bmarcador(?:es)? (?:automatic|predictiv)\w*",
        r"\brobo-?llamadas?\b",
    ],
)
_CALL_WORDS: Final = bilingual(
    [
        r"\bcall(?:s|ed|ing)?\b",
        r"\bvoice\b",
        r"\bvoicemails?\b",
        r"\bdial\w*",
        r"\btelephone\b",
        r"\bring\b",
        r"\brobo-?calls?\b",
    ],
    [
        r"\bllamad[ao]s?\b",
        r"\bllam(?:ar|e|en|arme|arle|arnos)\b",
        r"\bvoz\b",
        r"\btelefonic[ao]s?\b",
        r"\bbuzon de voz\b",
    ],
)
_VOICE_WORD: Final = re.compile(r"\bvoices?\b|\bvoicemails?\b|\bvo(?:z|ces)\b")
_TEXT_WORDS: Final = bilingual(
    [
        r"\btexts\b",
        r"\btexting\b",
        r"\btexted\b",
        r"\btext messag\w*",
        r"\bsms\b",
        r"\bmms\b",
        r"\btext (?:me|you|us|alerts?|reminders?)\b",
        r"\b(?:by|via|or|and|a|any) text\b",
    ],
    [r"\bmensajes? de texto\b", r"\btextos\b"],
)
_CONSENT_WORDS: Final = bilingual(
    [
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
        r"\byes\b",
        r"\bby (?:checking|ticking|signing|submitting|clicking|providing)\b",
    ],
    [
        r"\bacept\w*",
        r"\bautoriz\w*",
        r"\bconsient\w*",
        r"\bconsentimiento\b",
        r"\bde acuerdo\b",
        r"\bpued(?:e|en|o)\b",
        r"\bpodr(?:a|an|emos)\b",
        r"\bal (?:marcar|firmar|enviar|seleccionar)\b",
    ],
)
# "Calls may be placed ...", "Calls are made by ...": a sentence about the calls agreed to.
_ABOUT_THE_CALLS: Final = re.compile(
    r"^\W*(?:all |these |our |the |such |any |phone |las |estas |nuestras )?"
    r"(?:calls|voicemails|messages|llamadas|mensajes)\b"
)


def covers_texts(text: ConsentText) -> bool:
    """The consent mentions texts (text messages, SMS, MMS)."""
    return _TEXT_WORDS.of(text).search(text.lower) is not None


def _scope(text: ConsentText, match: re.Match[str], *, voice: bool) -> str:
    """The kind of message ("call", "text" or "any") a term is attached to, read from the words
    right after it, then the rest of its sentence before it ("automated text messages" -> text;
    "calls and texts may be sent with automated technology" -> call; "may call and text me
    using an autodialer" -> call). A voice is a call's ("an AI voice", "prerecorded
    messages")."""
    lower = text.lower
    begin, end = text.sentence_at(match.start())
    after = " ".join(lower[match.end() : end].split()[:4])
    if voice and (
        _VOICE_WORD.search(match.group())
        or _RECORDED_VOICE.both.fullmatch(match.group())
        or _VOICE_WORD.search(after)
    ):
        return "call"
    before = lower[begin : match.start()]
    calls, texts = _CALL_WORDS.of(text), _TEXT_WORDS.of(text)
    for window in (after, before):
        if calls.search(window):
            return "call"
        if texts.search(window) or re.search(r"\bmsgs?\b", window):
            return "text"
    return "any"


def _in_consent(text: ConsentText, matches: list[re.Match[str]]) -> list[re.Match[str]]:
    """The matches in what the person agrees to: a sentence with a consent word, or a sentence
    about the calls ("Calls are placed with an automated dialing system") when another one
    agrees."""
    lower = text.lower
    consent_words = _CONSENT_WORDS.of(text)
    agreeing = {s for s in text.spans if consent_words.search(lower, s[0], s[1])}
    describing = {s for s in text.spans if _ABOUT_THE_CALLS.match(lower[s[0] : s[1]])}
    scope = agreeing | describing if agreeing else set()
    return [m for m in matches if text.sentence_at(m.start()) in scope]


def _covers_calls(text: ConsentText, scopes: set[str]) -> bool:
    calls_mentioned = _CALL_WORDS.of(text).search(text.lower) is not None or (
        not covers_texts(text) and re.search(r"\bcontact\w*", text.lower) is not None
    )
    return "call" in scopes or ("any" in scopes and calls_mentioned)


def _dialer_in_consent(text: ConsentText) -> list[re.Match[str]]:
    lower = text.lower
    mentions = [m for m in _DIALER.of(text).finditer(lower) if not negated(lower, m)]
    return _in_consent(text, mentions)


def judge_artificial_voice(text: ConsentText) -> Judgement:
    lower = text.lower
    ai = list(_AI_VOICE.of(text).finditer(lower))
    recorded = list(_RECORDED_VOICE.of(text).finditer(lower))
    mentions = [m for m in [*ai, *recorded] if not negated(lower, m)]
    if any(negated(lower, m) for m in ai) or (
        not mentions and any(negated(lower, m) for m in recorded)
    ):
        return Judgement(
            Status.MISSING,
            "The text rules out artificial, prerecorded or AI voices, which Ringfence's calls use.",
        )
    if not mentions:
        dialer = _dialer_in_consent(text)
        if dialer and _covers_calls(text, {_scope(text, m, voice=False) for m in dialer}):
            return Judgement(
                Status.MISSING,
                "Consent covers only an autodialer or automated technology: that is dialing "
                "technology, not a voice. Calls with an artificial or prerecorded voice (an AI "
                "voice is one, FCC 24-17) need consent of their own.",
            )
        if dialer:
            return Judgement(
                Status.MISSING,
                "Only automated texts are agreed to; calls with an artificial, prerecorded or AI "
                "voice are not mentioned.",
            )
        return Judgement(
            Status.MISSING, "No consent to calls with an artificial, prerecorded or AI voice."
        )
    in_consent = _in_consent(text, mentions)
    if not in_consent:
        return Judgement(
            Status.WEAK,
            "An AI or artificial voice is mentioned only as a notice, not in what the person "
            "agrees to.",
        )
    if _covers_calls(text, {_scope(text, m, voice=True) for m in in_consent}):
        return Judgement(
            Status.PRESENT,
            "Consent covers calls with an artificial, prerecorded or AI voice.",
        )
    return Judgement(
        Status.WEAK,
        "AI is agreed to only for texts; calls with an artificial or AI voice are not mentioned.",
    )


def judge_autodialer(text: ConsentText) -> Judgement:
    lower = text.lower
    matches = list(_DIALER.of(text).finditer(lower))
    mentions = [m for m in matches if not negated(lower, m)]
    if not mentions:
        return Judgement(
            Status.MISSING,
            "The text rules out automated calls."
            if matches
            else "No consent to calls placed with an autodialer or automated technology.",
        )
    in_consent = _in_consent(text, mentions)
    if not in_consent:
        return Judgement(
            Status.WEAK,
            "Automated technology is mentioned only as a notice, not in what the person agrees to.",
        )
    if _covers_calls(text, {_scope(text, m, voice=False) for m in in_consent}):
        return Judgement(
            Status.PRESENT, "Consent covers calls placed with an autodialer or automated means."
        )
    return Judgement(
        Status.WEAK,
        "Automated technology is agreed to only for texts, not for calls.",
    )


# --- phone_number ---------------------------------------------------------------------------

_NUMBER_NOUN: Final = (
    r"(?:numbers?(?:\(s\))?|phone|mobile|cell(?:phone)?|telephone|wireless|contact details)"
)
_PROVIDED: Final = (
    r"(?:provided|provide|entered|enter|given|give|gave|submitted|submit|supplied|supply|"
    r"listed|list|shared|share|typed|type|put|filled)"
)
_ES_NUMBER: Final = (
    r"numeros?(?: de (?:telefono|celular|movil|contacto))?(?: (?:celular|movil|telefonico))?"
)
_FORM_NUMBER: Final = bilingual(
    [
        rf"\b{_NUMBER_NOUN}\b(?:\s+\S+){{0,3}}?\s+(?:i|you|we)\s+(?:have\s+|had\s+)?"
        rf"{_PROVIDED}\b",
        r"\bnumbers?(?:\(s\))?\s+(?:provided|entered|given|submitted|supplied|listed|shown|"
        r"above|below|on (?:this|the) form|in (?:this|the) form)\b",
        r"\b(?:above|below)[- ](?:listed |provided |entered )?"
        r"(?:phone |mobile |cell |telephone )?numbers?\b",
        r"\b(?:this|that|such|said) (?:phone |mobile |cell |telephone )?numbers?\b",
    ],
    [
        rf"\b{_ES_NUMBER} (?:que )?(?:(?:he|ha|haya) )?(?:proporcion|indic|ingres|escrib|facilit|"
        r"anot|compart|d[ie]\b|dado|registr|suministr)\w*",
        rf"\b{_ES_NUMBER} (?:de |que aparece |que figura )?(?:arriba|abajo|en este formulario|"
        r"de este formulario|en el formulario|del formulario)\b",
        r"\b(?:este|ese|dicho) (?:numero|telefono)\b",
    ],
)
_ANY_NUMBER: Final = bilingual(
    [
        r"\bmy (?:\w+ ){0,2}?(?:phone|mobile|cell|cellphone|cellular|wireless|telephone)\b",
        r"\byour (?:\w+ ){0,2}?(?:phone|mobile|cell|cellphone|cellular|wireless|telephone)\b",
        r"\b(?:phone|mobile|cell|telephone|wireless) numbers?\b",
    ],
    [
        r"\b(?:mi|su|tu) (?:numero|telefono|celular|movil)\b",
        r"\bnumeros? de (?:telefono|celular|movil)\b",
    ],
)


def judge_phone_number(text: ConsentText) -> Judgement:
    if _FORM_NUMBER.of(text).search(text.lower):
        return Judgement(Status.PRESENT, "Consent covers the number given on the form.")
    if _ANY_NUMBER.of(text).search(text.lower):
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
_ES_PURCHASE_OBJECT: Final = (
    r"(?:compra\w*|compr[ae]\w*|adquiri\w*|recib\w*|obten\w*|servicios?|tratamientos?|"
    r"productos?|citas?|reserv\w*|atencion)"
)
_NOT_CONDITION: Final = bilingual(
    [
        r"\bnot\b(?:\s+\S+){0,3}?\s+(?:a\s+|an\s+)?(?:condition|requirement|required|obligated|"
        rf"needed|necessary|prerequisite)\b(?:\s+\S+){{0,10}}?\s+{_PURCHASE_OBJECT}",
        rf"\bnot (?:have|need) to (?:agree|consent|give|provide|sign)\b(?:\s+\S+){{0,10}}?\s+"
        rf"{_PURCHASE_OBJECT}",
        r"\bnot\b(?:\s+\S+){0,3}?\s+(?:required|obligated|needed)\b(?:\s+\S+){0,16}?\s+as an? "
        rf"(?:condition|requirement|prerequisite) (?:of|for|to) {_PURCHASE_OBJECT}",
        r"\bno purchase (?:is )?(?:necessary|required)\b",
        r"\b(?:purchase|buy|receive|book)\w*\b(?:\s+\S+){0,6}?\s+without (?:giving |providing )?"
        r"(?:this |your |my )?(?:consent|agreeing|consenting)",
    ],
    [
        r"\bno\b(?:\s+\S+){0,3}?\s+(?:una?\s+)?(?:condicion|requisito|obligatori[oa]|"
        rf"necesari[oa]|requerid[oa]|obligad[oa])\b(?:\s+\S+){{0,10}}?\s+{_ES_PURCHASE_OBJECT}",
        r"\bno (?:se )?(?:requiere|exige|necesita)\b(?:\s+\S+){0,10}?\s+"
        rf"{_ES_PURCHASE_OBJECT}",
        r"\bno (?:tiene|tengo|tienes) que (?:aceptar|dar|otorgar|firmar|consentir)\b"
        rf"(?:\s+\S+){{0,10}}?\s+{_ES_PURCHASE_OBJECT}",
        rf"\b{_ES_PURCHASE_OBJECT}\b(?:\s+\S+){{0,6}}?\s+sin (?:dar |otorgar )?"
        r"(?:su |mi |este )?consentimiento\b",
    ],
)
_OPTIONAL: Final = bilingual(
    [
        r"\boptional\b",
        r"\bvoluntary\b",
        r"\bnot (?:a )?(?:condition|required|requirement|mandatory)\b",
    ],
    [
        r"\bopcional\b",
        r"\bvoluntari[oa]\b",
        r"\bno es (?:una )?(?:condicion|requisito|obligatori[oa])\b",
    ],
)
# An exception to "not a condition": the statement must hold for every purchase.
_CARVE_OUT: Final = bilingual(
    [
        r"\bexcept(?:ing)?\b",
        r"\bunless\b",
        r"\bother than\b",
        r"\bsave for\b",
        r"\bapart from\b",
        r"\bwith the exception of\b",
    ],
    [
        r"\bexcepto\b",
        r"\bsalvo\b",
        r"\ba (?:menos|no ser) que\b",
        r"\bcon excepcion de\b",
        r"\bfuera de\b",
    ],
)
_CARVE_OUT_END: Final = re.compile(r"[.;:!?()\"]|\s-\s|,\s*(?:and|but|y|pero)\b")


def _carve_out(text: ConsentText, match: re.Match[str]) -> str | None:
    """The exception in the sentence holding the not-a-condition statement ("except for VIP
    membership enrollment"), or None."""
    lower = text.lower
    begin, end = text.sentence_at(match.start())
    found = _CARVE_OUT.of(text).search(lower, begin, end)
    if found is None:
        return None
    rest = lower[found.start() : end]
    stop = _CARVE_OUT_END.search(rest)
    clause = rest[: stop.start()] if stop else rest
    return " ".join(clause.split()[:10])


def judge_not_condition(text: ConsentText) -> Judgement:
    statements = list(_NOT_CONDITION.of(text).finditer(text.lower))
    if statements:
        carve_outs = [c for c in (_carve_out(text, m) for m in statements) if c]
        if len(carve_outs) < len(statements) or not carve_outs:
            return Judgement(Status.PRESENT, "Says consent is not a condition of purchase.")
        return Judgement(
            Status.WEAK,
            f'Says consent is not a condition of purchase, but with a carve-out ("{carve_outs[0]}")'
            ": it must hold for every purchase, without exceptions.",
        )
    if _OPTIONAL.of(text).search(text.lower):
        return Judgement(
            Status.WEAK,
            "Says consent is optional, but not that it is no condition of purchase or service.",
        )
    return Judgement(Status.MISSING, "Does not say that consent is not a condition of purchase.")


# --- affirmative_checkbox -------------------------------------------------------------------

_PRECHECKED: Final = bilingual(
    [
        r"\bun-?(?:check|tick|select)(?:ing)?\b(?! by default)",
        r"\bpre-?(?:checked|selected|ticked|filled)\b",
        r"\b(?:checked|selected|ticked) by default\b",
        r"\bleav(?:e|ing) (?:this|the) box (?:checked|ticked)\b",
    ],
    [
        r"\bdesmar(?:que|car|cando|quela|quelo)\w*",
        r"\bdeseleccion\w*",
        r"\bpre-?(?:marcad|seleccionad)\w*",
        r"\b(?:marcada|seleccionada) (?:por defecto|de antemano)\b",
    ],
)
_CHECKBOX: Final = bilingual(
    [
        r"\b(?:check|checking|checked|tick|ticking|ticked|select|selecting|mark|marking|click|"
        r"clicking)\s+(?:on\s+)?(?:this|the|that|a|each|below|above)?\s*(?:\w+\s+)?"
        r"(?:box|checkbox|check box|tickbox|tick box)\b",
        r"\bcheckbox\b",
        r"\u2610|\[ \]",
        r"\bby signing\b(?! up)",
        r"\bsign(?:ing)? below\b",
        r"\bsignature\b",
        r"\belectronic(?:ally)? sign\w*",
    ],
    [
        r"\b(?:marc(?:ar|ando|a|o)|marque|seleccion(?:ar|ando|e|o|a))\s+(?:esta|la|el|este)\s+"
        r"(?:casilla|recuadro|cuadro)\b",
        r"\bcasilla de verificacion\b",
        r"\bal firmar\b",
        r"\bfirm(?:a|e) (?:abajo|a continuacion)\b",
        r"\bfirma del? (?:paciente|cliente)\b",
    ],
)
_IMPLIED: Final = bilingual(
    [
        r"\bby (?:submitting|clicking|pressing|tapping|providing|entering|completing|filling|"
        r"sending|continuing|using|signing up|registering|opting in|giving)\b",
        r"\bsubmission of (?:this|the) form\b",
        r"\bsubmitting (?:this|the) form\b",
    ],
    [
        r"\bal (?:enviar|hacer clic|pulsar|presionar|tocar|proporcionar|completar|llenar|"
        r"registrarse|continuar)\b",
    ],
)


def prechecked(text: ConsentText) -> bool:
    """The consent box is shown checked (HTML `checked`, or "uncheck to opt out" wording)."""
    return any(text.checkboxes) or _PRECHECKED.of(text).search(text.lower) is not None


def judge_checkbox(text: ConsentText) -> Judgement:
    lower = text.lower
    if prechecked(text):
        return Judgement(
            Status.MISSING,
            "The box is pre-checked; consent needs a box the person checks themselves.",
        )
    if text.checkboxes or next(affirmed(_CHECKBOX.of(text), lower), None) is not None:
        return Judgement(
            Status.PRESENT, "Consent is given by a separate act (checking a box or signing)."
        )
    if _IMPLIED.of(text).search(lower):
        return Judgement(
            Status.WEAK,
            "Consent is implied by submitting the form, not given by a separate checkbox.",
        )
    return Judgement(Status.MISSING, "The text does not say how consent is given.")
