"""Read the stored call log back for the audit and the capacity yardstick.

Dials are taken from the **carrier's** record (`sandbox_calls`: one row per call it placed,
refusals included), joined to the job for its location: so a job dialed twice would show up
twice, whatever the dispatcher's own bookkeeping says.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ringfence.adapters.db import orm
from ringfence.adapters.db.calls import CallJob
from ringfence.adapters.telephony.sandbox_store import SandboxCall
from ringfence.simulation.audit import AuditedConsent, AuditedContact, AuditedDial, AuditedLocation


def audited_locations(session: Session) -> list[AuditedLocation]:
    rows = session.execute(
        select(
            orm.Location.id,
            orm.Location.account_id,
            orm.Location.time_zone,
            orm.Account.kyc_status,
            orm.Account.outbound_enabled,
        ).join(orm.Account, orm.Account.id == orm.Location.account_id)
    )
    return [
        AuditedLocation(
            location_id=loc,
            account_id=acc,
            time_zone=zone,
            kyc_approved=kyc.value == "approved",
            outbound_enabled=enabled,
        )
        for loc, acc, zone, kyc, enabled in rows
    ]


def audited_contacts(session: Session) -> list[AuditedContact]:
    consents: dict[int, list[AuditedConsent]] = defaultdict(list)
    for contact_id, kind, at, channel, phone, form_valid, held in session.execute(
        select(
            orm.ConsentRecord.contact_id,
            orm.ConsentRecord.kind,
            orm.ConsentRecord.recorded_at,
            orm.ConsentRecord.channel,
            orm.ConsentRecord.phone_e164,
            orm.ConsentRecord.form_valid,
            orm.ConsentRecord.held,
        )
    ):
        consents[contact_id].append(
            AuditedConsent(
                kind=kind,
                at=at,
                channel=channel,
                phone_e164=phone,
                form_valid=form_valid,
                held=bool(held),
            )
        )
    # DND switched on later is in the audit log; DND present from the start counts from the
    # contact's creation.
    dnd_changes: dict[int, datetime] = {}
    for entity_id, after, at in session.execute(
        select(orm.AuditEvent.entity_id, orm.AuditEvent.after, orm.AuditEvent.occurred_at).where(
            orm.AuditEvent.entity_type == "contact"
        )
    ):
        if isinstance(after, dict) and after.get("dnd_voice") is True:
            dnd_changes.setdefault(entity_id, at)
    contacts = []
    for row in session.execute(
        select(
            orm.Contact.id,
            orm.Contact.location_id,
            orm.Contact.phone_e164,
            orm.Contact.source,
            orm.Contact.dnd_voice,
            orm.Contact.opted_out_at,
            orm.Contact.opted_out_channel,
            orm.Contact.created_at,
        )
    ):
        cid, loc, phone, source, dnd, opted_at, opted_channel, created = row
        contacts.append(
            AuditedContact(
                contact_id=cid,
                location_id=loc,
                phone_e164=phone,
                source=source,
                consents=tuple(consents.get(cid, ())),
                dnd_voice_since=dnd_changes.get(cid, created) if dnd else None,
                opted_out_at=opted_at,
                opted_out_channel=opted_channel,
            )
        )
    return contacts


def carrier_dials(session: Session) -> list[AuditedDial]:
    rows = session.execute(
        select(
            SandboxCall.job_id,
            CallJob.location_id,
            CallJob.contact_id,
            SandboxCall.to_e164,
            SandboxCall.dialed_at,
        ).join(CallJob, CallJob.id == SandboxCall.job_id)
    )
    return [
        AuditedDial(job_id=j, location_id=loc, contact_id=c, phone_e164=phone, dialed_at=at)
        for j, loc, c, phone, at in rows
    ]
