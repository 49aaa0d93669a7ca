"""Lawful capacity: the most dials the platform rules allow a population over a time range.

The dispatcher issue asks the simulation to print `lawful_capacity`, "the most dials the rules
allowed for this population", and utilization = dials / lawful_capacity. This module computes
it exactly for one campaign (the model below) and brackets it for the ledger population (the
ledger model, further down), with the rule readings of `simulation.audit` (whose zone, number,
consent and gate checks it reuses, so the two yardsticks agree with each other while both stay
independent of the compliance engine).

Model. Over `[start, end)` each contact is dialed at most once (a simulation population is one
campaign: one job per contact), by its own location.

- A contact is *eligible* when, at `start`, its account passes the gates, its number is a valid
  US geographic number, it has valid voice consent, no DND on voice and no voice-covering
  opt-out (`audit.location_problem`, `audit.number_problem`, `audit.contact_problems`).
- "Calls per minute per location | 1": each location dials in slots `start + k * pacing`, at
  most one dial per slot.
- "Calls per day per location | 100": at most 100 dials per location-local calendar day.
- "between 10:00 AM and 6:00 PM in the contact's phone-number time zone": a contact may take a
  slot whose instant lies in `[10:00, 18:00)` local time in every candidate zone of its number
  (`audit.candidate_zones`); over a multi-day range it may be served on any day.
- The per-number caps (1 a day, 4 in 14 days) never bind one dial per contact; contacts that
  share a number are still counted separately, so for them the result is an upper bound.

On the grid. When `start` is a whole minute (the simulation's case) the grid loses nothing: in
any schedule whose dials are at least 60 s apart, flooring every dial to the whole minute keeps
them 60 s apart, keeps each inside its contact's window and its location day (all of whose
ends are whole local hours) and inside the range, so the grid maximum is the true maximum.

Algorithm. Per location this is a bipartite matching of contacts to slots with a capacity per
day. Earliest-deadline-first over slots is exact only when each contact has one interval; with
one window per day it is not (a contact whose window closes first may have tomorrow too, and
taking it first can strand a contact who has only today). Instead, contacts with the same
candidate zones are interchangeable, so they are grouped into *types* (a handful: one per
distinct zone set), each day's slots are cut into *segments* at every window edge of every
type, and the maximum is a max-flow on

    source -> type (its contact count) -> segment (covered by the type's window that day)
           -> day (the segment's slot count) -> sink (the daily cap),

solved by Dinic's algorithm. The graph has (types x segments) edges per day, independent of
the number of contacts, so 100,000 contacts cost no more than 100 once grouped. An optimal
schedule is read back from the flow (any slot of a segment suits every type covering it).
Tests check the result against a brute-force max-flow over every individual slot.

The ledger model (`ledger_capacity_report`): the richer population of `--scenario ledger`.
Jobs instead of contacts: each `CapacityJob` is dialed at most once, by its contact's
location, at an instant of `[start, end)` at or after its release (when it was enqueued) and
before its deadline; the same number may be held by several contacts, at several locations of
the account; consent, DND and opt-outs change during the run. A dial is lawful under every
rule the audit checks, read the audit's way:

- the job's *availability*: its contact's calling window (every candidate zone) while
  `audit.contact_problems` finds nothing (asked once per stretch between two recorded
  instants of the number's group: consent, revocation, DND, opt-out flag, opt-out history),
  the account gates and the number valid, clipped to `[release, deadline)`;
- per number of the account (`NumberScope.ACCOUNT`): at most 1 dial per calendar day of its
  zones and at most 4 in any window `(t - 14 days, t]`;
- per location: pacing (60 s apart) and 100 a location day, as in the campaign model.

Counting the fifth call of 14 days as a violation is the rule on dials; the product also
says such a call "Failed ... do not retry", which the model does not encode: a job released
while its number is at the cap may wait (dialed once the oldest dial leaves the window). So
the capacity bounds every dispatcher, and a dispatcher that fails those jobs falls short of it
by the calls it gave up (docs/operations.md has the measured figure).

Exactness. The maximum is bracketed, and the report says when the bracket closes:

1. Each number's own maximum, location limits ignored. A number's days are its allowed
   intervals (every candidate zone in its window at once): with the 8-hour window, two
   instants share a calendar day in some zone exactly when they lie in the same one, so "1 a
   day" is "1 per interval". If every job's availability is the union of all of them from
   its own first instant on (one contact's recurring jobs; contacts of one number whose
   opt-outs end them together), dialing the oldest waiting job as early as the caps allow is
   optimal: the i-th greedy dial is never later than the i-th dial of any schedule (induction:
   the caps only ever push a dial later than earlier ones, and a job released by the other
   schedule's i-th dial is waiting). Otherwise an exact search over the order in which jobs
   are dialed, each at its earliest instant (earliest placement of a fixed order is never
   worse, by the same induction), memoized on the jobs left and the last dials; past
   `search_budget` states the number is bounded by the greedy over the union instead (each
   job available wherever any is: a superset). The sum over numbers bounds the maximum.
2. A lawful schedule, built in time order: each location dials, whenever pacing and its daily
   cap allow, the most urgent job that is lawful then, every cap checked against the dials
   already placed exactly as the audit checks them (the tests audit it). Its size is a lower
   bound; when it reaches the sum of 1., the capacity is exact.
3. Otherwise the location limits cut in, and a max-flow bounds the maximum instead:

       source -> number (its own maximum) -> number day (1) -> the contact's window that day
              -> segment of the location day (its pacing slots) -> location day (100) -> sink,

   numbers with the same maximum and the same windows per day grouped into one node. Every
   lawful schedule is a flow of it, so its value bounds the maximum; it forgets which days a
   number's own maximum needs (the 14-day cap counts only as a total) and when in the window
   a job is released. The capacity is exact when the schedule of 2. reaches it.

So `capacity` is always an upper bound (utilization is never flattered) and `exact` says it
is the maximum. Tests bracket it against a brute force over every schedule on tiny
populations (every instant on a one-hour grid, where the grid loses nothing) and check that it
equals the campaign model on one-campaign populations. Measured: exact on the ledger
simulations of 20 locations x 30 contacts and 4 x 150 (the first day's location cap binding),
16 days each. On a synthetic 1,000 x 150 ledger population (897,000 jobs, about 110 s) the
schedule found stayed 0.4 % under the bound: numbers shared by two contacts, whose window
opens late in the location's day, would need first-day slots kept for them, which a schedule
built in time order does not do.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from heapq import heappop, heappush
from itertools import pairwise
from zoneinfo import ZoneInfo

from ringfence.simulation.audit import (
    PLATFORM_LIMITS,
    AuditedContact,
    AuditedLocation,
    AuditLimits,
    AuditRule,
    candidate_zones,
    contact_problems,
    index_contacts,
    index_locations,
    location_problem,
    number_groups,
    number_problem,
)

__all__ = [
    "CapacityJob",
    "CapacityReport",
    "DayCapacity",
    "LedgerCapacityReport",
    "LedgerDial",
    "LocationCapacity",
    "ScheduledDial",
    "capacity_report",
    "lawful_capacity",
    "ledger_capacity_report",
    "ledger_lawful_capacity",
]


@dataclass(frozen=True, slots=True)
class ScheduledDial:
    """One dial of an optimal schedule (the schedule is one of possibly many optima)."""

    contact_id: int
    location_id: int
    at: datetime


@dataclass(frozen=True, slots=True)
class DayCapacity:
    """One location-local calendar day of the range.

    `open_slots`: slots of the day inside at least one eligible contact's window (with the
    daily cap, `min(open_slots, cap)` bounds the day). `dials`: that day's dials in the optimal
    schedule returned (other optima may spread them differently; the total is the same).
    """

    day: date
    open_slots: int
    dials: int


@dataclass(frozen=True, slots=True)
class LocationCapacity:
    location_id: int
    time_zone: str
    contacts: int
    eligible: int
    capacity: int
    days: tuple[DayCapacity, ...]


@dataclass(frozen=True, slots=True)
class CapacityReport:
    """`capacity` is the lawful capacity; the rest says where it went.

    `ineligible`: contacts not eligible at `start`, by their first problem (gates, then number,
    then consent / DND / opt-out). `eligible_without_window`: eligible contacts with no allowed
    slot in the range at all.
    """

    start: datetime
    end: datetime
    capacity: int
    locations: tuple[LocationCapacity, ...]
    ineligible: dict[AuditRule, int]
    eligible_without_window: int
    schedule: tuple[ScheduledDial, ...]


def lawful_capacity(
    contacts: Iterable[AuditedContact],
    locations: Iterable[AuditedLocation],
    *,
    start: datetime,
    end: datetime,
    limits: AuditLimits = PLATFORM_LIMITS,
) -> int:
    """The most dials the platform rules allow this population over `[start, end)`, each
    contact dialed at most once. See the module docstring for the model and its proof sketch."""
    return capacity_report(contacts, locations, start=start, end=end, limits=limits).capacity


def capacity_report(
    contacts: Iterable[AuditedContact],
    locations: Iterable[AuditedLocation],
    *,
    start: datetime,
    end: datetime,
    limits: AuditLimits = PLATFORM_LIMITS,
) -> CapacityReport:
    """`lawful_capacity` with its breakdown per location and per location-local day, the
    ineligible contacts by reason, and one optimal schedule."""
    if start.utcoffset() is None or end.utcoffset() is None:
        raise ValueError("start and end must be timezone-aware")
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    location_by_id = index_locations(locations)
    contact_by_id = index_contacts(contacts)

    ineligible: Counter[AuditRule] = Counter()
    members: defaultdict[int, list[AuditedContact]] = defaultdict(list)
    eligible: defaultdict[int, list[tuple[AuditedContact, frozenset[str]]]] = defaultdict(list)
    for contact in contact_by_id.values():
        location = location_by_id.get(contact.location_id)
        if location is None:
            raise ValueError(
                f"contact {contact.contact_id}: unknown location {contact.location_id}"
            )
        members[contact.location_id].append(contact)
        problem = (
            location_problem(location)
            or number_problem(contact.phone_e164)
            or next(iter(contact_problems(contact, start)), None)
        )
        if problem is None and contact.phone_e164 is not None:
            zones = candidate_zones(contact.phone_e164, contact.extra_zones)
            eligible[contact.location_id].append((contact, zones))
        elif problem is not None:
            ineligible[problem] += 1

    results: list[LocationCapacity] = []
    schedule: list[ScheduledDial] = []
    without_window = 0
    for location_id in sorted(location_by_id):
        location = location_by_id[location_id]
        solved = _solve_location(location, eligible[location_id], start, end, limits)
        schedule.extend(solved.schedule)
        without_window += solved.without_window
        results.append(
            LocationCapacity(
                location_id=location_id,
                time_zone=location.time_zone,
                contacts=len(members[location_id]),
                eligible=len(eligible[location_id]),
                capacity=len(solved.schedule),
                days=solved.days,
            )
        )
    schedule.sort(key=lambda d: (d.at, d.location_id))
    return CapacityReport(
        start=start,
        end=end,
        capacity=len(schedule),
        locations=tuple(results),
        ineligible={rule: ineligible[rule] for rule in AuditRule if ineligible[rule]},
        eligible_without_window=without_window,
        schedule=tuple(schedule),
    )


# --- one location --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Solved:
    schedule: tuple[ScheduledDial, ...]
    days: tuple[DayCapacity, ...]
    without_window: int


# Half-open ranges of slot indices.
_Range = tuple[int, int]


def _solve_location(
    location: AuditedLocation,
    contacts: Sequence[tuple[AuditedContact, frozenset[str]]],
    start: datetime,
    end: datetime,
    limits: AuditLimits,
) -> _Solved:
    step = limits.pacing

    def slot_at_or_after(instant: datetime) -> int:
        # ceil((instant - start) / step), clipped to the grid
        return min(max(-((start - instant) // step), 0), slot_count)

    slot_count = max(-((start - end) // step), 0)
    if slot_count == 0:
        return _Solved((), (), len(contacts))

    # The location's calendar days that hold at least one slot, as slot ranges.
    zone = ZoneInfo(location.time_zone)
    day = start.astimezone(zone).date()
    last_day = (start + (slot_count - 1) * step).astimezone(zone).date()
    days: list[tuple[date, _Range]] = []
    while day <= last_day:
        lo = slot_at_or_after(_local_instant(location.time_zone, day, time(0)))
        hi = slot_at_or_after(_local_instant(location.time_zone, day + _DAY, time(0)))
        if lo < hi:
            days.append((day, (lo, hi)))
        day += _DAY

    # Types: eligible contacts with the same candidate zones share every allowed slot.
    by_zones: defaultdict[frozenset[str], list[AuditedContact]] = defaultdict(list)
    for contact, zones in contacts:
        by_zones[zones].append(contact)
    types = sorted(by_zones.items(), key=lambda item: sorted(item[0]))
    type_ranges: list[list[_Range]] = []
    for zones, _ in types:
        allowed = _allowed_intervals(zones, start, end, limits.window_start, limits.window_end)
        ranges = [(slot_at_or_after(a), slot_at_or_after(b)) for a, b in allowed]
        type_ranges.append([(lo, hi) for lo, hi in ranges if lo < hi])
    without_window = sum(
        len(members) for (_, members), ranges in zip(types, type_ranges, strict=True) if not ranges
    )

    # The flow network.
    network = _FlowNetwork()
    source, sink = network.add_node(), network.add_node()
    type_nodes = [network.add_node() for _ in types]
    for node, (_, members) in zip(type_nodes, types, strict=True):
        network.add_edge(source, node, len(members))
    # (type index, segment range, edge) for every type -> segment edge; per day its sink edge.
    assignments: list[tuple[int, _Range, int]] = []
    day_edges: list[int] = []
    open_slots: list[int] = []
    for _, (day_lo, day_hi) in days:
        pieces = [
            (index, max(lo, day_lo), min(hi, day_hi))
            for index, ranges in enumerate(type_ranges)
            for lo, hi in ranges
            if max(lo, day_lo) < min(hi, day_hi)
        ]
        day_node = network.add_node()
        day_edges.append(network.add_edge(day_node, sink, limits.location_daily_cap))
        cuts = sorted({edge for _, lo, hi in pieces for edge in (lo, hi)})
        opened = 0
        for seg_lo, seg_hi in pairwise(cuts):
            covering = [index for index, lo, hi in pieces if lo <= seg_lo and seg_hi <= hi]
            if not covering:
                continue
            opened += seg_hi - seg_lo
            segment_node = network.add_node()
            network.add_edge(segment_node, day_node, seg_hi - seg_lo)
            for index in covering:
                edge = network.add_edge(type_nodes[index], segment_node, len(types[index][1]))
                assignments.append((index, (seg_lo, seg_hi), edge))
        open_slots.append(opened)
    network.max_flow(source, sink)

    # Read one optimal schedule back: within a segment every slot suits every covering type.
    pools = [sorted(members, key=lambda c: c.contact_id) for _, members in types]
    taken = [0] * len(types)
    next_free: dict[_Range, int] = {}
    dials: list[ScheduledDial] = []
    for index, segment, edge in assignments:
        for _ in range(network.flow(edge)):
            slot = next_free.get(segment, segment[0])
            next_free[segment] = slot + 1
            contact = pools[index][taken[index]]
            taken[index] += 1
            dials.append(
                ScheduledDial(contact.contact_id, location.location_id, start + slot * step)
            )
    day_rows = tuple(
        DayCapacity(day=day, open_slots=opened, dials=network.flow(edge))
        for (day, _), opened, edge in zip(days, open_slots, day_edges, strict=True)
    )
    return _Solved(tuple(dials), day_rows, without_window)


# --- the ledger population: recurring jobs, shared numbers, opt-outs over time --------------


@dataclass(frozen=True, slots=True)
class CapacityJob:
    """One call job of the ledger model: enqueued (released) at `released_at`, to be dialed
    before `deadline` (None: none), by its contact's location, at most once."""

    job_id: int
    contact_id: int
    released_at: datetime
    deadline: datetime | None = None

    def __post_init__(self) -> None:
        if self.released_at.utcoffset() is None or (
            self.deadline is not None and self.deadline.utcoffset() is None
        ):
            raise ValueError("a job's release and deadline must be timezone-aware")


