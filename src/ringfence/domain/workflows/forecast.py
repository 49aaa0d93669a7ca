"""The pre-flight forecast: what the dispatcher would do with a workflow's calls, replayed in
virtual time without dialing anyone.

Pure: frozen facts in, a `Forecast` out, no I/O and no clock. The simulation does not model the
dispatcher's rules anew, it *replays* them: every verdict comes from the compliance gate
(`evaluate`), and the scheduling around the gate follows `services/dispatch.py` step by step:

- the dispatcher ticks every `Cadence.tick`; a location is visited when its `ready_at` is due;
- a visit takes the location's first `candidates_per_tick` due jobs in (due, id) order and
  decides them in turn until one dials, or pacing / the daily cap blocks the whole location;
  a deferred or failed job lets the next candidate try in the same tick;
- a dial books the location's slot (one per minute, 100 per location-local day); the 100th
  dial, or a job that meets the daily cap, defers every due job to the next local day
  ("overflow defers to next day": each overflowed job is Deferred with `location_daily_cap`);
- each simulated dial is added to its number's history, so the per-number daily, 24-hour and
  14-day caps see it.

Replaying the cadence matters: a tick decides at most `candidates_per_tick` jobs per location,
so a queue of jobs that all defer at midnight takes several ticks to drain, and which jobs are
still waiting when the window opens (or when the daily cap is reached) depends on it.

What it does not model: carrier capacity (calls per second, concurrent calls), other
locations' dials to the same numbers, and the workflow runner's batch of 200 enrollments per
pass; each can only delay dials, and a location's one dial a minute is far below any carrier
limit. Facts are taken as they are now: a contact who opts out tomorrow is forecast as called.
"""

from __future__ import annotations

import heapq
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta

from ringfence.domain.calls import ACCOUNT_PAUSE_RECHECK, ACCOUNT_PAUSES
from ringfence.domain.compliance import (
    DEFAULT_POLICY,
    CallFacts,
    Defer,
    Fail,
    LocationFacts,
    PlatformPolicy,
    ReasonCode,
    Rule,
    WarningCode,
    evaluate,
    location_day_bounds,
    zone,
)
from ringfence.domain.compliance.facts import require_aware
from ringfence.domain.pacing import book_dial

# As in services/dispatch.py: when one job meets these, every job of the location would, so the
# location sleeps and the job stays queued (not its fault, and not a deferral).
_LOCATION_BLOCKS = frozenset({ReasonCode.LOCATION_PACING, ReasonCode.LOCATION_DAILY_CAP})

DEFAULT_HORIZON = timedelta(days=30)


@dataclass(frozen=True, slots=True)
class Cadence:
    """How often the dispatcher ticks and how many due jobs it decides per location per tick
    (`Settings.dispatch_interval`, `DispatchConfig.candidates_per_location`)."""

    tick: timedelta = timedelta(seconds=1)
    candidates_per_tick: int = 3

    def __post_init__(self) -> None:
        if self.tick <= timedelta(0):
            raise ValueError("the tick must be positive")
        if self.candidates_per_tick < 1:
            raise ValueError("candidates_per_tick must be at least 1")


@dataclass(frozen=True, slots=True)
class LocationState:
    """The location's pacing row as it is now (`LocationPacing`): the day its count is for,
    the count, the last dial and when the dispatcher next visits it (None: nothing pending)."""

    time_zone: str
    day_start: datetime | None = None
    dials_today: int = 0
    last_dial_at: datetime | None = None
    ready_at: datetime | None = None

    def __post_init__(self) -> None:
        LocationFacts(self.time_zone, self.dials_today, self.last_dial_at)  # validates
        for name in ("day_start", "ready_at"):
            value = getattr(self, name)
            if value is not None:
                require_aware(value, name)


@dataclass(frozen=True, slots=True)
class ForecastCall:
    """One prospective call job.

    `facts` are the contact's facts as of now; their `location` and `number_dials` are ignored
    (the simulation supplies both as time goes by). `key` orders jobs due at the same instant,
    as the job id does in the dispatcher. `due`: when the job is (or would be) due.
    """

    key: int
    facts: CallFacts
    due: datetime

    def __post_init__(self) -> None:
        require_aware(self.due, "due")


