"""Lawful capacity: exact against a brute-force max-flow over every slot, plus fixed cases."""

from __future__ import annotations

from collections import defaultdict, deque
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ringfence.domain.vocabulary import Channel
from ringfence.simulation.audit import (
    PLATFORM_LIMITS,
    AuditedContact,
    AuditedDial,
    AuditedLocation,
    AuditLimits,
    AuditRule,
    audit_dials,
    candidate_zones,
    contact_problems,
    location_problem,
    number_problem,
)
from ringfence.simulation.capacity import CapacityReport, capacity_report, lawful_capacity

from .builders import NEW_YORK, WINTER_DAY, contact, local, location, number

# --- the brute force -----------------------------------------------------------------------


def max_flow(edges: dict[str, dict[str, int]], source: str, sink: str) -> int:
    """Plain augmenting paths (shortest first) on a residual graph of named nodes."""
    residual: defaultdict[str, defaultdict[str, int]] = defaultdict(lambda: defaultdict(int))
    for tail, heads in edges.items():
        for head, capacity in heads.items():
            residual[tail][head] += capacity
            residual[head][tail] += 0
    total = 0
    while True:
        parent: dict[str, str] = {source: source}
        queue = deque([source])
        while queue and sink not in parent:
            node = queue.popleft()
            for head, capacity in residual[node].items():
                if capacity > 0 and head not in parent:
                    parent[head] = node
                    queue.append(head)
        if sink not in parent:
            return total
        path = []
        node = sink
        while node != source:
            path.append((parent[node], node))
            node = parent[node]
        pushed = min(residual[tail][head] for tail, head in path)
        for tail, head in path:
            residual[tail][head] -= pushed
            residual[head][tail] += pushed
        total += pushed


def brute_force(
    contacts: list[AuditedContact],
    locations: list[AuditedLocation],
    start: datetime,
    end: datetime,
    limits: AuditLimits,
) -> int:
    """Every slot of every location is its own node; a contact may take a slot when the local
    time, converted slot by slot, is inside the window in every candidate zone."""
    by_id = {loc.location_id: loc for loc in locations}
    edges: defaultdict[str, dict[str, int]] = defaultdict(dict)
    slots = []
    at = start
    while at < end:
        slots.append(at)
        at += limits.pacing
    for who in contacts:
        where = by_id[who.location_id]
        if (
            location_problem(where)
            or number_problem(who.phone_e164)
            or contact_problems(who, start)
            or who.phone_e164 is None
        ):
            continue
        zones = [ZoneInfo(key) for key in candidate_zones(who.phone_e164)]
        edges["source"][f"c{who.contact_id}"] = 1
        for k, instant in enumerate(slots):
            if all(
                limits.window_start <= instant.astimezone(zone).time() < limits.window_end
                for zone in zones
            ):
                edges[f"c{who.contact_id}"][f"s{where.location_id}:{k}"] = 1
    for where in locations:
        zone = ZoneInfo(where.time_zone)
        for k, instant in enumerate(slots):
            day = instant.astimezone(zone).date()
            edges[f"s{where.location_id}:{k}"][f"d{where.location_id}:{day}"] = 1
            edges[f"d{where.location_id}:{day}"]["sink"] = limits.location_daily_cap
    return max_flow(edges, "source", "sink")


def assert_schedule_is_lawful(
    report: CapacityReport,
    contacts: list[AuditedContact],
    locations: list[AuditedLocation],
    limits: AuditLimits,
) -> None:
    """The schedule read back from the flow has `capacity` dials, one per contact at most, all
    inside the range, and the audit finds nothing wrong with it."""
    assert len(report.schedule) == report.capacity
    assert len({d.contact_id for d in report.schedule}) == report.capacity
    assert all(report.start <= d.at < report.end for d in report.schedule)
    phones = {c.contact_id: c.phone_e164 for c in contacts}
    dials = [
        AuditedDial(job, d.location_id, d.contact_id, phones[d.contact_id], d.at)
        for job, d in enumerate(report.schedule)
    ]
    audit = audit_dials(dials, contacts, locations, limits=limits)
    assert audit.ok, audit.violations[:3]
    assert sum(loc.capacity for loc in report.locations) == report.capacity
    for loc in report.locations:
        assert sum(day.dials for day in loc.days) == loc.capacity
        assert all(day.dials <= min(day.open_slots, limits.location_daily_cap) for day in loc.days)


# --- hypothesis: exact on small random instances ---------------------------------------------

