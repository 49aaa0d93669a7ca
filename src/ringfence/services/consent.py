"""Recording consent evidence (append-only) and revocations, bound to a phone number.

Consent is given for a telephone number, so every record names the number it covers (the
contact's number when it is recorded). A `crm_form` record keeps the consent scanner's verdict
on the exact form version; a version that failed the scan cannot carry consent (422). Every
revocation, on any channel, suppresses the number practice-wide (services/suppression.py);
leaving suppression takes new consent, and written consent for a suppressed number needs the
staff member's attestation.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from ringfence.adapters.db.orm import Account, ConsentRecord, Contact, Form, FormVersion
from ringfence.domain.compliance import SuppressionSource
from ringfence.domain.vocabulary import Channel, ConsentKind
from ringfence.services import audit
from ringfence.services.consent_review import scan_verdict
from ringfence.services.errors import InvalidField
from ringfence.services.suppression import (
    lift_by_consent,
    suppress_number,
    suppressed_now,
    tag_contact,
)
from ringfence.services.tenancy import get_owned, referenced
from ringfence.services.unit_of_work import TenantScope, UnitOfWork

ATTESTATION = (
    "I attest that written consent to calls using automated technology/AI voice is on file "
    "for these contacts"
)


@dataclass(frozen=True)
class ConsentEvidence:
    kind: ConsentKind
    channel: Channel = Channel.VOICE
    form_id: int | None = None
    form_version: int | None = None
    ip_address: str | None = None
    user_agent: str | None = None
    page_url: str | None = None
    confirmed_by: str | None = None
    note: str | None = None
    attestation: bool = False


def record_consent(
    session: Session,
    scope: TenantScope,
    contact: Contact,
    evidence: ConsentEvidence,
    *,
    now: datetime,
) -> ConsentRecord:
    """Append one consent record for `contact`'s number, copying the exact form text it refers
    to; a revocation also suppresses the number, an opt-in after an opt-out lifts it."""
    phone = contact.phone_e164
    opt_in = evidence.kind is not ConsentKind.REVOCATION
    record = ConsentRecord(
        account_id=scope.account_id,
        location_id=contact.location_id,
        contact_id=contact.id,
        kind=evidence.kind,
        channel=evidence.channel,
        recorded_at=now,
        ip_address=evidence.ip_address,
        user_agent=evidence.user_agent,
        page_url=evidence.page_url,
        confirmed_by=evidence.confirmed_by,
        note=evidence.note,
        recorded_by=scope.actor,
        phone_e164=phone,
    )
    if evidence.form_id is not None:
        form = referenced(session, Form, evidence.form_id, scope, field="form_id")
        if form.location_id != contact.location_id:
            raise InvalidField("form_id", "the form belongs to another location than the contact")
        number = evidence.form_version or form.current_version
        version = next((v for v in form.versions if v.version == number), None)
        if version is None:
            raise InvalidField("form_version", f"form {form.id} has no version {number}")
        record.form_id = form.id
        record.form_version = version.version
        # The text is copied, not referenced: the evidence must show exactly what was shown.
        record.consent_text = version.consent_text
        record.consent_text_sha256 = version.text_sha256
        if evidence.kind is ConsentKind.CRM_FORM:
            record.form_valid, record.scanner_version = _form_verdict(session, form, version)
    elif evidence.kind is ConsentKind.CRM_FORM:
        raise InvalidField("form_id", "required for a crm_form consent")
    if opt_in and not phone:
        raise InvalidField(
            "kind", "the contact has no phone number: consent is given for a phone number"
        )
    if (
        opt_in
        and phone
        and evidence.channel is Channel.VOICE
        and suppressed_now(session, contact, now)
    ):
        # New consent after an opt-out: written consent needs the attestation, and form
        # evidence is held until staff confirm it (anyone can type someone's number).
        if evidence.kind is ConsentKind.MANUAL_WRITTEN and not evidence.attestation:
            raise InvalidField(
                "attestation",
                f"{phone} opted out of calls at this practice; new written consent lifts that "
                f"only with the attestation: {ATTESTATION!r}",
            )
        record.held = evidence.kind is ConsentKind.CRM_FORM
    session.add(record)
    session.flush()
    audit.record(
        session,
        scope,
        entity_type="contact",
        entity_id=contact.id,
        action=f"consent.{evidence.kind.value}",
        at=now,
        after={
            "consent_record_id": record.id,
            "channel": evidence.channel.value,
            "phone_e164": phone,
            "form_id": record.form_id,
            "form_version": record.form_version,
            "form_valid": record.form_valid,
            "attestation": ATTESTATION if evidence.attestation else None,
        },
    )
    if not opt_in and phone:
        suppress_number(
            session,
            scope,
            phone,
            at=now,
            source=SuppressionSource.REVOCATION,
            contact_id=contact.id,
            note=f"revocation recorded on the {evidence.channel.value} channel",
        )
    elif not opt_in:
        # Said while the contact had no number: the tag is an opt-out signal, so a number
        # given later is suppressed as soon as it is saved (services/contacts.py).
        tag_contact(session, contact, now)
    elif phone and evidence.channel is Channel.VOICE and not record.held:
        lift_by_consent(session, scope, phone, consent_record_id=record.id, at=now)
    return record


def add_consent(
    *, uow: UnitOfWork, scope: TenantScope, contact_id: int, evidence: ConsentEvidence
) -> ConsentRecord:
    """`record_consent` for the caller's contact `contact_id` (else `NotFound`); committed."""
    contact = get_owned(uow.session, Contact, contact_id, scope)
    record = record_consent(uow.session, scope, contact, evidence, now=uow.clock.now())
    uow.commit()
    return record


def _form_verdict(session: Session, form: Form, version: FormVersion) -> tuple[bool, str]:
    """The scanner's verdict on the version, which must be valid for voice opt-in."""
    account = session.get(Account, form.account_id)
    assert account is not None  # the form's foreign key
    valid, scanner_version, gaps = scan_verdict(version, account)
    if not valid:
        raise InvalidField(
            "form_id",
            f"form {form.id} version {version.version} failed the voice-consent scan "
            f"({gaps or 'not valid for outbound voice opt-in'}): consent given through it is "
            "not consent to AI voice calls; fix the form's consent text, or confirm written "
            "consent instead",
        )
    return valid, scanner_version
