"""Run the real dispatcher over a synthetic population on a virtual clock, then audit it.

`run_simulation` creates the population, enqueues one call per contact through the services a
workflow uses, and steps a virtual clock (one tick a minute, jumping over idle stretches) while
one or more dispatcher workers dial through the sandbox carrier. With `workers > 1` each worker
is a separate OS process with its own connections, coordinated only by the coordinator's
"tick at T" messages, so the rules must hold through the database alone (PostgreSQL).
`kill_workers` SIGKILLs a worker in the middle of a tick that many times and starts a new one:
the crash test. Afterwards the independent audit re-reads the stored call log.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import random
import signal
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime, timedelta
from multiprocessing.connection import Connection
from typing import Any

from sqlalchemy import func, select

from ringfence.adapters.db.calls import CallJob, LocationPacing, MinutesLedger
from ringfence.adapters.db.crypto import install_cipher
from ringfence.adapters.db.engine import make_engine, make_session_factory
from ringfence.adapters.db.migrate import upgrade
from ringfence.adapters.phi_cipher import PhiCipher, generate_key
from ringfence.adapters.telephony.sandbox import SandboxCarrier
from ringfence.adapters.telephony.sandbox_store import SandboxCall
from ringfence.clock import VirtualClock
from ringfence.domain.calls import IN_FLIGHT
from ringfence.domain.pacing import DispatchConfig
from ringfence.services.dispatch import (
    Dispatcher,
)
from ringfence.services.facts import aware
from ringfence.simulation.audit import audit_dials
from ringfence.simulation.callog import (
    audited_contacts,
    audited_locations,
    capacity_jobs,
    carrier_dials,
)
from ringfence.simulation.capacity import lawful_capacity, ledger_capacity_report
from ringfence.simulation.events import SimEvent, apply_events
from ringfence.simulation.population import PopulationSpec, populate

# Tuesday 1 December 2026, midnight in New York.
DEFAULT_START = datetime(2026, 12, 1, 5, 0, tzinfo=UTC)

# The reason a job over "4 calls in any 14-day window" fails with (docs/compliance.md).
FOURTEEN_DAY_CAP = "fourteen_day_cap"


@dataclass(frozen=True, slots=True)
class SimulationSpec:
    population: PopulationSpec
    database_url: str
    days: int = 1
    start: datetime = DEFAULT_START
    step: timedelta = timedelta(minutes=1)
    workers: int = 1
    kill_workers: int = 0
    carrier_cps: float = 25.0
    carrier_burst: float = 1500.0
    max_concurrent_calls: int = 20_000
    # The transcripts the calls leave are encrypted like any others, under a throw-away key
    # that every worker process shares.
    phi_key: str = field(default_factory=generate_key, repr=False)

    def __post_init__(self) -> None:
        # The clock's grid is UTC arithmetic: a start in a local zone would step in wall-clock
        # time and stall at a DST change.
        if self.start.utcoffset() is None:
            raise ValueError("the simulation start must be timezone-aware")
        object.__setattr__(self, "start", self.start.astimezone(UTC))


@dataclass(slots=True)
class SimulationResult:
    locations: int
    contacts: int
    jobs: int
    days: int
    workers: int
    dials: int
    outcomes: dict[str, int]
    deferred_by_reason: dict[str, int]
    failed_by_reason: dict[str, int]
    queued: int
    in_flight: int
    needs_review: int
    violations: int
    violations_by_rule: dict[str, int]
    dialed_twice: int
    # The yardstick (simulation/capacity.py): for one campaign the exact one-dial-per-contact
    # maximum; for a population with events (recurring jobs, shared numbers, opt-outs) the
    # ledger model's bound, exact when `lawful_capacity_exact` (its lawful schedule meets it).
    # Utilization counts the dials inside the simulated range.
    lawful_capacity: int | None
    utilization: float | None
    ledger_seconds: int
    billable_seconds: int
    ledger_matches: bool
    decisions: int
    ticks: int
    workers_killed: int
    populate_seconds: float
    dispatch_seconds: float
    audit_seconds: float
    decisions_per_second: float
    notes: list[str] = field(default_factory=list)
    events: int = 0  # population events applied during the run (enqueues, opt-outs)
    # Whether `lawful_capacity` is known exactly (always for one campaign); when not, the true
    # maximum lies between the lawful schedule found and the bound (see `notes`).
    lawful_capacity_exact: bool = True
    # The product rule "calls beyond [4 in 14 days] fail" (not wait): a job over the cap when
    # tried fails for good, where the lawful optimum above would have waited for the window to
    # roll. The same bound over the jobs that did not fail that way measures the dispatcher
    # against the rules as the product states them (ledger scenario only).
    lawful_capacity_under_fail_rule: int | None = None
    utilization_under_fail_rule: float | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


Progress = Callable[[str, float], None]


def run_simulation(spec: SimulationSpec, progress: Progress | None = None) -> SimulationResult:
    engine = make_engine(spec.database_url)
    install_cipher(engine, PhiCipher.from_keys([spec.phi_key]))
    sessions = make_session_factory(engine)
    try:
        upgrade(engine)
        with sessions() as session:
            if session.scalar(select(func.count()).select_from(CallJob)):
                raise ValueError("the simulation needs an empty database")
        began = time.perf_counter()
        with sessions() as session:
            total = spec.population.locations
            population = populate(
                session,
                spec.population,
                now=spec.start,
                end=spec.start + timedelta(days=spec.days),
                progress=(lambda n: progress("populate", n / total)) if progress else None,
            )
        populate_seconds = time.perf_counter() - began

        began = time.perf_counter()
        end = spec.start + timedelta(days=spec.days)
        timeline = _Timeline(sessions, list(population.events))
        if spec.workers == 1 and spec.kill_workers == 0:
            ticks, decisions, killed = _run_in_process(spec, sessions, end, timeline, progress)
        else:
            ticks, decisions, killed = _run_workers(spec, sessions, end, timeline, progress)
        dispatch_seconds = time.perf_counter() - began

        began = time.perf_counter()
        with sessions() as session:
            result = _measure(session, spec, population.jobs + timeline.enqueued, end)
        result.events = timeline.applied
        audit_seconds = time.perf_counter() - began
    finally:
        engine.dispose()
    result.ticks, result.decisions, result.workers_killed = ticks, decisions, killed
    result.populate_seconds = round(populate_seconds, 2)
    result.dispatch_seconds = round(dispatch_seconds, 2)
    result.audit_seconds = round(audit_seconds, 2)
    result.decisions_per_second = round(decisions / dispatch_seconds, 1) if dispatch_seconds else 0
    return result


# -- the clock --------------------------------------------------------------------------------


class _Timeline:
    """The population's events, applied when the clock reaches them (by the coordinator,
    before the workers tick), each in the transaction of its batch."""

    def __init__(self, sessions: Any, events: list[SimEvent]) -> None:
        self._sessions = sessions
        self._events = events
        self._next = 0
        self.applied = 0
        self.enqueued = 0

    def next_at(self) -> datetime | None:
        return self._events[self._next].at if self._next < len(self._events) else None

    def apply_until(self, now: datetime) -> None:
        due = []
        while self._next < len(self._events) and self._events[self._next].at <= now:
            due.append(self._events[self._next])
            self._next += 1
        if due:
            with self._sessions() as session:
                self.enqueued += apply_events(session, due)
                session.commit()
            self.applied += len(due)


def _next_instant(
    sessions: Any, now: datetime, spec: SimulationSpec, end: datetime, timeline: _Timeline
) -> datetime:
    """The next tick: one step ahead while calls are in flight or locations are ready;
    otherwise straight to the next location that becomes ready (on the step grid), or to the
    next event, whichever comes first."""
    following = _next_tick(sessions, now, spec, end)
    event_at = timeline.next_at()
    if event_at is not None and now < event_at < following:
        return event_at
    return following


def _next_tick(sessions: Any, now: datetime, spec: SimulationSpec, end: datetime) -> datetime:
    step = spec.step
    with sessions() as session:
        in_flight = session.scalar(
            select(func.count()).select_from(CallJob).where(CallJob.status.in_(IN_FLIGHT))
        )
        ready = session.scalar(select(func.min(LocationPacing.ready_at)))
    if in_flight or ready is None:
        return now + step
    target = max(now + step, aware(ready))
    steps = -(-(target - spec.start) // step)  # ceil to the grid
    return min(spec.start + steps * step, max(end, now + step))


def _in_flight(sessions: Any) -> int:
    with sessions() as session:
        return int(
            session.scalar(
                select(func.count()).select_from(CallJob).where(CallJob.status.in_(IN_FLIGHT))
            )
            or 0
        )


def _dispatch_config(spec: SimulationSpec) -> DispatchConfig:
    # Several workers split the ready locations between them (each takes its share with SKIP
    # LOCKED) instead of the first one taking them all while the others wait.
    config = DispatchConfig(
        carrier_cps=spec.carrier_cps,
        carrier_burst=spec.carrier_burst,
        max_concurrent_calls=spec.max_concurrent_calls,
    )
    if spec.workers > 1:
        share = -(-spec.population.locations // spec.workers) + 1
        config = replace(config, locations_per_tick=share)
    return config


# -- one process ------------------------------------------------------------------------------


def _run_in_process(
    spec: SimulationSpec,
    sessions: Any,
    end: datetime,
    timeline: _Timeline,
    progress: Progress | None,
) -> tuple[int, int, int]:
    clock = VirtualClock(spec.start)
    dispatcher = Dispatcher(
        session_factory=sessions,
        carrier=SandboxCarrier(sessions, clock, seed=spec.population.seed),
        clock=clock,
        config=_dispatch_config(spec),
    )
    ticks = decisions = 0
    drain_until = end + timedelta(hours=2)
    while clock.now() < end or (clock.now() < drain_until and _in_flight(sessions)):
        timeline.apply_until(clock.now())
        report = dispatcher.tick()
        ticks += 1
        decisions += report.evaluations
        if progress is not None:
            progress("dispatch", min(1.0, (clock.now() - spec.start) / (end - spec.start)))
        clock.set(_next_instant(sessions, clock.now(), spec, end, timeline))
    return ticks, decisions, 0


# -- several processes ------------------------------------------------------------------------


def _worker_main(
    database_url: str, seed: int, config: DispatchConfig, phi_key: str, inbox: Connection
) -> None:
    """A dispatcher worker process: ticks when told, at the instant it is told."""
    engine = make_engine(database_url)
    install_cipher(engine, PhiCipher.from_keys([phi_key]))
    sessions = make_session_factory(engine)
    clock = VirtualClock(datetime.fromtimestamp(0, UTC))
    dispatcher = Dispatcher(
        session_factory=sessions,
        carrier=SandboxCarrier(sessions, clock, seed=seed),
        clock=clock,
        config=config,
    )
    try:
        while True:
            message = inbox.recv()
            if message is None:
                break
            clock.set(datetime.fromisoformat(message))
            report = dispatcher.tick()
            inbox.send(report.evaluations)
    finally:
        engine.dispose()


@dataclass
class _Worker:
    process: Any
    pipe: Connection


def _spawn(spec: SimulationSpec) -> _Worker:
    context = multiprocessing.get_context("spawn")
    ours, theirs = context.Pipe()
    process = context.Process(
        target=_worker_main,
        args=(
            spec.database_url,
            spec.population.seed,
            _dispatch_config(spec),
            spec.phi_key,
            theirs,
        ),
        daemon=True,
    )
    process.start()
    theirs.close()
    return _Worker(process, ours)


def _run_workers(
    spec: SimulationSpec,
    sessions: Any,
    end: datetime,
    timeline: _Timeline,
    progress: Progress | None,
) -> tuple[int, int, int]:
    rng = random.Random(spec.population.seed)
    workers = [_spawn(spec) for _ in range(spec.workers)]
    now = spec.start
    ticks = decisions = killed = 0
    # The ticks to crash a worker in, spread over the first few hundred ticks.
    kill_ticks = _plan_kills(rng, 0, spec.kill_workers) if spec.kill_workers else set()
    drain_until = end + timedelta(hours=2)
    try:
        while now < end or (now < drain_until and _in_flight(sessions)):
            timeline.apply_until(now)
            stamp = now.isoformat()
            for index, worker in enumerate(workers):
                try:
                    worker.pipe.send(stamp)
                except (BrokenPipeError, OSError):  # killed since the last tick: replace it
                    workers[index] = _replace(worker, spec)
                    workers[index].pipe.send(stamp)
            if ticks in kill_ticks:
                victim = rng.randrange(len(workers))
                time.sleep(rng.uniform(0.0, 0.05))  # somewhere inside the tick
                os.kill(workers[victim].process.pid, signal.SIGKILL)
                killed += 1
            for index, worker in enumerate(workers):
                try:
                    decisions += worker.pipe.recv()
                except (EOFError, ConnectionResetError):
                    workers[index] = _replace(worker, spec)
            ticks += 1
            if progress is not None:
                progress("dispatch", min(1.0, (now - spec.start) / (end - spec.start)))
            now = _next_instant(sessions, now, spec, end, timeline)
    finally:
        for worker in workers:
            with contextlib.suppress(BrokenPipeError, OSError):
                worker.pipe.send(None)
            worker.process.join(timeout=10)
            if worker.process.is_alive():
                worker.process.kill()
    return ticks, decisions, killed


def _replace(worker: _Worker, spec: SimulationSpec) -> _Worker:
    """A new worker for one the crash test killed; any other death stops the simulation."""
    worker.process.join(timeout=5)
    if worker.process.exitcode != -signal.SIGKILL:
        raise RuntimeError(f"dispatcher worker died (exit code {worker.process.exitcode})")
    return _spawn(spec)


def _plan_kills(rng: random.Random, first: int, count: int) -> set[int]:
    """Pick `count` distinct upcoming ticks (the next few hundred) to crash a worker in."""
    return set(rng.sample(range(first, first + max(count * 8, 200)), count))


# -- measuring --------------------------------------------------------------------------------


def _measure(session: Any, spec: SimulationSpec, jobs: int, end: datetime) -> SimulationResult:
    locations = audited_locations(session)
    contacts = audited_contacts(session)
    dials = carrier_dials(session)
    report = audit_dials(dials, contacts, locations)
    notes = []
    exact = True
    under_fail_rule: int | None = None
    if spec.population.one_campaign:
        capacity = lawful_capacity(contacts, locations, start=spec.start, end=end)
    else:
        bound = ledger_capacity_report(
            contacts, locations, capacity_jobs(session), start=spec.start, end=end
        )
        capacity, exact = bound.capacity, bound.exact
        capped = set(
            session.scalars(
                select(CallJob.id).where(
                    CallJob.status == "failed", CallJob.reason_code == FOURTEEN_DAY_CAP
                )
            )
        )
        if capped:
            kept = [job for job in capacity_jobs(session) if job.job_id not in capped]
            under_fail_rule = ledger_capacity_report(
                contacts, locations, kept, start=spec.start, end=end
            ).capacity
        else:
            under_fail_rule = capacity
        if not exact:
            notes.append(
                f"lawful capacity {bound.capacity} is an upper bound: the best lawful schedule "
                f"found has {bound.lower_bound} dials"
            )
    in_range = sum(1 for dial in dials if spec.start <= dial.dialed_at < end)
    if in_range != len(dials):
        notes.append(
            f"{len(dials) - in_range} dials fell outside the simulated range (while calls "
            f"drained); utilization counts the {in_range} inside it"
        )

    def grouped(column: Any, *where: Any) -> dict[str, int]:
        rows = session.execute(select(column, func.count()).where(*where).group_by(column))
        return {str(getattr(key, "value", key)): int(n) for key, n in rows if key is not None}

    statuses = grouped(CallJob.status)
    ledger = int(session.scalar(select(func.sum(MinutesLedger.billable_seconds))) or 0)
    billable = int(session.scalar(select(func.sum(CallJob.billable_seconds))) or 0)
    dialed_jobs = int(
        session.scalar(
            select(func.count()).select_from(CallJob).where(CallJob.dialed_at.is_not(None))
        )
        or 0
    )
    carrier_calls = int(session.scalar(select(func.count()).select_from(SandboxCall)) or 0)
    if dialed_jobs != carrier_calls:
        notes.append(f"{dialed_jobs} jobs carry a dial stamp; the carrier placed {carrier_calls}")
    by_rule = Counter(v.rule.value for v in report.violations)
    return SimulationResult(
        locations=spec.population.locations,
        contacts=len(contacts),
        jobs=jobs,
        days=spec.days,
        workers=spec.workers,
        dials=len(dials),
        outcomes=grouped(CallJob.outcome, CallJob.outcome.is_not(None)),
        deferred_by_reason=grouped(CallJob.reason_code, CallJob.status == "deferred"),
        failed_by_reason=grouped(CallJob.reason_code, CallJob.status == "failed"),
        queued=statuses.get("queued", 0),
        in_flight=sum(statuses.get(s.value, 0) for s in IN_FLIGHT),
        needs_review=statuses.get("needs_review", 0),
        violations=len(report.violations),
        violations_by_rule=dict(by_rule),
        dialed_twice=len(report.dialed_twice),
        lawful_capacity=capacity,
        utilization=round(in_range / capacity, 4) if capacity else 1.0,
        ledger_seconds=ledger,
        billable_seconds=billable,
        ledger_matches=ledger == billable,
        decisions=0,
        ticks=0,
        workers_killed=0,
        populate_seconds=0.0,
        dispatch_seconds=0.0,
        audit_seconds=0.0,
        decisions_per_second=0.0,
        notes=notes,
        lawful_capacity_exact=exact,
        lawful_capacity_under_fail_rule=under_fail_rule,
        utilization_under_fail_rule=(
            None
            if under_fail_rule is None
            else round(in_range / under_fail_rule, 4)
            if under_fail_rule
            else 1.0
        ),
    )