@dataclass(frozen=True, slots=True)
class ForecastInput:
    """`calls`: the workflow's calls, each enqueued when its due instant comes (as the workflow
    runner does when an enrollment reaches the call step). `queued`: jobs already queued or
    deferred at the location, which compete for its slots but are not counted. `history`: each
    phone number's dials (at least the last 14 days), as `CallFacts.number_dials` holds them."""

    now: datetime
    location: LocationState
    calls: tuple[ForecastCall, ...] = ()
    queued: tuple[ForecastCall, ...] = ()
    history: Mapping[str, tuple[datetime, ...]] = field(default_factory=dict)
    cadence: Cadence = field(default_factory=Cadence)
    horizon: timedelta = DEFAULT_HORIZON
    policy: PlatformPolicy = DEFAULT_POLICY

    def __post_init__(self) -> None:
        require_aware(self.now, "now")
        keys = [call.key for call in (*self.calls, *self.queued)]
        if len(set(keys)) != len(keys):
            raise ValueError("every call needs its own key")


@dataclass(frozen=True, slots=True)
class CallForecast:
    """What happens to one of the workflow's calls: dialed at `dialed_at`, failed with
    `failed`, or still pending at the horizon (neither). `first_deferral` is the reason of its
    first Deferred status, whatever came after (pacing is "queued", never a deferral)."""

    key: int
    dialed_at: datetime | None = None
    failed: ReasonCode | None = None
    first_deferral: ReasonCode | None = None
    warnings: tuple[WarningCode, ...] = ()

    @property
    def pending(self) -> bool:
        return self.dialed_at is None and self.failed is None


@dataclass(frozen=True, slots=True)
class Forecast:
    """The workflow's calls over the horizon.

    `called` + `sum(failed)` + `pending` is the number of calls; `deferred` counts calls
    deferred at least once, by the reason of their first deferral (such a call may still be
    dialed later, so it is also in `called`). `schedule` is dials per location-local day.
    `warnings` counts calls per risk warning (from each call's first evaluation).
    """

    calls: tuple[CallForecast, ...]
    called: int
    deferred: Mapping[ReasonCode, int]
    failed: Mapping[ReasonCode, int]
    pending: int
    schedule: tuple[tuple[date, int], ...]
    warnings: Mapping[WarningCode, int]
    horizon_end: datetime
    first_dial_at: datetime | None
    last_dial_at: datetime | None
    competing_dials: int  # dials of the already-queued jobs within the horizon

    @property
    def fourteen_day_cap(self) -> int:
        """Calls that would fail on the 4-calls-in-14-days limit."""
        return self.failed.get(ReasonCode.FOURTEEN_DAY_CAP, 0)


def forecast(inp: ForecastInput) -> Forecast:
    """Replay the dispatcher over `inp` until every call is dialed or failed, or the horizon
    (`inp.horizon` after the first call is due) ends."""
    return _Simulation(inp).run()


@dataclass(slots=True)
class _Job:
    call: ForecastCall
    counted: bool
    next_attempt_at: datetime
    dialed_at: datetime | None = None
    failed: ReasonCode | None = None
    first_deferral: ReasonCode | None = None
    warnings: tuple[WarningCode, ...] | None = None  # None until first evaluated


@dataclass(slots=True)
class _Pacing:
    day_start: datetime | None
    dials_today: int
    last_dial_at: datetime | None
    ready_at: datetime | None


