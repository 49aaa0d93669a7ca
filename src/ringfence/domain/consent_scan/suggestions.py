"""Paste-ready wording for each element that is weak or missing, with the practice named.

Every sentence reads on its own, so a practice can paste one into its existing consent text;
`recommended_consent` is the whole paragraph, for a practice starting over.
"""

from __future__ import annotations

from ringfence.domain.consent_scan.elements import Element


def possessive(business: str) -> str:
    return f"{business}'" if business.endswith("s") else f"{business}'s"


def suggestion(element: Element, *, business: str, covers_sms: bool, prechecked: bool) -> str:
    """The sentence to add (or to replace the weak wording with) for `element`."""
    channels = "calls and texts" if covers_sms else "calls"
    stop = (
        'by saying "stop" on a call or replying STOP to a text'
        if covers_sms
        else 'by saying "stop" on a call'
    )
    match element:
        case Element.BUSINESS_NAME:
            return f"I agree that {business} may contact me at the phone number I provided."
        case Element.AUTOMATED_OR_AI_VOICE:
            return (
                f"I agree that {business} may contact me with {channels} using automated "
                "technology and an artificial or AI-generated voice."
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


def recommended_consent(*, business: str, covers_sms: bool) -> str:
    """A complete consent paragraph that passes every element."""
    channels = "calls and texts" if covers_sms else "calls"
    stop = (
        'by saying "stop" on a call or replying STOP'
        if covers_sms
        else 'by saying "stop" on a call'
    )
    parts = [
        f"By checking this box, I agree that {business} may contact me at the phone number I "
        f"provided, including with {channels} using automated technology and an artificial or "
        "AI-generated voice, about my appointments and offers.",
        "Consent is not a condition of purchase.",
        f"I can opt out at any time {stop}.",
    ]
    if covers_sms:
        parts.append("Msg & data rates may apply. Msg frequency varies. Reply HELP for help.")
    parts.append(f"See {possessive(business)} Terms of Service and Privacy Policy.")
    return " ".join(parts)