@dataclass(frozen=True, slots=True)
class LedgerDial:
    """One dial of the lawful schedule found for the ledger model."""

    job_id: int
    contact_id: int
    location_id: int
    at: datetime


@dataclass(frozen=True, slots=True)
class LedgerCapacityReport:
    """The ledger model's lawful capacity and how firmly it is known.

    `capacity`: the most dials the rules allow, as an upper bound that is exact when `exact`.
    `schedule`: a lawful schedule (every rule of the model holds for it; the tests audit it):
    `lower_bound` dials, so the true maximum lies in `[lower_bound, capacity]`, and `exact`
    says the two met. `number_bound`: the sum over numbers of each number's own maximum
    (location limits ignored), the first upper bound; `capacity` is lower when the location
    limits cut into it. `jobs_never_eligible`: jobs with no lawful instant at all in the range
    (ineligible contact or number, outside every window, released too late, opted out first).
    `numbers_relaxed`: numbers whose own maximum was too costly to search exactly and was
    bounded instead (see the module docstring).
    """

    start: datetime
    end: datetime
    capacity: int
    exact: bool
    schedule: tuple[LedgerDial, ...]
    number_bound: int
    numbers: int
    jobs: int
    jobs_never_eligible: int
    numbers_relaxed: int

    @property
    def lower_bound(self) -> int:
        return len(self.schedule)


