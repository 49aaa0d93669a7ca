"""A contact's consent evidence as one document: proof for a TCPA dispute.

Every record (opt-ins, confirmed written consents, revocations) with what the contact was
shown, when, from where, and a check that the stored text still hashes to the stored hash
(so a reader can see the text was not altered after the fact).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ringfence.adapters.db.orm import ConsentRecord, Contact
from ringfence.services.forms import text_sha256


@dataclass(frozen=True, slots=True)
class EvidenceItem:
    record: ConsentRecord
    text_matches_hash: bool | None  # None: no form text on this record


@dataclass(frozen=True, slots=True)
class EvidenceFile:
    contact: Contact
    items: tuple[EvidenceItem, ...]
    generated_at: datetime

    @property
    def active_voice_consent(self) -> bool:
        """Whether the latest voice record is an opt-in (a revocation ends the earlier ones)."""
        voice = [i.record for i in self.items if i.record.channel.value == "voice"]
        return bool(voice) and voice[-1].kind.value != "revocation"


def evidence_file(session: Session, contact: Contact, *, now: datetime) -> EvidenceFile:
    records = session.scalars(
        select(ConsentRecord)
        .where(
            ConsentRecord.contact_id == contact.id,
            ConsentRecord.account_id == contact.account_id,
        )
        .order_by(ConsentRecord.recorded_at, ConsentRecord.id)
    ).all()
    items = tuple(
        EvidenceItem(
            record=r,
            text_matches_hash=(
                text_sha256(r.consent_text) == r.consent_text_sha256
                if r.consent_text is not None
                else None
            ),
        )
        for r in records
    )
    return EvidenceFile(contact=contact, items=items, generated_at=now)
