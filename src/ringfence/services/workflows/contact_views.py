"""The facts the audience filters read: in bulk (one query per kind of fact, for publishing's
audience count), or for one contact (one query for every fact, for an event and a call step).

Both paths end in `_view`, so a contact is judged the same whichever way it was read.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    CompoundSelect,
    Integer,
    String,
    and_,
    bindparam,
    func,
    literal,
    literal_column,
    null,
    or_,
    select,
    type_coerce,
    union_all,
)
from sqlalchemy.orm import Session

from ringfence.adapters.db.orm import (
    Appointment,
    ConsentRecord,
    Contact,
    NumberSuppression,
    Opportunity,
    Tag,
    contact_tags,
)
from ringfence.adapters.db.prepared import Prepared
from ringfence.adapters.db.types import UTCDateTime
from ringfence.domain.compliance import ConsentFacts, Suppression, SuppressionSource
from ringfence.domain.compliance.gate import consent_in_force
from ringfence.domain.vocabulary import AppointmentStatus, Channel, ConsentKind
from ringfence.domain.workflows.audience import ContactView
from ringfence.domain.workflows.timing import AppointmentView
from ringfence.services.facts import aware, consent_facts, suppression_facts

UPCOMING = (AppointmentStatus.SCHEDULED, AppointmentStatus.CONFIRMED)
# Stages that close an opportunity: it no longer counts for "has an opportunity in stage".
CLOSED_STAGES = frozenset({"won", "lost", "closed", "closed won", "closed lost"})


@dataclass(frozen=True, slots=True)
class ContactRow:
    """The contact columns an audience reads (the rest of its facts live in other tables)."""

    id: int
    dnd_voice: bool
    opted_out_at: datetime | None
    last_contacted_at: datetime | None


@dataclass(frozen=True, slots=True)
class _Numbered:
    id: int
    account_id: int
    phone_e164: str | None


@dataclass(slots=True)
class _Facts:
    tags: set[str] = field(default_factory=set)
    upcoming: bool = False
    stages: set[str] = field(default_factory=set)
    consent: ConsentFacts = field(default_factory=ConsentFacts)
    # The number's suppression is in force (the ledger, with the gate's reading of consent).
    suppressed: bool = False


def appointment_view(row: Appointment) -> AppointmentView:
    return AppointmentView(
        id=row.id, starts_at=row.starts_at, status=row.status, service=row.service
    )


def _view(row: ContactRow, facts: _Facts) -> ContactView:
    opt_in = facts.consent.crm_form_opt_in_at
    revoked = facts.consent.revoked_at
    return ContactView(
        contact_id=row.id,
        tags=frozenset(facts.tags),
        has_crm_form_consent=opt_in is not None and (revoked is None or revoked < opt_in),
        dnd_voice=row.dnd_voice,
        opted_out=row.opted_out_at is not None or facts.suppressed,
        last_contacted_at=row.last_contacted_at,
        has_upcoming_appointment=facts.upcoming,
        opportunity_stages=frozenset(s for s in facts.stages if s.lower() not in CLOSED_STAGES),
    )


def contact_views(
    session: Session, contact_ids: Iterable[int], now: datetime
) -> dict[int, ContactView]:
    ids = sorted(set(contact_ids))
    if not ids:
        return {}
    rows = session.execute(
        select(
            Contact.id, Contact.dnd_voice, Contact.opted_out_at, Contact.last_contacted_at
        ).where(Contact.id.in_(ids))
    ).all()
    facts: dict[int, _Facts] = defaultdict(_Facts)
    for contact_id, name in session.execute(
        select(contact_tags.c.contact_id, Tag.name)
        .join(Tag, Tag.id == contact_tags.c.tag_id)
        .where(contact_tags.c.contact_id.in_(ids))
    ):
        facts[contact_id].tags.add(name)
    for contact_id in session.scalars(
        select(Appointment.contact_id).where(
            Appointment.contact_id.in_(ids),
            Appointment.status.in_(UPCOMING),
            Appointment.starts_at >= now,
        )
    ):
        facts[contact_id].upcoming = True
    for contact_id, stage in session.execute(
        select(Opportunity.contact_id, Opportunity.stage).where(Opportunity.contact_id.in_(ids))
    ):
        facts[contact_id].stages.add(stage)
    numbered = [
        _Numbered(*row)
        for row in session.execute(
            select(Contact.id, Contact.account_id, Contact.phone_e164).where(Contact.id.in_(ids))
        )
    ]
    suppressions = suppression_facts(
        session, ((n.account_id, n.phone_e164) for n in numbered if n.phone_e164)
    )
    for contact_id, consent in consent_facts(session, numbered).items():
        facts[contact_id].consent = consent
    for number in numbered:
        entry = suppressions.get((number.account_id, number.phone_e164 or ""))
        if entry is not None:
            consent = facts[number.id].consent
            facts[number.id].suppressed = entry.in_force(consent_in_force(consent, now))
    return {row[0]: _view(ContactRow(*row), facts[row[0]]) for row in rows}


# One contact's facts in one round trip: (fact, value, at) rows. Built once (bound parameters
# only), so SQLAlchemy neither rebuilds nor recompiles it per event. Core statements do not
# autoflush: callers flush first (ingest does).
_TABLES = Contact.metadata.tables
_CONTACT = _TABLES[Contact.__tablename__].c
_CONSENT = _TABLES[ConsentRecord.__tablename__].c
_TAG = _TABLES[Tag.__tablename__].c
_APPOINTMENT = _TABLES[Appointment.__tablename__].c
_OPPORTUNITY = _TABLES[Opportunity.__tablename__].c
_ID: BindParameter[int] = bindparam("contact_id", type_=Integer)
_CURRENT_PHONE = select(_CONTACT.phone_e164).where(_CONTACT.id == _ID).scalar_subquery()
_CURRENT_ACCOUNT = select(_CONTACT.account_id).where(_CONTACT.id == _ID).scalar_subquery()
_SUPPRESSION = _TABLES[NumberSuppression.__tablename__].c


def _fact(name: str) -> ColumnElement[str]:
    return literal_column(f"'{name}'", String)


def _facts_query() -> CompoundSelect[str, str | None, datetime | None]:
    no_text: ColumnElement[str | None] = type_coerce(null(), String)
    no_time: ColumnElement[datetime | None] = type_coerce(null(), UTCDateTime)
    return union_all(
        # First: its column types name the union's (String, not the consent kind's Enum).
        # The gate's reading, per contact: consent for the contact's current number; a form
        # opt-in only through a form version that passed the scan and not held; revocations
        # on any channel.
        select(_fact("consent"), type_coerce(_CONSENT.kind, String), func.max(_CONSENT.recorded_at))
        .where(
            _CONSENT.contact_id == _ID,
            _CONSENT.phone_e164 == _CURRENT_PHONE,
            or_(_CONSENT.kind == ConsentKind.REVOCATION, _CONSENT.channel == Channel.VOICE),
            or_(
                _CONSENT.kind != ConsentKind.CRM_FORM,
                and_(_CONSENT.form_valid.is_(True), _CONSENT.held.is_(False)),
            ),
        )
        .group_by(_CONSENT.kind),
        select(_fact("tag"), _TAG.name, no_time)
        .select_from(
            contact_tags.join(_TABLES[Tag.__tablename__], _TAG.id == contact_tags.c.tag_id)
        )
        .where(contact_tags.c.contact_id == _ID),
        select(_fact("upcoming"), no_text, no_time).where(
            _APPOINTMENT.contact_id == _ID,
            # Equalities bound once, not an `in_()` list SQLAlchemy expands on every execution.
            or_(*(_APPOINTMENT.status == literal(s, _APPOINTMENT.status.type) for s in UPCOMING)),
            _APPOINTMENT.starts_at >= bindparam("now"),
        ),
        select(_fact("stage"), _OPPORTUNITY.stage, no_time).where(_OPPORTUNITY.contact_id == _ID),
        select(_fact("suppressed"), _SUPPRESSION.source, _SUPPRESSION.suppressed_at).where(
            _SUPPRESSION.account_id == _CURRENT_ACCOUNT,
            _SUPPRESSION.phone_e164 == _CURRENT_PHONE,
        ),
    )


# Run on the driver's cursor, compiled once (`Prepared`: the event path's CPU).
_FACTS = Prepared(_facts_query())


def view_of(session: Session, row: ContactRow, now: datetime) -> ContactView:
    """One contact's audience view, every fact read in one query."""
    facts = _Facts()
    latest: dict[ConsentKind, datetime] = {}
    suppression: Suppression | None = None
    # The session's connection directly: a Core statement needs none of the ORM's dispatch.
    for fact, value, at in _FACTS.rows(session.connection(), {"contact_id": row.id, "now": now}):
        if fact == "upcoming":
            facts.upcoming = True
        elif value is None:
            continue
        elif fact == "tag":
            facts.tags.add(value)
        elif fact == "stage":
            facts.stages.add(value)
        elif fact == "suppressed":
            if at is not None:
                suppression = Suppression(aware(at), SuppressionSource(value))
        elif at is not None:
            latest[ConsentKind(value)] = aware(at)
    facts.consent = ConsentFacts(
        crm_form_opt_in_at=latest.get(ConsentKind.CRM_FORM),
        manual_written_at=latest.get(ConsentKind.MANUAL_WRITTEN),
        revoked_at=latest.get(ConsentKind.REVOCATION),
    )
    if suppression is not None:
        # Rare, so read the way the gate does only here: consent for the number from any
        # contact of the account (the query above reads the contact's own records).
        number = session.execute(
            select(Contact.id, Contact.account_id, Contact.phone_e164).where(Contact.id == row.id)
        ).one()
        consent_at = consent_in_force(consent_facts(session, [_Numbered(*number)])[row.id], now)
        facts.suppressed = suppression.in_force(consent_at)
    return _view(row, facts)


_CONTACT_ROW = select(
    _CONTACT.id, _CONTACT.dnd_voice, _CONTACT.opted_out_at, _CONTACT.last_contacted_at
).where(_CONTACT.id == _ID)


def contact_view(
    session: Session, contact_id: int, now: datetime, appointment_id: int | None = None
) -> ContactView | None:
    session.flush()  # Core statements below: make pending ORM changes visible to them
    found = session.execute(_CONTACT_ROW, {"contact_id": contact_id}).first()
    if found is None:
        return None
    view = view_of(session, ContactRow(*found), now)
    if appointment_id is None:
        return view
    appointment = session.get(Appointment, appointment_id)
    return replace(view, appointment=appointment_view(appointment) if appointment else None)
