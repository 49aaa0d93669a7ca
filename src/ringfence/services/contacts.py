"""Contacts: creating, changing and deleting one, with the rules that go beyond storing fields
(the location is the caller's, tags by name, one contact per number and location, audited
consent-relevant flags, opt-out signals suppressing the number practice-wide)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TypedDict

from ringfence.adapters.db.orm import Contact, Tag
from ringfence.domain.compliance import SuppressionSource
from ringfence.domain.tags import OPT_OUT_TAG
from ringfence.domain.vocabulary import Channel, ContactSource
from ringfence.services import audit
from ringfence.services.errors import Conflict, InvalidField, NotFound
from ringfence.services.repositories import Queries
from ringfence.services.tenancy import unknown_reference
from ringfence.services.unit_of_work import AbstractUnitOfWork, TenantScope

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

# Fields a contact always has: a change may set them, never clear them.
REQUIRED_FIELDS = ("first_name", "last_name", "dnd_voice", "dnd_sms", "dnd_email", "tags")


class ContactFields(TypedDict, total=False):
    """A contact's fields as a caller gives them: all of them for a new contact, only those
    that change for an update (a key present with None clears the field). `phone` is E.164,
    `tags` are existing tag names."""

    first_name: str | None
    last_name: str | None
    phone: str | None
    email: str | None
    source: ContactSource
    tags: list[str] | None
    dnd_voice: bool | None
    dnd_sms: bool | None
    dnd_email: bool | None
    opted_out_at: datetime | None
    opted_out_channel: Channel | None
    last_contacted_at: datetime | None
    last_engaged_at: datetime | None
    address_line1: str | None
    city: str | None
    state: str | None
    postal_code: str | None


def create_contact(
    *, uow: AbstractUnitOfWork, scope: TenantScope, location_id: int, fields: ContactFields
) -> Contact:
    """A new contact at one of the caller's locations; committed."""
    try:
        uow.locations.owned(scope, location_id)
    except NotFound as exc:
        raise unknown_reference("location_id", location_id) from exc
    _ensure_required(fields)
    contact = Contact(account_id=scope.account_id, location_id=location_id)
    now = uow.clock.now()
    apply_contact_changes(
        uow=uow, scope=scope, contact=contact, changes=fields, now=now, creating=True
    )
    uow.triggers.contact_saved(scope, contact, tags_before=set(), opted_out_before=False, now=now)
    uow.commit()
    return contact


def update_contact(
    *, uow: AbstractUnitOfWork, scope: TenantScope, contact_id: int, changes: ContactFields
) -> Contact:
    """Change the fields present in `changes`; committed."""
    contact = uow.contacts.owned(scope, contact_id)
    _ensure_required(changes)
    tags_before = {tag.name for tag in contact.tags}
    opted_out_before = contact.opted_out_at is not None
    now = uow.clock.now()
    apply_contact_changes(
        uow=uow, scope=scope, contact=contact, changes=changes, now=now, creating=False
    )
    uow.triggers.contact_saved(
        scope, contact, tags_before=tags_before, opted_out_before=opted_out_before, now=now
    )
    uow.commit()
    return contact


def delete_contact(*, uow: AbstractUnitOfWork, scope: TenantScope, contact_id: int) -> None:
    """Consent evidence is kept for disputes, so a contact that has some cannot be deleted."""
    contact = uow.contacts.owned(scope, contact_id)
    evidence = uow.contacts.consent_records(contact)
    if evidence:
        raise Conflict(
            f"contact {contact.id} has {evidence} consent record(s); consent evidence is kept "
            "for TCPA disputes, so set DND/opt-out instead of deleting the contact"
        )
    uow.contacts.delete(contact)
    uow.commit()


def _ensure_required(changes: ContactFields) -> None:
    for name in REQUIRED_FIELDS:
        if name in changes and changes.get(name) is None:
            raise InvalidField(name, "may not be null")


