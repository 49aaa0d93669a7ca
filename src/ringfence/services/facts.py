"""Build the compliance engine's facts from the database, for one call or a batch.

One code path serves the dispatcher (a batch per tick, inside the transaction that reserves
the throttle slots) and the eligibility endpoint (one contact), so the "why wasn't this
patient called?" answer can never disagree with what the dispatcher does.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import Select, bindparam, func, select
from sqlalchemy.orm import Session

from ringfence.adapters.db.calls import CallJob, LocationPacing
from ringfence.adapters.db.orm import (
    Account,
    ConsentRecord,
    Contact,
    Location,
    NumberSuppression,
    Tag,
    contact_tags,
)
from ringfence.domain.compliance import (
    AccountFacts,
    CallFacts,
    ConsentFact,
    ConsentFacts,
    ContactFacts,
    LocationFacts,
    Suppression,
    SuppressionSource,
    location_day_bounds,
)
from ringfence.domain.tags import OPT_OUT_TAG
from ringfence.domain.vocabulary import (
    CallDirection,
    CallPurpose,
    Channel,
    ConsentKind,
    ContactSource,
)

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
    committed by another transaction waits for the caller's dial decision to commit; rows
    another transaction is changing right now are skipped (not waited for: that transaction
    may be waiting for a job this one holds), so their jobs wait a tick."""
    ids = sorted(set(contact_ids))
    if not ids:
        return {}
    query = _SNAPSHOTS
    if lock and session.get_bind().dialect.name == "postgresql":
        query = _SNAPSHOTS_LOCKED
    return {row[0]: ContactSnapshot(*row) for row in session.execute(query, {"ids": ids})}


# The batch statements are built once, their lists bound at each execution (expanding IN):
# building a statement and its cache key cost more than running it (a dispatcher tick runs
# these once per planning round).
_SNAPSHOTS = select(*(getattr(Contact, name) for name in SNAPSHOT_COLUMNS)).where(
    Contact.id.in_(bindparam("ids", expanding=True))
)
_SNAPSHOTS_LOCKED = _SNAPSHOTS.with_for_update(read=True, skip_locked=True)


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


class _HasNumber(Protocol):
    @property
    def id(self) -> int: ...
    @property
    def account_id(self) -> int: ...
    @property
    def phone_e164(self) -> str | None: ...


def consent_facts(session: Session, contacts: Iterable[_HasNumber]) -> dict[int, ConsentFacts]:
    """Per contact id: the consent evidence for the contact's number within its account.

    Records are found by (account, number), whichever contact or location they were recorded
    for: opt-ins on the voice channel, revocations on any channel. Only for a contact left
    without consent, a second query looks for consent of its own that covers another number
    (to say "consent covers +1 212 ..., not +1 312 ...").
    """
    wanted = {c.id: c for c in contacts}
    if not wanted:
        return {}
    phones = sorted({c.phone_e164 for c in wanted.values() if c.phone_e164})
    accounts = sorted({c.account_id for c in wanted.values()})
    by_number: dict[tuple[int, str], list[ConsentFact]] = defaultdict(list)
    if phones:
        rows = session.execute(_BY_NUMBER, {"accounts": accounts, "phones": phones}).all()
        for account_id, phone, kind, channel, form_valid, held, at in rows:
            fact = _fact(phone, kind, channel, form_valid, held, at)
            if fact is not None:
                by_number[(account_id, phone)].append(fact)
    found = {
        cid: ConsentFacts.from_records(
            by_number.get((c.account_id, c.phone_e164 or ""), ()), c.phone_e164
        )
        for cid, c in wanted.items()
    }
    # A revocation recorded by the contact itself counts whatever number it names (or none:
    # said while the contact had no number): the person asked not to be called.
    own_revocations = session.execute(_OWN_REVOCATIONS, {"contacts": list(wanted)}).all()
    for contact_id, at in own_revocations:
        revoked = aware(at)
        current = found[contact_id].revoked_at
        if current is None or revoked > current:
            found[contact_id] = replace(found[contact_id], revoked_at=revoked)
    lacking = [cid for cid, f in found.items() if f.crm_form_opt_in_at is None and
               f.manual_written_at is None]  # fmt: skip
    if lacking:
        own: dict[int, list[ConsentFact]] = defaultdict(list)
        rows = session.execute(_BY_CONTACT, {"contacts": lacking}).all()
        for contact_id, phone, kind, channel, form_valid, held, at in rows:
            fact = _fact(phone, kind, channel, form_valid, held, at)
            if fact is not None and phone != wanted[contact_id].phone_e164:
                own[contact_id].append(fact)
        for cid in lacking:
            others = ConsentFacts.from_records(own[cid], wanted[cid].phone_e164).other_number
            if others is not None:
                found[cid] = replace(found[cid], other_number=others)
    return found


def _grouped(*keys: Any) -> Select[Any]:
    return select(
        *keys,
        ConsentRecord.kind,
        ConsentRecord.channel,
        ConsentRecord.form_valid,
        ConsentRecord.held,
        func.max(ConsentRecord.recorded_at),
    ).group_by(
        *keys,
        ConsentRecord.kind,
        ConsentRecord.channel,
        ConsentRecord.form_valid,
        ConsentRecord.held,
    )


