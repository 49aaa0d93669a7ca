"""The dispatcher: decides, at the last moment, which queued call jobs dial now.

One tick (`Dispatcher.tick`):
1. settles in-flight jobs a dead worker left behind, by asking the carrier by key;
2. reserves carrier capacity (the CPS bucket shared by all workers, the concurrency limit);
3. **plans** dials in one transaction: it locks the locations that are ready (`FOR UPDATE
   SKIP LOCKED` on PostgreSQL, so any number of workers share the work and never the same
   location), picks each one's next due jobs, re-gathers the compliance facts *inside that
   transaction* and asks the gate; a job the gate lets through is marked `dialing` with an
   idempotency key and its throttle slot is reserved — then the transaction commits;
4. **places** the planned dials through the carrier, passing the key, then records receipts,
   completions (with the minutes ledger) and unused capacity in one transaction.

Because the key is committed before the carrier is asked, a crash between 3 and 4 leaves a
job in `dialing` that step 1 settles with the carrier by key (services/call_results.py):
never a blind redial.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from ringfence.adapters import metrics
from ringfence.adapters.db.calls import (
    INSERT_EVENTS,
    CarrierPacing,
    LocationPacing,
    event_row,
)
from ringfence.adapters.db.retry import is_retryable, run_transaction
from ringfence.adapters.db.upsert import insert_missing
from ringfence.adapters.telephony.base import (
    BatchDialer,
    CallReport,
    DialReceipt,
    DialRequest,
    TelephonyError,
    TelephonyProvider,
)
from ringfence.clock import Clock
from ringfence.domain import carrier_rate
from ringfence.domain.compliance import (
    DEFAULT_POLICY,
    REASONS,
    CallFacts,
    PlatformPolicy,
    ReasonCode,
)
from ringfence.domain.dispatch_plan import HoldJob, JobPlan, LocationBlocked, plan_job
from ringfence.domain.pacing import DispatchConfig, book_dial
from ringfence.domain.vocabulary import CallStatus, CallType
from ringfence.log_context import bound_call
from ringfence.services.agent_sessions import SessionRequest, build_sessions
from ringfence.services.call_results import (
    StaleJob,
    settle_dials,
    settle_lookups,
    stale_in_flight,
)
from ringfence.services.dispatch_queries import (
    LOCATION_ZONES,
    WRITE_JOBS,
    caller_ids,
    candidates_query,
    defer_overflow,
    lock_numbers,
    next_pending,
    ready_query,
)
from ringfence.services.facts import ContactSnapshot, Prospect, gather, load_snapshots
from ringfence.services.inbound_calls import calls_in_flight, settle_lost_inbound_calls
from ringfence.services.stored_sessions import StoredSession, store_sessions


@dataclass(slots=True)
class TickReport:
    at: datetime
    dialed: int = 0
    deferred: int = 0
    failed: int = 0
    completed: int = 0
    evaluations: int = 0
    reconciled: int = 0
    ready_locations: int = 0
    reasons: dict[str, int] = field(default_factory=dict)
    # For the metrics, counted once the planning transaction commits: (verdict, reason code)
    # of each gate decision applied, and each dial's lag (seconds from due to dialed).
    decisions: dict[tuple[str, str | None], int] = field(default_factory=dict)
    dial_lags: list[float] = field(default_factory=list)

    def merge(self, other: TickReport) -> None:
        """Add the counts of `other` (a planning attempt that committed) to this report."""
        self.dialed += other.dialed
        self.deferred += other.deferred
        self.failed += other.failed
        self.completed += other.completed
        self.evaluations += other.evaluations
        self.reconciled += other.reconciled
        self.ready_locations += other.ready_locations
        for reason, count in other.reasons.items():
            self.reasons[reason] = self.reasons.get(reason, 0) + count
        for decision, count in other.decisions.items():
            self.decisions[decision] = self.decisions.get(decision, 0) + count
        self.dial_lags += other.dial_lags


@dataclass(frozen=True, slots=True)
class _Candidate:
    job_id: int
    account_id: int
    location_id: int
    contact_id: int
    from_number_id: int | None
    purpose: Any
    status: CallStatus
    idempotency_key: str | None
    agent_id: int | None
    call_type: CallType
    deadline_at: datetime | None
    due_at: datetime | None  # its next_attempt_at: the dispatcher's lag is counted from it


@dataclass(frozen=True, slots=True)
class _JobWrite:
    """One planned job's new state, written with the rest of the tick in one statement."""

    job_id: int
    location_id: int
    status: CallStatus
    next_attempt_at: datetime | None
    reason_code: str | None
    updated_at: datetime
    idempotency_key: str | None
    dialed_at: datetime | None = None
    dialed_local_day: date | None = None
    phone_e164: str | None = None

    def params(self, agent: StoredSession | None) -> dict[str, Any]:
        reason = self.reason_code
        return {
            "b_id": self.job_id,
            "status": self.status,
            "next_attempt_at": self.next_attempt_at,
            "reason_code": reason,
            "reason_text": REASONS[ReasonCode(reason)].sentence if reason else None,
            "updated_at": self.updated_at,
            "dialed_at": self.dialed_at,
            "dialed_local_day": self.dialed_local_day,
            "phone_e164": self.phone_e164,
            "idempotency_key": self.idempotency_key,
            "agent_session": agent.agent_session if agent else None,
            "agent_profile_digest": agent.agent_profile_digest if agent else None,
        }