def ledger_lawful_capacity(
    contacts: Iterable[AuditedContact],
    locations: Iterable[AuditedLocation],
    jobs: Iterable[CapacityJob],
    *,
    start: datetime,
    end: datetime,
    limits: AuditLimits = PLATFORM_LIMITS,
) -> int:
    """The most dials the platform rules allow `jobs` over `[start, end)` (an upper bound,
    exact in the cases the module docstring names; `ledger_capacity_report` says which)."""
    return ledger_capacity_report(
        contacts, locations, jobs, start=start, end=end, limits=limits
    ).capacity


def ledger_capacity_report(
    contacts: Iterable[AuditedContact],
    locations: Iterable[AuditedLocation],
    jobs: Iterable[CapacityJob],
    *,
    start: datetime,
    end: datetime,
    limits: AuditLimits = PLATFORM_LIMITS,
    search_budget: int = 20_000,
) -> LedgerCapacityReport:
    """`ledger_lawful_capacity` with its lower bound (a lawful schedule) and where the bound
    comes from. `search_budget`: the most states the exact search of one number's own maximum
    may visit before that number is bounded instead."""
    if start.utcoffset() is None or end.utcoffset() is None:
        raise ValueError("start and end must be timezone-aware")
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    location_by_id = index_locations(locations)
    contact_by_id = index_contacts(contacts)
    for member in contact_by_id.values():
        if member.location_id not in location_by_id:
            raise ValueError(f"contact {member.contact_id}: unknown location {member.location_id}")
    groups = number_groups(contact_by_id.values(), location_by_id)

    # Every job's lawful instants, ignoring the counting rules: its availability.
    views: dict[int, _ContactView | None] = {}
    numbers: dict[tuple[int, str], _Number] = {}
    all_jobs = list(jobs)
    if len({job.job_id for job in all_jobs}) != len(all_jobs):
        raise ValueError("a job id is given twice")
    never = 0
    for job in sorted(all_jobs, key=lambda j: (j.released_at, j.job_id)):
        contact = contact_by_id.get(job.contact_id)
        if contact is None:
            raise ValueError(f"job {job.job_id}: unknown contact {job.contact_id}")
        if contact.contact_id not in views:
            views[contact.contact_id] = _contact_view(
                contact, location_by_id[contact.location_id], groups, start, end, limits
            )
        view = views[contact.contact_id]
        if view is None:
            never += 1
            continue
        lo = max(start, job.released_at.astimezone(UTC))
        hi = end if job.deadline is None else min(end, job.deadline.astimezone(UTC))
        available = view.available.clip(lo, hi)
        if available.empty:
            never += 1
            continue
        number = numbers.get(view.number_key)
        if number is None:
            number = numbers[view.number_key] = _Number(
                view.number_key, _number_days(view.number_key[1], start, end, limits)
            )
        number.jobs.append(_Job(job.job_id, contact, view, available))

    relaxed = 0
    number_bound = 0
    for number in numbers.values():
        number.own_max, exact_search = _number_maximum(number, start, limits, search_budget)
        relaxed += not exact_search
        number_bound += number.own_max
    found = list(numbers.values())
    schedule = _list_schedule(found, location_by_id, start, limits)
    capacity = number_bound
    if len(schedule) < capacity:
        capacity = min(capacity, _relaxed_flow(found, location_by_id, start, end, limits))
    return LedgerCapacityReport(
        start=start,
        end=end,
        capacity=capacity,
        exact=len(schedule) == capacity,
        schedule=tuple(schedule),
        number_bound=number_bound,
        numbers=len(numbers),
        jobs=len(all_jobs),
        jobs_never_eligible=never,
        numbers_relaxed=relaxed,
    )


