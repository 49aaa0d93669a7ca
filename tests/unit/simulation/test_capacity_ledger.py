"""Lawful capacity of the ledger model (recurring jobs, shared numbers, opt-outs over time):
bracketed by a brute force over every schedule on tiny populations, equal to the campaign
model where the two overlap, plus fixed cases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ringfence.domain.vocabulary import Channel, ConsentKind
from ringfence.simulation.audit import (
    AuditedConsent,
    AuditedContact,
    AuditedDial,
    AuditedLocation,
    AuditedOptOut,
    AuditLimits,
    OptOutHow,
    audit_dials,
    candidate_zones,
    contact_problems,
    location_problem,
    number_groups,
    number_problem,
)
from ringfence.simulation.capacity import (
    CapacityJob,
    LedgerCapacityReport,
    capacity_report,
    ledger_capacity_report,
    ledger_lawful_capacity,
)

from .builders import NEW_YORK, WINTER_DAY, contact, form_opt_in, local, location, number

# --- the brute force -----------------------------------------------------------------------


def brute_force(
    contacts: list[AuditedContact],
    locations: list[AuditedLocation],
    jobs: list[CapacityJob],
    start: datetime,
    end: datetime,
    limits: AuditLimits,
) -> int:
    """The most dials over every assignment of jobs to slots `start + k * pacing` (or to no
    slot), every rule checked dial by dial from its definition. Exact when every instant of
    the instance (releases, deadlines, consent and opt-out records, window edges, midnights)
    lies on that grid: flooring a lawful schedule's dials to the grid keeps it lawful."""
    location_by_id = {where.location_id: where for where in locations}
    by_id = {who.contact_id: who for who in contacts}
    groups = number_groups(contacts, location_by_id)
    slots = []
    at = start
    while at < end:
        slots.append(at)
        at += limits.pacing

    def options(job: CapacityJob) -> list[datetime]:
        who = by_id[job.contact_id]
        where = location_by_id[who.location_id]
        if location_problem(where) or number_problem(who.phone_e164) or not who.phone_e164:
            return []
        group = groups[(where.account_id, who.phone_e164)]
        zones = [ZoneInfo(key) for key in candidate_zones(who.phone_e164)]
        return [
            slot
            for slot in slots
            if job.released_at <= slot
            and (job.deadline is None or slot < job.deadline)
            and all(
                limits.window_start <= slot.astimezone(zone).time() < limits.window_end
                for zone in zones
            )
            and not contact_problems(who, slot, group)
        ]

    choices = [options(job) for job in jobs]
    placed: list[tuple[AuditedContact, datetime]] = []

    def lawful(who: AuditedContact, at: datetime) -> bool:
        where = location_by_id[who.location_id]
        same_place = [t for c, t in placed if c.location_id == who.location_id]
        if any(abs(at - t) < limits.pacing for t in same_place):
            return False
        home = ZoneInfo(where.time_zone)
        day = at.astimezone(home).date()
        if sum(t.astimezone(home).date() == day for t in same_place) >= limits.location_daily_cap:
            return False
        account = where.account_id
        mine = sorted(
            [
                t
                for c, t in placed
                if c.phone_e164 == who.phone_e164
                and location_by_id[c.location_id].account_id == account
            ]
            + [at]
        )
        assert who.phone_e164 is not None
        for key in candidate_zones(who.phone_e164):
            zone = ZoneInfo(key)
            days = [t.astimezone(zone).date() for t in mine]
            if days.count(at.astimezone(zone).date()) > limits.number_daily_cap:
                return False
        # "in any 14-day window": every window (t - 14 days, t] that ends at a dial
        window = limits.number_rolling_window
        return all(
            sum(1 for s in mine if t - window < s <= t) <= limits.number_rolling_cap for t in mine
        )

    best = 0

    def search(index: int, count: int) -> None:
        nonlocal best
        best = max(best, count)
        if index == len(jobs) or count + len(jobs) - index <= best:
            return
        who = by_id[jobs[index].contact_id]
        for at in choices[index]:
            if lawful(who, at):
                placed.append((who, at))
                search(index + 1, count + 1)
                placed.pop()
        search(index + 1, count)

    search(0, 0)
    return best


