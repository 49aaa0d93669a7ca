"""What the staff app's Contacts pages show: the account's contacts with their calling status,
and one contact's record, "can we call this patient?", its number's consent timeline and
suppression, and its calls.

Reads only, and only the signed-in account's rows. Every status comes from the compliance
gate itself (`services/facts.gather` + `domain/compliance.evaluate`, the dispatcher's own
path; `services/eligibility.call_eligibility` for one contact), so the page can never call a
patient callable whom the dispatcher would refuse. Consent and opt-out are facts about a phone
number within the practice: the timeline lists every record for the number, whichever
contact row it was recorded on.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from sqlalchemy import Row, Select, func, or_, select, tuple_
from sqlalchemy.orm import Session

from ringfence.adapters.db.orm import Contact, Location, Tag, contact_tags
from ringfence.domain.compliance import Defer, Dial, Evaluation, Outcome, evaluate
from ringfence.domain.vocabulary import CallPurpose, Channel
from ringfence.services.contact_appointments import ContactAppointments, contact_appointments
from ringfence.services.contact_history import (
    CallLine,
    SuppressionView,
    TimelineEntry,
    consent_timeline,
    contact_calls,
    suppression_view,
)
from ringfence.services.contact_words import (
    CHANNELS,
    CONTACT_SOURCES,
    PLAIN_REASONS,
    PLAIN_WARNINGS,
    CallingStatus,
    calling_status,
    full_name,
    phone_display,
)
from ringfence.services.eligibility import call_eligibility
from ringfence.services.errors import NotFound
from ringfence.services.facts import SNAPSHOT_COLUMNS, ContactSnapshot, Prospect, gather
from ringfence.services.tenancy import get_owned
from ringfence.services.unit_of_work import TenantScope

PAGE_SIZE: Final = 50
# The list's status reads the gate's consent, DND, opt-out and number checks, which do not
# depend on why a call would be made; one informational purpose stands for all five.
STATUS_PURPOSE: Final = CallPurpose.APPOINTMENT_CONFIRMATION


@dataclass(frozen=True, slots=True)
class LocationChoice:
    id: int
    name: str
    time_zone: str


@dataclass(frozen=True, slots=True)
class TagChoice:
    id: int
    name: str


@dataclass(frozen=True, slots=True)
class ContactRow:
    id: int
    name: str
    phone: str  # as staff write it
    location: str
    status: CallingStatus


@dataclass(frozen=True, slots=True)
class ContactList:
    rows: tuple[ContactRow, ...]
    locations: tuple[LocationChoice, ...]
    tags: tuple[TagChoice, ...]
    page: int
    has_next: bool
    total: int  # contacts in the account, whatever the filters: "none yet" vs "none match"


@dataclass(frozen=True, slots=True)
class ContactFilters:
    search: str = ""
    location_id: int | None = None
    tag_id: int | None = None
    status: CallingStatus | None = None

    @property
    def any(self) -> bool:
        return bool(self.search.strip()) or any(
            value is not None for value in (self.location_id, self.tag_id, self.status)
        )


def locations_of(session: Session, scope: TenantScope) -> tuple[LocationChoice, ...]:
    rows = session.execute(
        select(Location.id, Location.name, Location.time_zone)
        .where(Location.account_id == scope.account_id)
        .order_by(Location.name, Location.id)
    ).all()
    return tuple(LocationChoice(*row) for row in rows)


def tags_of(session: Session, scope: TenantScope) -> tuple[TagChoice, ...]:
    rows = session.execute(
        select(Tag.id, Tag.name).where(Tag.account_id == scope.account_id).order_by(Tag.name)
    ).all()
    return tuple(TagChoice(*row) for row in rows)


# The list reads the gate's snapshot columns, not ORM objects (which would load every
# contact's tags too), plus the name and location it shows.
_SNAPSHOT: Final = tuple(getattr(Contact, name) for name in SNAPSHOT_COLUMNS)
_ORDER: Final = (Contact.first_name, Contact.last_name, Contact.id)
# Contacts evaluated per round trip when the status filter scans (see `_scan_by_status`).
SCAN_BATCH: Final = 500


def contact_list(
    session: Session, scope: TenantScope, filters: ContactFilters, *, page: int, now: datetime
) -> ContactList:
    """One page of the account's contacts (by name), narrowed by the search (part of a name,
    an email address, or of a phone number in any notation), one of its locations, one of
    its tags (`NotFound` for any other location or tag, another account's too) and a calling
    status."""
    locations = locations_of(session, scope)
    if filters.location_id is not None and all(loc.id != filters.location_id for loc in locations):
        raise NotFound(f"location {filters.location_id} not found")
    tags = tags_of(session, scope)
    if filters.tag_id is not None and all(tag.id != filters.tag_id for tag in tags):
        raise NotFound(f"tag {filters.tag_id} not found")
    query = _narrowed(scope, filters)
    if filters.status is None:
        found = session.execute(
            query.order_by(*_ORDER).offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE + 1)
        ).all()
        shown = found[:PAGE_SIZE]
        statuses = calling_statuses(session, [_snapshot(row) for row in shown], now)
        picked = [(row, statuses[row.id]) for row in shown]
        has_next = len(found) > PAGE_SIZE
    else:
        picked, has_next = _scan_by_status(session, query, filters.status, page=page, now=now)
    rows = tuple(
        ContactRow(
            id=row.id,
            name=full_name(row.first_name, row.last_name),
            phone=phone_display(row.phone_e164),
            location=row.location_name,
            status=status,
        )
        for row, status in picked
    )
    total = session.scalar(
        select(func.count()).select_from(Contact).where(Contact.account_id == scope.account_id)
    )
    return ContactList(rows, locations, tags, page, has_next, total or 0)


def _narrowed(scope: TenantScope, filters: ContactFilters) -> Select[Any]:
    """The SQL-side filters: account, location, tag and search."""
    query = (
        select(Contact.first_name, Contact.last_name, Location.name.label("location_name"))
        .add_columns(*_SNAPSHOT)
        .join(Location, Location.id == Contact.location_id)
        .where(Contact.account_id == scope.account_id)
    )
    if filters.location_id is not None:
        query = query.where(Contact.location_id == filters.location_id)
    if filters.tag_id is not None:
        tagged = select(contact_tags.c.contact_id).where(contact_tags.c.tag_id == filters.tag_id)
        query = query.where(Contact.id.in_(tagged))
    words = filters.search.strip().lower()
    if words:
        matches = [
            func.lower(Contact.first_name + " " + Contact.last_name).contains(
                words, autoescape=True
            ),
            func.lower(Contact.email).contains(words, autoescape=True),
        ]
        digits = "".join(c for c in words if c.isdigit())
        if len(digits) >= 3:  # "(212) 555-0147", "212.555.0147", "+1 212 555 0147": digits
            matches.append(Contact.phone_e164.contains(digits))
        query = query.where(or_(*matches))
    return query


def _scan_by_status(
    session: Session, query: Select[Any], wanted: CallingStatus, *, page: int, now: datetime
) -> tuple[list[tuple[Row[Any], CallingStatus]], bool]:
    """The `page`-th page of the contacts whose status is `wanted`.

    The status is the gate's verdict (consent ledger of the number across contact rows,
    suppression list, DND, number checks), which SQL cannot reproduce without duplicating the
    gate, so it is computed here with the very function the status column uses. Cost: the
    contacts matching the SQL filters are read in name order, SCAN_BATCH at a time (keyset,
    so memory stays at one batch whatever the account's size), each batch evaluated with one
    query per kind of fact, until the page is full. Page p of a status therefore evaluates
    every contact up to its last row: cheap for the demo's 300, and for a 50,000-contact
    practice at most 100 batches (a few hundred small queries) when the status is rare;
    narrowing by location, tag or search first shortens the scan.
    """
    skip = (page - 1) * PAGE_SIZE
    picked: list[tuple[Row[Any], CallingStatus]] = []
    after: tuple[str, str, int] | None = None
    while len(picked) <= PAGE_SIZE:
        batch_query = query
        if after is not None:
            batch_query = batch_query.where(tuple_(*_ORDER) > tuple_(*after))
        batch = session.execute(batch_query.order_by(*_ORDER).limit(SCAN_BATCH)).all()
        if not batch:
            break
        statuses = calling_statuses(session, [_snapshot(row) for row in batch], now)
        for row in batch:
            if statuses[row.id] is not wanted:
                continue
            if skip:
                skip -= 1
                continue
            picked.append((row, wanted))
            if len(picked) > PAGE_SIZE:
                break
        last = batch[-1]
        after = (last.first_name, last.last_name, last.id)
    return picked[:PAGE_SIZE], len(picked) > PAGE_SIZE


def _snapshot(row: Row[Any]) -> ContactSnapshot:
    return ContactSnapshot(*(getattr(row, name) for name in SNAPSHOT_COLUMNS))


def calling_statuses(
    session: Session, contacts: Sequence[ContactSnapshot], now: datetime
) -> dict[int, CallingStatus]:
    """Each contact's status from the gate's own facts and checks, one query per kind of fact
    for the whole batch (the dispatcher's batch path)."""
    if not contacts:
        return {}
    prospects = [Prospect(contact, STATUS_PURPOSE) for contact in contacts]
    facts = gather(session, prospects, now)
    return {
        contact.id: calling_status(evaluate(fact, now))
        for contact, fact in zip(contacts, facts, strict=True)
    }


# --- one contact ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Reason:
    sentence: str  # plain words
    code: str  # the reason code, for the small print


@dataclass(frozen=True, slots=True)
class Eligibility:
    """The gate's answer for a call about `purpose` at `at`."""

    purpose: CallPurpose
    at: datetime
    answer: str  # "yes" | "later" | "no"
    until: datetime | None  # "later": the earliest instant the call may be placed
    reasons: tuple[Reason, ...]  # every rule that fails or waits, in the gate's order
    warnings: tuple[Reason, ...]


@dataclass(frozen=True, slots=True)
class ContactDetail:
    id: int
    name: str
    phone_e164: str | None
    phone: str
    email: str | None
    source: str
    location: LocationChoice
    address: str | None
    tags: tuple[str, ...]
    do_not_disturb: tuple[str, ...]  # the channels with DND on, in words
    created_at: datetime
    last_contacted_at: datetime | None
    status: CallingStatus
    eligibility: Eligibility
    timeline: tuple[TimelineEntry, ...]
    suppression: SuppressionView | None
    calls: tuple[CallLine, ...]
    appointments: ContactAppointments

    @property
    def can_stop_calling(self) -> bool:
        """A number to stop, not stopped already."""
        return self.phone_e164 is not None and not (
            self.suppression is not None and self.suppression.in_force
        )


def contact_detail(
    session: Session,
    scope: TenantScope,
    contact_id: int,
    *,
    purpose: CallPurpose,
    now: datetime,
) -> ContactDetail:
    """The caller's contact `contact_id` as its page shows it (`NotFound` for anything else,
    another account's contact too)."""
    contact = get_owned(session, Contact, contact_id, scope)
    location = session.get(Location, contact.location_id)
    assert location is not None  # the contact's foreign key
    evaluation = call_eligibility(session, contact, purpose=purpose, now=now)
    address = ", ".join(
        part
        for part in (contact.address_line1, contact.city, contact.state, contact.postal_code)
        if part
    )
    dnd = (
        (Channel.VOICE, contact.dnd_voice),
        (Channel.SMS, contact.dnd_sms),
        (Channel.EMAIL, contact.dnd_email),
    )
    return ContactDetail(
        id=contact.id,
        name=full_name(contact.first_name, contact.last_name),
        phone_e164=contact.phone_e164,
        phone=phone_display(contact.phone_e164),
        email=contact.email,
        source=CONTACT_SOURCES[contact.source],
        location=LocationChoice(location.id, location.name, location.time_zone),
        address=address or None,
        tags=tuple(sorted(tag.name for tag in contact.tags)),
        do_not_disturb=tuple(CHANNELS[channel] for channel, on in dnd if on),
        created_at=contact.created_at,
        last_contacted_at=contact.last_contacted_at,
        status=calling_status(evaluation),
        eligibility=_eligibility(evaluation, purpose, now),
        timeline=consent_timeline(session, scope, contact),
        suppression=suppression_view(session, scope, contact, evaluation),
        calls=contact_calls(session, scope, contact.id),
        appointments=contact_appointments(session, scope, contact.id, now=now),
    )


def _eligibility(evaluation: Evaluation, purpose: CallPurpose, now: datetime) -> Eligibility:
    verdict = evaluation.verdict
    answer = "yes" if isinstance(verdict, Dial) else "later" if isinstance(verdict, Defer) else "no"
    reasons = tuple(
        Reason(PLAIN_REASONS[check.reason], check.reason.value)
        for check in evaluation.checks
        if check.reason is not None and check.outcome in (Outcome.FAILED, Outcome.DEFERRED)
    )
    warnings = tuple(Reason(PLAIN_WARNINGS[w.code], w.code.value) for w in evaluation.warnings)
    until = verdict.until if isinstance(verdict, Defer) else None
    return Eligibility(purpose, now, answer, until, reasons, warnings)