class _Span:
    """A sorted union of disjoint half-open UTC intervals."""

    __slots__ = ("ends", "starts")

    def __init__(self, intervals: Iterable[tuple[datetime, datetime]] = ()) -> None:
        self.starts: list[datetime] = []
        self.ends: list[datetime] = []
        for lo, hi in intervals:
            if lo >= hi:
                continue
            if self.ends and lo <= self.ends[-1]:
                self.ends[-1] = max(self.ends[-1], hi)
            else:
                self.starts.append(lo)
                self.ends.append(hi)

    @property
    def empty(self) -> bool:
        return not self.starts

    def intervals(self) -> list[tuple[datetime, datetime]]:
        return list(zip(self.starts, self.ends, strict=True))

    def key(self) -> tuple[tuple[datetime, ...], tuple[datetime, ...]]:
        return tuple(self.starts), tuple(self.ends)

    def clip(self, lo: datetime, hi: datetime) -> _Span:
        return _Span((max(a, lo), min(b, hi)) for a, b in self.intervals())

    def index(self, at: datetime) -> int | None:
        """The interval containing `at`, or None."""
        i = bisect_right(self.starts, at) - 1
        return i if i >= 0 and at < self.ends[i] else None

    def next_point(self, at: datetime) -> datetime | None:
        """The earliest instant of the union at or after `at`."""
        i = bisect_right(self.starts, at) - 1
        if i >= 0 and at < self.ends[i]:
            return at
        return self.starts[i + 1] if i + 1 < len(self.starts) else None

    def end_at(self, at: datetime) -> datetime:
        """The end of the interval containing `at` (which must lie in the union)."""
        i = self.index(at)
        assert i is not None
        return self.ends[i]

    @property
    def last(self) -> datetime:
        return self.ends[-1]