def assert_schedule_is_lawful(
    report: LedgerCapacityReport,
    contacts: list[AuditedContact],
    locations: list[AuditedLocation],
    jobs: list[CapacityJob],
    limits: AuditLimits,
) -> None:
    """The schedule found: one dial per job at most, at or after its release and before its
    deadline, inside the range, by the contact's location, and the audit finds nothing."""
    by_job = {job.job_id: job for job in jobs}
    by_id = {who.contact_id: who for who in contacts}
    assert len({dial.job_id for dial in report.schedule}) == len(report.schedule)
    for dial in report.schedule:
        job = by_job[dial.job_id]
        assert dial.contact_id == job.contact_id
        assert dial.location_id == by_id[job.contact_id].location_id
        assert report.start <= dial.at < report.end
        assert job.released_at <= dial.at
        assert job.deadline is None or dial.at < job.deadline
    audit = audit_dials(
        [
            AuditedDial(d.job_id, d.location_id, d.contact_id, by_id[d.contact_id].phone_e164, d.at)
            for d in report.schedule
        ],
        contacts,
        locations,
        limits=limits,
    )
    assert audit.ok, audit.violations[:3]
    assert report.lower_bound <= report.capacity <= report.number_bound
    assert report.exact == (report.lower_bound == report.capacity)


# --- hypothesis: bracketed on small random instances ---------------------------------------

# Whole UTC hours near both 2026 DST changes and in an ordinary winter week: with hourly
# pacing every window edge and midnight of these zones lies on the grid.
ORIGINS = [
    datetime(2026, 3, 7, 5, tzinfo=UTC),
    datetime(2026, 10, 31, 4, tzinfo=UTC),
    datetime(2026, 1, 12, 5, tzinfo=UTC),
]
LOCATION_ZONES = [NEW_YORK, "America/Los_Angeles", "America/Phoenix", "Pacific/Honolulu"]
# New York, Los Angeles, Arizona + Navajo, Oregon (two zones), Alaska (four), Canada.
NPAS = ["212", "310", "928", "541", "907", "647"]
HOUR = timedelta(hours=1)

Instance = tuple[
    list[AuditedContact], list[AuditedLocation], list[CapacityJob], datetime, datetime, AuditLimits
]


@st.composite
def instances(draw: st.DrawFn) -> Instance:
    # sampled_from rather than integers: uniform, not biased to tiny values
    start = draw(st.sampled_from(ORIGINS)) + HOUR * draw(st.sampled_from(range(31)))
    end = start + HOUR * draw(st.sampled_from(range(12, 61)))
    hours = int((end - start) / HOUR)

    def instant() -> datetime:  # on the grid, anywhere in the range
        return start + HOUR * draw(st.sampled_from(range(hours + 1)))

    zones = draw(st.lists(st.sampled_from(LOCATION_ZONES), min_size=1, max_size=2))
    accounts = draw(st.sampled_from([[1, 1], [1, 2]]))
    locations = [location(i, zone, account_id=accounts[i]) for i, zone in enumerate(zones)]
    # A small pool of numbers, so that contacts share them (across locations too).
    pool = [number(npa, 100 + i) for i, npa in enumerate(draw(st.permutations(NPAS))[:3])]
    people: list[AuditedContact] = []
    taken: set[tuple[int, str]] = set()
    for i in range(draw(st.sampled_from(range(1, 5)))):
        where = draw(st.integers(0, len(zones) - 1))
        phone = draw(st.sampled_from(pool))
        if (where, phone) in taken:  # one contact per number at a location
            continue
        taken.add((where, phone))
        consents = [form_opt_in(datetime(2025, 6, 1, tzinfo=UTC))]
        history: list[AuditedOptOut] = []
        dnd = None
        change = draw(
            st.sampled_from(["none", "none", "none", "revoked", "dnd", "tag", "tag+consent"])
        )
        if change == "revoked":
            consents.append(AuditedConsent(ConsentKind.REVOCATION, instant(), Channel.SMS))
        elif change == "dnd":
            dnd = instant()
            history.append(AuditedOptOut(dnd, OptOutHow.DND_VOICE))
        elif change.startswith("tag"):
            tagged = instant()
            history.append(AuditedOptOut(tagged, OptOutHow.OPT_OUT_TAG))
            if change == "tag+consent":
                later = tagged + HOUR * draw(st.integers(0, 12))
                consents.append(AuditedConsent(ConsentKind.MANUAL_WRITTEN, later))
        people.append(
            contact(
                i,
                phone,
                location_id=where,
                consents=tuple(consents),
                dnd_voice_since=dnd,
                opt_outs=tuple(history),
            )
        )
    jobs = []
    for job_id in range(draw(st.sampled_from(range(2, 8)))):
        released = instant()
        deadline = draw(
            st.sampled_from([None, None, released + HOUR * draw(st.sampled_from(range(1, 31)))])
        )
        who = draw(st.sampled_from(people))
        jobs.append(CapacityJob(job_id, who.contact_id, released, deadline))
    limits = AuditLimits(
        pacing=HOUR,
        location_daily_cap=draw(st.sampled_from([1, 2, 3])),
        number_daily_cap=draw(st.sampled_from([1, 2])),
        number_rolling_cap=draw(st.sampled_from([1, 2, 3])),
        number_rolling_window=timedelta(days=draw(st.sampled_from([1, 2]))),
    )
    return people, locations, jobs, start, end, limits


