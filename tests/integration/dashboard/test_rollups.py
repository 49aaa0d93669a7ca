"""The rollups stay exact: after any sequence of writes to calls, transcripts and actions
(the paths the dispatcher, call results and workflow actions take, and some they never
take), every figure read from the rollups equals the same figure computed from the rows."""

from __future__ import annotations

import random
from datetime import date, timedelta

import pytest
from sqlalchemy import delete, select, update

from ringfence.adapters.db.calls import CallAction, CallJob, CallTranscript
from ringfence.bootstrap import Container
from ringfence.domain.dashboard.filters import DashboardFilters, TimeRange
from ringfence.domain.dashboard.statuses import DashStatus
from ringfence.domain.vocabulary import CallOutcome, CallStatus, CallType
from ringfence.services.dashboard import metrics
from ringfence.services.dashboard.scope import DashboardScope
from tests.conftest import Tenant
from tests.dashboard_calls import CallBook
from tests.integration.dashboard import oracle

TODAY = date(2026, 11, 26)
OUTCOMES = [None, *CallOutcome]
MOODS = ["positive", "neutral", "negative", None]
KINDS = ["tag_applied", "task_created", "note_added", "webhook_sent"]


def _views(book: CallBook) -> list[DashboardFilters]:
    workflow = next(iter(book.workflows.values()))
    number = next(iter(book.numbers.values()))
    return [
        DashboardFilters(time_range=TimeRange.DAYS_30),
        DashboardFilters(time_range=TimeRange.DAYS_30, call_type=CallType.TEST),
        DashboardFilters(time_range=TimeRange.TODAY),
        DashboardFilters(time_range=TimeRange.DAYS_7, workflow_id=workflow),
        DashboardFilters(time_range=TimeRange.DAYS_30, from_number_id=number),
        DashboardFilters(
            time_range=TimeRange.DAYS_30,
            statuses=frozenset({DashStatus.CONNECTED, DashStatus.NO_ANSWER}),
        ),
    ]