@dataclass(slots=True)
class _ContactView:
    number_key: tuple[int, str]
    location: AuditedLocation
    zones: tuple[str, ...]  # the number's candidate zones and the contact's extras, sorted
    window: _Span  # the contact's calling window over the range
    available: _Span  # the window while the contact may be called (consent, DND, opt-outs)


@dataclass(slots=True)
class _Job:
    job_id: int
    contact: AuditedContact
    view: _ContactView
    available: _Span
    used: bool = False


@dataclass(slots=True)
class _Number:
    key: tuple[int, str]
    days: _Span  # the number's days: its allowed intervals in its own candidate zones
    jobs: list[_Job] = field(default_factory=list)
    own_max: int = 0
    dials: list[datetime] = field(default_factory=list)  # the lawful schedule's, in order


def _contact_view(
    contact: AuditedContact,
    location: AuditedLocation,
    groups: dict[tuple[int, str], list[AuditedContact]],
    start: datetime,
    end: datetime,
    limits: AuditLimits,
) -> _ContactView | None:
    """When the contact may be dialed at all (None: never): the gates and the number are fixed
    over the range; consent, DND and opt-outs change only at their recorded instants, so the
    audit's own `contact_problems` is asked once per stretch between two of them."""
    phone = contact.phone_e164
    if location_problem(location) or number_problem(phone) or phone is None:
        return None
    key = (location.account_id, phone)
    group = groups.get(key, [contact])
    instants = {start}
    for member in group:
        instants.update(record.at for record in member.consents)
        instants.update(record.at for record in member.opt_outs)
        instants.update(x for x in (member.dnd_voice_since, member.opted_out_at) if x)
    points = sorted(at.astimezone(UTC) for at in instants if start <= at < end)
    lawful = _Span(
        (lo, hi) for lo, hi in pairwise([*points, end]) if not contact_problems(contact, lo, group)
    )
    if lawful.empty:
        return None
    zones = candidate_zones(phone, contact.extra_zones)
    window = _Span(
        _allowed_intervals(zones, start, end, limits.window_start, limits.window_end)
    ).clip(start, end)
    available = _Span(_intersect(window.intervals(), lawful.intervals()))
    if available.empty:
        return None
    return _ContactView(key, location, tuple(sorted(zones)), window, available)


def _number_days(phone: str, start: datetime, end: datetime, limits: AuditLimits) -> _Span:
    """The number's allowed intervals in its own candidate zones (no contact's extras): two
    dials in one of them share a calendar day in every zone, so at most `number_daily_cap`
    dials fit in each. (Dials in two different ones could share a day only with a window of
    more than about 11 hours, or through a contact's extra zones; the bound then counts a day
    twice where the audit counts it once, which can only loosen it.)"""
    return _Span(
        _allowed_intervals(
            candidate_zones(phone), start, end, limits.window_start, limits.window_end
        )
    )


# --- one number on its own ------------------------------------------------------------------


def _earliest_for_number(
    available: _Span,
    lower: datetime,
    dials: Sequence[datetime],
    days: _Span,
    limits: AuditLimits,
) -> datetime | None:
    """The earliest instant at or after `lower` in `available` that the number's own caps
    allow after `dials` (sorted, none later than the result): fewer than the rolling cap in
    the window that ends there, fewer than the daily cap in its day."""
    at = lower
    cap = limits.number_rolling_cap
    if len(dials) >= cap:
        at = max(at, dials[-cap] + limits.number_rolling_window)
    while True:
        found = available.next_point(at)
        if found is None:
            return None
        day = days.index(found)
        if day is None:  # not inside the number's own window: cannot happen (window ⊆ it)
            following = days.next_point(found)
            if following is None:
                return None
            at = following
            continue
        same_day = sum(1 for d in dials[-limits.number_daily_cap :] if days.index(d) == day)
        if same_day >= limits.number_daily_cap:
            at = days.ends[day]
            continue
        return found


def _greedy_count(
    common: _Span, releases: Sequence[datetime], start: datetime, days: _Span, limits: AuditLimits
) -> int:
    """The number's own maximum when every job is available on `common` from its release on:
    dial as early as the caps allow, oldest job first (exact: see the module docstring)."""
    dials: list[datetime] = []
    lower = start
    for release in sorted(releases):
        at = _earliest_for_number(common, max(lower, release), dials, days, limits)
        if at is None:
            break
        dials.append(at)
        lower = at
    return len(dials)


