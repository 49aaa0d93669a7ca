"""The element catalogue: what a consent text must say, in report order.

The spec ("Before You Begin"): forms and opt-in language are scanned before outbound calling is
enabled, and missing or weak consent text is surfaced so the practice can fix it. Five elements
are blocking (prior express written consent for AI-voice calls, 47 CFR 64.1200(f)(9) and FCC
24-17): who may call, that the calls may use an artificial or prerecorded voice (an AI voice is
an artificial voice), to which number, that consent is not a condition of purchase, and that
consent is given by a separate affirmative act. Five more are weighted into the score only,
among them the autodialer: consent to dialing technology is useful, but it is not consent to
an artificial voice.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Final


class Element(StrEnum):
    BUSINESS_NAME = "business_name"
    ARTIFICIAL_VOICE = "artificial_voice"
    PHONE_NUMBER = "phone_number"
    NOT_CONDITION_OF_PURCHASE = "not_condition_of_purchase"
    AFFIRMATIVE_CHECKBOX = "affirmative_checkbox"
    AUTODIALER = "autodialer"
    OPT_OUT = "opt_out"
    MARKETING_PURPOSE = "marketing_purpose"
    TERMS_PRIVACY = "terms_privacy"
    SMS_DISCLOSURES = "sms_disclosures"


class Status(StrEnum):
    PRESENT = "present"
    WEAK = "weak"  # partly there: a reviewer would ask for a fix
    MISSING = "missing"


@dataclass(frozen=True, slots=True)
class ElementSpec:
    element: Element
    blocking: bool
    points: int  # earned in full when present, half when weak
    title: str


BLOCKING_POINTS: Final = 16
WEIGHTED_POINTS: Final = 4

CATALOGUE: Final[tuple[ElementSpec, ...]] = (
    ElementSpec(Element.BUSINESS_NAME, True, BLOCKING_POINTS, "Practice named"),
    ElementSpec(
        Element.ARTIFICIAL_VOICE, True, BLOCKING_POINTS, "Artificial / prerecorded / AI voice"
    ),
    ElementSpec(Element.PHONE_NUMBER, True, BLOCKING_POINTS, "Number provided on the form"),
    ElementSpec(
        Element.NOT_CONDITION_OF_PURCHASE, True, BLOCKING_POINTS, "Not a condition of purchase"
    ),
    ElementSpec(Element.AFFIRMATIVE_CHECKBOX, True, BLOCKING_POINTS, "Separate affirmative act"),
    ElementSpec(Element.AUTODIALER, False, WEIGHTED_POINTS, "Autodialer / automated technology"),
    ElementSpec(Element.OPT_OUT, False, WEIGHTED_POINTS, "How to opt out"),
    ElementSpec(Element.MARKETING_PURPOSE, False, WEIGHTED_POINTS, "Marketing purpose"),
    ElementSpec(Element.TERMS_PRIVACY, False, WEIGHTED_POINTS, "Terms and privacy policy"),
    ElementSpec(Element.SMS_DISCLOSURES, False, WEIGHTED_POINTS, "SMS disclosures"),
)

SPECS: Final = {spec.element: spec for spec in CATALOGUE}
BLOCKING: Final = frozenset(spec.element for spec in CATALOGUE if spec.blocking)


@dataclass(frozen=True, slots=True)
class Judgement:
    """One element's status and a sentence saying why."""

    status: Status
    reason: str
