"""Each dashboard metric's definition, checked against hand-built call sets on a real
database (SQLite and PostgreSQL)."""

from __future__ import annotations

import csv
import io
from datetime import date, time, timedelta

import pytest

from ringfence.bootstrap import Container
from ringfence.clock import VirtualClock
from ringfence.domain.dashboard.filters import (
    DashboardFilters,
    Granularity,
    SortKey,
    TimeRange,
    parse_filters,
)
from ringfence.domain.dashboard.statuses import REACHED, DashStatus
from ringfence.domain.vocabulary import CallOutcome, CallStatus, CallType
from ringfence.services.dashboard import call_log, drawer, export, metrics
from ringfence.services.dashboard.minutes import minutes_per_day
from ringfence.services.dashboard.scope import DashboardScope
from tests.conftest import Tenant, make_tenant
from tests.dashboard_calls import CallBook

TODAY = date(2026, 11, 26)  # the virtual clock's day in New York
C, V, N, B, F = (
    CallOutcome.CONNECTED,
    CallOutcome.VOICEMAIL,
    CallOutcome.NO_ANSWER,
    CallOutcome.BUSY,
    CallOutcome.FAILED,
)


@pytest.fixture
def book(container: Container, tenant: Tenant) -> CallBook:
    return CallBook(container, tenant)


def _scope(container: Container, tenant: Tenant) -> DashboardScope:
    return DashboardScope.at(
        tenant.account_id, tenant.location_id, "America/New_York", container.clock.now()
    )


def _tiles(container: Container, tenant: Tenant, **filters: object) -> metrics.Tiles:
    with container.uow() as uow:
        return metrics.tiles(uow.session, _scope(container, tenant), DashboardFilters(**filters))  # type: ignore[arg-type]


def test_attempted_counts_every_dial_and_connected_counts_voicemail(
    container: Container, tenant: Tenant, book: CallBook
) -> None:
    # Unanswered calls last as long as they rang: in the total, never in the average.
    for outcome, duration in ((C, 120), (C, 60), (V, 30), (N, 30), (B, 5), (F, 2), (None, 0)):
        book.call(outcome, day=TODAY, duration=duration)
    # Stopped before dialing: never a dial, so never in Attempted.
    book.call(None, day=TODAY, status=CallStatus.FAILED, reason_code="dnd_voice")
    book.call(None, day=TODAY, status=CallStatus.DEFERRED, reason_code="outside_window")

    tiles = _tiles(container, tenant)

    assert tiles.attempted == 7
    assert (tiles.connected, tiles.voicemail, tiles.reached) == (2, 1, 3)
    assert (tiles.no_answer, tiles.failed, tiles.in_progress) == (2, 1, 1)
    assert tiles.total_duration_seconds == 247
    assert tiles.reached_duration_seconds == 210
    assert tiles.average_duration_seconds == 70  # the 3 connected calls' 210 s over 3


def test_sentiment_counts_live_conversations_only_never_voicemail(
    container: Container, tenant: Tenant, book: CallBook
) -> None:
    book.call(C, day=TODAY, sentiment="positive")
    book.call(C, day=TODAY, sentiment="positive")
    book.call(C, day=TODAY, sentiment="negative")
    book.call(C, day=TODAY, sentiment="neutral")
    # A voicemail's transcript with a (wrongly) stored sentiment still does not count.
    book.call(V, day=TODAY, sentiment="negative")

    sentiment = _tiles(container, tenant).sentiment

    assert (sentiment.positive, sentiment.neutral, sentiment.negative) == (2, 1, 1)


def test_test_calls_never_count_in_live_metrics_and_have_their_own_view(
    container: Container, tenant: Tenant, book: CallBook
) -> None:
    book.call(C, day=TODAY, duration=60)
    book.call(C, day=TODAY, duration=90, call_type=CallType.TEST, sentiment="negative")
    book.call(F, day=TODAY, call_type=CallType.TEST)

    live = _tiles(container, tenant)
    test = _tiles(container, tenant, call_type=CallType.TEST)

    assert (live.attempted, live.total_duration_seconds, live.sentiment.total) == (1, 60, 0)
    assert (test.attempted, test.failed, test.sentiment.negative) == (2, 1, 1)