def resolve_tags(uow: Queries, scope: TenantScope, names: Sequence[str]) -> list[Tag]:
    """The account's tags with these names; an unknown name is a field error, not a new tag.

    Tags drive workflow audiences (opt-out, QA test tag...), so a typo must not silently
    create a tag that no audience filter matches.
    """
    wanted = list(dict.fromkeys(names))
    if not wanted:
        return []
    found = {tag.name: tag for tag in uow.tags.named(scope, wanted)}
    missing = [name for name in wanted if name not in found]
    if missing:
        raise InvalidField("tags", f"unknown tag(s): {', '.join(missing)} (create them first)")
    return [found[name] for name in wanted]


def ensure_phone_free(
    uow: Queries, *, location_id: int, phone: str | None, except_id: int | None = None
) -> None:
    """One contact per number at a location (a second one would split its consent trail)."""
    if phone is None:
        return
    holder = uow.contacts.by_phone(location_id=location_id, phone=phone)
    if holder is not None and holder.id != except_id:
        raise Conflict(f"phone: another contact ({holder.id}) at this location has {phone}")


def apply_contact_changes(
    *,
    uow: Queries,
    scope: TenantScope,
    contact: Contact,
    changes: ContactFields,
    now: datetime,
    creating: bool,
) -> None:
    """Write `changes` to `contact`, auditing DND and opt-out transitions; every opt-out
    signal (voice DND, the opt-out flag, the "Opted Out" tag) set here, or a number changed
    while one is set, suppresses the number practice-wide. Does not commit: the create and
    update use cases above do, and the simulation applies many in one transaction (passing
    its session's `SqlQueries` as `uow`)."""
    before = audit.snapshot(contact, AUDITED_FIELDS) if not creating else {}
    signals_before = set() if creating else _opt_out_signals(contact)
    phone_before = None if creating else contact.phone_e164
    plain: dict[str, object] = dict(changes)
    if "tags" in changes:
        del plain["tags"]
        tags = resolve_tags(uow, scope, changes["tags"] or [])
        dropped = SuppressionSource.OPT_OUT_TAG in signals_before and all(
            tag.name != OPT_OUT_TAG for tag in tags
        )
        if dropped and uow.opt_outs.suppressed_now(contact, now):
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
        del plain["phone"]
        phone = changes["phone"]
        ensure_phone_free(
            uow,
            location_id=contact.location_id,
            phone=phone,
            except_id=None if creating else contact.id,
        )
        contact.phone_e164 = phone
    for name, value in plain.items():
        setattr(contact, name, value)
    if (contact.opted_out_at is None) != (contact.opted_out_channel is None):
        raise InvalidField(
            "opted_out_at", "opted_out_at and opted_out_channel are set (or cleared) together"
        )
    contact.updated_at = now
    if creating:
        contact.created_at = now
        uow.contacts.add(contact)
    signals = _opt_out_signals(contact)
    new_signals = signals - signals_before
    if contact.phone_e164 != phone_before:
        new_signals = signals  # a new number of a contact who opted out is suppressed too
    if new_signals:
        uow.opt_outs.suppress(
            scope,
            contact.phone_e164,
            at=now,
            source=min(new_signals),
            contact_id=contact.id,
            note=f"{', '.join(sorted(new_signals))} set on contact {contact.id} by {scope.actor}",
        )
    elif contact.phone_e164 != phone_before and uow.opt_outs.suppressed_now(contact, now):
        # A new contact (or a new number) for a number that opted out carries the tag too.
        uow.opt_outs.tag_opted_out(contact, now)
    _audit_flags(uow, scope, contact, before, now=now, creating=creating)


def _audit_flags(
    uow: Queries,
    scope: TenantScope,
    contact: Contact,
    before: dict[str, object],
    *,
    now: datetime,
    creating: bool,
) -> None:
    after = audit.snapshot(contact, AUDITED_FIELDS)
    if creating:
        flagged = {k: v for k, v in after.items() if v not in (None, False) and k != "phone_e164"}
        if flagged:
            uow.audit.record(
                scope,
                entity_type="contact",
                entity_id=contact.id,
                action="contact.created_with_flags",
                at=now,
                after=flagged,
            )
        return
    changed = audit.changed_fields(before, after)
    if changed is not None:
        uow.audit.record(
            scope,
            entity_type="contact",
            entity_id=contact.id,
            action="contact.flags_changed",
            at=now,
            before=changed[0],
            after=changed[1],
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
