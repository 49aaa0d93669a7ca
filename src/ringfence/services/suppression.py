"""The practice-wide suppression ledger: one entry per (account, phone number).

Consent, opt-out and suppression are facts about a phone number within a practice, not about
one contact row: the same number saved as a second contact, or at a second location, belongs
to the same person. Every opt-out path calls `suppress_number` (the agent hearing "stop calling
me", the "Opted Out" tag being added, voice DND, the opt-out flag, a revocation on any
channel), which in one transaction:

- writes (or moves forward) the number's entry;
- tags every contact of the account with that number "Opted Out" (the tag mirrors the entry);
- cancels their queued and deferred calls and takes them out of every workflow.

Leaving suppression takes new consent: clearing a flag or removing the tag changes nothing;
only consent for the number recorded after the opt-out does (the gate compares instants), and
`lift_by_consent` then takes the tag off again. On PostgreSQL the writer holds the same
advisory lock per (account, number) that the dispatcher takes while deciding, so an opt-out
and a dial decision on one number never interleave.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from ringfence.adapters.db.orm import Contact, NumberSuppression, Tag
from ringfence.domain.compliance import Suppression, SuppressionSource
from ringfence.domain.compliance.gate import consent_in_force
from ringfence.domain.tags import OPT_OUT_TAG
from ringfence.services import audit
from ringfence.services.call_jobs import cancel_pending
from ringfence.services.dispatch_queries import account_lock_key, number_lock_key
from ringfence.services.facts import consent_facts
from ringfence.services.unit_of_work import TenantScope
from ringfence.services.workflows.exits import exit_opted_out

# Timestamps keep microseconds on both databases: the smallest step "after" a consent.
_AFTER = timedelta(microseconds=1)


@dataclass(frozen=True, slots=True)
class _Number:
    id: int
    account_id: int
    phone_e164: str | None


@dataclass(frozen=True, slots=True)
class Suppressed:
    entry: NumberSuppression
    contact_ids: tuple[int, ...]  # every contact of the account with the number
    canceled_calls: int


def lock_number(session: Session, account_id: int, phone: str) -> None:
    """Wait for the dispatcher's decision on this number (PostgreSQL; SQLite serializes
    writers on its own)."""
    if session.get_bind().dialect.name == "postgresql":
        # The account key shared first (a bulk suppression holds it exclusively, see
        # services/suppression_bulk.py), then the number's own key; always in this order.
        session.execute(
            text("SELECT pg_advisory_xact_lock_shared(:k)"), {"k": account_lock_key(account_id)}
        )
        session.execute(
            text("SELECT pg_advisory_xact_lock(:k)"), {"k": number_lock_key(account_id, phone)}
        )


def suppression_of(session: Session, account_id: int, phone: str) -> NumberSuppression | None:
    return session.scalars(
        select(NumberSuppression).where(
            NumberSuppression.account_id == account_id, NumberSuppression.phone_e164 == phone
        )
    ).first()


def as_fact(entry: NumberSuppression | None) -> Suppression | None:
    if entry is None:
        return None
    return Suppression(entry.suppressed_at, SuppressionSource(entry.source))


def suppress_number(
    session: Session,
    scope: TenantScope,
    phone: str | None,
    *,
    at: datetime,
    source: SuppressionSource,
    contact_id: int | None,
    note: str | None = None,
    keep_call_job: int | None = None,
) -> Suppressed | None:
    """Suppress `phone` at the account from `at` on; idempotent (a later opt-out moves the
    entry forward, an earlier one changes nothing). `keep_call_job` is the call that heard the
    opt-out: its enrollment goes on into its "opted out" branch. None without a number."""
    if not phone:
        return None
    lock_number(session, scope.account_id, phone)
    # An opt-out is stamped when it was said (a call's end), but written later: consent
    # recorded for the number in between must not count as coming "after" it. The entry is
    # moved just past the newest consent on file, so only consent written later lifts it.
    newest = newest_consent_on_file(session, scope.account_id, phone)
    if newest is not None and newest >= at:
        at = newest + _AFTER
    entry = suppression_of(session, scope.account_id, phone)
    before = None if entry is None else {"suppressed_at": entry.suppressed_at.isoformat()}
    if entry is None:
        entry = NumberSuppression(
            account_id=scope.account_id,
            phone_e164=phone,
            suppressed_at=at,
            source=source.value,
            contact_id=contact_id,
            note=note,
            created_at=at,
            updated_at=at,
        )
        session.add(entry)
    elif at > entry.suppressed_at:
        entry.suppressed_at, entry.source = at, source.value
        entry.contact_id, entry.note, entry.updated_at = contact_id, note, at
    session.flush()
    contacts = list(
        session.scalars(
            select(Contact)
            .where(Contact.account_id == scope.account_id, Contact.phone_e164 == phone)
            .order_by(Contact.id)
        )
    )
    canceled = 0
    for contact in contacts:
        tag_contact(session, contact, at)
        canceled += cancel_pending(
            session,
            account_id=scope.account_id,
            now=at,
            reason="opted_out",
            contact_id=contact.id,
        )
        keep = keep_call_job if contact.id == contact_id else None
        exit_opted_out(session, contact.id, at, keep_call_job=keep)
    session.flush()
    audit.record(
        session,
        scope,
        entity_type="number_suppression",
        entity_id=entry.id,
        action="number.suppressed",
        at=at,
        before=before,
        after={
            "phone_e164": phone,
            "suppressed_at": entry.suppressed_at.isoformat(),
            "source": source.value,
            "contact_id": contact_id,
            "contacts": [c.id for c in contacts],
            "canceled_calls": canceled,
        },
    )
    return Suppressed(entry, tuple(c.id for c in contacts), canceled)


def newest_consent_on_file(session: Session, account_id: int, phone: str) -> datetime | None:
    """The newest qualifying consent recorded for the number at the account (any contact),
    whenever it is stamped: a new opt-out is moved past it (see `suppress_number`)."""
    return consent_facts(session, [_Number(0, account_id, phone)])[0].newest_opt_in_on_file


def suppressed_now(session: Session, contact: Contact, now: datetime) -> bool:
    """Whether the contact's number is suppressed at its practice at `now`: the gate's own
    answer (`check_consent`'s latest qualifying consent, `Suppression.in_force`), so a writer
    can never disagree with the dispatcher. The number's lock is taken first, so the answer
    holds for the rest of the transaction."""
    if not contact.phone_e164:
        return False
    lock_number(session, contact.account_id, contact.phone_e164)
    entry = as_fact(suppression_of(session, contact.account_id, contact.phone_e164))
    if entry is None:
        return False
    consent_at = consent_in_force(consent_facts(session, [contact])[contact.id], now)
    return entry.in_force(consent_at)


def lift_by_consent(
    session: Session,
    scope: TenantScope,
    phone: str,
    *,
    consent_record_id: int,
    at: datetime,
) -> bool:
    """Consent for `phone` recorded at `at`, after its opt-out, lifts the suppression: the
    gate sees the newer consent by itself; here the "Opted Out" tag comes off the number's
    contacts so that the tag keeps mirroring the ledger. Audited; False if nothing to lift."""
    entry = suppression_of(session, scope.account_id, phone)
    if entry is None or entry.suppressed_at >= at:
        return False
    tag = session.scalars(
        select(Tag).where(Tag.account_id == scope.account_id, Tag.name == OPT_OUT_TAG)
    ).first()
    untagged: list[int] = []
    if tag is not None:
        for contact in session.scalars(
            select(Contact).where(
                Contact.account_id == scope.account_id, Contact.phone_e164 == phone
            )
        ):
            if tag in contact.tags:
                contact.tags.remove(tag)
                untagged.append(contact.id)
    audit.record(
        session,
        scope,
        entity_type="number_suppression",
        entity_id=entry.id,
        action="number.suppression_lifted",
        at=at,
        before={"suppressed_at": entry.suppressed_at.isoformat()},
        after={"consent_record_id": consent_record_id, "untagged_contacts": untagged},
    )
    return True


def tag_contact(session: Session, contact: Contact, at: datetime) -> None:
    """Put the "Opted Out" tag on `contact` (created for the account if it has none yet)."""
    tag = session.scalars(
        select(Tag).where(Tag.account_id == contact.account_id, Tag.name == OPT_OUT_TAG)
    ).first()
    if tag is None:
        tag = Tag(account_id=contact.account_id, name=OPT_OUT_TAG, created_at=at, updated_at=at)
        session.add(tag)
        session.flush()
    if tag not in contact.tags:
        contact.tags.append(tag)