@settings(max_examples=400, deadline=None)
@given(instances())
def test_the_bound_and_the_schedule_bracket_a_brute_force_maximum(instance: Instance) -> None:
    people, locations, jobs, start, end, limits = instance
    report = ledger_capacity_report(people, locations, jobs, start=start, end=end, limits=limits)
    optimum = brute_force(people, locations, jobs, start, end, limits)
    assert report.lower_bound <= optimum <= report.capacity
    if report.exact:
        assert report.capacity == optimum
    assert_schedule_is_lawful(report, people, locations, jobs, limits)


@st.composite
def campaigns(
    draw: st.DrawFn,
) -> tuple[list[AuditedContact], list[AuditedLocation], datetime, datetime, AuditLimits]:
    """One job per contact at the start, every contact its own number: the campaign model's
    case, on a grid where that model is exact."""
    zones = draw(st.lists(st.sampled_from(LOCATION_ZONES), min_size=1, max_size=2))
    locations = [location(i, zone) for i, zone in enumerate(zones)]
    npas = ["212", "310", "602", "928", "541", "907", "808", "312", "303"]
    people = [
        contact(
            i,
            number(draw(st.sampled_from(npas)), 100 + i),
            location_id=draw(st.integers(0, len(zones) - 1)),
        )
        for i in range(draw(st.integers(1, 12)))
    ]
    start = draw(st.sampled_from(ORIGINS)) + HOUR * draw(st.integers(0, 36))
    end = start + HOUR * draw(st.integers(1, 72))
    limits = AuditLimits(
        pacing=timedelta(minutes=draw(st.sampled_from([30, 60]))),
        location_daily_cap=draw(st.integers(1, 5)),
    )
    return people, locations, start, end, limits


@settings(max_examples=150, deadline=None)
@given(campaigns())
def test_one_campaign_gets_the_campaign_models_capacity(
    instance: tuple[list[AuditedContact], list[AuditedLocation], datetime, datetime, AuditLimits],
) -> None:
    people, locations, start, end, limits = instance
    jobs = [CapacityJob(who.contact_id, who.contact_id, start) for who in people]
    report = ledger_capacity_report(people, locations, jobs, start=start, end=end, limits=limits)
    campaign = capacity_report(people, locations, start=start, end=end, limits=limits)
    assert report.capacity == campaign.capacity
    assert_schedule_is_lawful(report, people, locations, jobs, limits)


# --- fixed cases ---------------------------------------------------------------------------

START = local(NEW_YORK, WINTER_DAY, 0)


def recurring(who: AuditedContact, first: int, *, every: timedelta, days: int) -> list[CapacityJob]:
    """Jobs for `who` at `START + every * k` (k = 0, 1, ...) before `START + days`, ids from
    `first` on."""
    jobs = []
    at = START
    while at < START + timedelta(days=days):
        jobs.append(CapacityJob(first + len(jobs), who.contact_id, at))
        at += every
    return jobs


def test_four_calls_in_fourteen_days_then_a_fifth_once_the_first_ages_out() -> None:
    """A contact enqueued every 3 days over 16 days (the ledger scenario's rhythm): dials on
    days 0, 3, 6 and 9; the job of day 12 waits until day 14, when the first dial leaves the
    window; the one of day 15 would be a fifth in 14 days again."""
    who = contact(1, number("212"))
    jobs = recurring(who, 0, every=timedelta(days=3), days=16)
    assert len(jobs) == 6
    report = ledger_capacity_report(
        [who], [location()], jobs, start=START, end=START + timedelta(days=16)
    )
    assert (report.capacity, report.exact) == (5, True)
    dials = sorted(dial.at for dial in report.schedule)
    assert dials[:4] == [local(NEW_YORK, WINTER_DAY + timedelta(days=d), 10) for d in (0, 3, 6, 9)]
    assert dials[4] == dials[0] + timedelta(days=14)
    assert_schedule_is_lawful(report, [who], [location()], jobs, AuditLimits())


