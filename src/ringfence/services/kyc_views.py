"""The business verification (KYC) page's history and read-only summary: every audit event
of the account's registration, newest first, in the audit log's own sentences and actor
words (`services/audit_views.py`), and the details the approval covers.

Reads only, scoped by the signed-in account.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from ringfence.adapters.db.kyc import KycRegistration
from ringfence.adapters.db.orm import AuditEvent
from ringfence.domain.kyc import Owner
from ringfence.services.audit_views import (
    actor_in_words,
    actor_names,
    describe_action,
    display_zone,
)
from ringfence.services.kyc import application_from_dict

ENTITY: Final = "kyc_registration"
# A registration sees a handful of events a year; a long-lived one is cut to the newest.
SHOWN: Final = 50


@dataclass(frozen=True, slots=True)
class HistoryLine:
    event_id: int
    at: datetime
    what: str
    who: str
    reasons: tuple[str, ...]  # why it was sent back, turned down or left for a person


@dataclass(frozen=True, slots=True)
class KycHistory:
    lines: tuple[HistoryLine, ...]
    time_zone: str
    zone_why: str
    more: bool  # older events exist beyond SHOWN (the audit log has them all)


def kyc_history(session: Session, *, account_id: int) -> KycHistory:
    events = session.scalars(
        select(AuditEvent)
        .where(AuditEvent.account_id == account_id, AuditEvent.entity_type == ENTITY)
        .order_by(AuditEvent.occurred_at.desc(), AuditEvent.id.desc())
        .limit(SHOWN + 1)
    ).all()
    shown = events[:SHOWN]
    names = actor_names(session, account_id=account_id, actors={e.actor for e in shown})
    where = display_zone(session, account_id=account_id)
    lines = tuple(
        HistoryLine(
            event_id=event.id,
            at=event.occurred_at,
            what=describe_action(event.action),
            who=_who(event, actor_in_words(event.actor, names)),
            reasons=_reasons(event.after),
        )
        for event in shown
    )
    return KycHistory(lines, where.name, where.why, more=len(events) > SHOWN)


def _who(event: AuditEvent, actor: str) -> str:
    # An approval outside the operators' desk is the automatic review, run inside the
    # submission it answers (and audited under the submitter's sign-in).
    if event.action == "kyc.approved" and not event.actor.startswith("operator:"):
        return f"The automatic review, right after the submission by {actor[0].lower()}{actor[1:]}"
    return actor


def _reasons(after: Mapping[str, Any] | None) -> tuple[str, ...]:
    reasons = (after or {}).get("reasons")
    if not isinstance(reasons, list):
        return ()
    return tuple(str(reason) for reason in reasons)


@dataclass(frozen=True, slots=True)
class RegisteredDetails:
    """What the approval covers, as registered (read-only above the form)."""

    legal_name: str
    dba: str
    ein: str
    address: str
    owners: tuple[str, ...]  # "Dana Reyes, Managing member, 100 % (control person)"
    representative: str


def registered_details(row: KycRegistration) -> RegisteredDetails:
    application = application_from_dict(row.application)
    address = application.address
    person = application.representative
    return RegisteredDetails(
        legal_name=row.legal_name,
        dba=application.dba or "—",
        ein=row.ein,
        address=", ".join(
            part
            for part in (address.street, address.city, address.state, address.postal_code)
            if part
        ),
        owners=tuple(_owner(owner) for owner in application.owners),
        representative=", ".join(
            part for part in (person.name, person.title, person.email) if part
        ),
    )


def _owner(owner: Owner) -> str:
    parts = (owner.name, owner.title, f"{owner.ownership_percent:g} %")
    words = ", ".join(part for part in parts if part)
    return f"{words} (control person)" if owner.control_person else words