def test_actions_triggered_are_counted_by_kind(
    container: Container, tenant: Tenant, book: CallBook
) -> None:
    book.call(C, day=TODAY, actions=("tag_applied", "task_created", "tag_applied"))
    book.call(C, day=TODAY, actions=("opportunity_moved", "note_added", "webhook_sent"))
    book.call(C, day=TODAY, call_type=CallType.TEST, actions=("tag_applied",))

    tiles = _tiles(container, tenant)

    assert {a.label: a.count for a in tiles.actions} == {
        "Tag applied": 2,
        "Task created": 1,
        "Opportunity moved": 1,
        "Note added": 1,
        "Webhook sent": 1,
    }
    assert tiles.actions_total == 6


def test_time_ranges_are_whole_days_in_the_locations_zone(
    container: Container, tenant: Tenant, book: CallBook
) -> None:
    book.call(C, day=TODAY, at=time(0, 5))  # 05:05Z: today in New York
    book.call(C, day=TODAY - timedelta(days=1), at=time(23, 55))  # 04:55Z today: yesterday
    book.call(C, day=TODAY - timedelta(days=6))
    book.call(C, day=TODAY - timedelta(days=7))
    book.call(C, day=TODAY - timedelta(days=29))
    book.call(C, day=TODAY - timedelta(days=30))

    def attempted(**filters: object) -> int:
        return _tiles(container, tenant, **filters).attempted

    assert attempted(time_range=TimeRange.TODAY) == 1
    assert attempted(time_range=TimeRange.DAYS_7) == 3
    assert attempted(time_range=TimeRange.DAYS_30) == 5
    custom = TODAY - timedelta(days=7)
    assert attempted(time_range=TimeRange.CUSTOM, start=custom, end=custom) == 1


def test_workflow_status_and_caller_id_filters_narrow_every_figure(
    container: Container, tenant: Tenant, book: CallBook
) -> None:
    book.call(C, day=TODAY, workflow="No-show recovery", duration=50)
    book.call(V, day=TODAY, workflow="No-show recovery", duration=20)
    book.call(C, day=TODAY, duration=100, caller_id="+12125550111")
    book.call(F, day=TODAY)
    no_show = book.workflows["No-show recovery"]

    assert _tiles(container, tenant, workflow_id=no_show).attempted == 2
    connected_only = _tiles(container, tenant, statuses=frozenset({DashStatus.CONNECTED}))
    assert (connected_only.attempted, connected_only.total_duration_seconds) == (2, 150)
    assert _tiles(container, tenant, statuses=REACHED).attempted == 3
    assert _tiles(container, tenant, from_number_id=book.numbers["+12125550111"]).attempted == 1


def test_trend_has_a_point_for_every_day_and_folds_into_weeks_and_months(
    container: Container, tenant: Tenant, book: CallBook
) -> None:
    book.call(C, day=TODAY)
    book.call(F, day=TODAY)
    book.call(V, day=TODAY - timedelta(days=3))  # Monday 23 Nov
    book.call(N, day=TODAY - timedelta(days=4))  # Sunday 22 Nov: the week before
    scope = _scope(container, tenant)
    with container.uow() as uow:
        daily = metrics.trend_points(uow.session, scope, DashboardFilters())
        weekly = metrics.trend_points(
            uow.session, scope, DashboardFilters(granularity=Granularity.WEEKLY)
        )
        monthly = metrics.trend_points(
            uow.session,
            scope,
            DashboardFilters(time_range=TimeRange.DAYS_30, granularity=Granularity.MONTHLY),
        )

    assert [p.first_day for p in daily] == [TODAY - timedelta(days=d) for d in range(6, -1, -1)]
    assert [(p.counts.attempted, p.counts.reached, p.counts.failed) for p in daily] == [
        (0, 0, 0), (0, 0, 0), (1, 0, 0), (1, 1, 0), (0, 0, 0), (0, 0, 0), (2, 1, 1),
    ]  # fmt: skip
    assert [(p.label, p.counts.attempted) for p in weekly] == [
        ("Nov 20–Nov 22", 1),
        ("Nov 23–Nov 26", 3),
    ]
    assert [(p.label, p.counts.attempted) for p in monthly] == [
        ("Oct 2026", 0),
        ("Nov 2026", 4),
    ]


