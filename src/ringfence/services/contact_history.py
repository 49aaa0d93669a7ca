"""A contact's history as its page shows it: every consent record for its number within the
practice (on any contact row with the number), the number's opt-out entry, and its calls.

Reads only, and only the signed-in account's rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from ringfence.adapters.db.calls import CallJob, CallTranscript
from ringfence.adapters.db.orm import ConsentRecord, Contact, Form, Location
from ringfence.domain.compliance import Evaluation, ReasonCode, Rule, SuppressionSource
from ringfence.domain.vocabulary import CallDirection, CallPurpose, CallType, ConsentKind
from ringfence.services.audit_views import ActorNames, actor_in_words, actor_names
from ringfence.services.contact_words import (
    CHANNELS,
    SUPPRESSION_HOW,
    call_status_words,
    full_name,
    phone_display,
)
from ringfence.services.suppression import suppression_of
from ringfence.services.unit_of_work import TenantScope

CALLS_SHOWN: Final = 100


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    record_id: int
    at: datetime
    what: str
    source: str
    recorded_by: str
    note: str | None
    caveat: str | None  # why it does not count, or covers another number
    contact_id: int  # the contact row it was recorded on
    contact_name: str
    on_this_contact: bool


@dataclass(frozen=True, slots=True)
class SuppressionView:
    since: datetime
    how: str
    contact_id: int | None
    contact_name: str | None
    in_force: bool  # False: consent recorded after it lifted it


@dataclass(frozen=True, slots=True)
class CallLine:
    job_id: int
    location_id: int
    time_zone: str
    at: datetime  # dialed, or (never dialed) asked for
    dialed: bool
    purpose: str
    status: str
    test: bool
    # Answered by the practice's line (its drawer is the inbound dashboard's), not placed.
    inbound: bool = False
    # A recording the call's drawer plays (the drawer logs the read; this page only links).
    has_recording: bool = False


def consent_timeline(
    session: Session, scope: TenantScope, contact: Contact
) -> tuple[TimelineEntry, ...]:
    """Every consent record, revocation and held submission for the contact's number within
    the account (on any contact row with it), and the contact's own records for other
    numbers; newest first."""
    wanted = ConsentRecord.contact_id == contact.id
    if contact.phone_e164:
        wanted = or_(wanted, ConsentRecord.phone_e164 == contact.phone_e164)
    rows = session.execute(
        select(ConsentRecord, Form.name, Contact.first_name, Contact.last_name)
        .join(Contact, Contact.id == ConsentRecord.contact_id)
        .outerjoin(
            Form, and_(Form.id == ConsentRecord.form_id, Form.account_id == scope.account_id)
        )
        .where(ConsentRecord.account_id == scope.account_id, wanted)
        .order_by(ConsentRecord.recorded_at.desc(), ConsentRecord.id.desc())
    ).all()
    names = actor_names(
        session, account_id=scope.account_id, actors={row[0].recorded_by for row in rows}
    )
    return tuple(
        _entry(record, form_name, full_name(first, last), contact, names)
        for record, form_name, first, last in rows
    )


def _entry(
    record: ConsentRecord, form_name: str | None, name: str, contact: Contact, names: ActorNames
) -> TimelineEntry:
    caveat = None
    if record.kind is ConsentKind.CRM_FORM:
        form = f"Form “{form_name or f'#{record.form_id}'}”, version {record.form_version}"
        if record.held:
            what, source = "Form sign-up held for staff confirmation", form
            caveat = "It arrived after the number opted out: it counts only once staff confirm it."
        elif record.form_valid is False:
            what, source = "Form sign-up that does not count", form
            caveat = "The form's wording did not cover AI calls, so this is not consent."
        else:
            what, source = "Agreed to calls on a form", form
    elif record.kind is ConsentKind.MANUAL_WRITTEN:
        what = "Written consent confirmed by staff"
        source = f"Manual written consent, confirmed by {record.confirmed_by or 'staff'}"
    else:
        what = "Withdrew consent"
        source = (
            "The AI agent's opt-out on a call"
            if record.recorded_by == "voice_agent"
            else f"Withdrawal recorded for {CHANNELS[record.channel]}"
        )
    if record.phone_e164 != contact.phone_e164:
        other = f"For another number, {phone_display(record.phone_e164)}"
        if record.phone_e164 is None:
            other = "Recorded while the patient had no phone number"
        caveat = f"{other}. {caveat}" if caveat else f"{other}."
    return TimelineEntry(
        record_id=record.id,
        at=record.recorded_at,
        what=what,
        source=source,
        recorded_by=actor_in_words(record.recorded_by, names),
        note=record.note,
        caveat=caveat,
        contact_id=record.contact_id,
        contact_name=name,
        on_this_contact=record.contact_id == contact.id,
    )


def suppression_view(
    session: Session, scope: TenantScope, contact: Contact, evaluation: Evaluation
) -> SuppressionView | None:
    if not contact.phone_e164:
        return None
    entry = suppression_of(session, scope.account_id, contact.phone_e164)
    if entry is None:
        return None
    who = None
    if entry.contact_id is not None:
        row = session.get(Contact, entry.contact_id)
        who = full_name(row.first_name, row.last_name) if row is not None else None
    return SuppressionView(
        since=entry.suppressed_at,
        how=SUPPRESSION_HOW[SuppressionSource(entry.source)],
        contact_id=entry.contact_id if who is not None else None,
        contact_name=who,
        # The gate's own reading: consent recorded after the opt-out lifts it.
        in_force=evaluation.check(Rule.OPT_OUT).reason is ReasonCode.NUMBER_SUPPRESSED,
    )


def contact_calls(session: Session, scope: TenantScope, contact_id: int) -> tuple[CallLine, ...]:
    """The contact's call jobs, latest first (placed or not), with their location's zone."""
    when = func.coalesce(CallJob.dialed_at, CallJob.created_at)
    rows = session.execute(
        select(
            CallJob.id,
            CallJob.location_id,
            Location.time_zone,
            CallJob.dialed_at,
            CallJob.created_at,
            CallJob.purpose,
            CallJob.status,
            CallJob.outcome,
            CallJob.reason_code,
            CallJob.call_type,
            CallJob.direction,
            CallTranscript.recording_path,
        )
        .join(Location, Location.id == CallJob.location_id)
        .outerjoin(CallTranscript, CallTranscript.job_id == CallJob.id)
        .where(CallJob.account_id == scope.account_id, CallJob.contact_id == contact_id)
        .order_by(when.desc(), CallJob.id.desc())
        .limit(CALLS_SHOWN)
    ).all()
    return tuple(_call_line(row) for row in rows)


def _call_line(values: Any) -> CallLine:
    (job_id, location_id, zone, dialed, created, purpose, status, outcome, reason,
     call_type, direction, recording) = values  # fmt: skip
    return CallLine(
        job_id=job_id,
        location_id=location_id,
        time_zone=zone,
        at=dialed or created,
        dialed=dialed is not None,
        purpose=CallPurpose(purpose).label,
        status=call_status_words(status, outcome, reason),
        test=call_type is CallType.TEST,
        inbound=direction is CallDirection.INBOUND,
        # What the drawer's player reads: a retention purge clears the path.
        has_recording=recording is not None,
    )
