"""Recording consent evidence (append-only) and revocations."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from ringfence.adapters.db.orm import ConsentRecord, Contact, Form
from ringfence.domain.vocabulary import Channel, ConsentKind
from ringfence.services import audit
from ringfence.services.errors import InvalidField
from ringfence.services.tenancy import referenced
from ringfence.services.unit_of_work import TenantScope


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


def record_consent(
    session: Session,
    scope: TenantScope,
    contact: Contact,
    evidence: ConsentEvidence,
    *,
    now: datetime,
) -> ConsentRecord:
    """Append one consent record for `contact`, copying the exact form text it refers to."""
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
    elif evidence.kind is ConsentKind.CRM_FORM:
        raise InvalidField("form_id", "required for a crm_form consent")
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
            "form_id": record.form_id,
            "form_version": record.form_version,
        },
    )
    return record