def _assert_equal(container: Container, tenant: Tenant, book: CallBook) -> None:
    scope = DashboardScope.at(
        tenant.account_id, tenant.location_id, "America/New_York", container.clock.now()
    )
    with container.uow() as uow:
        for view in _views(book):
            assert metrics.tiles(uow.session, scope, view) == oracle.tiles(
                uow.session, scope, view
            ), view
            assert metrics.per_day(uow.session, scope, view) == oracle.per_day(
                uow.session, scope, view
            ), view
            assert metrics.caller_ids(uow.session, scope, view) == oracle.caller_ids(
                uow.session, scope, view
            ), view


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_rollups_equal_the_rows_after_any_sequence_of_writes(
    container: Container, tenant: Tenant, seed: int
) -> None:
    rng = random.Random(seed)
    book = CallBook(container, tenant)
    numbers = [book.number(f"+1212555090{i}") for i in range(3)]
    workflows = [book.workflow(name) for name in ("Confirmations", "No-shows")]
    jobs: list[int] = []
    for _ in range(12):
        jobs.append(
            book.call(
                rng.choice(OUTCOMES[1:]),
                day=TODAY - timedelta(days=rng.randrange(10)),
                duration=rng.randrange(0, 200),
                sentiment=rng.choice(MOODS),
                actions=tuple(rng.sample(KINDS, rng.randrange(3))),
                call_type=rng.choice([CallType.LIVE, CallType.LIVE, CallType.TEST]),
                caller_id=f"+1212555090{rng.randrange(3)}",
            )
        )
    jobs.append(book.call(None, day=TODAY, status=CallStatus.DEFERRED, reason_code="x"))
    for _ in range(60):
        job = rng.choice(jobs)
        operation = rng.randrange(9)
        with container.uow() as uow:
            session = uow.session
            if operation == 0:  # the dispatcher dials a job (or a reconcile un-dials it)
                day = rng.choice([None, TODAY, TODAY - timedelta(days=rng.randrange(30))])
                session.execute(
                    update(CallJob).where(CallJob.id == job).values(dialed_local_day=day)
                )
            elif operation == 1:  # the call's result arrives
                session.execute(
                    update(CallJob)
                    .where(CallJob.id == job)
                    .values(outcome=rng.choice(OUTCOMES), duration_seconds=rng.randrange(300))
                )
            elif operation == 2:  # one bucket key at a time, so each is watched on its own
                column, value = rng.choice(
                    [
                        ("workflow_id", rng.choice([None, *workflows])),
                        ("from_number_id", rng.choice([None, *numbers])),
                        ("call_type", rng.choice(list(CallType))),
                    ]
                )
                session.execute(update(CallJob).where(CallJob.id == job).values({column: value}))
            elif operation == 3:  # an update that changes nothing the rollups count
                session.execute(
                    update(CallJob).where(CallJob.id == job).values(reason_code="touched")
                )
            elif operation == 4:
                exists = session.scalar(
                    select(CallTranscript.id).where(CallTranscript.job_id == job)
                )
                if exists is None:
                    session.add(
                        CallTranscript(
                            account_id=tenant.account_id,
                            job_id=job,
                            turns=[],
                            sentiment=rng.choice(MOODS),
                            created_at=container.clock.now(),
                        )
                    )
            elif operation == 5:
                session.execute(
                    update(CallTranscript)
                    .where(CallTranscript.job_id == job)
                    .values(sentiment=rng.choice(MOODS))
                )
            elif operation == 6:  # a purge takes the transcript away
                session.execute(delete(CallTranscript).where(CallTranscript.job_id == job))
            elif operation == 7:
                session.add(
                    CallAction(
                        account_id=tenant.account_id,
                        location_id=tenant.location_id,
                        job_id=job,
                        kind=rng.choice(KINDS),
                        detail="",
                        at=container.clock.now(),
                    )
                )
            else:
                first = session.scalar(
                    select(CallAction.id).where(CallAction.job_id == job).limit(1)
                )
                if first is not None:
                    session.execute(delete(CallAction).where(CallAction.id == first))
            uow.commit()
        _assert_equal(container, tenant, book)


def test_a_real_dispatcher_run_keeps_the_rollups_exact(container: Container) -> None:
    """The dispatcher's and the call results' bulk statements, end to end on the sandbox."""
    from ringfence.adapters.telephony.sandbox import SandboxCarrier
    from ringfence.clock import VirtualClock
    from ringfence.domain.pacing import DispatchConfig
    from ringfence.services.dispatch import Dispatcher
    from tests.integration.dispatch.practice import WINDOW_OPENS, make_practice

    clock = container.clock
    assert isinstance(clock, VirtualClock)
    clock.set(WINDOW_OPENS)
    practice = make_practice(container)
    suffixes = ["00", "01", "02", "03", "04", "10", "11", "15", "16"]
    practice.enqueue(*(practice.add_contact(f"+12125550{s}{i}") for i, s in enumerate(suffixes)))
    worker = Dispatcher(
        session_factory=container.session_factory,
        carrier=SandboxCarrier(container.session_factory, clock),
        clock=clock,
        config=DispatchConfig(carrier_cps=10, carrier_burst=10, max_concurrent_calls=50),
    )
    for _ in range(40):
        worker.tick()
        clock.advance(timedelta(minutes=1))
    tenant = Tenant(practice.account_id, practice.location_id, "")
    scope = DashboardScope.at(
        practice.account_id, practice.location_id, "America/New_York", clock.now()
    )
    view = DashboardFilters(time_range=TimeRange.DAYS_7)
    with container.uow() as uow:
        tiles = metrics.tiles(uow.session, scope, view)
        assert tiles == oracle.tiles(uow.session, scope, view)
        assert metrics.per_day(uow.session, scope, view) == oracle.per_day(uow.session, scope, view)
    assert tiles.attempted >= 8
    assert tiles.in_progress == 0
    assert tenant.location_id == practice.location_id
