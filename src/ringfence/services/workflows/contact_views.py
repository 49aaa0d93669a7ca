"""The facts the audience filters read, gathered in bulk (one query per kind of fact)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ringfence.adapters.db.orm import Appointment, Contact, Opportunity, Tag, contact_tags
from ringfence.domain.vocabulary import AppointmentStatus
from ringfence.domain.workflows.audience import ContactView
from ringfence.domain.workflows.timing import AppointmentView
from ringfence.services.facts import consent_facts

UPCOMING = (AppointmentStatus.SCHEDULED, AppointmentStatus.CONFIRMED)
# Stages that close an opportunity: it no longer counts for "has an opportunity in stage".
CLOSED_STAGES = frozenset({"won", "lost", "closed", "closed won", "closed lost"})


def appointment_view(row: Appointment) -> AppointmentView:
    return AppointmentView(
        id=row.id, starts_at=row.starts_at, status=row.status, service=row.service
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
    tags: dict[int, set[str]] = defaultdict(set)
    for contact_id, name in session.execute(
        select(contact_tags.c.contact_id, Tag.name)
        .join(Tag, Tag.id == contact_tags.c.tag_id)
        .where(contact_tags.c.contact_id.in_(ids))
    ):
        tags[contact_id].add(name)
    upcoming = set(
        session.scalars(
            select(Appointment.contact_id).where(
                Appointment.contact_id.in_(ids),
                Appointment.status.in_(UPCOMING),
                Appointment.starts_at >= now,
            )
        )
    )
    stages: dict[int, set[str]] = defaultdict(set)
    for contact_id, stage in session.execute(
        select(Opportunity.contact_id, Opportunity.stage).where(Opportunity.contact_id.in_(ids))
    ):
        if stage.lower() not in CLOSED_STAGES:
            stages[contact_id].add(stage)
    consents = consent_facts(session, ids)
    views = {}
    for contact_id, dnd_voice, opted_out_at, last_contacted_at in rows:
        consent = consents[contact_id]
        opt_in = consent.crm_form_opt_in_at
        revoked = consent.revoked_at
        views[contact_id] = ContactView(
            contact_id=contact_id,
            tags=frozenset(tags[contact_id]),
            has_crm_form_consent=opt_in is not None and (revoked is None or revoked < opt_in),
            dnd_voice=dnd_voice,
            opted_out=opted_out_at is not None,
            last_contacted_at=last_contacted_at,
            has_upcoming_appointment=contact_id in upcoming,
            opportunity_stages=frozenset(stages[contact_id]),
        )
    return views


def contact_view(
    session: Session, contact_id: int, now: datetime, appointment_id: int | None = None
) -> ContactView | None:
    view = contact_views(session, [contact_id], now).get(contact_id)
    if view is None or appointment_id is None:
        return view
    appointment = session.get(Appointment, appointment_id)
    return replace(view, appointment=appointment_view(appointment) if appointment else None)
