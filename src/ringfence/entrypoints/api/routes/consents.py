"""Consent evidence for a contact: append-only (there is no update or delete route)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, status
from sqlalchemy import select

from ringfence.adapters.db.orm import ConsentRecord, Contact
from ringfence.entrypoints.api.deps import (
    Scope,
)
from ringfence.entrypoints.api.schemas.contacts import (
    ConsentCreate,
    ConsentEvidenceItemOut,
    ConsentEvidenceOut,
    ConsentOut,
)
from ringfence.entrypoints.deps import (
    Uow,
)
from ringfence.services import consent
from ringfence.services.consent import ConsentEvidence
from ringfence.services.consent_evidence import evidence_file
from ringfence.services.tenancy import get_owned

router = APIRouter(prefix="/contacts/{contact_id}/consents", tags=["contacts"])
ContactId = Annotated[int, Path(ge=1, le=2**31 - 1)]


@router.get("", response_model=list[ConsentOut], summary="List a contact's consent evidence")
def list_consents(uow: Uow, scope: Scope, contact_id: ContactId) -> list[ConsentOut]:
    """Every consent record of the contact, oldest first: opt-ins, manual consents, revocations."""
    contact = get_owned(uow.session, Contact, contact_id, scope)
    rows = uow.session.scalars(
        select(ConsentRecord)
        .where(ConsentRecord.contact_id == contact.id, ConsentRecord.account_id == scope.account_id)
        .order_by(ConsentRecord.recorded_at, ConsentRecord.id)
    )
    return [ConsentOut.model_validate(row) for row in rows]


@router.get(
    "/evidence",
    response_model=ConsentEvidenceOut,
    summary="The contact's consent evidence as one document (for a TCPA dispute)",
)
def consent_evidence(uow: Uow, scope: Scope, contact_id: ContactId) -> ConsentEvidenceOut:
    """Every consent record with the exact text shown, its SHA-256 and whether the stored
    text still matches it, the time, IP address, user agent and page URL; and whether voice
    consent is in force now. A printable page of the same is at
    `/app/contacts/{contact_id}/consent-evidence`."""
    contact = get_owned(uow.session, Contact, contact_id, scope)
    document = evidence_file(uow.session, contact, now=uow.clock.now())
    return ConsentEvidenceOut(
        contact_id=contact.id,
        name=f"{contact.first_name} {contact.last_name}".strip(),
        phone_e164=contact.phone_e164,
        generated_at=document.generated_at,
        voice_consent_in_force=document.active_voice_consent,
        records=[
            ConsentEvidenceItemOut(
                **ConsentOut.model_validate(item.record).model_dump(),
                text_matches_hash=item.text_matches_hash,
            )
            for item in document.items
        ],
    )


@router.post(
    "",
    response_model=ConsentOut,
    status_code=status.HTTP_201_CREATED,
    summary="Record consent evidence (or a revocation)",
)
def add_consent(uow: Uow, scope: Scope, contact_id: ContactId, body: ConsentCreate) -> ConsentOut:
    """Append a consent record. For `crm_form` the exact consent text of the named form version
    is copied into the record; `manual_written` needs who confirmed the written consent and a
    note saying where it is kept. Records can never be changed or deleted afterwards."""
    record = consent.add_consent(
        uow=uow, scope=scope, contact_id=contact_id, evidence=ConsentEvidence(**body.model_dump())
    )
    return ConsentOut.model_validate(record)