class _OverBudget(Exception):
    pass


def _number_maximum(
    number: _Number, start: datetime, limits: AuditLimits, budget: int
) -> tuple[int, bool]:
    """The most dials the number's own caps allow its jobs (location limits ignored), and
    whether that is exact (False: the search ran over `budget` states and a bound is used)."""
    common = _Span(
        sorted(interval for job in number.jobs for interval in job.available.intervals())
    )
    firsts = [job.available.starts[0] for job in number.jobs]
    if all(
        job.available.key() == common.clip(first, common.last).key()
        for job, first in zip(number.jobs, firsts, strict=True)
    ):
        return _greedy_count(common, firsts, start, number.days, limits), True
    try:
        return _search_count(number, start, limits, budget), True
    except _OverBudget:
        # Every job available on the union from its first instant on: a superset of each
        # one's availability, whose maximum the greedy finds exactly.
        return _greedy_count(common, firsts, start, number.days, limits), False


def _search_count(number: _Number, start: datetime, limits: AuditLimits, budget: int) -> int:
    """Exact search over the order in which jobs are dialed, each at the earliest instant the
    caps allow (which never loses: see the module docstring); jobs with the same availability
    are one class."""
    sizes: Counter[tuple[tuple[datetime, ...], tuple[datetime, ...]]] = Counter()
    spans: dict[tuple[tuple[datetime, ...], tuple[datetime, ...]], _Span] = {}
    for job in number.jobs:
        sizes[job.available.key()] += 1
        spans.setdefault(job.available.key(), job.available)
    classes = list(spans.values())
    keep = max(limits.number_rolling_cap, limits.number_daily_cap)
    memo: dict[tuple[tuple[int, ...], tuple[datetime, ...]], int] = {}

    def best(counts: tuple[int, ...], recent: tuple[datetime, ...]) -> int:
        state = (counts, recent)
        if state in memo:
            return memo[state]
        if len(memo) >= budget:
            raise _OverBudget
        lower = recent[-1] if recent else start
        result = 0
        remaining = sum(counts)
        for index, span in enumerate(classes):
            if not counts[index] or result == remaining:
                continue
            at = _earliest_for_number(span, lower, recent, number.days, limits)
            if at is None:
                continue
            following = (*counts[:index], counts[index] - 1, *counts[index + 1 :])
            result = max(result, 1 + best(following, (*recent, at)[-keep:]))
        memo[state] = result
        return result

    return best(tuple(sizes[key] for key in spans), ())


# --- a lawful schedule: the lower bound ------------------------------------------------------


def _list_schedule(
    numbers: list[_Number],
    location_by_id: dict[int, AuditedLocation],
    start: datetime,
    limits: AuditLimits,
) -> list[LedgerDial]:
    """A lawful schedule, built in time order: each location dials, whenever its pacing and
    daily cap allow, the waiting job that is lawful then and most urgent (the earliest end of
    its availability, then of today's window), with every number's caps and calendar days
    checked against the dials already placed, as the audit checks them."""
    locations_of: list[list[int]] = []
    for number in numbers:
        locations_of.append(sorted({job.view.location.location_id for job in number.jobs}))
    next_free: dict[int, datetime] = {}
    per_day: defaultdict[int, Counter[date]] = defaultdict(Counter)
    version: defaultdict[tuple[int, int], int] = defaultdict(int)
    # Per location: (instant, urgency, number, version) of each number's next lawful instant
    # there, and those whose instant has come, by urgency.
    waiting: defaultdict[int, list[tuple[datetime, _Urgency, int, int]]] = defaultdict(list)
    ready: defaultdict[int, list[tuple[_Urgency, int, int]]] = defaultdict(list)
    wake: dict[int, datetime] = {}
    events: list[tuple[datetime, int]] = []
    schedule: list[LedgerDial] = []

    def candidate(index: int, where: int, lower: datetime) -> tuple[datetime, _Job] | None:
        number = numbers[index]
        location = location_by_id[where]
        best: tuple[datetime, _Urgency, _Job] | None = None
        for job in number.jobs:
            if job.used or job.view.location.location_id != where:
                continue
            at = _earliest_lawful(
                job, number, lower, next_free.get(where), location, per_day[where], limits
            )
            if at is None:
                continue
            rank = (at, _urgency(job, number, at))
            if best is None or rank < best[:2]:
                best = (*rank, job)
        return None if best is None else (best[0], best[2])

    def plan(index: int, where: int, lower: datetime) -> None:
        """Queue the number's next lawful instant at the location (replacing any queued)."""
        version[(index, where)] += 1
        found = candidate(index, where, lower)
        if found is None:
            return
        at, job = found
        heappush(
            waiting[where], (at, _urgency(job, numbers[index], at), index, version[(index, where)])
        )
        wake_at(where, at)

    def wake_at(where: int, at: datetime) -> None:
        at = max(at, next_free.get(where, at))
        if where not in wake or at < wake[where]:
            wake[where] = at
            heappush(events, (at, where))

    for index, places in enumerate(locations_of):
        for where in places:
            plan(index, where, start)

    while events:
        now, where = heappop(events)
        if wake.get(where) != now:
            continue  # superseded by an earlier wake-up
        del wake[where]
        queue, line = waiting[where], ready[where]
        while queue and queue[0][0] <= now:
            _, urgency, index, seen = heappop(queue)
            if seen == version[(index, where)]:
                heappush(line, (urgency, index, seen))
        while line:
            _, index, seen = heappop(line)
            if seen != version[(index, where)]:
                continue
            found = candidate(index, where, now)
            version[(index, where)] += 1
            if found is None:
                continue
            at, job = found
            if at > now:
                heappush(
                    queue, (at, _urgency(job, numbers[index], at), index, version[(index, where)])
                )
                continue
            job.used = True
            numbers[index].dials.append(now)
            next_free[where] = now + limits.pacing
            zone = _zone_info(location_by_id[where].time_zone)
            per_day[where][now.astimezone(zone).date()] += 1
            schedule.append(LedgerDial(job.job_id, job.contact.contact_id, where, now))
            for place in locations_of[index]:
                plan(index, place, now)
            break
        if line:
            wake_at(where, now + limits.pacing)
        elif queue:
            wake_at(where, queue[0][0])
    return schedule


