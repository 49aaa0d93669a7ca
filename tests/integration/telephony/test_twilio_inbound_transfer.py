"""A caller on a practice number asks for a person: the agent hands the Twilio call to the staff
line (`<Dial>`), and how that dial ended reaches the call's record as it does for an outbound
call. A dial no one took (no answer, busy) or a hand-over Twilio refused leaves a "Call the
patient back" task; a dial staff answered leaves none; a retried report makes no second task.

Over the fake Twilio REST API (which learns of the inbound call the way Twilio would have it:
a call in progress under its CallSid), the real webhook, media stream and dial callback, and
the real speech pipeline on fake engines.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from ringfence.adapters.db.calls import CallAction, CallJob
from ringfence.adapters.db.carriers import LiveCall
from ringfence.adapters.db.orm import Task, VoiceAgent
from ringfence.adapters.telephony.base import TelephonyError
from ringfence.adapters.telephony.twilio import TwilioCarrier
from ringfence.adapters.telephony.twilio.pending import PendingStreams
from ringfence.bootstrap import Container
from ringfence.clock import VirtualClock
from ringfence.domain.staff_hours import DAYS
from ringfence.domain.vocabulary import CallOutcome, CallStatus
from ringfence.entrypoints.api.carriers.twilio import (
    get_call_transfer,
    get_inbound_calls,
    get_pending_streams,
)
from ringfence.services.inbound_live import InboundLiveCalls
from ringfence.speech.audio import CARRIER_RATE, silence
from ringfence.speech.synth import babble
from tests.integration.dispatch.practice import BEFORE_WINDOW, Practice, make_practice
from tests.integration.telephony.conftest import BASE, signature
from tests.integration.telephony.fake_twilio import FakeCall, FakeFate, FakeTwilio
from tests.integration.telephony.test_twilio_inbound import (
    CALL_SID,
    LINE,
    PATIENT,
    Twilio,
    _connect,
    _inbound,
    _inbound_jobs,
    _ring,
    _stream_key,
)

STAFF = "+12125550142"
ASKS = "Can I talk to someone at the front desk, please?"


@pytest.fixture
def practice(twilio_container: Container, clock: VirtualClock) -> Practice:
    """The practice, its agent's staff line always open."""
    clock.set(BEFORE_WINDOW)
    practice = make_practice(twilio_container)
    with twilio_container.uow() as uow:
        agent = uow.session.get(VoiceAgent, practice.agent_id)
        assert agent is not None
        agent.transfer_number = STAFF
        agent.staff_hours = {day: ["00:00-24:00"] for day in DAYS}
        uow.commit()
    return practice


@pytest.fixture
def call(fake: FakeTwilio, clock: VirtualClock) -> FakeCall:
    """The inbound call as Twilio's REST API knows it: in progress under its CallSid."""
    call = FakeCall(
        sid=CALL_SID,
        to=LINE,
        from_=PATIENT,
        created=clock.now(),
        fate=FakeFate(0, "completed", talk_seconds=3600),
        params={},
    )
    fake.calls_made.append(call)
    return call


@pytest.fixture
def answering(
    twilio_client: TestClient,
    twilio_container: Container,
    carrier: TwilioCarrier,
    tmp_path: Path,
) -> Iterator[PendingStreams]:
    """The app answers on the fake engines (the caller asks for a person) and transfers over
    the Twilio carrier on the fake REST API."""
    inbound = _inbound(twilio_container, tmp_path, [ASKS], 5)
    pending = PendingStreams()
    app = cast(FastAPI, twilio_client.app)
    app.dependency_overrides[get_inbound_calls] = lambda: inbound
    app.dependency_overrides[get_pending_streams] = lambda: pending
    app.dependency_overrides[get_call_transfer] = lambda: carrier.transfer
    yield pending
    app.dependency_overrides.clear()
    pending.discard_all()


def _ask_for_a_person(client: TestClient, container: Container) -> CallJob:
    """The call rings, the agent greets, the caller asks for a person, the agent says its
    last words and hands the call over (the stream ends); the call's record."""
    key = _stream_key(_ring(client).text)
    with _connect(client, key) as ws:
        twilio = Twilio(ws, key)
        twilio.start()
        _, mark = twilio.until_mark()
        twilio.send("mark", mark={"name": mark})
        twilio.audio(silence(0.3, CARRIER_RATE))
        twilio.audio(babble(1.2, seed=6, pitch_hz=180))  # "Can I talk to someone ...?"
        twilio.audio(silence(15.0, CARRIER_RATE))  # "... Please hold.", then the hand-over
        twilio.until_closed()
    [job] = _inbound_jobs(container)
    return job


def _dial_ended(client: TestClient, key: str, dial_status: str) -> str:
    """Twilio's `<Dial>` action callback, signed; the TwiML answered."""
    ended = {"CallSid": CALL_SID, "DialCallStatus": dial_status, "AccountSid": "AC1"}
    path = f"/twilio/dial?key={key}"
    reply = client.post(
        path, data=ended, headers={"X-Twilio-Signature": signature(BASE + path, ended)}
    )
    assert reply.status_code == 200
    assert reply.headers["content-type"].startswith("application/xml")
    return reply.text


