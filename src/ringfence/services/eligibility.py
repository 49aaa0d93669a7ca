"""Gather the facts about one prospective call from the database, then ask the pure gate.

This is the imperative shell around `domain.compliance.evaluate`: a handful of indexed queries
build frozen facts, and the engine decides. The dispatcher (at the last moment before dialing)
and the "why wasn't this patient called?" endpoint both go through `call_facts`, so they can
never disagree.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ringfence.adapters.db.calls import CallJob
from ringfence.adapters.db.orm import Account, ConsentRecord, Contact, Location
from ringfence.domain.compliance import (
    DEFAULT_POLICY,
    AccountFacts,
    CallFacts,
    ConsentFacts,
    ContactFacts,
    Evaluation,
    LocationFacts,
    PlatformPolicy,
    evaluate,
    location_day_bounds,
)
from ringfence.domain.vocabulary import CallPurpose, Channel, ConsentKind

# The widest look-back any rule needs: the rolling 14-day cap.
HISTORY = timedelta(days=14)


def consent_facts(session: Session, contact_id: int) -> ConsentFacts:
    """Latest voice opt-in of each kind, and the latest voice revocation, for one contact."""
    rows = session.execute(
        select(ConsentRecord.kind, func.max(ConsentRecord.recorded_at))
        .where(ConsentRecord.contact_id == contact_id, ConsentRecord.channel == Channel.VOICE)
        .group_by(ConsentRecord.kind)
    ).all()
    latest: dict[ConsentKind, datetime] = {}
    for kind, at in rows:
        # func.max bypasses the UTC column type on SQLite; normalise through the type again.
        latest[ConsentKind(kind)] = _aware(at)
    return ConsentFacts(
        crm_form_opt_in_at=latest.get(ConsentKind.CRM_FORM),
        manual_written_at=latest.get(ConsentKind.MANUAL_WRITTEN),
        revoked_at=latest.get(ConsentKind.REVOCATION),
    )


def location_facts(session: Session, location: Location, now: datetime) -> LocationFacts:
    start, end = location_day_bounds(now, location.time_zone)
    dials_today = session.scalar(
        select(func.count())
        .select_from(CallJob)
        .where(
            CallJob.location_id == location.id,
            CallJob.dialed_at >= start,
            CallJob.dialed_at < end,
        )
    )
    last_dial = session.scalar(
        select(func.max(CallJob.dialed_at)).where(CallJob.location_id == location.id)
    )
    return LocationFacts(
        time_zone=location.time_zone,
        dials_today=int(dials_today or 0),
        last_dial_at=_aware(last_dial) if last_dial is not None else None,
    )


def number_dials(
    session: Session, *, account_id: int, phone_e164: str | None, now: datetime
) -> tuple[datetime, ...]:
    """This number's dials by the account in the look-back window.

    Counted across all of the account's locations, which is stricter than per location: a
    patient called by two locations of one practice still gets at most 4 calls in 14 days.
    """
    if phone_e164 is None:
        return ()
    stamps = session.scalars(
        select(CallJob.dialed_at).where(
            CallJob.account_id == account_id,
            CallJob.phone_e164 == phone_e164,
            CallJob.dialed_at >= now - HISTORY,
        )
    )
    return tuple(stamp for stamp in stamps if stamp is not None)


def call_facts(
    session: Session, contact: Contact, *, purpose: CallPurpose, now: datetime
) -> CallFacts:
    account = session.get(Account, contact.account_id)
    location = session.get(Location, contact.location_id)
    if account is None or location is None:  # foreign keys make this unreachable
        raise LookupError(f"contact {contact.id} has no account or location")
    return CallFacts(
        purpose=purpose,
        account=AccountFacts(
            kyc_status=account.kyc_status, outbound_enabled=account.outbound_enabled
        ),
        contact=ContactFacts(
            phone_e164=contact.phone_e164,
            source=contact.source,
            dnd_voice=contact.dnd_voice,
            opted_out_at=contact.opted_out_at,
            opted_out_channel=contact.opted_out_channel,
            postal_code=contact.postal_code,
            last_engaged_at=contact.last_engaged_at,
        ),
        consent=consent_facts(session, contact.id),
        location=location_facts(session, location, now),
        number_dials=number_dials(
            session, account_id=contact.account_id, phone_e164=contact.phone_e164, now=now
        ),
    )


def call_eligibility(
    session: Session,
    contact: Contact,
    *,
    purpose: CallPurpose,
    now: datetime,
    policy: PlatformPolicy = DEFAULT_POLICY,
) -> Evaluation:
    """The gate's full answer for calling `contact` for `purpose` at `now`."""
    return evaluate(call_facts(session, contact, purpose=purpose, now=now), now, policy)


def _aware(value: datetime | str) -> datetime:
    if isinstance(value, str):  # SQLite aggregates come back as text
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
