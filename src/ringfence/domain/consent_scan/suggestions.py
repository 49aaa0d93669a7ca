"""Paste-ready wording for each element that is weak or missing, with the practice named.

Every sentence reads on its own, so a practice can paste one into its existing consent text;
`recommended_consent` is the whole paragraph, for a practice starting over. A Spanish form
(`language="es"`) gets Spanish wording; English and bilingual forms get English.

The voice and the dialer are worded apart: consent to an autodialer or "automated technology"
is not consent to an artificial voice (FCC 24-17), so the wording names both.
"""

from __future__ import annotations

from ringfence.domain.consent_scan.elements import Element


def possessive(business: str) -> str:
    return f"{business}'" if business.endswith("s") else f"{business}'s"


def suggestion(
    element: Element,
    *,
    business: str,
    covers_sms: bool,
    prechecked: bool,
    language: str = "en",
) -> str:
    """The sentence to add (or to replace the weak wording with) for `element`."""
    if language == "es":
        return _suggestion_es(
            element, business=business, covers_sms=covers_sms, prechecked=prechecked
        )
    channels = "calls and texts" if covers_sms else "calls"
    stop = (
        'by saying "stop" on a call or replying STOP to a text'
        if covers_sms
        else 'by saying "stop" on a call'
    )
    match element:
        case Element.BUSINESS_NAME:
            return f"I agree that {business} may contact me at the phone number I provided."
        case Element.ARTIFICIAL_VOICE:
            return (
                f"I agree that {business} may call me using an artificial or prerecorded voice, "
                "including an AI-generated voice."
            )
        case Element.AUTODIALER:
            return (
                f"I agree that {business} may contact me with {channels} placed using an "
                "autodialer or other automated technology."
            )
        case Element.PHONE_NUMBER:
            return f"{business} may contact me at the phone number I provided on this form."
        case Element.NOT_CONDITION_OF_PURCHASE:
            return "Consent is not a condition of purchase or of receiving services."
        case Element.AFFIRMATIVE_CHECKBOX:
            opener = (
                f"By checking this box, I agree that {business} may contact me as described above."
            )
            if prechecked:
                return f"{opener} (Show the box unchecked; the person checks it.)"
            return opener
        case Element.OPT_OUT:
            return f"I can opt out at any time {stop}, or by contacting {business}."
        case Element.MARKETING_PURPOSE:
            return (
                f"These {channels} may include marketing and promotional offers from "
                f"{business}, as well as appointment reminders."
            )
        case Element.TERMS_PRIVACY:
            return f"See {possessive(business)} Terms of Service and Privacy Policy."
        case Element.SMS_DISCLOSURES:
            return (
                "Msg & data rates may apply. Msg frequency varies. Reply HELP for help, "
                "STOP to cancel."
            )


def _suggestion_es(element: Element, *, business: str, covers_sms: bool, prechecked: bool) -> str:
    channels = "llamadas y mensajes de texto" if covers_sms else "llamadas"
    stop = (
        'diciendo "alto" en una llamada o respondiendo ALTO a un mensaje de texto'
        if covers_sms
        else 'diciendo "alto" en una llamada'
    )
    match element:
        case Element.BUSINESS_NAME:
            return f"Acepto que {business} me contacte al número de teléfono que proporcioné."
        case Element.ARTIFICIAL_VOICE:
            return (
                f"Acepto que {business} me llame con una voz artificial o pregrabada, incluida "
                "una voz generada por inteligencia artificial (IA)."
            )
        case Element.AUTODIALER:
            return (
                f"Acepto que {business} me contacte con {channels} realizadas con un marcador "
                "automático u otra tecnología automatizada."
            )
        case Element.PHONE_NUMBER:
            return (
                f"{business} puede contactarme al número de teléfono que proporcioné en este "
                "formulario."
            )
        case Element.NOT_CONDITION_OF_PURCHASE:
            return "El consentimiento no es una condición de compra ni para recibir servicios."
        case Element.AFFIRMATIVE_CHECKBOX:
            opener = (
                f"Al marcar esta casilla, acepto que {business} me contacte como se describe "
                "arriba."
            )
            if prechecked:
                return f"{opener} (Muestre la casilla sin marcar; la persona la marca.)"
            return opener
        case Element.OPT_OUT:
            return f"Puedo cancelar en cualquier momento {stop}, o contactando a {business}."
        case Element.MARKETING_PURPOSE:
            return (
                f"Estas {channels} pueden incluir ofertas y promociones de {business}, además "
                "de recordatorios de citas."
            )
        case Element.TERMS_PRIVACY:
            return f"Consulte los Términos de servicio y la Política de privacidad de {business}."
        case Element.SMS_DISCLOSURES:
            return (
                "Pueden aplicarse tarifas de mensajes y datos. La frecuencia de los mensajes "
                "varía. Responda AYUDA para obtener ayuda y ALTO para cancelar."
            )


def recommended_consent(*, business: str, covers_sms: bool, language: str = "en") -> str:
    """A complete consent paragraph that passes every element."""
    if language == "es":
        return _recommended_es(business=business, covers_sms=covers_sms)
    channels = "calls and texts" if covers_sms else "calls"
    stop = (
        'by saying "stop" on a call or replying STOP'
        if covers_sms
        else 'by saying "stop" on a call'
    )
    parts = [
        f"By checking this box, I agree that {business} may contact me at the phone number I "
        f"provided, including with {channels} placed using an autodialer or other automated "
        "technology and with calls that use an artificial or prerecorded voice, including an "
        "AI-generated voice, about my appointments and offers.",
        "Consent is not a condition of purchase.",
        f"I can opt out at any time {stop}.",
    ]
    if covers_sms:
        parts.append("Msg & data rates may apply. Msg frequency varies. Reply HELP for help.")
    parts.append(f"See {possessive(business)} Terms of Service and Privacy Policy.")
    return " ".join(parts)


def _recommended_es(*, business: str, covers_sms: bool) -> str:
    channels = "llamadas y mensajes de texto" if covers_sms else "llamadas"
    stop = (
        'diciendo "alto" en una llamada o respondiendo ALTO'
        if covers_sms
        else 'diciendo "alto" en una llamada'
    )
    parts = [
        f"Al marcar esta casilla, acepto que {business} me contacte al número de teléfono que "
        f"proporcioné, incluso con {channels} realizadas con un marcador automático u otra "
        "tecnología automatizada y con llamadas que usan una voz artificial o pregrabada, "
        "incluida una voz generada por inteligencia artificial (IA), sobre mis citas y ofertas.",
        "El consentimiento no es una condición de compra.",
        f"Puedo cancelar en cualquier momento {stop}.",
    ]
    if covers_sms:
        parts.append(
            "Pueden aplicarse tarifas de mensajes y datos. La frecuencia de los mensajes varía. "
            "Responda AYUDA para obtener ayuda."
        )
    parts.append(f"Consulte los Términos de servicio y la Política de privacidad de {business}.")
    return " ".join(parts)
