"""The pre-flight forecast's simulation (pure): pacing, the daily cap's overflow, the calling
window, the per-number caps and fail reasons, the dispatcher's cadence, and properties that
must hold for any audience and clock."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from ringfence.domain.compliance import (
    DEFAULT_POLICY,
    CallFacts,
    ConsentFacts,
    ReasonCode,
    WarningCode,
    candidate_zones,
    classify_e164,
)
from ringfence.domain.vocabulary import CallPurpose, ContactSource
from ringfence.domain.workflows.forecast import (
    Cadence,
    Forecast,
    ForecastCall,
    ForecastInput,
    LocationState,
    forecast,
)
from tests.unit.compliance.factories import make_facts, window_ok

NEW_YORK = "America/New_York"
NY = ZoneInfo(NEW_YORK)
# Monday 30 November 2026, 10:00 in New York (15:00Z): the NY window has just opened; it is
# 07:00 in Los Angeles, whose window opens at 18:00Z.
MONDAY_10AM = datetime(2026, 11, 30, 15, 0, tzinfo=UTC)
LA_OPENS = datetime(2026, 11, 30, 18, 0, tzinfo=UTC)
NY_CLOSES = datetime(2026, 11, 30, 23, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)
SECOND_TICK = Cadence(tick=timedelta(seconds=1), candidates_per_tick=3)


def ny(n: int) -> str:
    return f"+1212555{n:04d}"


def la(n: int) -> str:
    return f"+1310555{n:04d}"


def call(key: int, phone: str | None, *, due: datetime = MONDAY_10AM, **facts: Any) -> ForecastCall:
    return ForecastCall(key, make_facts(phone=phone, **facts), due)


def run(*calls: ForecastCall, **options: Any) -> Forecast:
    values: dict[str, Any] = {
        "now": MONDAY_10AM,
        "location": LocationState(NEW_YORK),
        "calls": calls,
        "cadence": SECOND_TICK,
    } | options
    return forecast(ForecastInput(**values))


def dials(result: Forecast) -> list[datetime]:
    return [c.dialed_at for c in result.calls if c.dialed_at is not None]


def test_pacing_places_one_dial_a_minute_and_is_not_a_deferral() -> None:
    result = run(*(call(i, ny(100 + i)) for i in range(5)))
    assert dials(result) == [MONDAY_10AM + i * MINUTE for i in range(5)]
    assert (result.called, dict(result.deferred), dict(result.failed)) == (5, {}, {})
    assert result.schedule == ((date(2026, 11, 30), 5),)
    assert (result.first_dial_at, result.last_dial_at) == (MONDAY_10AM, MONDAY_10AM + 4 * MINUTE)


def test_pacing_follows_the_locations_last_dial() -> None:
    location = LocationState(
        NEW_YORK,
        day_start=datetime(2026, 11, 30, 5, tzinfo=UTC),
        dials_today=1,
        last_dial_at=MONDAY_10AM - timedelta(seconds=20),
        ready_at=MONDAY_10AM + timedelta(seconds=40),
    )
    result = run(call(1, ny(101)), location=location)
    assert dials(result) == [MONDAY_10AM + timedelta(seconds=40)]


def test_the_daily_cap_overflows_to_the_next_local_day() -> None:
    result = run(*(call(i, ny(1000 + i)) for i in range(130)))
    assert result.called == 130
    assert result.schedule == ((date(2026, 11, 30), 100), (date(2026, 12, 1), 30))
    # The 30 left over were Deferred (not just queued) with the daily cap, then dialed from
    # 10:00 the next day in their original order.
    assert dict(result.deferred) == {ReasonCode.LOCATION_DAILY_CAP: 30}
    tomorrow = [c for c in result.calls if c.first_deferral is not None]
    assert [c.key for c in tomorrow] == list(range(100, 130))
    assert tomorrow[0].dialed_at == MONDAY_10AM + timedelta(days=1)
    assert tomorrow[-1].dialed_at == MONDAY_10AM + timedelta(days=1, minutes=29)


def test_the_daily_cap_counts_todays_earlier_dials() -> None:
    location = LocationState(
        NEW_YORK,
        day_start=datetime(2026, 11, 30, 5, tzinfo=UTC),
        dials_today=98,
        last_dial_at=MONDAY_10AM - timedelta(minutes=5),
    )
    result = run(*(call(i, ny(100 + i)) for i in range(5)), location=location)
    assert result.schedule == ((date(2026, 11, 30), 2), (date(2026, 12, 1), 3))
    assert dict(result.deferred) == {ReasonCode.LOCATION_DAILY_CAP: 3}


def test_a_contact_outside_their_window_is_deferred_to_its_opening() -> None:
    result = run(call(1, la(101)), call(2, ny(102)))
    by_key = {c.key: c for c in result.calls}
    assert by_key[1].first_deferral is ReasonCode.OUTSIDE_WINDOW
    assert by_key[1].dialed_at == LA_OPENS
    assert by_key[2].first_deferral is None
    assert by_key[2].dialed_at == MONDAY_10AM  # the deferred job let the next one dial
    assert dict(result.deferred) == {ReasonCode.OUTSIDE_WINDOW: 1}


def test_overflow_after_the_window_closes_is_deferred_by_the_window_first() -> None:
    # Reached at 17:59 local with the slot taken: dialed 17:59, the second must wait for the
    # next day's window (its first deferral is the window, not pacing).
    late = NY_CLOSES - MINUTE
    result = run(call(1, ny(101), due=late), call(2, ny(102), due=late))
    by_key = {c.key: c for c in result.calls}
    assert by_key[1].dialed_at == late
    assert by_key[2].first_deferral is ReasonCode.OUTSIDE_WINDOW
    assert by_key[2].dialed_at == MONDAY_10AM + timedelta(days=1)


def test_fail_reasons_are_counted() -> None:
    no_opt_in = ConsentFacts()
    result = run(
        call(1, None),
        call(2, "+1212555"),
        call(3, "+18005550123"),
        call(4, ny(104), dnd=True),
        call(5, ny(105), consent=no_opt_in),
        call(6, ny(106), consent=no_opt_in, source=ContactSource.IMPORT),
        call(7, ny(107)),
    )
    assert result.called == 1
    assert dict(result.failed) == {
        ReasonCode.NUMBER_MISSING: 1,
        ReasonCode.NUMBER_INVALID: 1,
        ReasonCode.NUMBER_NOT_GEOGRAPHIC: 1,
        ReasonCode.DND_VOICE: 1,
        ReasonCode.NO_OPT_IN: 1,
        ReasonCode.WRITTEN_CONSENT_UNCONFIRMED: 1,
    }
    assert result.pending == 0
    assert result.warnings == {WarningCode.IMPORTED_CONTACT: 1}


def test_the_fourteen_day_cap_fails_and_counts_simulated_dials() -> None:
    past = [MONDAY_10AM - timedelta(days=d) for d in (2, 5, 9)]
    history = {ny(101): (*past, MONDAY_10AM - timedelta(days=12)), ny(102): tuple(past)}
    # Two contacts share ny(102): the first dial is its 4th in 14 days, so the second fails
    # at once (a failure wins over the per-day deferral it would also get).
    result = run(call(1, ny(101)), call(2, ny(102)), call(3, ny(102)), history=history)
    by_key = {c.key: c for c in result.calls}
    assert by_key[1].failed is ReasonCode.FOURTEEN_DAY_CAP
    assert by_key[2].dialed_at == MONDAY_10AM
    assert (by_key[3].failed, by_key[3].first_deferral) == (ReasonCode.FOURTEEN_DAY_CAP, None)
    assert result.fourteen_day_cap == 2
    # A dial 12 days ago frees its slot two days later: the cap is rolling, not final.
    freed = run(call(1, ny(101), due=MONDAY_10AM + timedelta(days=2)), history=history)
    assert freed.called == 1


def test_a_deadline_that_passes_before_the_window_opens_fails() -> None:
    deadline = LA_OPENS - timedelta(hours=1)
    result = run(call(1, la(101), deadline=deadline))
    assert dict(result.failed) == {ReasonCode.DEADLINE_PASSED: 1}


def test_jobs_already_queued_at_the_location_dial_first_and_are_not_counted() -> None:
    queued = (call(1, ny(201)), call(2, ny(202)))
    result = run(call(10, ny(101)), call(11, ny(202)), queued=queued)
    assert result.competing_dials == 2
    by_key = {c.key: c for c in result.calls}
    assert set(by_key) == {10, 11}
    assert by_key[10].dialed_at == MONDAY_10AM + 2 * MINUTE
    # Its number was just dialed by the queued job: tomorrow.
    assert by_key[11].first_deferral is ReasonCode.NUMBER_DAILY_CAP
    assert by_key[11].dialed_at == MONDAY_10AM + timedelta(days=1)


def test_the_cadence_limits_decisions_per_tick() -> None:
    # Six calls deferred by the window ahead of a callable one: three decisions per tick.
    calls = [*(call(i, la(100 + i)) for i in range(6)), call(6, ny(106))]
    per_minute = run(*calls, cadence=Cadence(tick=MINUTE, candidates_per_tick=3))
    per_second = run(*calls)
    assert dials(per_minute)[-1] == MONDAY_10AM + 2 * MINUTE
    ny_call = next(c for c in per_second.calls if c.key == 6)
    assert ny_call.dialed_at == MONDAY_10AM + timedelta(seconds=2)


def test_calls_reached_later_arrive_on_the_tick_grid() -> None:
    due = MONDAY_10AM + timedelta(seconds=90)
    result = run(call(1, ny(101), due=due), cadence=Cadence(tick=MINUTE))
    assert dials(result) == [MONDAY_10AM + 2 * MINUTE]


def test_the_horizon_reports_what_is_still_pending() -> None:
    result = run(*(call(i, ny(1000 + i)) for i in range(150)), horizon=timedelta(hours=20))
    assert (result.called, result.pending) == (100, 50)
    assert result.horizon_end == MONDAY_10AM + timedelta(hours=20)


def test_no_calls_no_forecast() -> None:
    result = run()
    assert (result.called, result.pending, result.schedule, result.calls) == (0, 0, (), ())
    assert result.first_dial_at is None


# --- properties ---------------------------------------------------------------------------------

_NPAS = ("212", "646", "305", "312", "310", "415", "503", "602", "541", "808")
_FAILING = (None, "+1212555", "+18005550123", "+14165550123")


@st.composite
def audiences(draw: st.DrawFn) -> ForecastInput:
    """A random audience at a random instant within a week (both DST-free and across a
    weekend), with repeated numbers, prior dials and a partly used location day."""
    start = MONDAY_10AM + timedelta(minutes=draw(st.integers(-24 * 60, 6 * 24 * 60)))
    start = start.replace(second=draw(st.sampled_from([0, 17])))
    count = draw(st.integers(0, 60))
    phones = [
        draw(
            st.one_of(
                st.builds(
                    lambda a, n: f"+1{a}555{n:04d}", st.sampled_from(_NPAS), st.integers(0, 40)
                ),
                st.sampled_from(_FAILING),
            )
        )
        for _ in range(count)
    ]
    purposes = st.sampled_from(list(CallPurpose))
    calls = tuple(
        ForecastCall(
            key,
            make_facts(
                phone=phone, purpose=draw(purposes), dnd=draw(st.booleans()) and key % 7 == 0
            ),
            start + timedelta(minutes=draw(st.integers(0, 3 * 24 * 60))),
        )
        for key, phone in enumerate(phones)
    )
    history = {
        phone: tuple(
            start - timedelta(hours=draw(st.integers(1, 14 * 24)))
            for _ in range(draw(st.integers(0, 4)))
        )
        for phone in {p for p in phones if p}
    }
    zone_name = draw(st.sampled_from([NEW_YORK, "America/Los_Angeles", "America/Chicago"]))
    used = draw(st.integers(0, 100))
    day_start = start.astimezone(ZoneInfo(zone_name)).replace(hour=0, minute=0, second=0)
    location = LocationState(
        zone_name,
        day_start=day_start.astimezone(UTC) if used else None,
        dials_today=used,
        last_dial_at=start - timedelta(seconds=draw(st.integers(1, 600))) if used else None,
        ready_at=start if used else None,
    )
    cadence = draw(st.sampled_from([SECOND_TICK, Cadence(tick=MINUTE), Cadence(MINUTE, 1)]))
    return ForecastInput(
        now=start,
        location=location,
        calls=calls,
        history=history,
        cadence=cadence,
        horizon=timedelta(days=draw(st.integers(1, 30))),
    )


def _zones(phone: str) -> tuple[str, ...]:
    npa = classify_e164(phone).npa
    assert npa is not None
    return candidate_zones(npa, frozenset())


@settings(max_examples=60, deadline=None)
@given(audiences())
def test_every_forecast_keeps_every_rule(inp: ForecastInput) -> None:
    result = forecast(inp)
    policy = DEFAULT_POLICY
    # Every call ends in exactly one place.
    assert len(result.calls) == len(inp.calls)
    assert result.called + sum(result.failed.values()) + result.pending == len(inp.calls)
    assert sum(n for _day, n in result.schedule) == result.called
    assert ReasonCode.LOCATION_PACING not in result.deferred
    facts: dict[int, CallFacts] = {c.key: c.facts for c in inp.calls}
    due = {c.key: c.due for c in inp.calls}
    tz = ZoneInfo(inp.location.time_zone)
    placed = sorted(c.dialed_at for c in result.calls if c.dialed_at is not None)
    # Pacing: a rolling minute between dials (from the location's last dial too).
    previous = inp.location.last_dial_at
    for dial in placed:
        assert previous is None or dial - previous >= policy.location_pacing
        previous = dial
    # The daily cap, counting the location's dials already made today.
    per_day = Counter(dial.astimezone(tz).date() for dial in placed)
    if inp.location.day_start is not None:
        per_day[inp.location.day_start.astimezone(tz).date()] += inp.location.dials_today
    assert max(per_day.values(), default=0) <= policy.location_daily_cap
    by_number: dict[str, list[datetime]] = defaultdict(list)
    for phone, history in inp.history.items():
        by_number[phone].extend(history)
    for forecast_call in result.calls:
        dial = forecast_call.dialed_at
        if dial is None:
            continue
        job = facts[forecast_call.key]
        phone = job.contact.phone_e164
        assert phone is not None
        assert dial >= due[forecast_call.key]
        assert dial <= result.horizon_end
        assert window_ok(dial, _zones(phone))
        by_number[phone].append(dial)
        assert not job.contact.dnd_voice
    for phone, instants in by_number.items():
        for t in (t for t in instants if t >= inp.now):  # the simulated dials
            # One a day on the contact's calendar: the day of each candidate zone.
            for day_zone in map(ZoneInfo, _zones(phone)):
                day = t.astimezone(day_zone).date()
                same_day = [u for u in instants if u.astimezone(day_zone).date() == day]
                assert len(same_day) <= policy.number_daily_cap, phone
            in_window = [u for u in instants if t - policy.number_window < u <= t]
            assert len(in_window) <= policy.number_window_cap, phone


@settings(max_examples=25, deadline=None)
@given(audiences())
def test_the_forecast_is_deterministic_and_ignores_input_order(inp: ForecastInput) -> None:
    shuffled = replace(inp, calls=tuple(reversed(inp.calls)))
    assert forecast(shuffled) == forecast(inp)
