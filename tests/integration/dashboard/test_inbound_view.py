"""The Inbound view's figures and call log on a real database (SQLite and PostgreSQL): calls
answered through the sandbox (`take_sandbox_call`, the real path), counted on the location-local
day they were answered, never mixed with outbound calls, and a call still in progress counted
as outbound ones are."""

from __future__ import annotations

import csv
import io
import math
from collections import Counter
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from ringfence.adapters.db.calls import CallAction, CallJob
from ringfence.bootstrap import Container
from ringfence.clock import VirtualClock
from ringfence.domain.dashboard.filters import DashboardFilters, SortKey, TimeRange
from ringfence.domain.dashboard.statuses import DashStatus
from ringfence.domain.vocabulary import (
    CallDirection,
    CallOutcome,
    CallPurpose,
    CallStatus,
    CallType,
)
from ringfence.services.dashboard import call_log, export, metrics
from ringfence.services.dashboard.scope import DashboardScope
from ringfence.services.dashboard.view import DashboardView, dashboard_view
from tests.conftest import START, Tenant
from tests.dashboard_calls import PRACTICE_LINE, CallBook, answer
from tests.factories import add_voice_agent

TODAY = date(2026, 11, 26)  # the virtual clock's day in New York
INBOUND = DashboardFilters(direction=CallDirection.INBOUND)
SECOND_LINE = "+12125550188"


@pytest.fixture
def book(container: Container, tenant: Tenant) -> CallBook:
    add_voice_agent(container, tenant)
    book = CallBook(container, tenant)
    book.number(PRACTICE_LINE)
    book.number(SECOND_LINE)
    return book


def _view(container: Container, tenant: Tenant, filters: DashboardFilters) -> DashboardView:
    with container.uow() as uow:
        scope = DashboardScope.at(
            tenant.account_id, tenant.location_id, "America/New_York", uow.clock.now()
        )
        return dashboard_view(uow.session, scope, filters)


def _in_progress(container: Container, tenant: Tenant, contact_id: int, line: int) -> int:
    """An inbound call being answered right now (the live carriers write it so first)."""
    with container.uow() as uow:
        now = uow.clock.now()
        job = CallJob(
            account_id=tenant.account_id,
            location_id=tenant.location_id,
            contact_id=contact_id,
            from_number_id=line,
            action_name="Inbound call",
            purpose=CallPurpose.APPOINTMENT_CONFIRMATION,
            call_type=CallType.LIVE,
            direction=CallDirection.INBOUND,
            status=CallStatus.IN_PROGRESS,
            evaluations=0,
            phone_e164="+12125550155",
            created_at=now,
            updated_at=now,
        )
        uow.session.add(job)
        uow.session.flush()
        job_id = job.id
        uow.commit()
    return job_id


def _contact_of(container: Container, job_id: int) -> int:
    with container.uow() as uow:
        job = uow.session.get(CallJob, job_id)
        assert job is not None
        return job.contact_id


