"""The dispatcher against a real database and the sandbox carrier, on a virtual clock."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import update

from ringfence.adapters.db.calls import CallJob
from ringfence.adapters.db.orm import Contact
from ringfence.adapters.telephony.base import DialRequest
from ringfence.adapters.telephony.sandbox import SandboxCarrier, UnreachableCarrier
from ringfence.bootstrap import Container
from ringfence.clock import VirtualClock
from ringfence.domain.compliance import DEFAULT_POLICY
from ringfence.domain.pacing import DispatchConfig
from ringfence.domain.vocabulary import CallOutcome, CallStatus, Channel
from ringfence.services.dispatch import (
    Dispatcher,
    TickReport,
)
from tests.integration.dispatch.practice import (
    BEFORE_WINDOW,
    WINDOW_OPENS,
    Practice,
    make_practice,
)

FAST = DispatchConfig(carrier_cps=10, carrier_burst=10, max_concurrent_calls=50)


@pytest.fixture
def practice(container: Container, clock: VirtualClock) -> Practice:
    clock.set(BEFORE_WINDOW)
    return make_practice(container)


def dispatcher(container: Container, clock: VirtualClock, **kwargs: object) -> Dispatcher:
    carrier = kwargs.pop("carrier", None) or SandboxCarrier(container.session_factory, clock)
    return Dispatcher(
        session_factory=container.session_factory,
        carrier=carrier,  # type: ignore[arg-type]
        clock=clock,
        config=kwargs.pop("config", FAST),  # type: ignore[arg-type]
        **kwargs,  # type: ignore[arg-type]
    )


def test_waits_for_the_window_dials_once_and_books_minutes(
    container: Container, clock: VirtualClock, practice: Practice
) -> None:
    [job_id] = practice.enqueue(practice.add_contact("+12125550100"))  # answers: connected
    worker = dispatcher(container, clock)

    assert worker.tick().dialed == 0
    job = practice.job(job_id)
    assert (job.status, job.reason_code, job.next_attempt_at) == (
        CallStatus.DEFERRED,
        "outside_window",
        WINDOW_OPENS,
    )
    clock.set(WINDOW_OPENS - timedelta(seconds=1))
    assert worker.tick().dialed == 0

    clock.set(WINDOW_OPENS)
    assert worker.tick().dialed == 1
    job = practice.job(job_id)
    assert job.status is CallStatus.RINGING
    assert job.dialed_at == WINDOW_OPENS
    assert job.phone_e164 == "+12125550100"
    assert job.idempotency_key
    assert job.carrier_call_id

    for _ in range(15):
        clock.advance(timedelta(minutes=1))
        worker.tick()
    job = practice.job(job_id)
    assert job.status is CallStatus.COMPLETED
    assert job.outcome is CallOutcome.CONNECTED
    assert job.billable_seconds
    assert job.billable_seconds > 0
    assert practice.ledger_seconds() == job.billable_seconds
    assert [e[1] for e in practice.events(job_id)] == [
        "queued",
        "deferred",
        "dialing",
        "ringing",
        "in_progress",
        "completed",
    ]
    assert len(practice.carrier_calls()) == 1


def test_one_dial_per_minute_per_location_others_stay_queued(
    container: Container, clock: VirtualClock, practice: Practice
) -> None:
    clock.set(WINDOW_OPENS)
    jobs = practice.enqueue(*(practice.add_contact(f"+1212555011{i}") for i in range(4)))
    worker = dispatcher(container, clock)
    assert worker.tick().dialed == 1
    clock.advance(timedelta(seconds=59))
    assert worker.tick().dialed == 0
    waiting = [practice.job(j) for j in jobs if practice.job(j).dialed_at is None]
    assert {j.status for j in waiting} == {CallStatus.QUEUED}  # pacing is not "Deferred"
    clock.advance(timedelta(seconds=1))
    assert worker.tick().dialed == 1
    dial_times = sorted(j.dialed_at for j in map(practice.job, jobs) if j.dialed_at)
    assert dial_times == [WINDOW_OPENS, WINDOW_OPENS + timedelta(minutes=1)]


def test_the_gate_runs_again_right_before_dialing(
    container: Container, clock: VirtualClock, practice: Practice
) -> None:
    contact_id = practice.add_contact("+12125550100")
    [job_id] = practice.enqueue(contact_id)
    worker = dispatcher(container, clock)
    worker.tick()  # deferred to the window
    clock.set(WINDOW_OPENS - timedelta(seconds=1))
    with container.uow() as uow:  # the patient opts out a second before the window opens
        uow.session.execute(
            update(Contact)
            .where(Contact.id == contact_id)
            .values(opted_out_at=clock.now(), opted_out_channel=Channel.VOICE)
        )
        uow.commit()
    clock.set(WINDOW_OPENS)
    assert worker.tick().dialed == 0
    job = practice.job(job_id)
    assert (job.status, job.reason_code) == (CallStatus.FAILED, "opted_out")
    assert job.dialed_at is None
    assert practice.carrier_calls() == []
    assert practice.ledger_seconds() == 0


def test_failures_before_dialing_never_count_or_book(
    container: Container, clock: VirtualClock, practice: Practice
) -> None:
    clock.set(WINDOW_OPENS)
    no_consent = practice.add_contact("+12125550120", consent=False)
    dnd = practice.add_contact("+12125550121", dnd_voice=True)
    canada = practice.add_contact("+16475550100")
    jobs = practice.enqueue(no_consent, dnd, canada)
    worker = dispatcher(container, clock)
    worker.tick()
    reasons = [practice.job(j).reason_code for j in jobs]
    assert reasons == ["no_opt_in", "dnd_voice", "number_not_us"]
    assert all(practice.job(j).status is CallStatus.FAILED for j in jobs)
    assert practice.carrier_calls() == []
    assert practice.ledger_seconds() == 0


def test_daily_cap_overflow_is_deferred_to_the_next_day(
    container: Container, clock: VirtualClock, practice: Practice
) -> None:
    clock.set(WINDOW_OPENS)
    jobs = practice.enqueue(*(practice.add_contact(f"+1212555013{i}") for i in range(5)))
    policy = replace(DEFAULT_POLICY, location_daily_cap=3)
    worker = dispatcher(container, clock, policy=policy)
    for _ in range(6):
        worker.tick()
        clock.advance(timedelta(minutes=1))
    states = [practice.job(j) for j in jobs]
    assert sum(j.dialed_at is not None for j in states) == 3
    overflow = [j for j in states if j.dialed_at is None]
    assert {(j.status, j.reason_code) for j in overflow} == {
        (CallStatus.DEFERRED, "location_daily_cap")
    }
    # Next local day (midnight New York = 05:00Z), then its window at 10:00 local.
    clock.set(WINDOW_OPENS + timedelta(days=1))
    worker.tick()
    clock.advance(timedelta(minutes=1))
    worker.tick()
    assert sum(practice.job(j).dialed_at is not None for j in jobs) == 5


def test_a_lost_dial_is_reconciled_by_key_never_redialed(
    container: Container, clock: VirtualClock, practice: Practice
) -> None:
    clock.set(WINDOW_OPENS)
    [job_id] = practice.enqueue(practice.add_contact("+12125550100"))
    _crashed, planned = _plan_then_crash(container, clock)
    assert [p.job_id for p in planned] == [job_id]
    assert practice.job(job_id).status is CallStatus.DIALING

    restarted = dispatcher(container, clock)
    clock.advance(timedelta(minutes=3))
    restarted.tick()  # carrier never saw the key: back to the queue, same key, re-evaluated
    job = practice.job(job_id)
    assert practice.events(job_id)[-3:] == [
        ("dialing", "queued", "dial_not_placed"),
        ("queued", "dialing", None),
        ("dialing", "ringing", None),
    ]
    assert job.idempotency_key == planned[0].idempotency_key
    assert job.status is CallStatus.RINGING  # re-evaluated and dialed in the same tick
    assert len(practice.carrier_calls()) == 1


def test_a_placed_dial_whose_receipt_was_lost_is_adopted(
    container: Container, clock: VirtualClock, practice: Practice
) -> None:
    clock.set(WINDOW_OPENS)
    [job_id] = practice.enqueue(practice.add_contact("+12125550100"))
    crashed, planned = _plan_then_crash(container, clock)
    crashed.carrier.dial(planned[0])  # the call went out; the worker died before noting it

    restarted = dispatcher(container, clock)
    clock.advance(timedelta(minutes=3))
    restarted.tick()
    job = practice.job(job_id)
    assert job.status in (CallStatus.RINGING, CallStatus.IN_PROGRESS, CallStatus.COMPLETED)
    assert job.carrier_call_id
    assert "dial_not_placed" not in {e[2] for e in practice.events(job_id)}
    for _ in range(10):
        clock.advance(timedelta(minutes=1))
        restarted.tick()
    assert practice.job(job_id).status is CallStatus.COMPLETED
    assert len(practice.carrier_calls()) == 1


def test_an_unreachable_carrier_sends_lost_dials_to_review(
    container: Container, clock: VirtualClock, practice: Practice
) -> None:
    clock.set(WINDOW_OPENS)
    [job_id] = practice.enqueue(practice.add_contact("+12125550100"))
    _plan_then_crash(container, clock)
    clock.advance(timedelta(minutes=3))
    dispatcher(container, clock, carrier=UnreachableCarrier()).reconcile()
    job = practice.job(job_id)
    assert (job.status, job.reason_code) == (CallStatus.NEEDS_REVIEW, None)
    assert practice.events(job_id)[-1] == ("dialing", "needs_review", "carrier_error")


def test_carrier_refusals_and_unanswered_calls_book_no_minutes(
    container: Container, clock: VirtualClock, practice: Practice
) -> None:
    clock.set(WINDOW_OPENS)
    jobs = practice.enqueue(
        *(practice.add_contact(phone) for phone in ("+12125550102", "+12125550104"))
    )
    worker = dispatcher(container, clock)
    for _ in range(5):
        worker.tick()
        clock.advance(timedelta(minutes=1))
    outcomes = {practice.job(j).outcome for j in jobs}
    assert outcomes == {CallOutcome.NO_ANSWER, CallOutcome.FAILED}
    refused = next(practice.job(j) for j in jobs if practice.job(j).outcome is CallOutcome.FAILED)
    assert refused.carrier_reason
    assert practice.ledger_seconds() == 0
    assert practice.count(CallJob) == 2


def _plan_then_crash(
    container: Container, clock: VirtualClock
) -> tuple[Dispatcher, list[DialRequest]]:
    """A worker commits its `dialing` marks (with their keys), then dies before dialing."""
    crashed = dispatcher(container, clock)
    with container.session_factory() as session, session.begin():
        planned = crashed._plan(session, clock.now(), 1, report=TickReport(at=clock.now()))
    return crashed, planned


def test_a_paced_location_sleeps_only_for_the_gap_not_until_the_jobs_own_window(
    container: Container, clock: VirtualClock, practice: Practice
) -> None:
    """A job in a zone whose window is about to close, met while the location is still in
    its pacing gap, must not put the whole location to sleep until that zone reopens."""
    ny_closes = WINDOW_OPENS + timedelta(hours=8)  # 18:00 in New York
    clock.set(ny_closes - timedelta(seconds=30))
    (first,) = practice.enqueue(practice.add_contact("+12125550120"))
    worker = dispatcher(container, clock)
    assert worker.tick().dialed == 1
    clock.advance(timedelta(seconds=10))  # 20 s before New York closes; the gap runs 50 s more
    new_york, los_angeles = practice.enqueue(
        practice.add_contact("+12125550121"), practice.add_contact("+13105550122")
    )
    assert worker.tick().dialed == 0  # the gap: New York's job is met first and waits
    clock.advance(timedelta(seconds=50))  # the gap is over; New York has closed, LA is open
    assert worker.tick().dialed == 1
    assert practice.job(los_angeles).dialed_at == clock.now()
    assert practice.job(new_york).status is CallStatus.DEFERRED
    assert practice.job(first).dialed_at == ny_closes - timedelta(seconds=30)


def test_an_account_under_kyc_review_defers_its_calls_instead_of_failing_them(
    container: Container, clock: VirtualClock, practice: Practice
) -> None:
    """A legal-detail change sends KYC back to review: outbound pauses, nothing is lost."""
    from ringfence.adapters.db.orm import Account
    from ringfence.domain.vocabulary import KycStatus

    clock.set(WINDOW_OPENS)
    (job,) = practice.enqueue(practice.add_contact("+12125550130"))
    with container.uow() as uow:
        uow.session.execute(
            update(Account)
            .where(Account.id == practice.account_id)
            .values(kyc_status=KycStatus.SUBMITTED)
        )
        uow.commit()
    worker = dispatcher(container, clock)
    report = worker.tick()
    assert report.dialed == 0
    assert report.failed == 0
    paused = practice.job(job)
    assert (paused.status, paused.reason_code) == (CallStatus.DEFERRED, "kyc_not_approved")
    assert paused.next_attempt_at == WINDOW_OPENS + timedelta(hours=1)
    with container.uow() as uow:
        uow.session.execute(
            update(Account)
            .where(Account.id == practice.account_id)
            .values(kyc_status=KycStatus.APPROVED)
        )
        uow.commit()
    clock.advance(timedelta(hours=1))
    assert worker.tick().dialed == 1
