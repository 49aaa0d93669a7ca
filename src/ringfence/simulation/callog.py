"""Read the stored call log back for the audit and the capacity yardstick.

Dials are taken from the **carrier's** record (`sandbox_calls`: one row per call it placed,
refusals included), joined to the job for its location: so a job dialed twice would show up
twice, whatever the dispatcher's own bookkeeping says.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ringfence.adapters.db import orm
from ringfence.adapters.db.calls import CallAction, CallJob
from ringfence.adapters.telephony.sandbox_store import SandboxCall
from ringfence.domain.tags import OPT_OUT_TAG
from ringfence.simulation.audit import (
    AuditedConsent,
    AuditedContact,
    AuditedDial,
    AuditedLocation,
    AuditedOptOut,
    OptOutHow,
)
from ringfence.simulation.capacity import CapacityJob


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
    """Every contact with its consent records and its opt-out history.

    The history comes from the stored trail, read independently of the compliance engine's
    own bookkeeping where the trail allows it: the contact audit events (every switch of voice
    DND or the opt-out flag to on, and the contact's number at that time), the flags a contact
    was created with (no event when written in bulk: from its creation, or the flag's own
    instant), and the "Opted Out" tag added by a call or a workflow step with a call
    (`call_actions`) or by any other path (the `number.suppressed` audit event that names the
    contact whose tag was added: the only dated record of a tag added through the API). Tags
    the suppression mirrors onto the number's other contacts are consequences, not opt-outs,
    and leave no such record.
    """
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
    trails: dict[int, _Trail] = defaultdict(_Trail)
    for entity_id, before, after, at in session.execute(
        select(
            orm.AuditEvent.entity_id,
            orm.AuditEvent.before,
            orm.AuditEvent.after,
            orm.AuditEvent.occurred_at,
        )
        .where(orm.AuditEvent.entity_type == "contact")
        .order_by(orm.AuditEvent.occurred_at, orm.AuditEvent.id)
    ):
        trails[entity_id].add(_utc(at), before, after)
    for at, after in session.execute(
        select(orm.AuditEvent.occurred_at, orm.AuditEvent.after).where(
            orm.AuditEvent.entity_type == "number_suppression",
            orm.AuditEvent.action == "number.suppressed",
        )
    ):
        if (
            isinstance(after, dict)
            and after.get("source") == _TAG_SOURCE
            and isinstance(after.get("contact_id"), int)
        ):
            phone = after.get("phone_e164")
            trails[after["contact_id"]].tagged(_utc(at), phone if isinstance(phone, str) else None)
    for contact_id, at in session.execute(
        select(CallJob.contact_id, CallAction.at)
        .join(CallJob, CallJob.id == CallAction.job_id)
        .where(CallAction.kind == "tag_applied", CallAction.detail == OPT_OUT_TAG)
    ):
        trails[contact_id].tagged(_utc(at), None)

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
        trail = trails.get(cid, _Trail())
        dnd_since = trail.dnd_since(_utc(created)) if dnd else None
        contacts.append(
            AuditedContact(
                contact_id=cid,
                location_id=loc,
                phone_e164=phone,
                source=source,
                consents=tuple(consents.get(cid, ())),
                dnd_voice_since=dnd_since,
                opted_out_at=opted_at,
                opted_out_channel=opted_channel,
                opt_outs=trail.opt_outs(
                    phone,
                    dnd_since=dnd_since,
                    opted_out_at=None if opted_at is None else _utc(opted_at),
                ),
            )
        )
    return contacts


# The `number.suppressed` audit event's source for the "Opted Out" tag (a plain string here:
# the audit does not import the compliance engine's vocabulary).
_TAG_SOURCE = "opt_out_tag"


class _Trail:
    """One contact's audit trail, in order: when voice DND and the opt-out flag were switched
    on, when the "Opted Out" tag was added, and which number the contact had when."""

    def __init__(self) -> None:
        self.dnd_on: list[datetime] = []
        self.flag_on: list[datetime] = []
        self.tags: list[tuple[datetime, str | None]] = []
        # (instant, number before, number after) of each change of the contact's number
        self.numbers: list[tuple[datetime, str | None, str | None]] = []

    def add(self, at: datetime, before: object, after: object) -> None:
        if not isinstance(after, dict):
            return
        was = before if isinstance(before, dict) else {}
        if after.get("dnd_voice") is True and was.get("dnd_voice") is not True:
            self.dnd_on.append(at)
        if after.get("opted_out_at") and not was.get("opted_out_at"):
            # Put on record at `at`; a flag dated later counts from its own date.
            stated = _parse(after["opted_out_at"])
            self.flag_on.append(at if stated is None else max(at, stated))
        if "phone_e164" in after:
            self.numbers.append((at, was.get("phone_e164"), after.get("phone_e164")))

    def tagged(self, at: datetime, phone: str | None) -> None:
        self.tags.append((at, phone))

    def dnd_since(self, created: datetime) -> datetime:
        """Start of the DND in force: its last switch to on, or the contact's creation (set
        when the contact was written, without an event)."""
        return self.dnd_on[-1] if self.dnd_on else created

    def number_at(self, at: datetime, current: str | None) -> str | None:
        for changed, _before, after in reversed(self.numbers):
            if changed <= at:
                return after
        return self.numbers[0][1] if self.numbers else current

    def opt_outs(
        self, current: str | None, *, dnd_since: datetime | None, opted_out_at: datetime | None
    ) -> tuple[AuditedOptOut, ...]:
        found: set[tuple[datetime, OptOutHow, str | None]] = set()
        for at in self.dnd_on:
            found.add((at, OptOutHow.DND_VOICE, self.number_at(at, current)))
        for at in self.flag_on:
            found.add((at, OptOutHow.OPT_OUT_FLAG, self.number_at(at, current)))
        for at, phone in self.tags:
            found.add((at, OptOutHow.OPT_OUT_TAG, phone or self.number_at(at, current)))
        # Flags in force that no event recorded (a contact written with them in bulk).
        if dnd_since is not None and not self.dnd_on:
            found.add((dnd_since, OptOutHow.DND_VOICE, current))
        if opted_out_at is not None and not self.flag_on:
            found.add((opted_out_at, OptOutHow.OPT_OUT_FLAG, current))
        return tuple(
            AuditedOptOut(at=at, how=how, phone_e164=None if phone == current else phone)
            for at, how, phone in sorted(found)
            if phone is not None
        )


def _utc(at: datetime) -> datetime:
    return at.replace(tzinfo=UTC) if at.utcoffset() is None else at


def _parse(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return _utc(datetime.fromisoformat(value))
    except ValueError:
        return None


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


def capacity_jobs(session: Session) -> list[CapacityJob]:
    """Every call job for the ledger capacity model: released when it was enqueued (a job
    enqueued with a later `not_before` is modelled as released earlier, which can only raise
    the bound), with its deadline."""
    return [
        CapacityJob(job_id, contact_id, _utc(created), None if deadline is None else _utc(deadline))
        for job_id, contact_id, created, deadline in session.execute(
            select(CallJob.id, CallJob.contact_id, CallJob.created_at, CallJob.deadline_at)
        )
    ]