@dataclass(slots=True)
class _TickState:
    """What one planning pass has decided so far (written in bulk at its end)."""

    now: datetime
    planned: list[DialRequest] = field(default_factory=list)
    job_updates: list[_JobWrite] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    overflow: list[tuple[int, datetime]] = field(default_factory=list)
    dialed_numbers: dict[tuple[int, str], int] = field(default_factory=dict)
    sessions: list[SessionRequest] = field(default_factory=list)
    accounts: dict[int, int] = field(default_factory=dict)  # a dialed job's account


class Dispatcher:
    def __init__(
        self,
        *,
        session_factory: sessionmaker[Session],
        carrier: TelephonyProvider,
        clock: Clock,
        config: DispatchConfig | None = None,
        policy: PlatformPolicy = DEFAULT_POLICY,
    ) -> None:
        self.session_factory = session_factory
        self.carrier = carrier
        self.clock = clock
        self.config = config or DispatchConfig()
        self.policy = policy

    def tick(self) -> TickReport:
        """One pass at `clock.now()`. Carrier calls happen outside database transactions.

        Four short transactions: settle stale in-flight jobs, reserve carrier capacity, plan
        (the gate and the slot reservations), then record receipts, completions and unused
        capacity together after dialing.
        """
        report = TickReport(at=self.clock.now())
        report.reconciled += self.reconcile()
        budget = self._reserve_capacity()
        planned: list[DialRequest] = []
        if budget > 0:
            planned = self._plan_or_skip(budget, report)
        receipts = self._dial(planned)
        reports = self.carrier.completed_reports()
        if receipts or reports or budget > len(planned):
            now = self.clock.now()

            def settle(session: Session) -> int:
                completed = settle_dials(session, receipts, reports, now=now)
                self._return_tokens(session, budget - len(planned))
                return completed

            # The calls are placed and the reports drained: a conflict victim runs again
            # rather than leave them to the stale-job lookup.
            report.completed += run_transaction(self.session_factory, settle)
        report.dialed = len(planned)
        return report

    def _plan_or_skip(self, budget: int, report: TickReport) -> list[DialRequest]:
        """Plan in one transaction; if the database kills it to break a lock cycle, nothing was
        decided or dialed, so this tick plans nothing and the next tick plans afresh."""
        attempt = TickReport(at=report.at)
        try:
            with self.session_factory() as session, session.begin():
                planned = self._plan(session, self.clock.now(), budget, attempt)
        except DBAPIError as error:
            if not is_retryable(error):
                raise
            return []
        report.merge(attempt)
        for decision, count in attempt.decisions.items():
            metrics.gate_decisions([decision], count)
        metrics.dispatch_lags(attempt.dial_lags)
        return planned

    def _dial(
        self, planned: list[DialRequest]
    ) -> list[tuple[DialRequest, DialReceipt | None, str | None]]:
        """Ask the carrier to place the planned calls (in one batch when it can)."""
        if not planned:
            return []
        if isinstance(self.carrier, BatchDialer) and len(planned) > 1:
            try:
                batch = self.carrier.dial_many(planned)
                return [(r, receipt, None) for r, receipt in zip(planned, batch, strict=True)]
            except TelephonyError:
                pass  # fall back to one request each: each call's fate is then known
        receipts: list[tuple[DialRequest, DialReceipt | None, str | None]] = []
        for request in planned:
            try:
                with bound_call(request.job_id):  # the carrier's log lines name the call
                    receipts.append((request, self.carrier.dial(request), None))
            except TelephonyError as exc:
                metrics.carrier_error(self._carrier_kind(request), "dial")
                receipts.append((request, None, str(exc)))
        return receipts

    def _carrier_kind(self, request: DialRequest | None) -> str:
        """The kind of carrier a request goes through (a router's pick by its caller ID)."""
        carrier_for = getattr(self.carrier, "carrier_for", None)
        if request is not None and callable(carrier_for):
            try:
                return str(carrier_for(request.from_e164, request.account_id))
            except TelephonyError:
                pass
        return str(self.carrier.name)

    def reconcile(self) -> int:
        """Settle in-flight jobs a dead worker left behind, by asking the carrier by key."""
        with self.session_factory() as session, session.begin():
            # Inbound calls are never looked up at a carrier: one still "in progress" that
            # long after its answer was held by a worker that stopped (services/inbound_calls).
            lost_inbound = settle_lost_inbound_calls(
                session, now=self.clock.now(), after=self.config.stale_call_after
            )
            stale = stale_in_flight(
                session,
                now=self.clock.now(),
                dialing_after=self.config.stale_dialing_after,
                call_after=self.config.stale_call_after,
            )
        if not stale:
            return lost_inbound
        lookups: list[tuple[StaleJob, CallReport | None, str | None]] = []
        for job in stale:
            try:
                lookups.append((job, self.carrier.lookup(job.idempotency_key), None))
            except TelephonyError as exc:
                metrics.carrier_error(self._carrier_kind(None), "lookup")
                lookups.append((job, None, str(exc) or "carrier unreachable"))
        now = self.clock.now()
        return lost_inbound + run_transaction(
            self.session_factory, lambda session: settle_lookups(session, lookups, now=now)
        )

    # -- capacity ---------------------------------------------------------------------------

    def _reserve_capacity(self) -> int:
        """Reserve carrier tokens for this tick, within the concurrent-call limit.

        A short transaction of its own, so workers do not serialise on the carrier row for a
        whole tick. Unused tokens are given back after planning.
        """
        config = self.config
        with self.session_factory() as session, session.begin():
            # Dials and the inbound calls being answered hold lines (inbound calls take no
            # pacing slot, but the same workers and carrier lines hold them: issue 19).
            in_flight = calls_in_flight(session)
            free = config.max_concurrent_calls - int(in_flight or 0)
            if free <= 0:
                return 0
            row = self._carrier_row(session)
            now = self.clock.now()
            bucket = carrier_rate.refill(
                carrier_rate.Bucket(row.tokens, row.refilled_at),
                now,
                cps=config.carrier_cps,
                burst=config.carrier_burst,
            )
            granted, bucket = carrier_rate.take(bucket, free)
            row.tokens, row.refilled_at = bucket.tokens, bucket.refilled_at
            return granted

    def _return_tokens(self, session: Session, unused: int) -> None:
        if unused <= 0:
            return
        row = self._carrier_row(session)
        row.tokens = min(self.config.carrier_burst, row.tokens + unused)

    def _carrier_row(self, session: Session) -> CarrierPacing:
        name = self.carrier.name
        # Workers starting together may all try to create the row: the first one wins.
        insert_missing(
            session,
            CarrierPacing,
            [
                {
                    "carrier": name,
                    "tokens": self.config.carrier_burst,
                    "refilled_at": self.clock.now(),
                }
            ],
        )
        return session.scalars(
            select(CarrierPacing).where(CarrierPacing.carrier == name).with_for_update()
        ).one()

    # -- planning ---------------------------------------------------------------------------

    def _plan(
        self, session: Session, now: datetime, budget: int, report: TickReport
    ) -> list[DialRequest]:
        postgres = session.get_bind().dialect.name == "postgresql"
        ready = list(
            session.scalars(
                ready_query(postgres),
                {"now": now, "limit": self.config.locations_per_tick},
            )
        )
        report.ready_locations = len(ready)
        if not ready:
            return []
        pacing = {row.location_id: row for row in ready}
        # .all(): dict(result) itself would read Result.keys() as a mapping's keys.
        zones = dict(session.execute(LOCATION_ZONES, {"ids": list(pacing)}).all())
        candidates = self._candidates(session, list(pacing), now, postgres)
        tick = _TickState(now=now)
        # Rounds: every ready location's first candidate, then the second candidate of the
        # locations whose first did not dial, and so on. Facts are gathered per round, so a
        # location whose first job dials costs one job's facts, not k.
        open_locations = [loc for loc, group in candidates.items() if group]
        for location_id, group in candidates.items():
            if not group:
                pacing[location_id].ready_at = next_pending(session, location_id)
        decided: dict[int, list[int]] = {loc: [] for loc in open_locations}
        deferred: dict[int, dict[int, datetime]] = {loc: {} for loc in open_locations}
        exhausted: list[int] = []  # every candidate decided, none dialed, fewer than k
        for round_index in range(self.config.candidates_per_location):
            exhausted += [loc for loc in open_locations if round_index >= len(candidates[loc])]
            open_locations = [loc for loc in open_locations if round_index < len(candidates[loc])]
            batch = [candidates[loc][round_index] for loc in open_locations]
            if not batch or len(tick.planned) >= budget:
                break
            snapshots = load_snapshots(session, (c.contact_id for c in batch), lock=True)
            # A contact being changed by another transaction (an opt-out, say) waits a tick.
            batch = [c for c in batch if c.contact_id in snapshots]
            if postgres:
                batch = lock_numbers(session, batch, snapshots)
            facts = gather(
                session,
                [Prospect(snapshots[c.contact_id], c.purpose, c.deadline_at) for c in batch],
                now,
                pacing=pacing,
            )
            numbers = caller_ids(session, batch)
            still_open = set()
            for candidate, job_facts in zip(batch, facts, strict=True):
                location_id = candidate.location_id
                if len(tick.planned) >= budget:
                    continue  # the location stays ready for the next tick
                plan = self._decide(
                    tick,
                    candidate,
                    snapshots[candidate.contact_id],
                    job_facts,
                    pacing[location_id],
                    zones[location_id],
                    numbers,
                    report,
                )
                if isinstance(plan, HoldJob):
                    still_open.add(location_id)
                    decided[location_id].append(candidate.job_id)
                    next_at = plan.decision.next_attempt_at
                    if next_at is not None:
                        deferred[location_id][candidate.job_id] = next_at
            open_locations = [loc for loc in open_locations if loc in still_open]
        # Still open after the last round: a full group was decided without a dial, so more
        # jobs may be due right now (pacing[...].ready_at stays in the past).
        # Exhausted: sleep until the earliest pending job, counting the new times of the jobs
        # just deferred (not yet written).
        for location_id in exhausted:
            times = list(deferred[location_id].values())
            stored = next_pending(session, location_id, exclude=decided[location_id])
            if stored is not None:
                times.append(stored)
            pacing[location_id].ready_at = min(times) if times else None
        # The agent each dialed call is held with: snapshotted on the job, handed to the carrier.
        sessions = build_sessions(session, tick.sessions, now=now)
        tick.planned = [
            replace(request, agent=sessions.get(request.job_id)) for request in tick.planned
        ]
        agents = store_sessions(
            session,
            {
                write.job_id: (tick.accounts[write.job_id], found)
                for write in tick.job_updates
                if write.status is CallStatus.DIALING
                and (found := sessions.get(write.job_id)) is not None
            },
            now=now,
        )
        job_updates, events, planned, overflow = (
            tick.job_updates,
            tick.events,
            tick.planned,
            tick.overflow,
        )
        if job_updates:
            connection = session.connection()
            WRITE_JOBS.run_many(
                connection,
                # By location: dials take dashboard rollup rows in the order settling does.
                [
                    write.params(agents.get(write.job_id))
                    for write in sorted(job_updates, key=lambda w: (w.location_id, w.job_id))
                ],
            )
            # The ORM INSERT this replaces flushed the pacing rows' changes first (autoflush).
            session.flush()
            INSERT_EVENTS.run_many(connection, events)
        for location_id, day_end in overflow:
            report.deferred += defer_overflow(session, location_id, day_end, now)
        return planned

    def _decide(
        self,
        tick: _TickState,
        candidate: _Candidate,
        snapshot: ContactSnapshot,
        job_facts: CallFacts,
        row: LocationPacing,
        time_zone: str,
        caller_ids: dict[int, str],
        report: TickReport,
    ) -> JobPlan:
        """Plan one job (the pure `plan_job`) and apply the plan to this tick's writes."""
        now = tick.now
        key = (snapshot.account_id, snapshot.phone_e164 or "")
        plan = plan_job(
            job_facts,
            now,
            self.policy,
            time_zone=time_zone,
            dials_earlier_this_tick=tick.dialed_numbers.get(key, 0),
        ).plan
        report.evaluations += 1
        if plan.reason_code is not None:
            report.reasons[plan.reason_code] = report.reasons.get(plan.reason_code, 0) + 1
        decision_key = (_verdict(plan), plan.reason_code)
        report.decisions[decision_key] = report.decisions.get(decision_key, 0) + 1
        if isinstance(plan, LocationBlocked):
            # Pacing leaves the location's jobs queued; it sleeps until it may dial again.
            row.ready_at = plan.until
            if plan.day_full:
                tick.overflow.append((candidate.location_id, plan.until))
            return plan
        decision = plan.decision
        write = _JobWrite(
            job_id=candidate.job_id,
            location_id=candidate.location_id,
            status=decision.status,
            next_attempt_at=decision.next_attempt_at,
            reason_code=decision.reason_code,
            updated_at=now,
            idempotency_key=candidate.idempotency_key,
        )
        tick.events.append(_event(candidate, decision.status, decision.reason_code, now))
        if isinstance(plan, HoldJob):
            tick.job_updates.append(write)
            if decision.status is CallStatus.FAILED:
                report.failed += 1
            else:
                report.deferred += 1
            return plan
        idempotency_key = candidate.idempotency_key or secrets.token_hex(16)
        tick.job_updates.append(
            replace(
                write,
                dialed_at=now,
                dialed_local_day=plan.local_day,
                phone_e164=snapshot.phone_e164,
                idempotency_key=idempotency_key,
            )
        )
        tick.planned.append(
            DialRequest(
                idempotency_key=idempotency_key,
                to_e164=snapshot.phone_e164 or "",
                from_e164=caller_ids.get(candidate.from_number_id or 0, ""),
                job_id=candidate.job_id,
                contact_id=candidate.contact_id,
                account_id=candidate.account_id,
            )
        )
        tick.sessions.append(
            SessionRequest(
                job_id=candidate.job_id,
                contact_id=candidate.contact_id,
                location_id=candidate.location_id,
                agent_id=candidate.agent_id,
                from_number_id=candidate.from_number_id,
                purpose=candidate.purpose,
                is_test=candidate.call_type is CallType.TEST,
            )
        )
        tick.accounts[candidate.job_id] = candidate.account_id
        tick.dialed_numbers[key] = tick.dialed_numbers.get(key, 0) + 1
        if candidate.due_at is not None:
            report.dial_lags.append((now - candidate.due_at).total_seconds())
        if book_dial(row, time_zone, now, self.policy) is not None:
            tick.overflow.append((candidate.location_id, row.ready_at or now))
        return plan

    def _candidates(
        self, session: Session, location_ids: list[int], now: datetime, postgres: bool
    ) -> dict[int, list[_Candidate]]:
        """Each ready location's next due jobs (oldest due first), in one statement.

        Per location, a `LIMIT k` over the (location, status, due) index, so the cost follows
        the jobs taken, not the location's backlog: a LATERAL join on PostgreSQL (which also
        locks the jobs, skipping any another worker holds), a correlated `IN (SELECT ...
        LIMIT k)` on SQLite (which has no LATERAL; PostgreSQL plans that form badly).
        """
        query = candidates_query(postgres, self.config.candidates_per_location)
        found: dict[int, list[_Candidate]] = {loc: [] for loc in location_ids}
        for row in session.execute(query, {"now": now, "location_ids": location_ids}):
            candidate = _Candidate(*row)
            found[candidate.location_id].append(candidate)
        return found


def _verdict(plan: JobPlan) -> str:
    """The gate-decision metric's verdict label of a plan."""
    if isinstance(plan, LocationBlocked):
        return "location_blocked"
    if isinstance(plan, HoldJob):
        return "fail" if plan.decision.status is CallStatus.FAILED else "defer"
    return "dial"


def _event(
    candidate: _Candidate, status: CallStatus, reason: str | None, now: datetime
) -> dict[str, Any]:
    return event_row(
        account_id=candidate.account_id,
        job_id=candidate.job_id,
        at=now,
        from_status=candidate.status,
        to_status=status,
        reason_code=reason,
    )