NPAS = ["212", "310", "602", "928", "541", "907", "808", "312", "303"]
INELIGIBLE_NPAS = ["647", "800"]  # Canada, toll-free
LOCATION_ZONES = [NEW_YORK, "America/Los_Angeles", "America/Phoenix", "Pacific/Honolulu"]
# Near both 2026 DST changes, and an ordinary winter week.
ORIGINS = [
    datetime(2026, 3, 7, 5, tzinfo=UTC),
    datetime(2026, 10, 31, 4, tzinfo=UTC),
    datetime(2026, 1, 12, 5, tzinfo=UTC),
]


@st.composite
def instances(
    draw: st.DrawFn,
) -> tuple[list[AuditedContact], list[AuditedLocation], datetime, datetime, AuditLimits]:
    zones = draw(st.lists(st.sampled_from(LOCATION_ZONES), min_size=1, max_size=2))
    locations = [location(i, zone) for i, zone in enumerate(zones)]
    people = []
    for i in range(draw(st.integers(1, 12))):
        npa = draw(st.sampled_from(NPAS) | st.sampled_from(INELIGIBLE_NPAS))
        dnd = draw(st.sampled_from([None, None, None, "before", "after"]))
        people.append(
            contact(
                i,
                number(npa, 100 + i),
                location_id=draw(st.integers(0, len(zones) - 1)),
                dnd_voice_since=None
                if dnd is None
                else ORIGINS[0] + timedelta(days=-400 if dnd == "before" else 400),
            )
        )
    # sampled_from rather than integers: uniform over the hours, not biased to tiny ranges
    start = draw(st.sampled_from(ORIGINS)) + timedelta(
        hours=draw(st.sampled_from(range(36))), minutes=draw(st.sampled_from([0, 17, 30]))
    )
    end = start + timedelta(
        hours=draw(st.sampled_from(range(73))), minutes=draw(st.sampled_from([0, 29, 45]))
    )
    limits = AuditLimits(
        pacing=timedelta(minutes=draw(st.sampled_from([30, 45, 60, 90, 120]))),
        location_daily_cap=draw(st.integers(1, 5)),
    )
    return people, locations, start, end, limits


@settings(max_examples=300, deadline=None)
@given(instances())
def test_capacity_equals_a_brute_force_maximum(
    instance: tuple[list[AuditedContact], list[AuditedLocation], datetime, datetime, AuditLimits],
) -> None:
    people, locations, start, end, limits = instance
    report = capacity_report(people, locations, start=start, end=end, limits=limits)
    assert report.capacity == brute_force(people, locations, start, end, limits)
    assert_schedule_is_lawful(report, people, locations, limits)


# --- fixed cases ---------------------------------------------------------------------------


def new_yorkers(count: int) -> list[AuditedContact]:
    return [contact(i, f"+1212{2000000 + i:07d}") for i in range(count)]


def test_the_daily_cap_binds_per_location_day() -> None:
    people = new_yorkers(250)
    midnight = local(NEW_YORK, WINTER_DAY, 0)
    one = capacity_report(people, [location()], start=midnight, end=midnight + timedelta(days=1))
    assert one.capacity == 100
    assert [(d.day, d.open_slots, d.dials) for d in one.locations[0].days] == [
        (WINTER_DAY, 480, 100)
    ]
    three = lawful_capacity(people, [location()], start=midnight, end=midnight + timedelta(days=3))
    assert three == 250  # everyone: 100 + 100 + 50


def test_pacing_binds_one_dial_a_minute() -> None:
    people = new_yorkers(100)
    ten = local(NEW_YORK, WINTER_DAY, 10)
    report = capacity_report(people, [location()], start=ten, end=ten + timedelta(hours=1))
    assert report.capacity == 60
    assert_schedule_is_lawful(report, people, [location()], PLATFORM_LIMITS)


def test_a_contact_with_a_later_day_yields_to_one_with_only_today() -> None:
    """Why not earliest-deadline-first over slots: with a cap of 1 a day, the New York contact's
    window closes first on day one (18:00 ET) but it also has day two, while the Los Angeles
    contact (open until 21:00 ET) has only day one before the range ends at 11:00 ET."""
    limits = AuditLimits(pacing=timedelta(hours=1), location_daily_cap=1)
    people = [contact(1, number("212")), contact(2, number("310"))]
    start = local(NEW_YORK, WINTER_DAY, 16)
    end = local(NEW_YORK, WINTER_DAY + timedelta(days=1), 11)
    report = capacity_report(people, [location()], start=start, end=end, limits=limits)
    assert report.capacity == 2
    at = {dial.contact_id: dial.at for dial in report.schedule}
    assert start <= at[2] < local(NEW_YORK, WINTER_DAY, 21)
    assert at[1] == local(NEW_YORK, WINTER_DAY + timedelta(days=1), 10)