def _tasks_and_actions(
    container: Container, job: CallJob
) -> tuple[list[tuple[str, str]], list[str]]:
    with container.uow() as uow:
        tasks = [
            (task.title, task.body)
            for task in uow.session.scalars(select(Task).where(Task.contact_id == job.contact_id))
        ]
        kinds = list(
            uow.session.scalars(select(CallAction.kind).where(CallAction.job_id == job.id))
        )
    return tasks, kinds


def _kept(container: Container) -> int:
    with container.uow() as uow:
        return len(uow.session.scalars(select(LiveCall)).all())


@pytest.mark.parametrize("dial_status", ["no-answer", "busy", "completed"])
def test_how_the_dial_to_staff_ended_reaches_the_inbound_call_record(
    twilio_container: Container,
    twilio_client: TestClient,
    practice: Practice,
    call: FakeCall,
    answering: PendingStreams,
    dial_status: str,
) -> None:
    job = _ask_for_a_person(twilio_client, twilio_container)
    # The record is closed (connected) before Twilio dials; the dial reports under its key.
    assert (job.status, job.outcome) == (CallStatus.COMPLETED, CallOutcome.CONNECTED)
    assert job.idempotency_key is not None
    [twiml] = call.redirected_to
    assert f"<Number>{STAFF}</Number></Dial>" in twiml
    assert f'action="{BASE}/twilio/dial?key={job.idempotency_key}"' in twiml
    assert call.completed_at is None  # Twilio runs the <Dial>: the call goes on
    tasks, kinds = _tasks_and_actions(twilio_container, job)
    assert (tasks, kinds) == ([], ["call_transferred"])

    reply = _dial_ended(twilio_client, job.idempotency_key, dial_status)
    assert "<Hangup />" in reply
    assert ("no one from our team can take the call" in reply) is (dial_status != "completed")
    _dial_ended(twilio_client, job.idempotency_key, dial_status)  # Twilio retries: no change

    tasks, kinds = _tasks_and_actions(twilio_container, job)
    assert _kept(twilio_container) == 0
    if dial_status == "completed":
        assert (tasks, kinds) == ([], ["call_transferred"])
        return
    [(title, body)] = tasks
    assert title == "Call the patient back"
    why = "the staff line was busy" if dial_status == "busy" else "no one on the staff line"
    assert f"the transfer to {STAFF} did not connect ({why}" in body
    assert f'The patient said: "{ASKS}"' in body
    assert sorted(kinds) == ["call_transferred", "task_created"]


def test_a_hand_over_twilio_refuses_leaves_a_call_back_task(
    twilio_container: Container,
    twilio_client: TestClient,
    practice: Practice,
    call: FakeCall,
    answering: PendingStreams,
) -> None:
    def refuse(call_sid: str, to: str, *, report_key: str | None = None) -> None:
        raise TelephonyError(f"twilio: cannot transfer {call_sid}: HTTP 400 (21220)")

    app = cast(FastAPI, twilio_client.app)
    app.dependency_overrides[get_call_transfer] = lambda: refuse
    job = _ask_for_a_person(twilio_client, twilio_container)
    assert call.redirected_to == []
    [(title, body)] = _tasks_and_actions(twilio_container, job)[0]
    assert title == "Call the patient back"
    assert f"the transfer to {STAFF} did not connect (twilio: cannot transfer" in body
    assert _kept(twilio_container) == 0


def test_a_dial_report_for_another_call_changes_nothing(
    twilio_container: Container,
    twilio_client: TestClient,
    practice: Practice,
    call: FakeCall,
    answering: PendingStreams,
) -> None:
    job = _ask_for_a_person(twilio_client, twilio_container)
    assert job.idempotency_key is not None
    ended = {"CallSid": "CA" + "e" * 32, "DialCallStatus": "busy", "AccountSid": "AC1"}
    path = f"/twilio/dial?key={job.idempotency_key}"
    signed = {"X-Twilio-Signature": signature(BASE + path, ended)}
    assert twilio_client.post(path, data=ended, headers=signed).status_code == 200
    assert _tasks_and_actions(twilio_container, job)[0] == []
    assert _kept(twilio_container) == 1  # still kept for the real call's report


class _CannotClose(InboundLiveCalls):
    """The service with its database gone when the call's record is to be closed."""

    def _close(self, opened: Any, result: Any, transfer_reported_later: bool = False) -> None:
        if result is not None:
            raise RuntimeError("the database went away")
        super()._close(opened, result, transfer_reported_later)


def test_a_record_that_cannot_close_still_hands_the_caller_to_staff(
    twilio_container: Container,
    twilio_client: TestClient,
    practice: Practice,
    call: FakeCall,
    answering: PendingStreams,
    tmp_path: Path,
) -> None:
    """The caller asked for a person: a record whose close fails (the database) must not keep
    them from staff (the record is settled later as a lost call)."""
    sessions = _inbound(twilio_container, tmp_path, [ASKS], 5)
    broken = _CannotClose(
        twilio_container.uow,
        pipeline_for=sessions._pipeline_for,
        store_dir=tmp_path,
        cipher=twilio_container.phi_cipher,
        max_concurrent_calls=5,
    )
    app = cast(FastAPI, twilio_client.app)
    app.dependency_overrides[get_inbound_calls] = lambda: broken
    _ask_for_a_person(twilio_client, twilio_container)
    [twiml] = call.redirected_to
    assert f"<Number>{STAFF}</Number></Dial>" in twiml
