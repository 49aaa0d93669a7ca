"""The statements the dispatcher's planner needs besides the gate: the ready locations and their
due jobs, the planning pass's job writes, overflow deferral, a location's next due time, caller
IDs, and per-number advisory locks (PostgreSQL)."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime
from functools import lru_cache
from typing import Any, Protocol, TypeVar, cast

from sqlalchemy import Select, Table, bindparam, func, insert, select, text, true, update
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.elements import BindParameter

from ringfence.adapters.db.calls import CallEvent, CallJob, LocationPacing, event_row
from ringfence.adapters.db.orm import Location, PhoneNumber
from ringfence.adapters.db.prepared import Prepared
from ringfence.domain.calls import PENDING
from ringfence.domain.compliance import REASONS, ReasonCode
from ringfence.domain.vocabulary import CallStatus
from ringfence.services.facts import ContactSnapshot, aware

# Executemany UPDATEs go through the Core table (the ORM form is a different bulk mode).
JOBS = cast(Table, CallJob.__table__)


class JobRef(Protocol):
    """What the helpers need of a candidate job."""

    @property
    def account_id(self) -> int: ...
    @property
    def contact_id(self) -> int: ...
    @property
    def from_number_id(self) -> int | None: ...


CandidateT = TypeVar("CandidateT", bound=JobRef)


def defer_overflow(session: Session, location_id: int, day_end: datetime, now: datetime) -> int:
    """The location used its calls for the day: its due jobs become Deferred to tomorrow.

    "Calls per day per location | 100 (overflow defers to next day)". Written once per
    location and day, so the call log shows each overflow job as Deferred with the reason;
    tomorrow the gate moves each to its own earliest window.
    """
    rows = session.execute(
        select(CallJob.id, CallJob.account_id, CallJob.status).where(
            CallJob.location_id == location_id,
            CallJob.status.in_(PENDING),
            CallJob.next_attempt_at < day_end,
        )
    ).all()
    if not rows:
        return 0
    reason = ReasonCode.LOCATION_DAILY_CAP
    session.execute(
        update(JOBS)
        .where(JOBS.c.id == bindparam("b_id"))
        .values(
            status=CallStatus.DEFERRED,
            next_attempt_at=day_end,
            reason_code=reason.value,
            reason_text=REASONS[reason].sentence,
            updated_at=now,
        ),
        [{"b_id": job_id} for job_id, _account, _status in rows],
    )
    session.execute(
        insert(CallEvent),
        [
            event_row(
                account_id=account_id,
                job_id=job_id,
                at=now,
                from_status=status,
                to_status=CallStatus.DEFERRED,
                reason_code=reason.value,
            )
            for job_id, account_id, status in rows
        ],
    )
    return len(rows)


def next_pending(
    session: Session, location_id: int, exclude: Sequence[int] = ()
) -> datetime | None:
    """When the location's earliest pending job is due (None: nothing pending)."""
    query = select(func.min(CallJob.next_attempt_at)).where(
        CallJob.location_id == location_id, CallJob.status.in_(PENDING)
    )
    if exclude:
        query = query.where(CallJob.id.not_in(list(exclude)))
    value = session.scalar(query)
    return None if value is None else aware(value)


def caller_ids(session: Session, candidates: Sequence[JobRef]) -> dict[int, str]:
    ids = {c.from_number_id for c in candidates if c.from_number_id}
    if not ids:
        return {}
    return dict(session.execute(_CALLER_IDS, {"ids": sorted(ids)}).all())


# Built once, the ids bound at each execution (a planning round runs it).
_CALLER_IDS = select(PhoneNumber.id, PhoneNumber.e164).where(
    PhoneNumber.id.in_(bindparam("ids", expanding=True))
)