def test_a_number_shared_by_two_locations_is_one_number() -> None:
    phone = number("212")
    people = [contact(1, phone, location_id=1), contact(2, phone, location_id=2)]
    places = [location(1), location(2)]
    jobs = [CapacityJob(1, 1, START), CapacityJob(2, 2, START)]
    one_day = ledger_lawful_capacity(
        people, places, jobs, start=START, end=START + timedelta(days=1)
    )
    assert one_day == 1  # one dial a day for the number, whichever location
    two_days = ledger_capacity_report(
        people, places, jobs, start=START, end=START + timedelta(days=2)
    )
    assert (two_days.capacity, two_days.exact, two_days.numbers) == (2, True, 1)
    # Two accounts: two practices, two numbers as far as the caps go.
    apart = [location(1), location(2, account_id=2)]
    assert (
        ledger_lawful_capacity(people, apart, jobs, start=START, end=START + timedelta(days=1)) == 2
    )


def test_an_opt_out_mid_run_ends_the_numbers_calls() -> None:
    """Jobs every day for a week; on day 3 at noon the contact at the other location, who
    shares the number, gets the "Opted Out" tag: dials on days 0-3 (day 3 before noon) only,
    until consent recorded on day 5 lifts it."""
    phone = number("212")
    opted_out = local(NEW_YORK, WINTER_DAY + timedelta(days=3), 12)
    tagged = contact(
        2, phone, location_id=2, opt_outs=(AuditedOptOut(opted_out, OptOutHow.OPT_OUT_TAG),)
    )
    called = contact(1, phone, location_id=1)
    places = [location(1), location(2)]
    jobs = recurring(called, 0, every=timedelta(days=1), days=7)
    limits = AuditLimits(number_rolling_cap=14)
    week = START + timedelta(days=7)
    report = ledger_capacity_report(
        [called, tagged], places, jobs, start=START, end=week, limits=limits
    )
    assert (report.capacity, report.exact) == (4, True)
    assert all(dial.at < opted_out for dial in report.schedule)
    consent = AuditedConsent(
        ConsentKind.MANUAL_WRITTEN, local(NEW_YORK, WINTER_DAY + timedelta(days=5), 9)
    )
    again = contact(
        1, phone, location_id=1, consents=(form_opt_in(START - timedelta(days=9)), consent)
    )
    lifted = ledger_lawful_capacity(
        [again, tagged], places, jobs, start=START, end=week, limits=limits
    )
    assert lifted == 6  # days 0-3, then days 5 and 6


def test_jobs_released_after_the_window_wait_for_the_next_one() -> None:
    who = contact(1, number("212"))
    evening = local(NEW_YORK, WINTER_DAY, 18)
    jobs = [CapacityJob(1, 1, evening), CapacityJob(2, 1, evening - timedelta(seconds=1))]
    report = ledger_capacity_report(
        [who], [location()], jobs, start=START, end=START + timedelta(days=2)
    )
    assert sorted((d.job_id, d.at) for d in report.schedule) == [
        (1, local(NEW_YORK, WINTER_DAY + timedelta(days=1), 10)),
        (2, evening - timedelta(seconds=1)),
    ]


def test_deadlines_and_ineligible_jobs() -> None:
    start = START
    people = [
        contact(1, number("212")),
        contact(2, number("212", 102), consents=()),
        contact(3, number("647")),
        contact(4, None),
    ]
    jobs = [
        CapacityJob(1, 1, start, deadline=local(NEW_YORK, WINTER_DAY, 10)),  # closes at opening
        CapacityJob(2, 1, start, deadline=local(NEW_YORK, WINTER_DAY, 10, 0, 1)),
        CapacityJob(3, 2, start),
        CapacityJob(4, 3, start),
        CapacityJob(5, 4, start),
    ]
    report = ledger_capacity_report(
        people, [location()], jobs, start=start, end=start + timedelta(days=1)
    )
    assert (report.capacity, report.jobs, report.jobs_never_eligible) == (1, 5, 4)
    assert [d.job_id for d in report.schedule] == [2]


