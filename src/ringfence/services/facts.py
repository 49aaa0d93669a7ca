"""Build the compliance engine's facts from the database, for one call or a batch.

One code path serves the dispatcher (a batch per tick, inside the transaction that reserves
the throttle slots) and the eligibility endpoint (one contact), so the "why wasn't this
patient called?" answer can never disagree with what the dispatcher does.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ringfence.adapters.db.calls import CallJob, LocationPacing
from ringfence.adapters.db.orm import Account, ConsentRecord, Contact, Location
from ringfence.domain.compliance import (
    AccountFacts,
    CallFacts,
    ConsentFacts,
    ContactFacts,
    LocationFacts,
    location_day_bounds,
)
from ringfence.domain.vocabulary import CallPurpose, Channel, ConsentKind, ContactSource

# The widest look-back any rule needs: the rolling 14-day cap.
HISTORY = timedelta(days=14)


@dataclass(frozen=True, slots=True)
class ContactSnapshot:
    """The contact columns the gate needs, read without loading the ORM object."""

    id: int
    account_id: int
    location_id: int
    phone_e164: str | None
    source: ContactSource
    dnd_voice: bool
    opted_out_at: datetime | None
    opted_out_channel: Channel | None
    postal_code: str | None
    last_engaged_at: datetime | None

    @classmethod
    def of(cls, contact: Contact) -> ContactSnapshot:
        return cls(*(getattr(contact, name) for name in SNAPSHOT_COLUMNS))


SNAPSHOT_COLUMNS = tuple(ContactSnapshot.__dataclass_fields__)


def load_snapshots(
    session: Session, contact_ids: Iterable[int], *, lock: bool = False
) -> dict[int, ContactSnapshot]:
    """Snapshots by id. `lock` takes a shared row lock (PostgreSQL) so that an opt-out
    committed by another transaction waits for the caller's dial decision to commit."""
    ids = sorted(set(contact_ids))
    if not ids:
        return {}
    query = select(*(getattr(Contact, name) for name in SNAPSHOT_COLUMNS)).where(
        Contact.id.in_(ids)
    )
    if lock and session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(read=True)
    return {row[0]: ContactSnapshot(*row) for row in session.execute(query)}


@dataclass(frozen=True, slots=True)
class Prospect:
    """One prospective call: who and why."""

    contact: ContactSnapshot
    purpose: CallPurpose
    deadline: datetime | None = None  # the job's "dial before" (a workflow's wait step)


def aware(value: datetime | str) -> datetime:
    """Aggregates (max/min) can bypass the column type on SQLite and return text."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def consent_facts(session: Session, contact_ids: Iterable[int]) -> dict[int, ConsentFacts]:
    """Latest voice consent of each kind (and latest revocation) per contact."""
    ids = sorted(set(contact_ids))
    latest: dict[int, dict[ConsentKind, datetime]] = defaultdict(dict)
    if ids:
        rows = session.execute(
            select(
                ConsentRecord.contact_id, ConsentRecord.kind, func.max(ConsentRecord.recorded_at)
            )
            .where(ConsentRecord.contact_id.in_(ids), ConsentRecord.channel == Channel.VOICE)
            .group_by(ConsentRecord.contact_id, ConsentRecord.kind)
        ).all()
        for contact_id, kind, at in rows:
            latest[contact_id][ConsentKind(kind)] = aware(at)
    return {
        cid: ConsentFacts(
            crm_form_opt_in_at=latest[cid].get(ConsentKind.CRM_FORM),
            manual_written_at=latest[cid].get(ConsentKind.MANUAL_WRITTEN),
            revoked_at=latest[cid].get(ConsentKind.REVOCATION),
        )
        for cid in ids
    }


def number_dials(
    session: Session, account_phones: Iterable[tuple[int, str]], now: datetime
) -> dict[tuple[int, str], list[datetime]]:
    """Each (account, number)'s dials since `now - 14 days` (later ones included too).

    Counted across all of an account's locations, which is stricter than per location: a
    patient called by two locations of one practice still gets at most 4 calls in 14 days.
    Dials stamped after `now` (another worker's clock ran ahead) are kept: counting them can
    only make a verdict stricter.
    """
    wanted = set(account_phones)
    found: dict[tuple[int, str], list[datetime]] = {key: [] for key in wanted}
    if not wanted:
        return found
    phones = sorted({phone for _account, phone in wanted})
    rows = session.execute(
        select(CallJob.account_id, CallJob.phone_e164, CallJob.dialed_at).where(
            CallJob.phone_e164.in_(phones), CallJob.dialed_at >= now - HISTORY
        )
    ).all()
    for account_id, phone, dialed_at in rows:
        bucket = found.get((account_id, phone or ""))
        if bucket is not None and dialed_at is not None:
            bucket.append(dialed_at)
    return found


def location_facts(
    location: Location, pacing: LocationPacing | None, now: datetime
) -> LocationFacts:
    """Today's dial count and the last dial, from the location's pacing row.

    The row is maintained in the same transaction as every dial, so it is exact; a row
    whose day is already over counts zero, and one stamped with a later day (a worker whose
    clock ran ahead) is kept, which can only make a verdict stricter.
    """
    if pacing is None:
        return LocationFacts(time_zone=location.time_zone)
    day_start, _ = location_day_bounds(now, location.time_zone)
    current = pacing.day_start is not None and pacing.day_start >= day_start
    return LocationFacts(
        time_zone=location.time_zone,
        dials_today=pacing.dials_today if current else 0,
        last_dial_at=pacing.last_dial_at,
    )


def gather(
    session: Session,
    prospects: Sequence[Prospect],
    now: datetime,
    *,
    pacing: dict[int, LocationPacing] | None = None,
) -> list[CallFacts]:
    """Facts for each prospect, with one query per kind of fact for the whole batch."""
    contacts = [p.contact for p in prospects]
    account_ids = {c.account_id for c in contacts}
    location_ids = {c.location_id for c in contacts}
    accounts = {
        a.id: a for a in session.scalars(select(Account).where(Account.id.in_(account_ids)))
    }
    locations = {
        loc.id: loc
        for loc in session.scalars(select(Location).where(Location.id.in_(location_ids)))
    }
    if pacing is None:
        pacing = {
            row.location_id: row
            for row in session.scalars(
                select(LocationPacing).where(LocationPacing.location_id.in_(location_ids))
            )
        }
    consents = consent_facts(session, (c.id for c in contacts))
    dials = number_dials(
        session, ((c.account_id, c.phone_e164) for c in contacts if c.phone_e164), now
    )
    facts = []
    for prospect in prospects:
        contact = prospect.contact
        account = accounts[contact.account_id]
        location = locations[contact.location_id]
        history = dials.get((contact.account_id, contact.phone_e164 or ""), [])
        facts.append(
            CallFacts(
                purpose=prospect.purpose,
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
                consent=consents[contact.id],
                location=location_facts(location, pacing.get(location.id), now),
                number_dials=tuple(history),
                deadline=prospect.deadline,
            )
        )
    return facts