_BY_NUMBER = _grouped(ConsentRecord.account_id, ConsentRecord.phone_e164).where(
    ConsentRecord.account_id.in_(bindparam("accounts", expanding=True)),
    ConsentRecord.phone_e164.in_(bindparam("phones", expanding=True)),
)
_OWN_REVOCATIONS = (
    select(ConsentRecord.contact_id, func.max(ConsentRecord.recorded_at))
    .where(
        ConsentRecord.contact_id.in_(bindparam("contacts", expanding=True)),
        ConsentRecord.kind == ConsentKind.REVOCATION,
    )
    .group_by(ConsentRecord.contact_id)
)
_BY_CONTACT = _grouped(ConsentRecord.contact_id, ConsentRecord.phone_e164).where(
    ConsentRecord.contact_id.in_(bindparam("contacts", expanding=True))
)


def _fact(
    phone: str | None,
    kind: str,
    channel: str,
    form_valid: bool | None,
    held: bool | None,
    at: datetime | str,
) -> ConsentFact | None:
    """A grouped row as a fact; opt-ins on other channels than voice are not voice consent
    (a revocation on any channel is)."""
    consent_kind = ConsentKind(kind)
    if consent_kind is not ConsentKind.REVOCATION and Channel(channel) is not Channel.VOICE:
        return None
    return ConsentFact(consent_kind, aware(at), phone, form_valid, bool(held))


def suppression_facts(
    session: Session, account_phones: Iterable[tuple[int, str]]
) -> dict[tuple[int, str], Suppression]:
    """Each (account, number)'s suppression entry, for those that have one."""
    wanted = set(account_phones)
    if not wanted:
        return {}
    rows = session.execute(
        _SUPPRESSIONS,
        {
            "accounts": sorted({account for account, _ in wanted}),
            "phones": sorted({phone for _, phone in wanted}),
        },
    ).all()
    return {
        (account_id, phone): Suppression(aware(at), SuppressionSource(source))
        for account_id, phone, at, source in rows
        if (account_id, phone) in wanted
    }


_SUPPRESSIONS = select(
    NumberSuppression.account_id,
    NumberSuppression.phone_e164,
    NumberSuppression.suppressed_at,
    NumberSuppression.source,
).where(
    NumberSuppression.account_id.in_(bindparam("accounts", expanding=True)),
    NumberSuppression.phone_e164.in_(bindparam("phones", expanding=True)),
)


def opt_out_tagged(session: Session, contact_ids: Iterable[int]) -> set[int]:
    """The contacts among `contact_ids` that carry the "Opted Out" tag."""
    ids = sorted(set(contact_ids))
    if not ids:
        return set()
    return set(session.scalars(_OPT_OUT_TAGGED, {"ids": ids}))


_OPT_OUT_TAGGED = (
    select(contact_tags.c.contact_id)
    .join(Tag, Tag.id == contact_tags.c.tag_id)
    .where(
        Tag.name == OPT_OUT_TAG,
        contact_tags.c.contact_id.in_(bindparam("ids", expanding=True)),
    )
)


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
    rows = session.execute(_NUMBER_DIALS, {"phones": phones, "since": now - HISTORY}).all()
    for account_id, phone, dialed_at in rows:
        bucket = found.get((account_id, phone or ""))
        if bucket is not None and dialed_at is not None:
            bucket.append(dialed_at)
    return found


_NUMBER_DIALS = select(CallJob.account_id, CallJob.phone_e164, CallJob.dialed_at).where(
    CallJob.phone_e164.in_(bindparam("phones", expanding=True)),
    CallJob.dialed_at >= bindparam("since"),
    # A patient calling the practice is not a call to them: only our dials count
    # toward the per-number caps (inbound records are never stamped dialed either).
    CallJob.direction == CallDirection.OUTBOUND,
)


class _Zoned(Protocol):
    @property
    def time_zone(self) -> str: ...


def location_facts(location: _Zoned, pacing: LocationPacing | None, now: datetime) -> LocationFacts:
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
    # Columns, not entities: only these are read, and a batch loads hundreds of rows.
    accounts = {row.id: row for row in session.execute(_ACCOUNTS, {"ids": sorted(account_ids)})}
    locations = {row.id: row for row in session.execute(_LOCATIONS, {"ids": sorted(location_ids)})}
    if pacing is None:
        pacing = {
            row.location_id: row
            for row in session.scalars(
                select(LocationPacing).where(LocationPacing.location_id.in_(location_ids))
            )
        }
    consents = consent_facts(session, contacts)
    numbered = [(c.account_id, c.phone_e164) for c in contacts if c.phone_e164]
    dials = number_dials(session, numbered, now)
    suppressions = suppression_facts(session, numbered)
    tagged = opt_out_tagged(session, (c.id for c in contacts))
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
                    opt_out_tagged=contact.id in tagged,
                ),
                consent=consents[contact.id],
                suppression=suppressions.get((contact.account_id, contact.phone_e164 or "")),
                location=location_facts(location, pacing.get(location.id), now),
                number_dials=tuple(history),
                deadline=prospect.deadline,
            )
        )
    return facts


_ACCOUNTS = select(Account.id, Account.kyc_status, Account.outbound_enabled).where(
    Account.id.in_(bindparam("ids", expanding=True))
)
_LOCATIONS = select(Location.id, Location.time_zone).where(
    Location.id.in_(bindparam("ids", expanding=True))
)
