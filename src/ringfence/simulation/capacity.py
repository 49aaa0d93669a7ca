"""Lawful capacity: the most dials the platform rules allow a population over a time range.

The dispatcher issue asks the simulation to print `lawful_capacity`, "the most dials the rules
allowed for this population", and utilization = dials / lawful_capacity. This module computes
it exactly, for the model below, with the rule readings of `simulation.audit` (whose zone,
number, consent and gate checks it reuses, so the two yardsticks agree with each other while
both stay independent of the compliance engine).

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
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
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
    number_problem,
)

__all__ = [
    "CapacityReport",
    "DayCapacity",
    "LocationCapacity",
    "ScheduledDial",
    "capacity_report",
    "lawful_capacity",
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