def test_a_number_whose_best_order_is_not_first_come_first_served() -> None:
    """One dial every 2 days for the number: the job available all week, dialed first, would
    shut out the one that must be dialed on day 1; the number's own maximum is found by
    search (2), while the schedule builder, dialing as early as it can, finds 1, so the
    report gives the bound and says it is not exact."""
    who = contact(1, number("212"))
    limits = AuditLimits(number_rolling_cap=1, number_rolling_window=timedelta(days=2))
    day = timedelta(days=1)
    jobs = [
        CapacityJob(1, 1, START),
        CapacityJob(2, 1, START + day, deadline=START + 2 * day),
    ]
    week = START + 7 * day
    report = ledger_capacity_report([who], [location()], jobs, start=START, end=week, limits=limits)
    assert (report.number_bound, report.capacity, report.lower_bound) == (2, 2, 1)
    assert not report.exact
    assert (
        brute_force(
            [who],
            [location()],
            jobs,
            START,
            week,
            AuditLimits(
                pacing=timedelta(hours=1), number_rolling_cap=1, number_rolling_window=2 * day
            ),
        )
        == 2
    )
    # Over budget, the search gives way to a bound (every job available whenever any is).
    bounded = ledger_capacity_report(
        [who], [location()], jobs, start=START, end=week, limits=limits, search_budget=1
    )
    assert bounded.numbers_relaxed == 1
    assert bounded.capacity >= 2


def test_the_location_limits_cut_the_number_bound() -> None:
    """Three contacts of one location, each enqueued every day, one dial a day at the
    location: three a day by their own caps, one by the location's."""
    people = [contact(i, number("212", 100 + i)) for i in range(3)]
    jobs = [
        job
        for i, who in enumerate(people)
        for job in recurring(who, 100 * i, every=timedelta(days=1), days=4)
    ]
    limits = AuditLimits(location_daily_cap=1)
    report = ledger_capacity_report(
        people, [location()], jobs, start=START, end=START + timedelta(days=4), limits=limits
    )
    assert report.number_bound == 12
    assert (report.capacity, report.exact) == (4, True)
    assert_schedule_is_lawful(report, people, [location()], jobs, limits)


def test_inputs_are_checked() -> None:
    later = START + timedelta(days=1)
    with pytest.raises(ValueError, match="timezone-aware"):
        ledger_lawful_capacity([], [], [], start=datetime(2026, 1, 1), end=later)
    with pytest.raises(ValueError, match="timezone-aware"):
        CapacityJob(1, 1, datetime(2026, 1, 1))
    with pytest.raises(ValueError, match="unknown contact"):
        ledger_lawful_capacity([], [location()], [CapacityJob(1, 9, START)], start=START, end=later)
    with pytest.raises(ValueError, match="unknown location"):
        ledger_lawful_capacity([contact(location_id=3)], [location()], [], start=START, end=later)
    with pytest.raises(ValueError, match="twice"):
        ledger_lawful_capacity(
            [contact()], [location()], [CapacityJob(1, 1, START)] * 2, start=START, end=later
        )


def test_a_ledger_population_at_scale_is_bracketed_tightly() -> None:
    """A smoke run at simulation scale (no timing asserted): 1,500 contacts of 10 locations,
    a tenth of them sharing a number with another location, enqueued every 3 days over 16
    days. The location cap binds on the first day of every cycle (150 due, 100 a day), so the
    fifth dials of day 14 and 15 depend on the minute of the first ones: the bound and the
    schedule found differ there, by a handful."""
    zones = [NEW_YORK, "America/Chicago", "America/Denver", "America/Los_Angeles"]
    places = [location(i, zones[i % 4], account_id=1 + i // 5) for i in range(10)]
    npas = ["212", "312", "303", "310", "541", "907", "808", "928"]
    people = []
    for i in range(1500):
        where = i // 150
        phone = f"+1{npas[i % len(npas)]}{2000000 + i:07d}"
        if i % 10 == 0 and where % 5:  # shares the number of a contact one location back
            phone = people[i - 150].phone_e164
        people.append(contact(i, phone, location_id=where))
    jobs = [
        job
        for who in people
        for job in recurring(who, 10 * who.contact_id, every=timedelta(days=3, hours=1), days=16)
    ]
    report = ledger_capacity_report(
        people, places, jobs, start=START, end=START + timedelta(days=16)
    )
    assert report.capacity - report.lower_bound <= report.capacity // 500
    assert report.numbers == 1380
    assert_schedule_is_lawful(report, people, places, jobs, AuditLimits())