# (end of the job's availability, end of the stretch it is in now, job id): smaller is sooner.
_Urgency = tuple[datetime, datetime, int, int]


def _urgency(job: _Job, number: _Number, at: datetime) -> _Urgency:
    """Smaller is sooner: the end of the job's availability, then of the stretch it is in now;
    then the number that can take more dials in all (a number shared by two contacts needs its
    first dials early, to fit more than four into the range); then the job id."""
    return (job.available.last, job.available.end_at(at), -number.own_max, job.job_id)


def _earliest_lawful(
    job: _Job,
    number: _Number,
    lower: datetime,
    free_from: datetime | None,
    location: AuditedLocation,
    location_days: Counter[date],
    limits: AuditLimits,
) -> datetime | None:
    """The earliest instant at or after `lower` at which the job may be dialed after the dials
    placed so far (none of them later): inside its availability, after the location's pacing,
    under the location's daily cap, and under the number's caps as the audit counts them (the
    rolling window ending at the dial; the calendar day of every zone of the contact's)."""
    at = lower if free_from is None else max(lower, free_from)
    dials = number.dials
    rolling = limits.number_rolling_cap
    home = _zone_info(location.time_zone)
    while True:
        found = job.available.next_point(at)
        if found is None:
            return None
        at = found
        if len(dials) >= rolling and at < dials[-rolling] + limits.number_rolling_window:
            at = dials[-rolling] + limits.number_rolling_window
            continue
        moved = None
        for key in job.view.zones:
            zone = _zone_info(key)
            day = at.astimezone(zone).date()
            same = 0
            for earlier in reversed(dials):
                if earlier < at - 2 * _DAY:
                    break
                same += earlier.astimezone(zone).date() == day
            if same >= limits.number_daily_cap:
                midnight = _local_instant(key, day + _DAY, time(0))
                moved = midnight if moved is None else max(moved, midnight)
        if moved is not None:
            at = moved
            continue
        day = at.astimezone(home).date()
        if location_days[day] >= limits.location_daily_cap:
            at = _local_instant(location.time_zone, day + _DAY, time(0))
            continue
        return at


@lru_cache(maxsize=256)
def _zone_info(key: str) -> ZoneInfo:
    return ZoneInfo(key)


# --- the bound when the location limits bite -------------------------------------------------


