"""Consent records that no longer qualify under the number-keyed ledger.

`ringfence consent audit` lists them so a practice can see which patients lost their consent
when the rules were tightened (and why), instead of finding out from a "Failed" call. The gate
already refuses each of them with the reason code given here; nothing is changed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from ringfence.adapters.db.orm import ConsentRecord, Contact
from ringfence.domain.compliance import ReasonCode
from ringfence.domain.vocabulary import Channel, ConsentKind


class Problem(StrEnum):
    FORM_NOT_VALID = "form_not_valid"  # the form version failed the voice-consent scan
    HELD = "held_for_confirmation"  # a form submission after an opt-out, awaiting staff
    NUMBER_CHANGED = "number_changed"  # the record covers another number than the contact's
    NO_NUMBER = "no_number"  # the record covers no number at all


_REASONS = {
    Problem.FORM_NOT_VALID: ReasonCode.CONSENT_FORM_NOT_VALID,
    Problem.HELD: ReasonCode.CONSENT_HELD_FOR_CONFIRMATION,
    Problem.NUMBER_CHANGED: ReasonCode.CONSENT_FOR_OTHER_NUMBER,
    Problem.NO_NUMBER: ReasonCode.CONSENT_FOR_OTHER_NUMBER,
}


@dataclass(frozen=True, slots=True)
class Finding:
    consent_record_id: int
    account_id: int
    contact_id: int
    kind: ConsentKind
    recorded_at: datetime
    problem: Problem
    detail: str

    @property
    def reason(self) -> ReasonCode:
        """What the gate answers when this record is the contact's only consent."""
        return _REASONS[self.problem]


def audit_consent(session: Session, *, account_id: int | None = None) -> list[Finding]:
    """Every voice opt-in record that does not count for its contact's current number, oldest
    first (revocations always count and are never listed)."""
    query = (
        select(ConsentRecord, Contact.phone_e164)
        .join(Contact, Contact.id == ConsentRecord.contact_id)
        .where(
            ConsentRecord.kind != ConsentKind.REVOCATION,
            ConsentRecord.channel == Channel.VOICE,
        )
        .order_by(ConsentRecord.recorded_at, ConsentRecord.id)
    )
    if account_id is not None:
        query = query.where(ConsentRecord.account_id == account_id)
    findings = []
    for record, current in session.execute(query):
        problem = _problem(record, current)
        if problem is not None:
            findings.append(
                Finding(
                    consent_record_id=record.id,
                    account_id=record.account_id,
                    contact_id=record.contact_id,
                    kind=record.kind,
                    recorded_at=record.recorded_at,
                    problem=problem[0],
                    detail=problem[1],
                )
            )
    return findings


def _problem(record: ConsentRecord, current: str | None) -> tuple[Problem, str] | None:
    if record.kind is ConsentKind.CRM_FORM and record.form_valid is not True:
        return Problem.FORM_NOT_VALID, (
            f"form {record.form_id} version {record.form_version} failed the voice-consent "
            f"scan (scanner {record.scanner_version or 'unknown'})"
        )
    if record.held:
        return Problem.HELD, "submitted after the number opted out; staff must confirm"
    if record.phone_e164 is None:
        return Problem.NO_NUMBER, "the record names no phone number"
    if record.phone_e164 != current:
        return Problem.NUMBER_CHANGED, (
            f"consent covers {record.phone_e164}; the contact's number is now {current or 'none'}"
        )
    return None