def test_caller_id_comparison_flags_a_number_that_fails_often(
    container: Container, tenant: Tenant, book: CallBook
) -> None:
    for i in range(10):
        book.call(F if i < 4 else C, day=TODAY, caller_id="+12125550177")
    for i in range(10):
        book.call(N if i < 2 else C, day=TODAY, caller_id="+12125550188")
    with container.uow() as uow:
        stats = metrics.caller_ids(uow.session, _scope(container, tenant), DashboardFilters())

    flagged, healthy = stats
    assert (flagged.phone_e164, flagged.failure_rate, flagged.rotate_suggested) == (
        "+12125550177",
        0.4,
        True,
    )
    assert (healthy.answer_rate, healthy.failure_rate, healthy.rotate_suggested) == (
        0.8,
        0.0,
        False,
    )


def test_the_call_log_sorts_pages_and_hides_calls_stopped_before_dialing(
    container: Container, tenant: Tenant, book: CallBook
) -> None:
    short = book.call(C, day=TODAY, duration=10, at=time(10))
    long = book.call(V, day=TODAY, duration=99, at=time(11))
    failed = book.call(F, day=TODAY, at=time(12), workflow="Lead reactivation")
    book.call(None, day=TODAY, status=CallStatus.FAILED, reason_code="dnd_voice")
    scope = _scope(container, tenant)

    def order(**filters: object) -> list[int]:
        with container.uow() as uow:
            page = call_log.call_log(uow.session, scope, DashboardFilters(**filters))  # type: ignore[arg-type]
        return [row.job_id for row in page.rows]

    assert order() == [failed, long, short]  # newest first
    assert order(descending=False) == [short, long, failed]
    assert order(sort=SortKey.DURATION) == [long, short, failed]  # no duration last
    assert order(sort=SortKey.STATUS, descending=False) == [short, long, failed]
    assert order(sort=SortKey.WORKFLOW, descending=False) == [short, long, failed]
    assert order(statuses=frozenset({DashStatus.CONNECTED})) == [short]


def test_the_call_log_sorts_by_recording_and_transcript(
    container: Container, tenant: Tenant, book: CallBook
) -> None:
    """The seed's call log sorts by its Recording and Transcript columns too: the calls that
    have one first (descending), then by call id."""
    bare = book.call(N, day=TODAY, at=time(10))
    transcript_only = book.call(C, day=TODAY, at=time(11), sentiment="neutral")
    recorded = book.call(C, day=TODAY, at=time(9), duration=30, recording=True)
    scope = _scope(container, tenant)

    def order(**filters: object) -> list[int]:
        with container.uow() as uow:
            page = call_log.call_log(uow.session, scope, DashboardFilters(**filters))  # type: ignore[arg-type]
        return [row.job_id for row in page.rows]

    assert order(sort=SortKey.RECORDING) == [recorded, transcript_only, bare]
    assert order(sort=SortKey.RECORDING, descending=False) == [bare, transcript_only, recorded]
    assert order(sort=SortKey.TRANSCRIPT) == [recorded, transcript_only, bare]  # both have one
    assert order(sort=SortKey.TRANSCRIPT, descending=False) == [bare, transcript_only, recorded]
    assert parse_filters({"sort": ["recording"]}).sort is SortKey.RECORDING


def test_the_pre_dial_view_lists_deferred_and_failed_with_their_reason(
    container: Container, tenant: Tenant, book: CallBook
) -> None:
    book.call(C, day=TODAY)
    failed = book.call(None, day=TODAY, status=CallStatus.FAILED, reason_code="dnd_voice")
    deferred = book.call(
        None, day=TODAY, at=time(13), status=CallStatus.DEFERRED, reason_code="outside_window"
    )
    with container.uow() as uow:
        rows = call_log.pre_dial(uow.session, _scope(container, tenant), DashboardFilters())
    assert [(r.job_id, r.status, r.reason_code) for r in rows] == [
        (deferred, CallStatus.DEFERRED, "outside_window"),
        (failed, CallStatus.FAILED, "dnd_voice"),
    ]
    assert rows[0].next_attempt_at is not None
    assert [r.due for r in rows] == [False, False]


def test_a_deferred_call_whose_time_has_come_waits_for_pacing_not_the_window(
    container: Container, clock: VirtualClock, tenant: Tenant, book: CallBook
) -> None:
    """Deferred at 08:00 as outside the window, at 10:05 the call is only waiting its turn:
    the view says so instead of repeating a reason that no longer holds."""
    waiting = book.call(
        None,
        day=TODAY,
        at=time(8),
        status=CallStatus.DEFERRED,
        reason_code="outside_window",
        next_attempt_at=clock.now() - timedelta(minutes=5),
    )
    later = book.call(
        None,
        day=TODAY,
        at=time(9),
        status=CallStatus.DEFERRED,
        reason_code="outside_window",
        next_attempt_at=clock.now() + timedelta(hours=1),
    )
    with container.uow() as uow:
        rows = call_log.pre_dial(uow.session, _scope(container, tenant), DashboardFilters())
    assert {r.job_id: r.due for r in rows} == {waiting: True, later: False}