def _relaxed_flow(
    numbers: list[_Number],
    location_by_id: dict[int, AuditedLocation],
    start: datetime,
    end: datetime,
    limits: AuditLimits,
) -> int:
    """A max-flow that every lawful schedule fits into, so its value bounds the maximum:

        source -> number (its own maximum) -> number day (the daily cap)
               -> the contact's window that day at its location
               -> segment of the location's day (its pacing slots) -> location day (its cap)
               -> sink.

    What it forgets: which days of its own a number's maximum needs (the rolling cap is only
    its total) and when in the window a job is released. Numbers with the same maximum and the
    same windows per day are one node with their count as capacity (a flow through it splits
    back into one per number: a day takes at most `count` times the daily cap)."""
    daily = limits.number_daily_cap
    groups: Counter[tuple[int, tuple[tuple[datetime, tuple[_Window, ...]], ...]]] = Counter()
    for number in numbers:
        if not number.own_max:
            continue
        targets: defaultdict[datetime, set[_Window]] = defaultdict(set)
        for job in number.jobs:
            where = job.view.location.location_id
            window = job.view.window
            for lo, _ in job.available.intervals():
                day = number.days.index(lo)
                piece = window.index(lo)
                assert day is not None
                assert piece is not None
                targets[number.days.starts[day]].add(
                    (where, window.starts[piece], window.ends[piece])
                )
        days = tuple(sorted((day, tuple(sorted(found))) for day, found in targets.items()))
        groups[(number.own_max, days)] += 1

    network = _FlowNetwork()
    source, sink = network.add_node(), network.add_node()
    unlimited = sum(number.own_max for number in numbers) + 1
    window_nodes: dict[_Window, int] = {}
    for (own_max, days), count in groups.items():
        group = network.add_node()
        network.add_edge(source, group, count * own_max)
        for _, targets_that_day in days:
            number_day = network.add_node()
            network.add_edge(group, number_day, count * daily)
            for target in targets_that_day:
                if target not in window_nodes:
                    window_nodes[target] = network.add_node()
                network.add_edge(number_day, window_nodes[target], unlimited)

    by_location: defaultdict[int, list[tuple[datetime, datetime, int]]] = defaultdict(list)
    for (where, lo, hi), node in window_nodes.items():
        by_location[where].append((lo, hi, node))
    for where, stretches in by_location.items():
        key = location_by_id[where].time_zone
        zone = _zone_info(key)
        cuts = {start, end}
        local_day = start.astimezone(zone).date()
        while (midnight := _local_instant(key, local_day + _DAY, time(0))) < end:
            cuts.add(midnight)
            local_day += _DAY
        for lo, hi, _ in stretches:
            cuts.update((lo, hi))
        stretches.sort()
        location_days: dict[date, int] = {}
        active: list[tuple[datetime, datetime, int]] = []
        following = 0
        for lo, hi in pairwise(sorted(cuts)):
            while following < len(stretches) and stretches[following][0] <= lo:
                active.append(stretches[following])
                following += 1
            active = [stretch for stretch in active if stretch[1] > lo]
            covering = [node for _, stretch_end, node in active if hi <= stretch_end]
            if not covering:
                continue
            that_day = lo.astimezone(zone).date()
            if that_day not in location_days:
                location_days[that_day] = network.add_node()
                network.add_edge(location_days[that_day], sink, limits.location_daily_cap)
            segment = network.add_node()
            network.add_edge(segment, location_days[that_day], -((lo - hi) // limits.pacing))
            for node in covering:
                network.add_edge(node, segment, unlimited)
    return network.max_flow(source, sink)


# (location id, start, end) of one stretch of a contact's calling window.
_Window = tuple[int, datetime, datetime]


# --- calling windows as UTC intervals ------------------------------------------------------

_DAY = timedelta(days=1)


@lru_cache(maxsize=65536)
def _local_instant(zone_key: str, day: date, at: time) -> datetime:
    """The UTC instant of a local wall time (zoneinfo's fold=0 reading inside a DST gap)."""
    return datetime.combine(day, at, tzinfo=ZoneInfo(zone_key)).astimezone(UTC)


def _allowed_intervals(
    zones: frozenset[str], start: datetime, end: datetime, opens: time, closes: time
) -> list[tuple[datetime, datetime]]:
    """UTC intervals, sorted and disjoint, in which local time is in `[opens, closes)` in every
    zone, covering at least `[start, end)`. Per zone and local date the window is one interval
    (DST days are exact: each end is converted on its own date); zones are then intersected."""
    first, last = start.date() - 2 * _DAY, end.date() + 2 * _DAY
    result: list[tuple[datetime, datetime]] | None = None
    for key in sorted(zones):
        windows: list[tuple[datetime, datetime]] = []
        day = first
        while day <= last:
            windows.append((_local_instant(key, day, opens), _local_instant(key, day, closes)))
            day += _DAY
        result = windows if result is None else _intersect(result, windows)
    return result or []


def _intersect(
    a: list[tuple[datetime, datetime]], b: list[tuple[datetime, datetime]]
) -> list[tuple[datetime, datetime]]:
    out: list[tuple[datetime, datetime]] = []
    i = j = 0
    while i < len(a) and j < len(b):
        lo, hi = max(a[i][0], b[j][0]), min(a[i][1], b[j][1])
        if lo < hi:
            out.append((lo, hi))
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return out


# --- max-flow ------------------------------------------------------------------------------


class _FlowNetwork:
    """Dinic's max-flow on integer capacities. Edges are stored in pairs (edge, edge ^ 1 = its
    reverse); the augmenting search is iterative, so long residual paths cannot overflow the
    Python stack."""

    def __init__(self) -> None:
        self._adjacent: list[list[int]] = []
        self._head: list[int] = []  # edge -> the node it points to
        self._residual: list[int] = []
        self._capacity: list[int] = []

    def add_node(self) -> int:
        self._adjacent.append([])
        return len(self._adjacent) - 1

    def add_edge(self, tail: int, head: int, capacity: int) -> int:
        edge = len(self._head)
        self._head += [head, tail]
        self._residual += [capacity, 0]
        self._capacity += [capacity, 0]
        self._adjacent[tail].append(edge)
        self._adjacent[head].append(edge + 1)
        return edge

    def flow(self, edge: int) -> int:
        return self._capacity[edge] - self._residual[edge]

    def max_flow(self, source: int, sink: int) -> int:
        total = 0
        while (level := self._levels(source, sink)) is not None:
            total += self._blocking_flow(source, sink, level)
        return total

    def _levels(self, source: int, sink: int) -> list[int] | None:
        level = [-1] * len(self._adjacent)
        level[source] = 0
        frontier = [source]
        while frontier:
            following: list[int] = []
            for node in frontier:
                for edge in self._adjacent[node]:
                    head = self._head[edge]
                    if self._residual[edge] > 0 and level[head] < 0:
                        level[head] = level[node] + 1
                        following.append(head)
            frontier = following
        return level if level[sink] >= 0 else None

    def _blocking_flow(self, source: int, sink: int, level: list[int]) -> int:
        adjacent, heads, residual = self._adjacent, self._head, self._residual
        cursor = [0] * len(adjacent)  # the current-arc pointer of each node
        total = 0
        path: list[int] = []
        node = source
        while True:
            if node == sink:
                pushed = min(residual[edge] for edge in path)
                for edge in path:
                    residual[edge] -= pushed
                    residual[edge ^ 1] += pushed
                total += pushed
                path.clear()
                node = source
                continue
            edges = adjacent[node]
            while cursor[node] < len(edges):
                edge = edges[cursor[node]]
                if residual[edge] > 0 and level[heads[edge]] == level[node] + 1:
                    break
                cursor[node] += 1
            if cursor[node] < len(edges):
                edge = edges[cursor[node]]
                path.append(edge)
                node = heads[edge]
            elif node == source:
                return total
            else:
                level[node] = -1  # dead end for this phase
                edge = path.pop()
                node = heads[edge ^ 1]
                cursor[node] += 1
