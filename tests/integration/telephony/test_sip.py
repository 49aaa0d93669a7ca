"""The SIP carrier against a real SIP peer on loopback (SIPp), in what only SIP has: final
responses mapped to outcomes with the carrier's code kept, digest authentication, the ring
timeout's CANCEL, a hang-up while ringing, a trunk that never answers, a call lost with its
worker, and the dispatcher on SIP.

The promises every carrier keeps (idempotent dialing across restarts, lookups, reports,
hang-ups) are the shared contract suite's, which runs on SIP too (test_contract.py).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from ringfence.adapters.db.calls import CallJob
from ringfence.adapters.db.carriers import CarrierCall
from ringfence.adapters.telephony.base import (
    CallReport,
    CarrierCallState,
    DialRequest,
)
from ringfence.adapters.telephony.sip.carrier import SipCarrier, SipOptions
from ringfence.adapters.telephony.sip.dialog import SipAccount
from ringfence.bootstrap import Container
from ringfence.clock import VirtualClock
from ringfence.domain.pacing import DispatchConfig
from ringfence.domain.vocabulary import CallOutcome, CallStatus
from ringfence.services.dispatch import (
    Dispatcher,
)
from tests.integration.dispatch.practice import WINDOW_OPENS, make_practice
from tests.sip_peers import (
    RINGS_UNTIL_CANCELED,
    challenges_then,
    final_response,
    free_udp_port,
    proxy_challenge_then,
    sipp,
)

_keys = iter(range(1, 1_000_000))


def request(to: str = "+12125550100", *, key: str | None = None) -> DialRequest:
    n = next(_keys)
    return DialRequest(
        idempotency_key=key or f"sip-job-{n}-attempt-1",
        to_e164=to,
        from_e164="+16465550198",
        job_id=n,
        contact_id=7,
    )


@pytest.fixture
def carriers(container: Container, clock: VirtualClock) -> Iterator[list[SipCarrier]]:
    made: list[SipCarrier] = []
    yield made
    for carrier in made:
        carrier.close()


def connect(
    container: Container,
    clock: VirtualClock,
    made: list[SipCarrier],
    port: int,
    **options: object,
) -> SipCarrier:
    account = options.pop("account", SipAccount(domain="127.0.0.1"))
    carrier = SipCarrier(
        container.session_factory,
        clock,
        SipOptions(
            trunk_host="127.0.0.1",
            trunk_port=port,
            bind_host="127.0.0.1",
            account=account,  # type: ignore[arg-type]
            **options,  # type: ignore[arg-type]
        ),
    )
    made.append(carrier)
    return carrier


def finished(carrier: SipCarrier, timeout_s: float = 40.0) -> list[CallReport]:
    """The reports of the calls that end within `timeout_s`, once at least one has."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        reports = carrier.completed_reports()
        if reports:
            return reports
        time.sleep(0.05)
    raise AssertionError("no call ended")


@pytest.mark.parametrize(
    ("status", "outcome", "reason"),
    [
        ("486 Busy Here", CallOutcome.BUSY, "busy (SIP 486 Busy Here)"),
        ("480 Temporarily Unavailable", CallOutcome.NO_ANSWER, "no answer (SIP 480"),
        ("404 Not Found", CallOutcome.FAILED, "invalid number (SIP 404 Not Found)"),
        ("484 Address Incomplete", CallOutcome.FAILED, "invalid number (SIP 484"),
        ("603 Decline", CallOutcome.FAILED, "rejected (SIP 603 Decline)"),
        ("503 Service Unavailable", CallOutcome.FAILED, "carrier failure (SIP 503"),
    ],
)
def test_a_final_response_is_the_calls_outcome_with_the_sip_code_kept(
    container: Container,
    clock: VirtualClock,
    carriers: list[SipCarrier],
    tmp_path: Path,
    status: str,
    outcome: CallOutcome,
    reason: str,
) -> None:
    with sipp(tmp_path, final_response(status)) as peer:
        carrier = connect(container, clock, carriers, peer.port)
        dial = request()
        receipt = carrier.dial(dial)
        [report] = finished(carrier)
        assert peer.wait() == 0  # SIPp saw the scenario through: our ACK included

    assert receipt.accepted
    assert report.state is CarrierCallState.COMPLETED
    assert report.outcome is outcome
    assert report.carrier_reason is not None
    assert report.carrier_reason.startswith(reason)
    assert report.answered_at is None
    assert report.billable_seconds == 0
    with container.session_factory() as session:
        row = session.scalars(select(CarrierCall)).one()
    assert (row.carrier, row.status) == ("sip", outcome.value)
    assert row.details == {"sip_status": int(status[:3])}
    assert row.carrier_call_id == receipt.carrier_call_id
    # Reported once; a restarted carrier answers the same from the record.
    assert carrier.completed_reports() == []
    again = connect(container, clock, carriers, peer.port).lookup(dial.idempotency_key)
    assert again is not None
    assert (again.outcome, again.carrier_reason) == (outcome, report.carrier_reason)


