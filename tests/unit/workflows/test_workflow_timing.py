"""Property tests for when a wait step ends (domain/workflows/timing.py).

The confirmation window is the product description's "Confirming a booked appointment in the
next 48 hours", run 24-48 h before the start: a call is either placed inside that window (with
a deadline at its end), placed at once under `call_now`, or not at all.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ringfence.domain.vocabulary import AppointmentStatus
from ringfence.domain.workflows.definition import ShortNotice, Wait, WaitUntil
from ringfence.domain.workflows.timing import (
    SHORT_NOTICE_CUTOFF,
    AppointmentView,
    EndPath,
    ResumeAt,
    WaitFacts,
    wait_outcome,
)

ANCHOR = datetime(2026, 11, 1, 6, 0, tzinfo=UTC)  # the autumn DST change in the US
HOUR = timedelta(hours=1)

instants = st.builds(
    lambda seconds: ANCHOR + timedelta(seconds=seconds),
    st.integers(min_value=-30 * 86_400, max_value=30 * 86_400),
)
# How far ahead of `now` the appointment starts: from already started to three weeks out,
# dense around the window edges.
leads = st.one_of(
    st.integers(min_value=-6 * 3600, max_value=21 * 86_400),
    st.sampled_from([h * 3600 + d for h in (2, 24, 48) for d in (-1, 0, 1)]),
).map(lambda seconds: timedelta(seconds=seconds))
upcoming_statuses = st.sampled_from([AppointmentStatus.SCHEDULED, AppointmentStatus.CONFIRMED])


def _before(
    short_notice: ShortNotice = ShortNotice.SKIP, earliest: int = 48, latest: int = 24
) -> Wait:
    return Wait(
        until=WaitUntil.BEFORE_APPOINTMENT,
        earliest_hours_before=earliest,
        latest_hours_before=latest,
        short_notice=short_notice,
    )


def _facts(start: datetime, status: AppointmentStatus, entered_at: datetime) -> WaitFacts:
    appointment = AppointmentView(id=1, starts_at=start, status=status, service="Botox")
    return WaitFacts(entered_at=entered_at, appointment=appointment)


@settings(max_examples=500, deadline=None)
@given(now=instants, lead=leads, status=upcoming_statuses, call_now=st.booleans())
def test_before_appointment_resumes_inside_the_window_or_not_at_all(
    now: datetime, lead: timedelta, status: AppointmentStatus, call_now: bool
) -> None:
    start = now + lead
    step = _before(ShortNotice.CALL_NOW if call_now else ShortNotice.SKIP)
    outcome = wait_outcome(step, _facts(start, status, now - HOUR), now)
    window_opens, window_closes = start - 48 * HOUR, start - 24 * HOUR

    if now < window_closes:
        # Booked 24 h or more ahead: wake in [start-48h, start-24h), at once when inside it.
        assert isinstance(outcome, ResumeAt)
        assert window_opens <= outcome.at < window_closes
        assert outcome.at == max(window_opens, now)
        assert outcome.call_deadline == window_closes
        return
    # Less than 24 h ahead: the short-notice rule.
    if not call_now:
        assert isinstance(outcome, EndPath)
        assert "short-notice rule" in outcome.reason
    elif now < start - SHORT_NOTICE_CUTOFF:
        assert outcome == ResumeAt(now, call_deadline=start - SHORT_NOTICE_CUTOFF)
    else:
        assert isinstance(outcome, EndPath)
    if isinstance(outcome, ResumeAt):
        assert outcome.call_deadline is not None
        assert outcome.at <= outcome.call_deadline <= start


@settings(max_examples=300, deadline=None)
@given(
    now=instants,
    lead=leads,
    earliest=st.integers(min_value=2, max_value=24 * 30),
    data=st.data(),
    short_notice=st.sampled_from(list(ShortNotice)),
)
def test_any_window_never_gives_a_deadline_after_the_start(
    now: datetime,
    lead: timedelta,
    earliest: int,
    data: st.DataObject,
    short_notice: ShortNotice,
) -> None:
    latest = data.draw(st.integers(min_value=1, max_value=earliest - 1))
    start = now + lead
    step = _before(short_notice, earliest, latest)
    outcome = wait_outcome(step, _facts(start, AppointmentStatus.SCHEDULED, now), now)
    if isinstance(outcome, ResumeAt):
        assert outcome.at >= now
        assert outcome.call_deadline is not None
        assert outcome.at < outcome.call_deadline < start
        assert outcome.call_deadline in (start - latest * HOUR, start - SHORT_NOTICE_CUTOFF)
        if outcome.call_deadline == start - latest * HOUR:
            assert outcome.at >= start - earliest * HOUR


@pytest.mark.parametrize(
    "status",
    [AppointmentStatus.CANCELED, AppointmentStatus.NO_SHOW, AppointmentStatus.COMPLETED],
)
@settings(max_examples=50, deadline=None)
@given(now=instants, lead=leads)
def test_a_closed_appointment_ends_the_path(
    status: AppointmentStatus, now: datetime, lead: timedelta
) -> None:
    for short_notice in ShortNotice:
        outcome = wait_outcome(_before(short_notice), _facts(now + lead, status, now), now)
        assert outcome == EndPath(f"the appointment is {status.value.replace('_', ' ')}")


def test_no_appointment_ends_the_path() -> None:
    outcome = wait_outcome(_before(), WaitFacts(entered_at=ANCHOR), ANCHOR)
    assert isinstance(outcome, EndPath)


def test_window_edges_to_the_second() -> None:
    start = ANCHOR + timedelta(days=5)
    step = _before()
    facts = _facts(start, AppointmentStatus.SCHEDULED, ANCHOR)
    closes = start - 24 * HOUR
    second = timedelta(seconds=1)
    assert wait_outcome(step, facts, closes - second) == ResumeAt(closes - second, closes)
    assert isinstance(wait_outcome(step, facts, closes), EndPath)
    opens = start - 48 * HOUR
    assert wait_outcome(step, facts, opens - second) == ResumeAt(opens, closes)
    assert wait_outcome(step, facts, opens) == ResumeAt(opens, closes)
    call_now = _before(ShortNotice.CALL_NOW)
    cutoff = start - SHORT_NOTICE_CUTOFF
    assert wait_outcome(call_now, facts, cutoff - second) == ResumeAt(cutoff - second, cutoff)
    assert isinstance(wait_outcome(call_now, facts, cutoff), EndPath)


@settings(max_examples=200, deadline=None)
@given(entered=instants, now=instants, minutes=st.integers(min_value=1, max_value=60 * 24 * 400))
def test_duration_waits_count_from_when_the_step_was_reached(
    entered: datetime, now: datetime, minutes: int
) -> None:
    step = Wait(until=WaitUntil.DURATION, minutes=minutes)
    outcome = wait_outcome(step, WaitFacts(entered_at=entered), now)
    assert outcome == ResumeAt(entered + timedelta(minutes=minutes))


@settings(max_examples=200, deadline=None)
@given(last=instants, now=instants, days=st.integers(min_value=1, max_value=3650))
def test_after_last_treatment_counts_days_from_the_treatment(
    last: datetime, now: datetime, days: int
) -> None:
    step = Wait(until=WaitUntil.AFTER_LAST_TREATMENT, days=days, service_contains="Botox")
    outcome = wait_outcome(step, WaitFacts(entered_at=now, last_treatment_at=last), now)
    assert outcome == ResumeAt(last + timedelta(days=days))


def test_botox_retreatment_is_90_days_by_default() -> None:
    step = Wait(until=WaitUntil.AFTER_LAST_TREATMENT, service_contains="Botox")
    outcome = wait_outcome(step, WaitFacts(entered_at=ANCHOR, last_treatment_at=ANCHOR), ANCHOR)
    assert outcome == ResumeAt(ANCHOR + timedelta(days=90))
    none = wait_outcome(step, WaitFacts(entered_at=ANCHOR), ANCHOR)
    assert none == EndPath("no completed treatment matching 'Botox' to time the reminder from")
