"""Element by element: present, weak and missing wording, HTML, negation, name variants."""

from __future__ import annotations

import pytest

from ringfence.domain.consent_scan import Element, Status, scan

BUSINESS = "Glow Aesthetics Med Spa"
P, W, M = Status.PRESENT, Status.WEAK, Status.MISSING


def status(text: str, element: Element, *, business: str = BUSINESS) -> Status:
    return scan(text, business_name=business).status(element)


# --- business_name ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("business", "text", "expected"),
    [
        ("Glow Aesthetics Med Spa", "Glow Aesthetics Med Spa may call me.", P),
        ("Glow Aesthetics Med Spa", "GLOW AESTHETICS MED SPA may call me.", P),
        ("Glow Aesthetics Med Spa", "glow   aesthetics\nmed spa may call me.", P),
        ("Glow Aesthetics Med Spa, LLC", "Glow Aesthetics Med Spa may call me.", P),
        ("Evolve Med Spa, Inc.", "Evolve Med Spa LLC may call me.", P),
        ("Aura Skin Co.", "I authorize Aura Skin Co. to call me.", P),
        ("Ivy & Stone Aesthetics", "Ivy and Stone Aesthetics may call me.", P),
        ("Ivy and Stone Aesthetics", "Ivy & Stone Aesthetics may call me.", P),
        ("Nova Skin Clinic", "Nova Skin Clinic\u2019s team may call me.", P),
        ("Nova Skin Clinic", "Nova Skin Clinic's team may call me.", P),
        ("The Skin Bar", "Skin Bar may call me.", P),
        ("Skin Bar", "The Skin Bar may call me.", P),
        ("Dr. Maya Lin Dermatology", "Dr Maya Lin Dermatology may call me.", P),
        ("Sérénité Med Spa", "Serenite Med Spa may call me.", P),
        ("DermaGlow Studio", "Derma Glow Studio may call me.", P),
        ("Derma Glow Studio", "DermaGlow Studio may call me.", P),
        ("Lakeside Dermatology, P.C.", "Lakeside Dermatology PC may call me.", P),
        # short forms
        ("Glow Aesthetics Med Spa", "Glow may call me.", W),
        ("Harbor View Dermatology & Laser Center", "Harbor View Dermatology may call.", W),
        ("Beverly Hills Plastic Surgery Group", "BHPS may call me.", W),
        # generic or other names
        ("Glow Aesthetics Med Spa", "We may call you. Our clinic cares.", M),
        ("Glow Aesthetics Med Spa", "Our med spa may give you a healthy glow.", M),
        ("Contour Plastic Surgery", "Sculpt Aesthetic Partners LLC may call me.", M),
        ("Glow Aesthetics Med Spa", "[Business Name] may call me.", M),
    ],
)
def test_business_name(business: str, text: str, expected: Status) -> None:
    assert status(text, Element.BUSINESS_NAME, business=business) is expected


def test_business_name_only_in_a_footer_is_weak() -> None:
    text = "By checking this box, I agree you may call me.\n\u00a9 2024 Glow Aesthetics Med Spa."
    assert status(text, Element.BUSINESS_NAME) is W


def test_common_word_acronyms_are_not_the_practice() -> None:
    # "Sarah Miller Skincare" would abbreviate to SMS, which every text consent mentions.
    assert (
        status(
            "Reply STOP. SMS rates apply.", Element.BUSINESS_NAME, business="Sarah Miller Skincare"
        )
        is M
    )


# --- artificial_voice and autodialer ---------------------------------------------------
# v1 judged one element, automated_or_ai_voice; v2 splits it (FCC 24-17: an AI voice is an
# artificial voice; an autodialer is dialing technology, not a voice). Each text of the v1
# table keeps its place here, with its expectation for each of the two elements.


