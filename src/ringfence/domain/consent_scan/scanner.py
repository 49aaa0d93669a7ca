"""Scan a form's consent text: which elements of a valid AI-voice opt-in it has.

The spec ("Before You Begin"): "Your forms and consent language are scanned automatically ...
If consent text is missing or weak, it surfaces those gaps so you can fix them before calling."
`scan` runs before outbound calling is enabled and whenever a form's consent text changes.
It is pure: text and the practice's name in, a `ConsentScan` out.

Validity: `valid_for_voice_opt_in` is True only when all five blocking elements are present
(a weak one blocks too: a reviewer would not accept it as prior express written consent for
calls with an artificial or AI voice).

Score (0-100): blocking elements are worth 16 points each (80), weighted ones 4 each (20);
`present` earns the full points, `weak` half, `missing` none; the sum is rounded half up to a
whole number. A valid text earns at least the blocking points, VALID_SCORE_THRESHOLD (80); an
invalid text is capped just below it (79), so the score never ranks an invalid text with or
above a valid one. Validity, not the score, decides.

Language: Spanish texts are judged by the same rubric (`text.detect_language`); a Spanish form
gets Spanish suggestions and recommended text.

SMS disclosures apply only when the consent covers texts: `covers_sms=True`, or (when None)
the text mentions texts, SMS or MMS. When they do not apply, the element is reported
`present` with the suggestion "Not applicable: ...", so it neither blocks nor costs points.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from ringfence.domain.consent_scan import checks, disclosures
from ringfence.domain.consent_scan.business_name import judge_business_name
from ringfence.domain.consent_scan.elements import CATALOGUE, Element, Judgement, Status
from ringfence.domain.consent_scan.suggestions import recommended_consent, suggestion
from ringfence.domain.consent_scan.text import ConsentText, Language, normalise

# Stored with every verdict (`as_dict`): "2" split the automated/AI element into
# `artificial_voice` (blocking) and `autodialer` (weighted), scoped negations, judged Spanish
# and not-a-condition carve-outs, and capped invalid scores below the threshold.
SCANNER_VERSION: Final = "2"
# Every valid text scores at least this (all blocking points); every invalid one below it.
VALID_SCORE_THRESHOLD: Final = sum(spec.points for spec in CATALOGUE if spec.blocking)


@dataclass(frozen=True, slots=True)
class Finding:
    element: Element
    status: Status
    blocking: bool
    suggestion: str  # paste-ready wording; "" when present ("Not applicable: ..." for SMS)
    reason: str  # one sentence: why this status

    def as_dict(self) -> dict[str, str | bool]:
        return {
            "element": self.element.value,
            "status": self.status.value,
            "blocking": self.blocking,
            "suggestion": self.suggestion,
        }


@dataclass(frozen=True, slots=True)
class ConsentScan:
    score: int
    valid_for_voice_opt_in: bool
    findings: tuple[Finding, ...]  # one per element, in catalogue order
    covers_sms: bool  # whether SMS disclosures were judged applicable
    recommended_text: str  # a complete consent paragraph for this practice
    language: Language = "en"  # "en", "es" or "mixed" (a bilingual form)

    def finding(self, element: Element) -> Finding:
        return next(f for f in self.findings if f.element is element)

    def status(self, element: Element) -> Status:
        return self.finding(element).status

    def as_dict(self) -> dict[str, object]:
        """The published contract: score, validity, the findings and the scanner version."""
        return {
            "score": self.score,
            "valid_for_voice_opt_in": self.valid_for_voice_opt_in,
            "findings": [f.as_dict() for f in self.findings],
            "scanner_version": SCANNER_VERSION,
        }


def points(statuses: dict[Element, Status]) -> int:
    """The points earned, before the cap (computed in half points, exactly)."""
    halves = 0
    for spec in CATALOGUE:
        status = statuses[spec.element]
        halves += 2 * spec.points if status is Status.PRESENT else 0
        halves += spec.points if status is Status.WEAK else 0
    return (halves + 1) // 2


def score(statuses: dict[Element, Status]) -> int:
    """Points as documented in the module docstring: an invalid text's points are capped
    below VALID_SCORE_THRESHOLD."""
    earned = points(statuses)
    return earned if valid(statuses) else min(earned, VALID_SCORE_THRESHOLD - 1)


def valid(statuses: dict[Element, Status]) -> bool:
    return all(statuses[s.element] is Status.PRESENT for s in CATALOGUE if s.blocking)


def scan(text: str, *, business_name: str, covers_sms: bool | None = None) -> ConsentScan:
    """Judge `text` (plain or HTML) for `business_name`'s outbound AI-voice calling.

    `covers_sms`: True when the practice also texts under this consent, False when it does
    not, None to decide from the text. Raises ValueError for a blank business name."""
    business = " ".join(business_name.split())
    if not business:
        raise ValueError("business_name must not be blank")
    consent = normalise(text)
    sms = checks.covers_texts(consent) if covers_sms is None else covers_sms
    judges: dict[Element, Callable[[ConsentText], Judgement]] = {
        Element.ARTIFICIAL_VOICE: checks.judge_artificial_voice,
        Element.PHONE_NUMBER: checks.judge_phone_number,
        Element.NOT_CONDITION_OF_PURCHASE: checks.judge_not_condition,
        Element.AFFIRMATIVE_CHECKBOX: checks.judge_checkbox,
        Element.AUTODIALER: checks.judge_autodialer,
        Element.OPT_OUT: disclosures.judge_opt_out,
        Element.MARKETING_PURPOSE: disclosures.judge_marketing,
        Element.TERMS_PRIVACY: disclosures.judge_terms_privacy,
    }
    judgements: dict[Element, Judgement] = {}
    name = judge_business_name(consent, business)
    judgements[Element.BUSINESS_NAME] = Judgement(name.status, name.reason)
    for element, judge in judges.items():
        judgements[element] = judge(consent)
    judgements[Element.SMS_DISCLOSURES] = disclosures.judge_sms(consent, applies=sms)

    prechecked = checks.prechecked(consent)
    # Spanish wording for a Spanish form; a bilingual one keeps English.
    wording = "es" if consent.language == "es" else "en"
    findings: list[Finding] = []
    for spec in CATALOGUE:
        judgement = judgements[spec.element]
        if judgement.status is Status.PRESENT:
            advice = judgement.reason if spec.element is Element.SMS_DISCLOSURES and not sms else ""
        else:
            advice = suggestion(
                spec.element,
                business=business,
                covers_sms=sms,
                prechecked=prechecked,
                language=wording,
            )
        findings.append(
            Finding(spec.element, judgement.status, spec.blocking, advice, judgement.reason)
        )
    statuses = {f.element: f.status for f in findings}
    return ConsentScan(
        score=score(statuses),
        valid_for_voice_opt_in=valid(statuses),
        findings=tuple(findings),
        covers_sms=sms,
        recommended_text=recommended_consent(business=business, covers_sms=sms, language=wording),
        language=consent.language,
    )