def test_a_call_that_rings_past_the_timeout_is_canceled_as_no_answer(
    container: Container, clock: VirtualClock, carriers: list[SipCarrier], tmp_path: Path
) -> None:
    with sipp(tmp_path, RINGS_UNTIL_CANCELED) as peer:
        carrier = connect(container, clock, carriers, peer.port, ring_timeout_s=1.0)
        began = time.monotonic()
        carrier.dial(request())
        [report] = finished(carrier)
        rang = time.monotonic() - began
        assert peer.wait() == 0  # CANCEL sent, 487 acknowledged

    assert report.outcome is CallOutcome.NO_ANSWER
    assert report.carrier_reason == "no answer within 1 s (canceled)"
    assert 1.0 <= rang < 5
    assert report.billable_seconds == 0


def test_hanging_up_while_ringing_cancels_the_call(
    container: Container, clock: VirtualClock, carriers: list[SipCarrier], tmp_path: Path
) -> None:
    with sipp(tmp_path, RINGS_UNTIL_CANCELED) as peer:
        carrier = connect(container, clock, carriers, peer.port)
        dial = request()
        receipt = carrier.dial(dial)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:  # until the 180 has arrived
            report = carrier.lookup(dial.idempotency_key)
            assert report is not None
            assert report.state is CarrierCallState.RINGING
            time.sleep(0.3)
            break
        carrier.hangup(receipt.carrier_call_id)
        [report] = finished(carrier)
        assert peer.wait() == 0

    assert report.outcome is CallOutcome.NO_ANSWER
    assert report.carrier_reason == "hung up by Ringfence before the answer"


def test_digest_authentication_answers_the_trunks_challenge(
    container: Container, clock: VirtualClock, carriers: list[SipCarrier], tmp_path: Path
) -> None:
    scenario = challenges_then("486 Busy Here", username="trunkuser", password="s3cret")
    with sipp(tmp_path, scenario) as peer:
        account = SipAccount(domain="127.0.0.1", username="trunkuser", password="s3cret")
        carrier = connect(container, clock, carriers, peer.port, account=account)
        carrier.dial(request())
        [report] = finished(carrier)
        assert peer.wait() == 0
    assert report.outcome is CallOutcome.BUSY  # the authenticated INVITE went through


def test_a_proxy_challenge_is_answered_in_proxy_authorization(
    container: Container, clock: VirtualClock, carriers: list[SipCarrier], tmp_path: Path
) -> None:
    with sipp(tmp_path, proxy_challenge_then("486 Busy Here", username="trunkuser")) as peer:
        account = SipAccount(domain="127.0.0.1", username="trunkuser", password="s3cret")
        carrier = connect(container, clock, carriers, peer.port, account=account)
        carrier.dial(request())
        [report] = finished(carrier)
        assert peer.wait() == 0  # the header matched SIPp's check
    assert report.outcome is CallOutcome.BUSY


