"""Staff confirming, for many contacts at once, that their written consent is on file.

The product description: "For contacts imported from external sources, you must confirm
written consent manually before adding them to outbound workflows." One `manual_written`
consent record per contact, all or nothing, behind an explicit attestation.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from ringfence.adapters.db.orm import ConsentRecord, Contact, NumberSuppression
from ringfence.domain.compliance import DEFAULT_POLICY, ReasonCode
from ringfence.domain.compliance.gate import check_consent
from ringfence.domain.vocabulary import ConsentKind
from ringfence.services import audit
from ringfence.services.consent import ATTESTATION, ConsentEvidence, record_consent
from ringfence.services.errors import Conflict, InvalidField, InvalidFields
from ringfence.services.facts import aware, consent_facts, suppression_facts
from ringfence.services.suppression import lock_number, suppression_of
from ringfence.services.tenancy import get_owned
from ringfence.services.unit_of_work import TenantScope, UnitOfWork

MAX_CONTACTS: Final = 1000
CONFIRMED_BY_MAX: Final = 200  # the column's length
NOTE_MAX: Final = 20_000


@dataclass(frozen=True, slots=True)
class ConfirmedBatch:
    recorded_at: datetime
    records: list[ConsentRecord]


def confirm_batch(
    *,
    uow: UnitOfWork,
    scope: TenantScope,
    contact_ids: Sequence[int],
    confirmed_by: str,
    note: str,
    attestation: bool,
) -> ConfirmedBatch:
    """`confirm_written_consent` as one use case; committed."""
    now = uow.clock.now()
    records = confirm_written_consent(
        uow.session,
        scope,
        contact_ids,
        confirmed_by=confirmed_by,
        note=note,
        attestation=attestation,
        now=now,
    )
    uow.commit()
    return ConfirmedBatch(recorded_at=now, records=records)


def confirm_written_consent(
    session: Session,
    scope: TenantScope,
    contact_ids: Sequence[int],
    *,
    confirmed_by: str,
    note: str,
    attestation: bool,
    now: datetime,
) -> list[ConsentRecord]:
    """One `manual_written` voice consent record per contact (ids listed twice count once),
    in the order given; each is audited by `record_consent`, and the batch once more with the
    attestation's exact words.

    All or nothing: an id that is not a contact of the caller's account fails the whole batch
    naming it, and so does a contact whose consent is currently revoked. A revocation ("stop
    calling me") comes after the written consent on file, so attesting to that older consent
    in bulk must not switch calling back on (FCC 24-24); new consent from such a patient is
    recorded on its own, for that contact.
    """
    confirmed_by, note = _checked_evidence(confirmed_by, note, attestation)
    ids = list(dict.fromkeys(contact_ids))
    if not ids:
        raise InvalidField("contact_ids", "name at least one contact")
    if len(ids) > MAX_CONTACTS:
        raise InvalidField("contact_ids", f"at most {MAX_CONTACTS} contacts per batch")
    found = {
        contact.id: contact
        for contact in session.scalars(
            select(Contact).where(Contact.account_id == scope.account_id, Contact.id.in_(ids))
        )
    }
    missing = [contact_id for contact_id in ids if contact_id not in found]
    if missing:
        raise InvalidField("contact_ids", f"no such contact(s): {_listed(missing)}")
    # Lock the numbers (in one order) before reading: an opt-out committed meanwhile waits for
    # this decision instead of slipping between the read and the write.
    for phone in sorted({c.phone_e164 for c in found.values() if c.phone_e164}):
        lock_number(session, scope.account_id, phone)
    facts = consent_facts(session, found.values())
    suppressed = suppression_facts(
        session, ((c.account_id, c.phone_e164) for c in found.values() if c.phone_e164)
    )
    revoked = []
    for contact_id in ids:
        contact = found[contact_id]
        check, consent_at = check_consent(contact.source, facts[contact_id], now, DEFAULT_POLICY)
        entry = suppressed.get((contact.account_id, contact.phone_e164 or ""))
        if check.reason is ReasonCode.CONSENT_REVOKED or (
            entry is not None and entry.in_force(consent_at)
        ):
            revoked.append(contact_id)
    if revoked:
        raise InvalidField(
            "contact_ids",
            f"contact(s) {_listed(revoked)} revoked their consent or opted out: a bulk "
            "confirmation cannot override that; record new consent for each of them on its own",
        )
    evidence = ConsentEvidence(
        kind=ConsentKind.MANUAL_WRITTEN, confirmed_by=confirmed_by, note=note, attestation=True
    )
    records = [
        record_consent(session, scope, found[contact_id], evidence, now=now) for contact_id in ids
    ]
    audit.record(
        session,
        scope,
        entity_type="account",
        entity_id=scope.account_id,
        action="consent.manual_written_batch",
        at=now,
        after={
            "contact_ids": ids,
            "consent_record_ids": [record.id for record in records],
            "confirmed_by": confirmed_by,
            "note": note,
            "attestation": ATTESTATION,
        },
    )
    session.flush()
    return records


def confirm_for_contact(
    *,
    uow: UnitOfWork,
    scope: TenantScope,
    contact_id: int,
    confirmed_by: str,
    note: str,
    attestation: bool,
    opt_out_seen: str | None = None,
) -> ConsentRecord:
    """Staff confirming one patient's written consent from the contact's own page; committed.

    `opt_out_seen` is the number's opt-out as the page showed it (`opt_out_marker`): when the
    number has opted out (again) since, `Conflict`, nothing recorded, so a page left open
    can never lift an opt-out its reader did not see. The number is locked first, as the
    dispatcher and the other consent writers lock it.

    The same evidence as the bulk confirmation (who confirmed, where the signed consent is
    kept, the attestation), every missing piece named at once. Unlike the bulk confirmation a
    number that opted out is not refused: this is the "new consent recorded for that contact
    on its own" that the bulk refusal points to, and `record_consent` lets attested written
    consent lift the opt-out (FCC 24-24: new consent after a revocation). `NotFound` for
    anything but the caller's contact.
    """
    confirmed_by, note = _checked_evidence(confirmed_by, note, attestation)
    contact = get_owned(uow.session, Contact, contact_id, scope)
    if contact.phone_e164:
        lock_number(uow.session, scope.account_id, contact.phone_e164)
        if opt_out_seen is not None:
            current = suppression_of(uow.session, scope.account_id, contact.phone_e164)
            if opt_out_marker(current) != opt_out_seen:
                raise Conflict(
                    "the number's opt-out changed since the page was opened: "
                    "read the page again before recording consent"
                )
    evidence = ConsentEvidence(
        kind=ConsentKind.MANUAL_WRITTEN, confirmed_by=confirmed_by, note=note, attestation=True
    )
    record = record_consent(uow.session, scope, contact, evidence, now=uow.clock.now())
    uow.commit()
    return record


def opt_out_marker(entry: NumberSuppression | None) -> str:
    """What a page records of the number's opt-out when it is shown: when it was made ("" for
    none); a later opt-out (or a re-suppression) changes it."""
    return "" if entry is None else str(int(aware(entry.suppressed_at).timestamp()))


def _checked_evidence(confirmed_by: str, note: str, attestation: bool) -> tuple[str, str]:
    """The written-consent evidence, trimmed; every problem at once (`InvalidFields`, which
    reads as its first: the attestation, then who, then where)."""
    confirmed_by, note = confirmed_by.strip(), note.strip()
    errors = []
    if not attestation:
        errors.append(InvalidField("attestation", f"must be true: {ATTESTATION!r}"))
    if not confirmed_by:
        errors.append(InvalidField("confirmed_by", "required: who confirmed the written consent"))
    elif len(confirmed_by) > CONFIRMED_BY_MAX:
        errors.append(InvalidField("confirmed_by", f"at most {CONFIRMED_BY_MAX} characters"))
    if not note:
        errors.append(InvalidField("note", "required: where the written consent is kept"))
    elif len(note) > NOTE_MAX:
        errors.append(InvalidField("note", f"at most {NOTE_MAX} characters"))
    if errors:
        raise InvalidFields(errors)
    return confirmed_by, note


def _listed(ids: Sequence[int]) -> str:
    shown = ", ".join(str(i) for i in ids[:20])
    return shown if len(ids) <= 20 else f"{shown} and {len(ids) - 20} more"