def test_the_drawer_has_turns_actions_and_the_compliance_trail(
    container: Container, tenant: Tenant, book: CallBook
) -> None:
    job = book.call(
        C,
        day=TODAY,
        duration=42,
        sentiment="positive",
        actions=("appointment_confirmed", "tag_applied"),
        turns=[
            {"speaker": "agent", "text": "Hi, this is Glow Aesthetics.", "start": 0.0, "end": 2.1},
            {"speaker": "callee", "text": "Yes, I'll be there.", "start": 2.5, "end": 4.0},
        ],
        recording=True,
    )
    with container.uow() as uow:
        detail = drawer.call_detail(uow.session, _scope(container, tenant), job)
    assert detail is not None
    assert detail.row.status is DashStatus.CONNECTED
    assert detail.row.has_recording
    assert [t.speaker for t in detail.turns] == ["agent", "callee"]
    assert [a.label for a in detail.actions] == ["Appointment confirmed", "Tag applied"]
    assert [e.to_status for e in detail.trail] == [CallStatus.COMPLETED]


def test_another_account_sees_nothing_of_this_one(
    container: Container, tenant: Tenant, book: CallBook
) -> None:
    job = book.call(C, day=TODAY)
    rival = make_tenant(container, "Rival")
    scope = DashboardScope.at(
        rival.account_id, tenant.location_id, "America/New_York", container.clock.now()
    )
    with container.uow() as uow:
        assert metrics.tiles(uow.session, scope, DashboardFilters()).attempted == 0
        assert drawer.call_detail(uow.session, scope, job) is None


def test_the_csv_export_is_exactly_the_filtered_rows(
    container: Container, tenant: Tenant, book: CallBook
) -> None:
    connected = [book.call(C, day=TODAY, duration=30 + i) for i in range(3)]
    book.call(V, day=TODAY)
    book.call(F, day=TODAY)
    book.call(C, day=TODAY, call_type=CallType.TEST)
    book.call(C, day=TODAY, name="=HYPERLINK(evil) Smith")
    book.call(C, day=TODAY, workflow='=HYPERLINK("http://x.example","Click")')
    filters = DashboardFilters(statuses=frozenset({DashStatus.CONNECTED}))
    with container.uow() as uow:
        text = "".join(export.export_rows(uow.session, _scope(container, tenant), filters))

    rows = list(csv.DictReader(io.StringIO(text)))
    assert {row["Call Status"] for row in rows} == {"Connected"}
    assert len(rows) == 5
    assert {int(row["Call ID"]) for row in rows} >= set(connected)
    assert "'=HYPERLINK(evil) Smith" in {row["Contact"] for row in rows}
    # Every cell someone typed is defused, not only the contact's name (a workflow's too).
    workflows = {row["Workflow Name"] for row in rows}
    assert workflows == {"Appointment confirmations", """'=HYPERLINK("http://x.example","Click")"""}
    assert {row["Call Type"] for row in rows} == {"live"}


def test_minutes_per_day_book_placed_calls_and_show_rejections_consumed_none(
    container: Container, clock: VirtualClock, tenant: Tenant, book: CallBook
) -> None:
    from ringfence.adapters.db.calls import MinutesLedger

    job = book.call(C, day=TODAY, duration=61)
    book.call(None, day=TODAY, status=CallStatus.FAILED, reason_code="dnd_voice")
    with container.uow() as uow:
        uow.session.add(
            MinutesLedger(
                account_id=tenant.account_id,
                location_id=tenant.location_id,
                job_id=job,
                local_day=TODAY,
                billable_seconds=61,
                booked_at=clock.now(),
            )
        )
        uow.commit()
    with container.uow() as uow:
        days = minutes_per_day(uow.session, _scope(container, tenant), DashboardFilters())
    assert len(days) == 7
    today = days[-1]
    assert (today.dials, today.billable_seconds, today.minutes) == (1, 61, 2)
    assert today.rejected_before_dial == 1