def test_wrong_credentials_fail_the_call_with_the_trunks_answer(
    container: Container, clock: VirtualClock, carriers: list[SipCarrier], tmp_path: Path
) -> None:
    scenario = challenges_then("486 Busy Here", username="trunkuser", password="s3cret")
    with sipp(tmp_path, scenario) as peer:
        account = SipAccount(domain="127.0.0.1", username="trunkuser", password="wrong")
        carrier = connect(container, clock, carriers, peer.port, account=account)
        carrier.dial(request())
        [report] = finished(carrier)
    assert report.outcome is CallOutcome.FAILED
    assert report.carrier_reason == "rejected (SIP 403 Forbidden)"


def test_a_trunk_that_never_answers_is_a_carrier_failure(
    container: Container, clock: VirtualClock, carriers: list[SipCarrier]
) -> None:
    carrier = connect(container, clock, carriers, free_udp_port(), no_response_s=1.5)
    carrier.dial(request())
    [report] = finished(carrier)
    assert report.outcome is CallOutcome.FAILED
    assert report.carrier_reason == "carrier failure (no response from the SIP trunk)"


def test_a_call_left_calling_by_a_stopped_worker_is_reported_lost_not_redialed(
    container: Container, clock: VirtualClock, carriers: list[SipCarrier]
) -> None:
    port = free_udp_port()
    # Nothing answers on `port`: the call stays CALLING (its INVITE unanswered) for the test's
    # few ms, and the teardown waits out Timer B before the endpoint closes (a CANCEL needs a
    # provisional response first): 10 s, a wide margin on a loaded machine, not 30.
    gone = connect(container, clock, carriers, port, no_response_s=10.0)
    dial = request()
    receipt = gone.dial(dial)
    restarted = connect(container, clock, carriers, port)

    report = restarted.lookup(dial.idempotency_key)
    assert report is not None
    assert report.state is CarrierCallState.RINGING  # may still be live in the other process
    clock.advance(SipOptions(trunk_host="x").lost_after + timedelta(seconds=1))
    report = restarted.lookup(dial.idempotency_key)
    assert report is not None
    assert report.state is CarrierCallState.COMPLETED
    assert report.outcome is CallOutcome.FAILED
    assert report.carrier_call_id == receipt.carrier_call_id
    assert report.carrier_reason is not None
    assert "call lost" in report.carrier_reason


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        ("486 Busy Here", CallOutcome.BUSY),
        ("404 Not Found", CallOutcome.FAILED),
        ("503 Service Unavailable", CallOutcome.FAILED),
    ],
)
def test_the_dispatcher_completes_the_job_with_the_outcome_and_dials_it_once(
    container: Container,
    clock: VirtualClock,
    carriers: list[SipCarrier],
    tmp_path: Path,
    status: str,
    outcome: CallOutcome,
) -> None:
    clock.set(WINDOW_OPENS)
    practice = make_practice(container)
    [job_id] = practice.enqueue(practice.add_contact("+12125550123"))
    with sipp(tmp_path, final_response(status)) as peer:
        dispatcher = Dispatcher(
            session_factory=container.session_factory,
            carrier=connect(container, clock, carriers, peer.port),
            clock=clock,
            config=DispatchConfig(carrier_cps=10, carrier_burst=10, max_concurrent_calls=5),
        )
        assert dispatcher.tick().dialed == 1
        deadline = time.monotonic() + 20
        while practice.job(job_id).status is not CallStatus.COMPLETED:
            assert time.monotonic() < deadline, "the job never completed"
            time.sleep(0.1)
            dispatcher.tick()
        assert peer.wait() == 0
        for _ in range(5):  # later ticks, a day later: nothing is dialed again
            clock.advance(timedelta(hours=5))
            assert dispatcher.tick().dialed == 0

    job = practice.job(job_id)
    assert job.outcome is outcome
    assert job.carrier_reason is not None
    assert f"SIP {status}" in job.carrier_reason
    assert practice.count(CarrierCall) == 1
    assert practice.count(CallJob) == 1
