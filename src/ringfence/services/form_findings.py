"""The consent scanner's findings on a form's text in words staff read, the "use the
suggested wording" edit of a text not saved yet, and the checks on what staff type into a form.

The verdict shown for a saved version is the one stored on it when it was made (the one the gate
and the consent records use); a text not saved yet is judged on the spot, the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from ringfence.adapters.db.orm import Account, FormVersion
from ringfence.domain.consent_scan import ConsentScan, Element, Status
from ringfence.domain.consent_scan.elements import SPECS
from ringfence.domain.consent_scan.suggestions import suggestion
from ringfence.services.consent_review import best_scan, business_names
from ringfence.services.errors import InvalidField, InvalidFields
from ringfence.services.unit_of_work import TenantScope, UnitOfWork

# The API's limits on a form (entrypoints/api/schemas: Name, LongText), for the pages' forms.
NAME_MAX: Final = 200
TEXT_MAX: Final = 20_000
RECOMMENDED: Final = "recommended"  # "use the whole recommended text", beside the elements

# What each element of a valid consent asks for, as a front desk reads it.
ELEMENT_LABELS: Final = {
    Element.BUSINESS_NAME: "Names your practice",
    Element.ARTIFICIAL_VOICE: "Says calls may use an AI or prerecorded voice",
    Element.PHONE_NUMBER: "Says which phone number may be called",
    Element.NOT_CONDITION_OF_PURCHASE: "Says consent is not needed to buy anything",
    Element.AFFIRMATIVE_CHECKBOX: "The patient ticks the box themselves",
    Element.AUTODIALER: "Mentions automated dialing",
    Element.OPT_OUT: "Says how to stop the calls",
    Element.MARKETING_PURPOSE: "Says what the calls are about",
    Element.TERMS_PRIVACY: "Points to your terms and privacy policy",
    Element.SMS_DISCLOSURES: "Text message disclosures",
}
STATUS_WORDS: Final = {
    Status.PRESENT: "Present",
    Status.WEAK: "Needs rewording",
    Status.MISSING: "Missing",
}


def verdict_words(valid: bool) -> str:
    return "Valid for AI voice calls" if valid else "Not valid for AI voice calls"


# --- the scanner's findings --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ElementFinding:
    element: str  # the element's code: the value a "use suggested wording" button posts
    label: str
    required: bool  # a required element that is not present makes the text not valid
    status: Status
    status_words: str
    suggestion: str  # wording to add; "" when present
    note: str  # e.g. "Not applicable: the consent does not cover texts."


@dataclass(frozen=True, slots=True)
class Findings:
    valid: bool
    verdict: str
    items: tuple[ElementFinding, ...]  # required ones first, in the scanner's order

    @property
    def gaps(self) -> tuple[ElementFinding, ...]:
        return tuple(i for i in self.items if i.required and i.status is not Status.PRESENT)


def _finding(element: Element, status: Status, advice: str) -> ElementFinding:
    present = status is Status.PRESENT
    return ElementFinding(
        element=element.value,
        label=ELEMENT_LABELS[element],
        required=SPECS[element].blocking,
        status=status,
        status_words=STATUS_WORDS[status],
        suggestion="" if present else advice,
        note=advice if present else "",
    )


def _findings(valid: bool, items: list[ElementFinding]) -> Findings:
    items.sort(key=lambda i: not i.required)  # stable: the scanner's order within each group
    return Findings(valid=valid, verdict=verdict_words(valid), items=tuple(items))


def findings_of_scan(result: ConsentScan) -> Findings:
    return _findings(
        result.valid_for_voice_opt_in,
        [_finding(f.element, f.status, f.suggestion) for f in result.findings],
    )


def _stored_findings(stored: dict[str, Any]) -> Findings | None:
    """The verdict kept on a version; None if it cannot be read (then it is judged anew)."""
    items: list[ElementFinding] = []
    for raw in stored.get("findings") or []:
        try:
            element, status = Element(raw["element"]), Status(raw["status"])
        except (KeyError, TypeError, ValueError):
            return None  # another scanner's elements: judge the text again
        items.append(_finding(element, status, str(raw.get("suggestion") or "")))
    if not items:
        return None
    return _findings(bool(stored.get("valid_for_voice_opt_in")), items)


def version_findings(version: FormVersion, account: Account) -> Findings:
    stored = _stored_findings(version.scan) if version.scan is not None else None
    if stored is not None:
        return stored
    return findings_of_scan(best_scan(version.consent_text, business_names(account))[0])


def draft_findings(*, uow: UnitOfWork, scope: TenantScope, text: str) -> Findings:
    """The scanner on a text that is not saved (what saving it would make of it)."""
    account = account_of(uow, scope)
    return findings_of_scan(best_scan(text, business_names(account))[0])


@dataclass(frozen=True, slots=True)
class Suggested:
    text: str
    added: bool
    message: str


def with_suggestion(*, uow: UnitOfWork, scope: TenantScope, text: str, element: str) -> Suggested:
    """`text` with the scanner's wording for `element` added at its end (or, for
    RECOMMENDED, the whole recommended text instead); nothing is saved."""
    result, name = best_scan(text, business_names(account_of(uow, scope)))
    if element == RECOMMENDED:
        return Suggested(
            result.recommended_text, True, "The recommended text replaced the text below."
        )
    try:
        chosen = Element(element)
    except ValueError:
        raise InvalidField("element", "choose one of the listed findings") from None
    label = ELEMENT_LABELS[chosen]
    if result.status(chosen) is Status.PRESENT:
        return Suggested(text, False, f"“{label}”: the text below already covers it.")
    # Asked anew with the box shown unchecked: the scanner's advice on a pre-ticked box is an
    # instruction to staff, not wording for the patient to read.
    wording = suggestion(
        chosen,
        business=name,
        covers_sms=result.covers_sms,
        prechecked=False,
        language="es" if result.language == "es" else "en",
    )
    joined = f"{text.rstrip()} {wording}" if text.strip() else wording
    return Suggested(joined, True, f"Suggested wording for “{label}” added to the text below.")


# --- checking what staff typed -----------------------------------------------------------------


def check_fields(*, name: str, consent_text: str) -> None:
    """The API schema's rules for a form's fields, as sentences for the page's form."""
    problems: list[InvalidField] = []
    if not name.strip():
        problems.append(InvalidField("name", "Give the form a name."))
    elif len(name) > NAME_MAX:
        problems.append(InvalidField("name", f"The name can be at most {NAME_MAX} characters."))
    if not consent_text.strip():
        problems.append(InvalidField("consent_text", "Enter the consent text patients agree to."))
    elif len(consent_text) > TEXT_MAX:
        problems.append(
            InvalidField(
                "consent_text", f"The consent text can be at most {TEXT_MAX:,} characters."
            )
        )
    if problems:
        raise InvalidFields(problems)


def account_of(uow: UnitOfWork, scope: TenantScope) -> Account:
    account = uow.session.get(Account, scope.account_id)
    assert account is not None  # the signed-in key's account
    return account