@pytest.mark.parametrize(
    ("text", "voice", "dialer"),
    [
        ("I agree you may call me using automated technology.", M, P),
        ("I agree you may call me with an autodialer.", M, P),
        ("I agree to autodialed calls.", M, P),
        ("I agree to calls using an automatic telephone dialing system.", M, P),
        ("I agree to calls that use an artificial or prerecorded voice.", P, M),
        ("I agree to calls from an AI-generated voice.", P, M),
        ("I agree you may call me; calls may use an AI voice assistant.", P, M),
        ("Calls and texts may be sent with automated technology.", M, P),
        ("I agree that you may contact me using automated technology.", M, P),
        ("I agree you may call me.", M, M),
        ("You may call me about my appointment.", M, M),
        ("I agree to receive automated text messages.", M, W),
        ("I agree to receive automated texts. You may also call me.", M, W),
        ("We use an AI assistant to return calls. We may contact you.", W, M),
        ("You may call me. We will never use an automated system or a recorded voice.", M, M),
        # No agreement at all: the autodialer is only a notice.
        (
            "Calls use an autodialer; we do not use artificial intelligence or synthetic voices.",
            M,
            W,
        ),
        ("This consent does not cover automated calls. You may call me.", M, M),
        # A "not" that belongs to "not required" does not negate the automation after it.
        ("I am not required to agree to autodialed calls to purchase; you may call me.", M, P),
        # v2 additions
        ("I agree to calls placed with an autodialer and an artificial voice.", P, P),
        ("I agree you may call me with automated calls using an automated voice.", P, P),
        ("I agree to prerecorded messages and autodialed calls.", P, P),
        ("Artificial voices will never be used. I agree you may call me with an autodialer.", M, P),
        ("I agree to calls using an AI voice, which will not be used for marketing.", P, M),
        ("I agree to calls from an AI voice even if I do not answer.", P, M),
        ("I agree to AI calls; my number is on the Do Not Call registry.", P, M),
        ("I agree to AI-voice calls at no cost to me.", P, M),
        ("Your calls may be recorded. I agree you may call me.", M, M),
        ("I agree to receive AI-generated text messages.", W, M),
    ],
)
def test_artificial_voice_and_autodialer(text: str, voice: Status, dialer: Status) -> None:
    result = scan(text, business_name=BUSINESS)
    assert (result.status(Element.ARTIFICIAL_VOICE), result.status(Element.AUTODIALER)) == (
        voice,
        dialer,
    )


# --- phone_number -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("You may call me at the number I provided.", P),
        ("You may call me at the phone number above.", P),
        ("You may call me at the telephone number I have entered above.", P),
        ("You may call me at the mobile number below.", P),
        ("You may call the phone number listed on this form.", P),
        ("You may call the telephone number(s) you provided.", P),
        ("By providing your phone number you agree we may call you at that number.", P),
        ("You may call me at the number I've provided.", P),
        ("You may call my mobile phone.", W),
        ("You may call my cell.", W),
        ("You may call me.", M),
        ("You may call using an automatic telephone dialing system.", M),
    ],
)
def test_phone_number(text: str, expected: Status) -> None:
    assert status(text, Element.PHONE_NUMBER) is expected


# --- not_condition_of_purchase ----------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Consent is not a condition of purchase.", P),
        ("Consent isn\u2019t a condition of purchase.", P),
        ("Consent is not required as a condition of purchase.", P),
        ("This consent is not required to purchase any goods or services.", P),
        ("My consent is not a condition of receiving services.", P),
        ("You are not required to provide this consent as a condition of purchasing.", P),
        ("Totally optional - not needed to book or buy anything.", P),
        ("Checking this box is optional.", W),
        ("Your consent is voluntary.", W),
        ("Consent is a condition of booking a consultation.", M),
        ("Providing consent is required to schedule treatment.", M),
        ("You may call me.", M),
    ],
)
def test_not_condition_of_purchase(text: str, expected: Status) -> None:
    assert status(text, Element.NOT_CONDITION_OF_PURCHASE) is expected


# --- affirmative_checkbox ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("By checking this box, I agree.", P),
        ("By ticking the box below, I agree.", P),
        ("Check the box below to agree.", P),
        ("\u2610 I agree to calls.", P),
        ("[ ] I agree to calls.", P),
        ("Patient signature: ________", P),
        ('<input type="checkbox" name="consent"> I agree to calls.', P),
        ("[ ] By checking this box (it is unchecked by default), I agree.", P),
        ("By submitting this form, you agree to calls.", W),
        ('By clicking "Submit", you agree to calls.', W),
        ("By providing your phone number, you agree to calls.", W),
        ("By signing up, you agree to calls.", W),
        ("This box is pre-checked; uncheck it if you do not want calls.", M),
        ("By checking this box I agree. Uncheck to opt out.", M),
        ('<input type="checkbox" checked> By checking this box I agree.', M),
        ('<input type="checkbox" checked="checked"> I agree.', M),
        ("I consent to calls.", M),
    ],
)
def test_affirmative_checkbox(text: str, expected: Status) -> None:
    assert status(text, Element.AFFIRMATIVE_CHECKBOX) is expected


