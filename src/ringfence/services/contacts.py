"""Contact rules that go beyond storing fields: tags by name, audited consent-relevant flags."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ringfence.adapters.db.orm import ConsentRecord, Contact, Tag
from ringfence.domain.compliance import SuppressionSource
from ringfence.domain.tags import OPT_OUT_TAG
from ringfence.services import audit
from ringfence.services.errors import Conflict, InvalidField
from ringfence.services.suppression import suppress_number, suppressed_now, tag_contact
from ringfence.services.unit_of_work import TenantScope

# Every change to these is a compliance fact: the audit log keeps who changed it and how.
# The phone number too: consent is bound to the number, so the audit log keeps which number a
# contact had when.
AUDITED_FIELDS = (
    "phone_e164",
    "dnd_voice",
    "dnd_sms",
    "dnd_email",
    "opted_out_at",
    "opted_out_channel",
)


def resolve_tags(session: Session, scope: TenantScope, names: Sequence[str]) -> list[Tag]:
    """The account's tags with these names; an unknown name is a field error, not a new tag.

    Tags drive workflow audiences (opt-out, QA test tag...), so a typo must not silently
    create a tag that no audience filter matches.
    """
    wanted = list(dict.fromkeys(names))
    if not wanted:
        return []
    found = {
        tag.name: tag
        for tag in session.scalars(
            select(Tag).where(Tag.account_id == scope.account_id, Tag.name.in_(wanted))
        )
    }
    missing = [name for name in wanted if name not in found]
    if missing:
        raise InvalidField("tags", f"unknown tag(s): {', '.join(missing)} (create them first)")
    return [found[name] for name in wanted]


def ensure_phone_free(
    session: Session, *, location_id: int, phone: str | None, except_id: int | None = None
) -> None:
    if phone is None:
        return
    query = select(Contact.id).where(
        Contact.location_id == location_id, Contact.phone_e164 == phone
    )
    if except_id is not None:
        query = query.where(Contact.id != except_id)
    existing = session.scalars(query).first()
    if existing is not None:
        raise Conflict(f"phone: another contact ({existing}) at this location has {phone}")


def apply_contact_changes(
    session: Session,
    scope: TenantScope,
    contact: Contact,
    changes: dict[str, Any],
    *,
    now: datetime,
    creating: bool,
) -> None:
    """Write `changes` to `contact`, auditing DND and opt-out transitions; every opt-out
    signal (voice DND, the opt-out flag, the "Opted Out" tag) set here, or a number changed
    while one is set, suppresses the number practice-wide."""
    before = audit.snapshot(contact, AUDITED_FIELDS) if not creating else {}
    signals_before = set() if creating else _opt_out_signals(contact)
    phone_before = None if creating else contact.phone_e164
    if "tags" in changes:
        tags = resolve_tags(session, scope, changes.pop("tags") or [])
        dropped = SuppressionSource.OPT_OUT_TAG in signals_before and all(
            tag.name != OPT_OUT_TAG for tag in tags
        )
        if dropped and suppressed_now(session, contact, now):
            # The tag mirrors the number's suppression: removing it would show a patient as
            # callable who is not. Only new consent for the number lifts both.
            raise InvalidField(
                "tags",
                f'"{OPT_OUT_TAG}" stays while {contact.phone_e164} is suppressed: the number '
                "opted out at this practice, and only consent recorded after the opt-out "
                "(written consent confirmed with the attestation) lifts it",
            )
        contact.tags = tags
    if "phone" in changes:
        phone = changes.pop("phone")
        ensure_phone_free(
            session,
            location_id=contact.location_id,
            phone=phone,
            except_id=None if creating else contact.id,
        )
        contact.phone_e164 = phone
    for name, value in changes.items():
        setattr(contact, name, value)
    if (contact.opted_out_at is None) != (contact.opted_out_channel is None):
        raise InvalidField(
            "opted_out_at", "opted_out_at and opted_out_channel are set (or cleared) together"
        )
    contact.updated_at = now
    if creating:
        contact.created_at = now
        session.add(contact)
    session.flush()
    signals = _opt_out_signals(contact)
    new_signals = signals - signals_before
    if contact.phone_e164 != phone_before:
        new_signals = signals  # a new number of a contact who opted out is suppressed too
    if new_signals:
        suppress_number(
            session,
            scope,
            contact.phone_e164,
            at=now,
            source=min(new_signals),
            contact_id=contact.id,
            note=f"{', '.join(sorted(new_signals))} set on contact {contact.id} by {scope.actor}",
        )
    elif contact.phone_e164 != phone_before and suppressed_now(session, contact, now):
        # A new contact (or a new number) for a number that opted out carries the tag too.
        tag_contact(session, contact, now)
    after = audit.snapshot(contact, AUDITED_FIELDS)
    if creating:
        flagged = {k: v for k, v in after.items() if v not in (None, False) and k != "phone_e164"}
        if flagged:
            audit.record(
                session,
                scope,
                entity_type="contact",
                entity_id=contact.id,
                action="contact.created_with_flags",
                at=now,
                after=flagged,
            )
        return
    audit.record_changes(
        session,
        scope,
        entity_type="contact",
        entity_id=contact.id,
        action="contact.flags_changed",
        at=now,
        before=before,
        after=after,
    )


def _opt_out_signals(contact: Contact) -> set[SuppressionSource]:
    signals = set()
    if contact.dnd_voice:
        signals.add(SuppressionSource.DND_VOICE)
    if contact.opted_out_at is not None:
        signals.add(SuppressionSource.OPT_OUT_FLAG)
    if any(tag.name == OPT_OUT_TAG for tag in contact.tags):
        signals.add(SuppressionSource.OPT_OUT_TAG)
    return signals


def ensure_deletable(session: Session, contact: Contact) -> None:
    """Consent evidence is kept for disputes, so a contact that has some cannot be deleted."""
    evidence = session.scalar(
        select(func.count())
        .select_from(ConsentRecord)
        .where(ConsentRecord.contact_id == contact.id)
    )
    if evidence:
        raise Conflict(
            f"contact {contact.id} has {evidence} consent record(s); consent evidence is kept "
            "for TCPA disputes, so set DND/opt-out instead of deleting the contact"
        )