def test_multi_zone_numbers_get_the_narrow_window() -> None:
    # 907 (Anchorage, Juneau, Adak, Honolulu) in winter: Adak and Honolulu open 10:00-18:00
    # = 15:00-23:00 ET, Anchorage and Juneau 14:00-22:00 ET: in common, 15:00-22:00 ET.
    people = [contact(i, f"+1907{2000000 + i:07d}") for i in range(600)]
    midnight = local(NEW_YORK, WINTER_DAY, 0)
    limits = AuditLimits(location_daily_cap=1000)
    report = capacity_report(
        people, [location()], start=midnight, end=midnight + timedelta(days=1), limits=limits
    )
    assert report.capacity == 7 * 60


@pytest.mark.parametrize(
    ("day", "hours"),
    [(date(2026, 3, 8), 23), (date(2026, 11, 1), 25)],
    ids=["spring-forward", "fall-back"],
)
def test_dst_days_still_have_one_eight_hour_window(day: date, hours: int) -> None:
    midnight = local(NEW_YORK, day, 0)
    end = local(NEW_YORK, day + timedelta(days=1), 0)
    assert end - midnight == timedelta(hours=hours)
    report = capacity_report(new_yorkers(150), [location()], start=midnight, end=end)
    assert [(d.day, d.open_slots, d.dials) for d in report.locations[0].days] == [(day, 480, 100)]


def test_ineligible_contacts_are_counted_by_reason() -> None:
    start = local(NEW_YORK, WINTER_DAY, 0)
    later = start + timedelta(hours=12)
    people = [
        contact(1),
        contact(2, number("212", 102), consents=()),
        contact(3, number("212", 103), dnd_voice_since=start),
        contact(4, number("212", 104), dnd_voice_since=later),  # DND after start: eligible
        contact(5, number("212", 105), opted_out_at=start, opted_out_channel=Channel.SMS),
        contact(6, number("647")),
        contact(7, "+18005550100"),
        contact(8, None),
        contact(9, number("212", 109), location_id=2),
    ]
    report = capacity_report(
        people,
        [location(1), location(2, kyc_approved=False)],
        start=start,
        end=start + timedelta(days=1),
    )
    assert report.capacity == 2
    assert report.ineligible == {
        AuditRule.KYC_NOT_APPROVED: 1,
        AuditRule.NUMBER_MISSING: 1,
        AuditRule.NUMBER_NOT_US: 1,
        AuditRule.NUMBER_NOT_GEOGRAPHIC: 1,
        AuditRule.NO_CONSENT: 1,
        AuditRule.DND_VOICE: 1,
        AuditRule.OPTED_OUT: 1,
    }
    assert [(loc.contacts, loc.eligible, loc.capacity) for loc in report.locations] == [
        (8, 2, 2),
        (1, 0, 0),
    ]


def test_contacts_without_a_window_in_range() -> None:
    start = local(NEW_YORK, WINTER_DAY, 0)
    report = capacity_report(
        [contact(1), contact(2, number("212", 102))],
        [location()],
        start=start,
        end=start + timedelta(hours=5),
    )
    assert (report.capacity, report.eligible_without_window) == (0, 2)


def test_empty_and_invalid_ranges() -> None:
    start = local(NEW_YORK, WINTER_DAY, 12)
    assert lawful_capacity([contact()], [location()], start=start, end=start) == 0
    assert lawful_capacity([], [location()], start=start, end=start + timedelta(days=1)) == 0
    with pytest.raises(ValueError, match="timezone-aware"):
        lawful_capacity([], [], start=datetime(2026, 1, 1), end=start)
    with pytest.raises(ValueError, match="unknown location"):
        lawful_capacity([contact(location_id=3)], [location()], start=start, end=start)


def test_a_large_population_is_grouped_not_enumerated() -> None:
    """A smoke run at simulation scale (no timing asserted): 20,000 contacts over two weeks."""
    npas = ["212", "310", "602", "928", "541", "907", "808", "312", "303", "270"]
    zones = [NEW_YORK, "America/Chicago", "America/Denver", "America/Los_Angeles"]
    locations = [location(i, zone) for i, zone in enumerate(zones)]
    people = [
        contact(i, f"+1{npas[i % len(npas)]}{2000000 + i:07d}", location_id=i % len(zones))
        for i in range(20_000)
    ]
    start = local(NEW_YORK, WINTER_DAY, 0)
    report = capacity_report(people, locations, start=start, end=start + timedelta(days=14))
    # Every location day with an open window is full: 14 or 15 local days each.
    for loc in report.locations:
        assert all(day.dials == 100 for day in loc.days if day.open_slots >= 100)
    assert_schedule_is_lawful(report, people, locations, PLATFORM_LIMITS)