def test_prechecked_box_suggestion_says_to_show_it_unchecked() -> None:
    result = scan('<input type="checkbox" checked> I agree.', business_name=BUSINESS)
    assert "unchecked" in result.finding(Element.AFFIRMATIVE_CHECKBOX).suggestion


# --- weighted elements ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Reply STOP to opt out.", P),
        ('You can opt out by saying "stop" on a call.', P),
        ("I can revoke consent by emailing optout@example.com.", P),
        ("You may revoke consent by any reasonable means.", P),
        ("To opt out, call 757-555-0190.", P),
        ("Press 9 during any call to stop future calls.", P),
        ("Reply HELP for help and STOP to cancel.", P),
        ("I may revoke this consent in writing at any time.", P),
        ("I understand I may opt out at any time.", W),
        ("I may withdraw consent at any time.", W),
        ("You may call me.", M),
    ],
)
def test_opt_out(text: str, expected: Status) -> None:
    assert status(text, Element.OPT_OUT) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Calls may include marketing.", P),
        ("We may call about special offers.", P),
        ("We may call about promotions.", P),
        ("We may call with exclusive deals.", P),
        ("Sign up for our newsletter about new treatments.", W),
        ("These calls are for reminders only and will never be used for marketing.", M),
        ("We may call about your appointment.", M),
    ],
)
def test_marketing_purpose(text: str, expected: Status) -> None:
    assert status(text, Element.MARKETING_PURPOSE) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("See our Terms of Service and Privacy Policy.", P),
        ("Terms & Privacy: example.com/legal", P),
        ("I agree to the Terms & Conditions.", W),
        ("Read our Notice of Privacy Practices.", W),
        ("We respect your privacy.", M),
        ("In terms of calls, we may call you.", M),
    ],
)
def test_terms_privacy(text: str, expected: Status) -> None:
    assert status(text, Element.TERMS_PRIVACY) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "We may text you. Msg & data rates may apply. Msg frequency varies. "
            "Reply HELP for help, STOP to cancel.",
            P,
        ),
        (
            "We may text you. Up to 4 msgs/mo. Data rates may apply. "
            "Text HELP for help, STOP to end.",
            P,
        ),
        ("We may text you. Reply STOP to cancel.", W),
        ("We may send recurring text messages. Reply STOP to cancel. Reply HELP for help.", W),
        ("We may text you.", M),
        ("We may call you.", P),  # texts not covered: not applicable
    ],
)
def test_sms_disclosures(text: str, expected: Status) -> None:
    assert status(text, Element.SMS_DISCLOSURES) is expected


def test_sms_flag_overrides_detection() -> None:
    calls_only = "We may call you."
    texts = "We may text you."
    sms = Element.SMS_DISCLOSURES
    assert scan(calls_only, business_name=BUSINESS, covers_sms=True).status(sms) is M
    assert scan(texts, business_name=BUSINESS, covers_sms=False).status(sms) is P
    not_applicable = scan(calls_only, business_name=BUSINESS).finding(sms)
    assert not_applicable.suggestion.startswith("Not applicable")


# --- HTML -------------------------------------------------------------------------------


def test_html_is_read_as_its_text() -> None:
    html = (
        '<div><label><input type="checkbox" required> <strong>By checking this box</strong>, '
        "I authorize <em>Glow Aesthetics Med Spa</em> to call me at the phone number I "
        "entered, including calls using an autodialer and an artificial&nbsp;or "
        "AI&#8209;generated voice.</label><p>Consent is <u>not</u> a condition of "
        "purchase.</p><script>var x = 'uncheck';</script></div>"
    )
    result = scan(html, business_name=BUSINESS)
    assert result.valid_for_voice_opt_in, result.findings


def test_a_tag_never_splits_into_words() -> None:
    result = scan("<p>Consent is not a <b>condition</b> of purchase.</p>", business_name=BUSINESS)
    assert result.status(Element.NOT_CONDITION_OF_PURCHASE) is P