def test_the_inbound_figures_count_answered_calls_and_nothing_outbound(
    container: Container, tenant: Tenant, book: CallBook
) -> None:
    move = answer(container, "+12125550177", "Can I move my appointment to Friday?")
    stop = answer(container, "+12125550166", "Stop calling me.")
    other = answer(container, None, "Hello?", line=SECOND_LINE)
    live = _in_progress(container, tenant, _contact_of(container, move), book.numbers[SECOND_LINE])
    book.call(CallOutcome.CONNECTED, day=TODAY, duration=300, actions=("task_created",))

    view = _view(container, tenant, INBOUND)
    with container.uow() as uow:
        durations = {
            job.id: job.duration_seconds or 0
            for job in uow.session.query(CallJob).filter(CallJob.id.in_((move, stop, other)))
        }
        inbound_actions = Counter(
            uow.session.scalars(
                select(CallAction.kind).where(CallAction.job_id.in_((move, stop, other)))
            )
        )
    t = view.tiles
    assert (t.attempted, t.connected, t.voicemail, t.failed, t.in_progress) == (4, 3, 0, 0, 1)
    assert t.total_duration_seconds == sum(durations.values())
    assert t.average_duration_seconds == pytest.approx(sum(durations.values()) / 3)
    assert t.sentiment.total == 3  # answered conversations, each scored
    # Actions: exactly those recorded on the inbound calls (not the outbound call's task).
    assert {a.kind: a.count for a in t.actions} == dict(inbound_actions)
    assert inbound_actions["opt_out_applied"] == 1
    # The trend: today's point holds every inbound call of the view.
    [today] = [p for p in view.trend if p.first_day == TODAY]
    assert (today.counts.attempted, today.counts.reached) == (4, 3)
    assert sum(p.counts.attempted for p in view.trend) == 4
    # Per practice line called.
    lines = {c.phone_e164: (c.attempted, c.reached) for c in view.caller_ids}
    assert lines == {PRACTICE_LINE: (2, 2), SECOND_LINE: (2, 1)}
    # Minutes: each call rounded up to the minute, on the day it was answered.
    [minutes] = [d for d in view.minutes if d.day == TODAY]
    assert minutes.dials == 4
    assert minutes.minutes == sum(math.ceil(s / 60) for s in durations.values())
    assert view.pre_dial == ()
    # The log: inbound calls only, newest first, each at the moment it was answered.
    assert {row.job_id for row in view.log.rows} == {move, stop, other, live}
    assert all(row.direction is CallDirection.INBOUND for row in view.log.rows)
    assert all(row.at == START for row in view.log.rows)
    [row] = [r for r in view.log.rows if r.job_id == live]
    assert (row.status, row.status_label) == (None, "In progress")
    assert view.trend_series["names"] == ["Calls", "Answered", "Failed"]

    # Filters: answered only; one line (its figures, while the line comparison keeps both).
    answered = _view(container, tenant, DashboardFilters(
        direction=CallDirection.INBOUND, statuses=frozenset({DashStatus.CONNECTED})
    ))  # fmt: skip
    assert {r.job_id for r in answered.log.rows} == {move, stop, other}
    assert answered.tiles.attempted == 3
    one_line = _view(container, tenant, DashboardFilters(
        direction=CallDirection.INBOUND, from_number_id=book.numbers[SECOND_LINE]
    ))  # fmt: skip
    assert {r.job_id for r in one_line.log.rows} == {other, live}
    assert (one_line.tiles.attempted, one_line.tiles.connected) == (2, 1)
    assert len(one_line.caller_ids) == 2

    # The outbound view is as it was: one dial, none of the inbound calls.
    outbound = _view(container, tenant, DashboardFilters())
    assert outbound.tiles.attempted == 1
    assert [r.direction for r in outbound.log.rows] == [CallDirection.OUTBOUND]


def test_an_inbound_call_counts_on_the_local_day_it_was_answered(
    container: Container, clock: VirtualClock, tenant: Tenant, book: CallBook
) -> None:
    # 23:30 in New York on the 24th is 04:30 UTC on the 25th: the call is the 24th's.
    clock.set(datetime(2026, 11, 25, 4, 30, tzinfo=UTC))
    late = answer(container, "+12125550177", "Hello?")
    clock.set(datetime(2026, 11, 25, 5, 30, tzinfo=UTC))  # 00:30 on the 25th there
    early = answer(container, "+12125550177", "Hello again?")
    clock.set(START)

    def days(first: date, last: date) -> set[int]:
        filters = DashboardFilters(
            direction=CallDirection.INBOUND, time_range=TimeRange.CUSTOM, start=first, end=last
        )
        view = _view(container, tenant, filters)
        return {row.job_id for row in view.log.rows}

    assert days(date(2026, 11, 24), date(2026, 11, 24)) == {late}
    assert days(date(2026, 11, 25), date(2026, 11, 25)) == {early}
    assert days(date(2026, 11, 26), date(2026, 11, 26)) == set()
    week = _view(container, tenant, INBOUND)
    per_day = {p.first_day: p.counts.attempted for p in week.trend}
    assert (per_day[date(2026, 11, 24)], per_day[date(2026, 11, 25)]) == (1, 1)
    # Sorted by date, oldest first on request.
    ascending = DashboardFilters(
        direction=CallDirection.INBOUND, sort=SortKey.DATE, descending=False
    )
    assert [r.job_id for r in _view(container, tenant, ascending).log.rows] == [late, early]


def test_the_inbound_csv_and_the_rollups_refusing_an_inbound_view(
    container: Container, tenant: Tenant, book: CallBook
) -> None:
    job = answer(container, "+12125550177", "Stop calling me.")
    with container.uow() as uow:
        scope = DashboardScope.at(
            tenant.account_id, tenant.location_id, "America/New_York", uow.clock.now()
        )
        text = "".join(export.export_rows(uow.session, scope, INBOUND))
        assert export.csv_filename(scope, INBOUND).startswith("inbound-calls-live-")
        # Nothing is stopped before dialing in an inbound view: the header alone.
        stopped = "".join(export.export_pre_dial_rows(uow.session, scope, INBOUND))
        assert stopped.count("\n") == 1
        assert call_log.in_view(uow.session, scope, INBOUND, job)
        assert not call_log.in_view(uow.session, scope, DashboardFilters(), job)
        with pytest.raises(ValueError, match="rollups"):
            metrics.tiles(uow.session, scope, INBOUND)
    rows = list(csv.reader(io.StringIO(text)))
    assert len(rows) == 2
    assert rows[1][0] == str(job)
    assert rows[1][rows[0].index("Caller ID")] == PRACTICE_LINE
