"""Scanner v2: the findings that v1 got wrong, written as tests before the fix.

- a negated artificial voice ("we will never use an artificial or prerecorded voice") was
  approved when the negation sat past a comma or after the term;
- consent to an autodialer / "automated technology" alone was approved as AI-voice consent
  (FCC 24-17: an AI voice is an artificial voice; dialing technology is not a voice);
- a valid Spanish text was rejected;
- an invalid (SMS-only) text scored 92/100, above what valid texts reach;
- "not a condition of purchase, except ..." was accepted as present.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ringfence.domain.consent_scan import Element, Status, scan
from ringfence.domain.consent_scan.scanner import SCANNER_VERSION, VALID_SCORE_THRESHOLD

BUSINESS = "Glow Aesthetics Med Spa"
P, W, M = Status.PRESENT, Status.WEAK, Status.MISSING
AGREE = (
    "By checking this box, I agree that Glow Aesthetics Med Spa may call me at the phone number "
    "I provided"
)
NCOP = "Consent is not a condition of purchase."


# --- 1. negation scope ------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        f"{AGREE} using an autodialer. We will never, under any circumstances, use an "
        f"artificial or prerecorded voice. {NCOP}",
        f"{AGREE} using an autodialer. Artificial or prerecorded voices will not be used on "
        f"these calls. {NCOP}",
        f"{AGREE} using automated technology; we will never use an artificial or prerecorded "
        f"voice. {NCOP}",
        f"{AGREE} with automated technology. Our calls won't use AI or a recorded voice. {NCOP}",
        f"{AGREE}, using an autodialer but without any artificial, prerecorded or AI voice. {NCOP}",
        f"{AGREE} using an autodialer. We do not, and never will, use AI voices. {NCOP}",
        f"{AGREE} using an autodialer. No artificial or AI-generated voice is ever used. {NCOP}",
        f"{AGREE} using an autodialer. Calls come from our staff, not an AI or an artificial "
        f"voice. {NCOP}",
    ],
)
def test_negated_artificial_voice_is_not_voice_consent(text: str) -> None:
    result = scan(text, business_name=BUSINESS)
    assert result.status(Element.ARTIFICIAL_VOICE) is M, result.finding(Element.ARTIFICIAL_VOICE)
    assert not result.valid_for_voice_opt_in


@pytest.mark.parametrize(
    "text",
    [
        f"{AGREE}, including calls that use an artificial or prerecorded voice. You are not "
        "required to agree to prerecorded calls as a condition of purchase.",
        f"{AGREE}, including calls that use an AI-generated voice. You do not have to agree to "
        "AI-voice calls to purchase any goods or services.",
        f"{AGREE}, including calls using an artificial voice. Agreeing to artificial voice "
        "calls is not a condition of purchase.",
        f"{AGREE}, including calls using an AI voice. You can book without agreeing to AI "
        "calls, as consent is not a condition of purchase.",
    ],
)
def test_not_a_condition_clause_is_not_a_negation_of_the_voice(text: str) -> None:
    result = scan(text, business_name=BUSINESS)
    assert result.status(Element.ARTIFICIAL_VOICE) is P
    assert result.status(Element.NOT_CONDITION_OF_PURCHASE) is P
    assert result.valid_for_voice_opt_in, result.findings


def test_negated_autodialer_is_missing_for_both() -> None:
    result = scan(
        f"{AGREE}. We will never use an automated system or a recorded voice. {NCOP}",
        business_name=BUSINESS,
    )
    assert result.status(Element.ARTIFICIAL_VOICE) is M
    assert result.status(Element.AUTODIALER) is M


def test_an_ai_exclusion_outweighs_a_prerecorded_voice() -> None:
    # Ringfence's calls use an AI voice: excluding AI excludes them.
    result = scan(
        f"{AGREE}, including calls with a prerecorded voice. We never use AI. {NCOP}",
        business_name=BUSINESS,
    )
    assert result.status(Element.ARTIFICIAL_VOICE) is M


def test_a_negated_recording_beside_an_affirmed_ai_voice_is_present() -> None:
    result = scan(
        f"{AGREE}, including calls with an AI-generated voice, not a prerecorded message. {NCOP}",
        business_name=BUSINESS,
    )
    assert result.status(Element.ARTIFICIAL_VOICE) is P


# --- 2. artificial voice vs autodialer --------------------------------------------------


@pytest.mark.parametrize(
    "technology",
    [
        "an automatic telephone dialing system",
        "an autodialer",
        "automated technology",
        "automated means",
        "automated dialing equipment",
    ],
)
def test_autodialer_only_is_not_artificial_voice_consent(technology: str) -> None:
    result = scan(f"{AGREE} using {technology}. {NCOP}", business_name=BUSINESS)
    assert result.status(Element.ARTIFICIAL_VOICE) is M
    assert result.status(Element.AUTODIALER) is P
    assert not result.valid_for_voice_opt_in
    reason = result.finding(Element.ARTIFICIAL_VOICE).reason
    assert "dial" in reason
    assert "voice" in reason


@pytest.mark.parametrize(
    "voice",
    [
        "an artificial or prerecorded voice",
        "an AI-generated voice",
        "a synthetic voice",
        "our virtual assistant",
        "artificial intelligence",
    ],
)
def test_voice_without_autodialer_is_valid(voice: str) -> None:
    result = scan(f"{AGREE}, including calls using {voice}. {NCOP}", business_name=BUSINESS)
    assert result.status(Element.ARTIFICIAL_VOICE) is P
    assert result.status(Element.AUTODIALER) is M
    assert result.valid_for_voice_opt_in


def test_ai_only_for_texts_is_weak() -> None:
    result = scan(
        "By checking this box, I agree that Glow Aesthetics Med Spa may send AI-generated text "
        f"messages to the phone number I provided. {NCOP}",
        business_name=BUSINESS,
    )
    assert result.status(Element.ARTIFICIAL_VOICE) is W


def test_autodialer_is_weighted_not_blocking() -> None:
    result = scan(f"{AGREE}, including calls using an AI voice. {NCOP}", business_name=BUSINESS)
    finding = result.finding(Element.AUTODIALER)
    assert finding.status is M
    assert not finding.blocking
    assert result.finding(Element.ARTIFICIAL_VOICE).blocking


def test_suggestions_cover_voice_and_dialer() -> None:
    result = scan("We may call you.", business_name=BUSINESS)
    voice = result.finding(Element.ARTIFICIAL_VOICE).suggestion
    dialer = result.finding(Element.AUTODIALER).suggestion
    assert "artificial or prerecorded voice" in voice
    assert "AI-generated voice" in voice
    assert "autodialer" in dialer
    assert "autodialer" in result.recommended_text
    assert "artificial or prerecorded voice" in result.recommended_text
    fixed = scan(result.recommended_text, business_name=BUSINESS)
    assert fixed.status(Element.ARTIFICIAL_VOICE) is P
    assert fixed.status(Element.AUTODIALER) is P


# --- 3. not-a-condition carve-outs ------------------------------------------------------


@pytest.mark.parametrize(
    ("sentence", "carve_out"),
    [
        (
            "Consent is not a condition of purchase, except for enrollment in our VIP membership.",
            "except for enrollment in our vip membership",
        ),
        (
            "Consent is not a condition of purchase unless you join the Glow Club.",
            "unless you join the glow club",
        ),
        (
            "Your consent is not required to receive services other than free consultations.",
            "other than free consultations",
        ),
        (
            "El consentimiento no es una condición de compra, excepto para la membresía VIP.",
            "excepto para la membresia vip",
        ),
    ],
)
def test_not_a_condition_with_a_carve_out_is_weak_and_named(sentence: str, carve_out: str) -> None:
    result = scan(f"{AGREE}, including AI-voice calls. {sentence}", business_name=BUSINESS)
    finding = result.finding(Element.NOT_CONDITION_OF_PURCHASE)
    assert finding.status is W
    assert carve_out in finding.reason
    assert not result.valid_for_voice_opt_in


def test_an_unrelated_unless_elsewhere_is_no_carve_out() -> None:
    result = scan(
        f"{AGREE}, including AI-voice calls. {NCOP} We will keep calling unless you say stop.",
        business_name=BUSINESS,
    )
    assert result.status(Element.NOT_CONDITION_OF_PURCHASE) is P


# --- 4. Spanish -------------------------------------------------------------------------

SPANISH_VALID_SMS = (
    "Al marcar esta casilla, acepto que Glow Aesthetics Med Spa me contacte al número de "
    "teléfono proporcionado, incluso con llamadas y mensajes de texto realizados con un marcador "
    "automático y llamadas con voz artificial o pregrabada, incluida una voz generada por "
    "inteligencia artificial, sobre mis citas, ofertas y promociones. El consentimiento no es "
    "una condición de compra. Puedo cancelar en cualquier momento diciendo “alto” en una "
    "llamada o respondiendo ALTO a un mensaje. Pueden aplicarse tarifas de mensajes y datos. "
    "La frecuencia de los mensajes varía. Responda AYUDA para obtener ayuda. Consulte nuestros "
    "Términos y nuestra Política de privacidad."
)
SPANISH_VALID_CALLS = (
    "Marque la casilla para aceptar: autorizo a Glow Aesthetics Med Spa a llamarme al número "
    "que proporcioné en este formulario, con llamadas que usan inteligencia artificial (IA) y "
    "tecnología automatizada, incluidas ofertas especiales. No es una condición de compra. "
    "Puedo revocar mi consentimiento llamando a la clínica."
)


def test_valid_spanish_text_is_valid_and_complete() -> None:
    result = scan(SPANISH_VALID_SMS, business_name=BUSINESS)
    assert result.language == "es"
    assert result.valid_for_voice_opt_in, [(f.element, f.status) for f in result.findings]
    assert result.score == 100, [(f.element, f.status) for f in result.findings]


def test_valid_spanish_calls_only_text_is_valid() -> None:
    result = scan(SPANISH_VALID_CALLS, business_name=BUSINESS)
    assert result.valid_for_voice_opt_in, [(f.element, f.status) for f in result.findings]
    assert result.status(Element.AUTODIALER) is P
    assert result.status(Element.MARKETING_PURPOSE) is P
    assert result.status(Element.OPT_OUT) is P


@pytest.mark.parametrize(
    ("text", "element", "expected"),
    [
        (
            "Acepto que Glow Aesthetics Med Spa me llame con un marcador automático.",
            Element.ARTIFICIAL_VOICE,
            M,
        ),
        (
            "Acepto que Glow Aesthetics Med Spa me llame con un marcador automático.",
            Element.AUTODIALER,
            P,
        ),
        (
            "Acepto llamadas de Glow Aesthetics Med Spa. Nunca usaremos una voz artificial o "
            "pregrabada.",
            Element.ARTIFICIAL_VOICE,
            M,
        ),
        (
            "Acepto llamadas de Glow Aesthetics Med Spa sin voz artificial.",
            Element.ARTIFICIAL_VOICE,
            M,
        ),
        ("Acepto que me llamen a mi celular.", Element.PHONE_NUMBER, W),
        ("Acepto que me llamen al número de teléfono proporcionado.", Element.PHONE_NUMBER, P),
        ("El consentimiento es opcional.", Element.NOT_CONDITION_OF_PURCHASE, W),
        ("Al enviar este formulario, acepto las llamadas.", Element.AFFIRMATIVE_CHECKBOX, W),
        (
            "Esta casilla está premarcada; desmárquela si no desea llamadas.",
            Element.AFFIRMATIVE_CHECKBOX,
            M,
        ),
        ("Responda BAJA para cancelar.", Element.OPT_OUT, P),
        ("Puede cancelar su suscripción en cualquier momento.", Element.OPT_OUT, W),
        ("Recibirá nuestro boletín con novedades.", Element.MARKETING_PURPOSE, W),
        ("Consulte nuestros términos.", Element.TERMS_PRIVACY, W),
        (
            "Acepto mensajes de texto. Pueden aplicarse tarifas de mensajes y datos.",
            Element.SMS_DISCLOSURES,
            W,
        ),
    ],
)
def test_spanish_elements(text: str, element: Element, expected: Status) -> None:
    assert scan(text, business_name=BUSINESS).status(element) is expected


def test_spanish_recommended_text_for_a_spanish_form() -> None:
    result = scan("Acepto que me llamen.", business_name=BUSINESS)
    assert result.language == "es"
    assert "Al marcar esta casilla" in result.recommended_text
    assert "voz artificial o pregrabada" in result.recommended_text
    again = scan(result.recommended_text, business_name=BUSINESS)
    assert again.score == 100, [(f.element, f.status) for f in again.findings]
    for finding in result.findings:
        if finding.status is not P and finding.element is not Element.SMS_DISCLOSURES:
            assert finding.suggestion, finding
            assert "I agree" not in finding.suggestion


@pytest.mark.parametrize(
    "text",
    [
        "Our office is at 100 Main St, Des Moines, IA 50309. You may call me.",
        "Call me about my appointment. Ask for Tia at the front desk.",
    ],
)
def test_spanish_only_terms_do_not_fire_on_english(text: str) -> None:
    result = scan(text, business_name=BUSINESS)
    assert result.language == "en"
    assert result.status(Element.ARTIFICIAL_VOICE) is M


# --- 5. score and validity --------------------------------------------------------------

SMS_ONLY = (
    "By checking this box, I agree to receive recurring automated marketing text messages from "
    "Glow Aesthetics Med Spa at the mobile number I provided. Consent is not a condition of "
    "purchase. Msg frequency varies. Msg & data rates may apply. Reply HELP for help and STOP "
    "to cancel. See our Terms and Privacy Policy."
)


def test_sms_only_text_scores_below_the_valid_threshold() -> None:
    result = scan(SMS_ONLY, business_name=BUSINESS)
    assert not result.valid_for_voice_opt_in
    assert VALID_SCORE_THRESHOLD == 80
    assert result.score < 80


def test_threshold_is_what_a_bare_valid_text_reaches() -> None:
    bare = (
        f"{AGREE}, including calls that use an artificial or prerecorded voice. "
        "You are not required to agree to this as a condition of purchase."
    )
    result = scan(bare, covers_sms=False, business_name=BUSINESS)
    assert result.valid_for_voice_opt_in
    assert result.score >= VALID_SCORE_THRESHOLD


_PARTS: dict[str, list[str]] = {
    "act": [
        "By checking this box,",
        "By submitting this form,",
        "This box is pre-checked; uncheck it to opt out.",
        "",
        "Al marcar esta casilla,",
    ],
    "agree": [
        "I agree that Glow Aesthetics Med Spa may call me",
        "I agree that we may call you",
        "I agree that Glow may call me",
        "acepto que Glow Aesthetics Med Spa me llame",
        "I agree to receive texts from Glow Aesthetics Med Spa",
    ],
    "number": [
        "at the phone number I provided",
        "on my mobile phone",
        "",
        "al número que proporcioné",
    ],
    "voice": [
        "using an artificial or prerecorded voice",
        "using an autodialer",
        "using automated technology and an AI-generated voice",
        "but we will never use an artificial voice",
        "with automated text messages",
        "",
        "con voz artificial y un marcador automático",
    ],
    "ncop": [
        "Consent is not a condition of purchase.",
        "Consent is optional.",
        "Consent is not a condition of purchase, except for memberships.",
        "",
        "El consentimiento no es una condición de compra.",
        "Consent is required to book.",
    ],
    "extras": [
        "Reply STOP to opt out. See our Terms and Privacy Policy. Offers included.",
        "Msg & data rates may apply. Msg frequency varies. Reply HELP for help.",
        "Responda ALTO para cancelar. Ofertas y promociones.",
        "",
    ],
}


@settings(max_examples=300, deadline=None)
@given(
    picks=st.fixed_dictionaries({k: st.sampled_from(v) for k, v in _PARTS.items()}),
    covers_sms=st.sampled_from([None, True, False]),
    drop=st.integers(min_value=0, max_value=40),
    upper=st.booleans(),
)
def test_invalid_never_scores_at_or_above_the_threshold(
    picks: dict[str, str], covers_sms: bool | None, drop: int, upper: bool
) -> None:
    text = (
        f"{picks['act']} {picks['agree']} {picks['number']} {picks['voice']}. "
        f"{picks['ncop']} {picks['extras']}"
    )
    words = text.split()
    if drop < len(words):  # perturb: lose one word
        words = words[:drop] + words[drop + 1 :]
    text = " ".join(words)
    if upper:
        text = text.upper()
    result = scan(text, business_name=BUSINESS, covers_sms=covers_sms)
    if result.valid_for_voice_opt_in:
        assert result.score >= VALID_SCORE_THRESHOLD
    else:
        assert result.score < VALID_SCORE_THRESHOLD


@settings(max_examples=150, deadline=None)
@given(text=st.text(max_size=300))
def test_invalid_never_scores_at_or_above_the_threshold_on_any_text(text: str) -> None:
    result = scan(text, business_name=BUSINESS)
    assert result.valid_for_voice_opt_in or result.score < VALID_SCORE_THRESHOLD


# --- 6. version --------------------------------------------------------------------------


def test_scanner_version_is_in_the_contract() -> None:
    assert SCANNER_VERSION == "2"
    data = scan(SMS_ONLY, business_name=BUSINESS).as_dict()
    assert data["scanner_version"] == "2"
    assert {"score", "valid_for_voice_opt_in", "findings"} <= set(data)
