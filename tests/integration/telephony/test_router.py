"""Each phone number's carrier: the router sends a dial to its from-number's carrier and merges
their answers; the worker builds it when a number uses Twilio; the dispatcher runs a Twilio
call from dial to outcome through signed callbacks, and adopts one whose answer was lost."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from ringfence.adapters.db.orm import CarrierKind, PhoneNumber
from ringfence.adapters.telephony.base import CarrierCallState, DialRequest, TelephonyError
from ringfence.adapters.telephony.router import (
    CarrierRouter,
    UnavailableCarrier,
    load_number_carriers,
)
from ringfence.adapters.telephony.sandbox import SandboxCarrier
from ringfence.adapters.telephony.sandbox_store import SandboxCall
from ringfence.adapters.telephony.twilio import TwilioCarrier
from ringfence.bootstrap import Container, carriers
from ringfence.clock import VirtualClock
from ringfence.domain.pacing import DispatchConfig
from ringfence.domain.vocabulary import CallOutcome, CallStatus
from ringfence.services.dispatch import (
    Dispatcher,
    TickReport,
)
from tests.integration.dispatch.practice import WINDOW_OPENS, Practice, make_practice
from tests.integration.telephony.conftest import post_signed
from tests.integration.telephony.fake_twilio import FakeTwilio, number_for

SANDBOX_NUMBER = "+12125550199"  # the practice's own
TWILIO_NUMBER = "+12125550188"
MINUTE = timedelta(minutes=1)


@pytest.fixture
def practice(twilio_container: Container, clock: VirtualClock) -> Practice:
    clock.set(WINDOW_OPENS)
    practice = make_practice(twilio_container)
    _add_number(practice, TWILIO_NUMBER, CarrierKind.TWILIO)
    return practice


def _add_number(practice: Practice, e164: str, carrier: CarrierKind) -> int:
    with practice.container.uow() as uow:
        now = uow.clock.now()
        number = PhoneNumber(
            account_id=practice.account_id,
            location_id=practice.location_id,
            e164=e164,
            carrier=carrier,
            created_at=now,
            updated_at=now,
        )
        uow.session.add(number)
        uow.session.flush()
        number_id = number.id
        uow.commit()
    return number_id


def _router(container: Container, clock: VirtualClock, twilio: TwilioCarrier) -> CarrierRouter:
    return CarrierRouter(
        {
            CarrierKind.SANDBOX: SandboxCarrier(container.session_factory, clock),
            CarrierKind.TWILIO: twilio,
            CarrierKind.SIP: UnavailableCarrier("sip", "not built yet"),
        },
        default=CarrierKind.SANDBOX,
        numbers=lambda: load_number_carriers(container.session_factory),
        clock=clock,
    )


def _request(key: str, from_e164: str, to_e164: str = "+12125550100") -> DialRequest:
    return DialRequest(key, to_e164, from_e164, job_id=1, contact_id=7)


def test_a_number_two_accounts_registered_dials_through_each_accounts_own_carrier(
    twilio_container: Container,
    practice: Practice,
    carrier: TwilioCarrier,
    fake: FakeTwilio,
    clock: VirtualClock,
) -> None:
    # Caller IDs are unique within an account only (security finding 6): another tenant may
    # register the practice's Twilio number through the sandbox. Each dial names its account.
    rival = make_practice(twilio_container)
    with twilio_container.uow() as uow:
        uow.session.execute(
            update(PhoneNumber)
            .where(PhoneNumber.account_id == rival.account_id)
            .values(e164=TWILIO_NUMBER)
        )
        uow.commit()
    router = _router(twilio_container, clock, carrier)
    mine = router.dial(replace(_request("k-mine", TWILIO_NUMBER), account_id=practice.account_id))
    theirs = router.dial(replace(_request("k-theirs", TWILIO_NUMBER), account_id=rival.account_id))
    assert [c.sid for c in fake.calls_made] == [mine.carrier_call_id]
    assert _sandbox_keys(twilio_container) == ["k-theirs"]
    assert theirs.carrier_call_id != mine.carrier_call_id
    # Without an account, a number the accounts disagree on goes to the default carrier.
    assert router.carrier_for(TWILIO_NUMBER) is CarrierKind.SANDBOX
    assert router.carrier_for(TWILIO_NUMBER, practice.account_id) is CarrierKind.TWILIO


def _sandbox_keys(container: Container) -> list[str]:
    with container.session_factory() as session:
        return list(session.scalars(select(SandboxCall.idempotency_key)))


def test_each_dial_goes_to_the_carrier_of_its_from_number(
    twilio_container: Container,
    practice: Practice,
    carrier: TwilioCarrier,
    fake: FakeTwilio,
    clock: VirtualClock,
) -> None:
    router = _router(twilio_container, clock, carrier)
    assert router.name == "sandbox"  # one pacing bucket for the account
    by_twilio = router.dial(_request("k-twilio", TWILIO_NUMBER))
    by_sandbox = router.dial(_request("k-sandbox", SANDBOX_NUMBER))
    router.dial(_request("k-no-number", ""))  # a job without a caller ID: the default

    assert [c.sid for c in fake.calls_made] == [by_twilio.carrier_call_id]
    assert sorted(_sandbox_keys(twilio_container)) == ["k-no-number", "k-sandbox"]
    restarted = _router(twilio_container, clock, carrier)
    for key, call_id in (("k-twilio", by_twilio), ("k-sandbox", by_sandbox)):
        report = restarted.lookup(key)
        assert report is not None
        assert report.carrier_call_id == call_id.carrier_call_id
    assert restarted.lookup("never-dialed") is None

    clock.advance(10 * MINUTE)
    reports = router.completed_reports()
    assert sorted(r.idempotency_key for r in reports) == ["k-no-number", "k-sandbox", "k-twilio"]


def test_a_batch_is_split_by_carrier_and_answered_in_order(
    twilio_container: Container,
    practice: Practice,
    carrier: TwilioCarrier,
    fake: FakeTwilio,
    clock: VirtualClock,
) -> None:
    router = _router(twilio_container, clock, carrier)
    requests = [
        _request("b-1", SANDBOX_NUMBER),
        _request("b-2", TWILIO_NUMBER),
        _request("b-3", SANDBOX_NUMBER, "+12125550104"),  # refused by the sandbox
    ]
    receipts = router.dial_many(requests)
    assert [r.accepted for r in receipts] == [True, True, False]
    assert receipts[1].carrier_call_id == fake.calls_made[0].sid
    assert router.dial_many(requests) == receipts  # idempotent, as each carrier is


def test_a_number_moved_to_another_carrier_is_routed_there_after_a_refresh(
    twilio_container: Container,
    practice: Practice,
    carrier: TwilioCarrier,
    fake: FakeTwilio,
    clock: VirtualClock,
) -> None:
    router = _router(twilio_container, clock, carrier)
    with twilio_container.session_factory() as session:
        session.execute(
            update(PhoneNumber)
            .where(PhoneNumber.e164 == SANDBOX_NUMBER)
            .values(carrier=CarrierKind.TWILIO)
        )
        session.commit()
    router.dial(_request("m-1", SANDBOX_NUMBER))
    assert fake.calls_made == []  # the map is a minute old at most
    clock.advance(MINUTE)
    router.dial(_request("m-2", SANDBOX_NUMBER))
    assert len(fake.calls_made) == 1

    _add_number(practice, "+12125550177", CarrierKind.TWILIO)  # a new number: found at once
    clock.advance(timedelta(seconds=5))
    router.dial(_request("m-3", "+12125550177"))
    assert len(fake.calls_made) == 2


def test_hang_ups_go_to_the_carrier_that_placed_the_call(
    twilio_container: Container,
    practice: Practice,
    carrier: TwilioCarrier,
    fake: FakeTwilio,
    clock: VirtualClock,
) -> None:
    router = _router(twilio_container, clock, carrier)
    receipt = router.dial(_request("h-1", TWILIO_NUMBER))
    clock.advance(timedelta(seconds=2))
    _router(twilio_container, clock, carrier).hangup(receipt.carrier_call_id)  # asks each
    report = router.lookup("h-1")
    assert report is not None
    assert (report.state, report.outcome) == (CarrierCallState.COMPLETED, CallOutcome.NO_ANSWER)
    with pytest.raises(TelephonyError):
        router.hangup("no-such-call")


def test_a_carrier_that_is_not_set_up_refuses_its_dials_and_knows_no_call(
    twilio_container: Container, practice: Practice, carrier: TwilioCarrier, clock: VirtualClock
) -> None:
    _add_number(practice, "+12125550166", CarrierKind.SIP)
    router = _router(twilio_container, clock, carrier)
    with pytest.raises(TelephonyError, match="sip carrier unavailable: not built yet"):
        router.dial(_request("s-1", "+12125550166"))
    assert router.lookup("s-1") is None


# --- The worker's wiring ----------------------------------------------------------------------


def test_the_worker_routes_only_when_a_number_uses_another_carrier(
    twilio_container: Container, clock: VirtualClock
) -> None:
    clock.set(WINDOW_OPENS)
    practice = make_practice(twilio_container)
    assert isinstance(carriers.make_carrier(twilio_container), SandboxCarrier)

    _add_number(practice, TWILIO_NUMBER, CarrierKind.TWILIO)
    routed = carriers.make_carrier(twilio_container)
    assert isinstance(routed, CarrierRouter)
    assert isinstance(carriers.make_twilio_carrier(twilio_container), TwilioCarrier)

    twilio_container.settings.twilio_account_sid = None
    twilio_container.settings.public_base_url = None
    routed = carriers.make_carrier(twilio_container)
    with pytest.raises(
        TelephonyError, match="set RINGFENCE_TWILIO_ACCOUNT_SID, RINGFENCE_PUBLIC_BASE_URL"
    ):
        routed.dial(_request("w-1", TWILIO_NUMBER))


# --- The dispatcher, end to end ---------------------------------------------------------------


def _dispatcher(container: Container, clock: VirtualClock, carrier: TwilioCarrier) -> Dispatcher:
    return Dispatcher(
        session_factory=container.session_factory,
        carrier=_router(container, clock, carrier),
        clock=clock,
        config=DispatchConfig(carrier_cps=10, carrier_burst=10, max_concurrent_calls=50),
    )


def _use_twilio_number(practice: Practice) -> None:
    with practice.container.session_factory() as session:
        session.execute(
            update(PhoneNumber)
            .where(PhoneNumber.id == practice.number_id)
            .values(carrier=CarrierKind.TWILIO)
        )
        session.commit()


def test_the_dispatcher_places_a_twilio_call_and_applies_its_signed_outcome(
    twilio_container: Container,
    twilio_client: TestClient,
    practice: Practice,
    carrier: TwilioCarrier,
    fake: FakeTwilio,
    clock: VirtualClock,
) -> None:
    _use_twilio_number(practice)
    [job_id] = practice.enqueue(practice.add_contact(number_for(CallOutcome.CONNECTED)))
    dispatcher = _dispatcher(twilio_container, clock, carrier)
    assert dispatcher.tick().dialed == 1

    [call] = fake.calls_made
    assert (call.to, call.from_) == (number_for(CallOutcome.CONNECTED), SANDBOX_NUMBER)
    job = practice.job(job_id)
    assert (job.status, job.carrier_call_id) == (CallStatus.RINGING, call.sid)
    assert job.idempotency_key is not None
    path = f"/twilio/status?key={job.idempotency_key}"

    clock.advance(timedelta(seconds=5))
    answered = {"CallSid": call.sid, "CallStatus": "in-progress"}
    assert post_signed(twilio_client, path, answered) == 204
    clock.advance(timedelta(seconds=30))
    done = {"CallSid": call.sid, "CallStatus": "completed", "CallDuration": "30"}
    assert post_signed(twilio_client, path, done) == 204
    dispatcher.tick()

    job = practice.job(job_id)
    assert (job.status, job.outcome, job.billable_seconds) == (
        CallStatus.COMPLETED,
        CallOutcome.CONNECTED,
        30,
    )
    assert practice.ledger_seconds() == 30
    assert fake.calls_under(job.idempotency_key) == 1


def test_a_worker_dead_after_twilio_placed_the_call_is_reconciled_to_that_call(
    twilio_container: Container,
    practice: Practice,
    carrier: TwilioCarrier,
    fake: FakeTwilio,
    clock: VirtualClock,
) -> None:
    _use_twilio_number(practice)
    [job_id] = practice.enqueue(practice.add_contact(number_for(CallOutcome.CONNECTED)))
    crashed = _dispatcher(twilio_container, clock, carrier)
    with twilio_container.session_factory() as session, session.begin():
        [planned] = crashed._plan(session, clock.now(), 1, report=TickReport(at=clock.now()))
    fake.drop_next_create = "after"  # Twilio places the call; the answer is lost...
    fake.fail_next_list = True  # ...and so is the search for it: the worker gives up and dies
    with pytest.raises(TelephonyError):
        crashed.carrier.dial(planned)

    clock.advance(3 * MINUTE)
    restarted = _dispatcher(twilio_container, clock, carrier)
    restarted.tick()  # reconciliation: the call is found in Twilio's list and adopted
    job = practice.job(job_id)
    assert job.carrier_call_id == fake.calls_made[0].sid
    assert fake.lists == 2
    assert "dial_not_placed" not in {e[2] for e in practice.events(job_id)}
    for _ in range(3):
        clock.advance(MINUTE)
        restarted.tick()
    job = practice.job(job_id)
    assert (job.status, job.outcome) == (CallStatus.COMPLETED, CallOutcome.CONNECTED)
    assert fake.calls_under(planned.idempotency_key) == 1