def number_lock_key(account_id: int, phone: str) -> int:
    digest = hashlib.blake2b(f"{account_id}:{phone}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def account_lock_key(account_id: int) -> int:
    """The account-wide key a bulk suppression holds exclusively (services/suppression_bulk)
    and every per-number locker holds shared: a separate namespace from the number keys."""
    digest = hashlib.blake2b(f"{account_id}:*all-numbers*".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def lock_numbers(
    session: Session, candidates: list[CandidateT], snapshots: dict[int, ContactSnapshot]
) -> list[CandidateT]:
    """Take a transaction-scoped advisory lock per (account, number) before reading its
    history; candidates whose number another worker is deciding right now wait a tick.

    Location locks alone would let two workers, at two locations of one account, both read
    "not called today" for the same number and both dial it.
    """
    numbered: dict[int, int] = {}  # candidate position -> its number's lock key
    for index, c in enumerate(candidates):
        phone = snapshots[c.contact_id].phone_e164
        if phone:
            numbered[index] = number_lock_key(c.account_id, phone)
    if not numbered:
        return candidates
    # A bulk suppression of the account's numbers in progress (an import of opted-out rows)
    # holds the account key exclusively: its candidates wait a tick rather than be decided on
    # numbers about to be suppressed.
    accounts = sorted({candidates[i].account_id for i in numbered})
    open_accounts = {
        account_id
        for account_id, ok in session.execute(
            text(
                "SELECT a, pg_try_advisory_xact_lock_shared(k) FROM unnest("
                "CAST(:accounts AS bigint[]), CAST(:keys AS bigint[])) AS t(a, k)"
            ),
            {"accounts": accounts, "keys": [account_lock_key(a) for a in accounts]},
        )
        if ok
    }
    wanted = {i: k for i, k in numbered.items() if candidates[i].account_id in open_accounts}
    granted = {
        key
        for key, ok in session.execute(
            text(
                "SELECT k, pg_try_advisory_xact_lock(k) FROM unnest(CAST(:keys AS bigint[])) AS k"
            ),
            {"keys": sorted(set(wanted.values()))},
        )
        if ok
    }
    return [c for i, c in enumerate(candidates) if i not in numbered or wanted.get(i) in granted]


# A planning pass's job writes, one executemany on the driver's cursor (adapters/db/prepared.py).
WRITE_JOBS = Prepared(
    update(JOBS)
    .where(JOBS.c.id == bindparam("b_id"))
    .values(
        status=bindparam("status"),
        next_attempt_at=bindparam("next_attempt_at"),
        reason_code=bindparam("reason_code"),
        reason_text=bindparam("reason_text"),
        updated_at=bindparam("updated_at"),
        dialed_at=bindparam("dialed_at"),
        dialed_local_day=bindparam("dialed_local_day"),
        phone_e164=bindparam("phone_e164"),
        idempotency_key=bindparam("idempotency_key"),
        agent_session=bindparam("agent_session"),
        agent_profile_digest=bindparam("agent_profile_digest"),
        evaluations=JOBS.c.evaluations + 1,
    )
)


@lru_cache(maxsize=2)
def ready_query(postgres: bool) -> Select[Any]:
    """The locations ready to dial at `now` (bound), `limit` (bound) at most; on PostgreSQL
    locked, skipping those another worker holds. Built once (see `candidates_query`)."""
    query = (
        select(LocationPacing)
        .where(LocationPacing.ready_at <= bindparam("now"))
        .order_by(LocationPacing.ready_at, LocationPacing.location_id)
        .limit(bindparam("limit"))
    )
    return query.with_for_update(skip_locked=True) if postgres else query


LOCATION_ZONES = select(Location.id, Location.time_zone).where(
    Location.id.in_(bindparam("ids", expanding=True))
)


@lru_cache(maxsize=8)
def candidates_query(postgres: bool, limit: int) -> Select[Any]:
    """`Dispatcher._candidates`' statement (services/dispatch.py), built once (`now` and
    `location_ids` are bound at each execution): building it, with its aliased subquery, cost
    more than running it."""
    columns: tuple[Any, ...] = (
        CallJob.id,
        CallJob.account_id,
        CallJob.location_id,
        CallJob.contact_id,
        CallJob.from_number_id,
        CallJob.purpose,
        CallJob.status,
        CallJob.idempotency_key,
        CallJob.agent_id,
        CallJob.call_type,
        CallJob.deadline_at,
        CallJob.next_attempt_at,
    )
    now: BindParameter[datetime] = bindparam("now")
    locations = LocationPacing.location_id.in_(bindparam("location_ids", expanding=True))
    order = (CallJob.next_attempt_at, CallJob.id)
    if postgres:
        next_jobs = (
            select(*columns, CallJob.next_attempt_at.label("due_at"))
            .where(
                CallJob.location_id == LocationPacing.location_id,
                CallJob.status.in_(PENDING),
                CallJob.next_attempt_at <= now,
            )
            .order_by(*order)
            .limit(limit)
            .with_for_update(skip_locked=True)
            .lateral("next_jobs")
        )
        return (
            select(*(next_jobs.c[c.key] for c in columns))
            .select_from(LocationPacing)
            .join(next_jobs, true())
            .where(locations)
            .order_by(next_jobs.c.location_id, next_jobs.c.due_at, next_jobs.c.id)
        )
    inner = aliased(CallJob)
    next_ids = (
        select(inner.id)
        .where(
            inner.location_id == LocationPacing.location_id,
            inner.status.in_(PENDING),
            inner.next_attempt_at <= now,
        )
        .order_by(inner.next_attempt_at, inner.id)
        .limit(limit)
        .correlate(LocationPacing)
    )
    return (
        select(*columns)
        .select_from(LocationPacing)
        .join(CallJob, CallJob.id.in_(next_ids.scalar_subquery()))
        .where(locations)
        .order_by(CallJob.location_id, *order)
    )