class _Simulation:
    def __init__(self, inp: ForecastInput) -> None:
        self.policy = inp.policy
        self.cadence = inp.cadence
        self.time_zone = inp.location.time_zone
        self.start = inp.now
        loc = inp.location
        self.pacing = _Pacing(loc.day_start, loc.dials_today, loc.last_dial_at, loc.ready_at)
        self.history: dict[str, list[datetime]] = {
            phone: list(dials) for phone, dials in inp.history.items()
        }
        self.jobs: list[_Job] = []
        # Pending jobs by (next_attempt_at, key, index): one entry per pending job.
        self.queue: list[tuple[datetime, int, int]] = []
        for call in inp.queued:
            self._push(self._add(call, counted=False, due=call.due))
        # The workflow's calls arrive when due; the runner enqueues at its own tick, so a call
        # reached between two ticks is due at the next one.
        arrivals = sorted(
            ((self._on_grid(call.due), call.key, call) for call in inp.calls),
            key=lambda item: (item[0], item[1]),
        )
        self.arrivals = [(due, self._add(call, counted=True, due=due)) for due, _, call in arrivals]
        self.next_arrival = 0
        self.open_counted = len(inp.calls)
        first_due = arrivals[0][0] if arrivals else self.start
        self.horizon_end = max(first_due, self.start) + inp.horizon

    # --- the loop ---------------------------------------------------------------------------

    def run(self) -> Forecast:
        now = self.start
        while now <= self.horizon_end and self.open_counted:
            self._enqueue_arrivals(now)
            ready = self.pacing.ready_at
            if ready is not None and ready <= now:
                self._tick(now)
            upcoming = [t for t in (self.pacing.ready_at, self._next_arrival_due()) if t]
            if not upcoming:
                break  # nothing will ever wake the location again
            now = max(now + self.cadence.tick, self._on_grid(min(upcoming)))
        return self._result()

    def _enqueue_arrivals(self, now: datetime) -> None:
        while self.next_arrival < len(self.arrivals) and self.arrivals[self.next_arrival][0] <= now:
            due, index = self.arrivals[self.next_arrival]
            self.next_arrival += 1
            self._push(index)
            ready = self.pacing.ready_at
            if ready is None or due < ready:
                self.pacing.ready_at = due

    def _next_arrival_due(self) -> datetime | None:
        if self.next_arrival < len(self.arrivals):
            return self.arrivals[self.next_arrival][0]
        return None

    def _on_grid(self, instant: datetime) -> datetime:
        """The first tick at or after `instant` (ticks run every `cadence.tick` from now)."""
        if instant <= self.start:
            return self.start
        tick = self.cadence.tick
        steps = -((self.start - instant) // tick)  # ceiling division of timedeltas
        return self.start + steps * tick

    # --- one dispatcher tick at the location (Dispatcher._plan) ------------------------------

    def _tick(self, now: datetime) -> None:
        k = self.cadence.candidates_per_tick
        candidates: list[int] = []
        while len(candidates) < k and self.queue and self.queue[0][0] <= now:
            candidates.append(heapq.heappop(self.queue)[2])
        if not candidates:
            self.pacing.ready_at = self.queue[0][0] if self.queue else None
            return
        overflow: list[datetime] = []
        decided = 0
        state = "open"
        for round_index in range(k):
            if round_index >= len(candidates):
                state = "exhausted"
                break
            index = candidates[round_index]
            state = self._decide(index, now, overflow)
            if state != "blocked":
                decided = round_index + 1
            if state != "open":
                break
        for index in candidates[decided:]:
            self._push(index)  # not decided this tick: still due, unchanged
        if state == "exhausted":
            # Every candidate was deferred or failed: sleep until the earliest pending job
            # (the deferred ones are back in the queue with their new times).
            self.pacing.ready_at = self.queue[0][0] if self.queue else None
        # "open" after the last round: ready_at stays in the past, more may be due now.
        for day_end in overflow:
            self._defer_overflow(day_end)

    def _decide(self, index: int, now: datetime, overflow: list[datetime]) -> str:
        """Dispatcher._decide: "dialed", "blocked" (the location is done for now) or "open"
        (the job was deferred or failed: the next candidate may try)."""
        job = self.jobs[index]
        evaluation = evaluate(self._facts(job, now), now, self.policy)
        if job.warnings is None:
            job.warnings = tuple(w.code for w in evaluation.warnings)
        verdict = evaluation.verdict
        if isinstance(verdict, Defer) and verdict.reason in _LOCATION_BLOCKS:
            if verdict.reason is ReasonCode.LOCATION_DAILY_CAP:
                day_end = evaluation.check(Rule.LOCATION_DAILY_CAP).until or now
                self.pacing.ready_at = day_end
                overflow.append(day_end)
            else:
                # Exactly what Dispatcher._decide does: the location sleeps until the pacing
                # gap ends (not until this job's own window opens).
                self.pacing.ready_at = evaluation.check(Rule.LOCATION_PACING).until or verdict.until
            return "blocked"
        if isinstance(verdict, Fail) and verdict.reason in ACCOUNT_PAUSES:
            # domain/calls.decide: the account is paused, the call waits for it.
            self._defer(job, index, now + ACCOUNT_PAUSE_RECHECK, verdict.reason)
            return "open"
        if isinstance(verdict, Fail):
            job.failed = verdict.reason
            self._closed(job)
            return "open"
        if isinstance(verdict, Defer):
            self._defer(job, index, verdict.until, verdict.reason)
            return "open"
        job.dialed_at = now
        self._closed(job)
        phone = job.call.facts.contact.phone_e164
        if phone:
            self.history.setdefault(phone, []).append(now)
        next_day = book_dial(self.pacing, self.time_zone, now, self.policy)
        if next_day is not None:
            overflow.append(next_day)
        return "dialed"

    def _defer_overflow(self, day_end: datetime) -> None:
        """dispatch_queries.defer_overflow: every pending job due before the location's next
        day is Deferred to it with `location_daily_cap`."""
        while self.queue and self.queue[0][0] < day_end:
            index = heapq.heappop(self.queue)[2]
            self._defer(self.jobs[index], index, day_end, ReasonCode.LOCATION_DAILY_CAP)

    # --- facts and bookkeeping ----------------------------------------------------------------

    def _facts(self, job: _Job, now: datetime) -> CallFacts:
        """The job's facts as the dispatcher would gather them at `now` (services/facts.py:
        the pacing row's count only if it is for today's local day)."""
        pacing = self.pacing
        day_start, _ = location_day_bounds(now, self.time_zone)
        current = pacing.day_start is not None and pacing.day_start >= day_start
        facts = job.call.facts
        phone = facts.contact.phone_e164
        return replace(
            facts,
            location=LocationFacts(
                time_zone=self.time_zone,
                dials_today=pacing.dials_today if current else 0,
                last_dial_at=pacing.last_dial_at,
            ),
            number_dials=tuple(self.history.get(phone, ())) if phone else (),
        )

    def _add(self, call: ForecastCall, *, counted: bool, due: datetime) -> int:
        self.jobs.append(_Job(call, counted, due))
        return len(self.jobs) - 1

    def _push(self, index: int) -> None:
        job = self.jobs[index]
        heapq.heappush(self.queue, (job.next_attempt_at, job.call.key, index))

    def _defer(self, job: _Job, index: int, until: datetime, reason: ReasonCode) -> None:
        if job.first_deferral is None:
            job.first_deferral = reason
        job.next_attempt_at = until
        self._push(index)

    def _closed(self, job: _Job) -> None:
        if job.counted:
            self.open_counted -= 1

    # --- the answer -------------------------------------------------------------------------

    def _result(self) -> Forecast:
        counted = [job for job in self.jobs if job.counted]
        calls = tuple(
            CallForecast(
                key=job.call.key,
                dialed_at=job.dialed_at,
                failed=job.failed,
                first_deferral=job.first_deferral,
                warnings=job.warnings or (),
            )
            for job in sorted(counted, key=lambda job: job.call.key)
        )
        dials = sorted(job.dialed_at for job in counted if job.dialed_at is not None)
        tz = zone(self.time_zone)
        schedule = Counter(dial.astimezone(tz).date() for dial in dials)
        warnings: Counter[WarningCode] = Counter()
        for call in calls:
            warnings.update(set(call.warnings))
        return Forecast(
            calls=calls,
            called=len(dials),
            deferred=dict(Counter(c.first_deferral for c in calls if c.first_deferral)),
            failed=dict(Counter(c.failed for c in calls if c.failed)),
            pending=sum(1 for c in calls if c.pending),
            schedule=tuple(sorted(schedule.items())),
            warnings=dict(warnings),
            horizon_end=self.horizon_end,
            first_dial_at=dials[0] if dials else None,
            last_dial_at=dials[-1] if dials else None,
            competing_dials=sum(
                1 for job in self.jobs if not job.counted and job.dialed_at is not None
            ),
        )
