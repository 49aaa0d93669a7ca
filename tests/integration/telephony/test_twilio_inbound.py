"""Inbound calls on Twilio (issue 19): a patient rings the practice number, Twilio posts its
Voice webhook (signed), Ringfence answers with TwiML that opens a bidirectional media stream,
and a test client plays Twilio's side of that stream against the real endpoint and the real
speech pipeline (fake engines: tones for the agent, scripted transcripts for the caller).

Asserted: a forged or missing signature gets 403 and writes nothing; a number no practice owns,
a location without an agent and a full line get `<Reject>` and write nothing; an answered call
is an inbound call job in progress, its stream plays the agent's greeting, and after `stop` the
job is completed with its transcript; a stream that never comes is discarded once its time is
up (an injected monotonic clock), which closes the job unanswered.
"""

from __future__ import annotations

import base64
import json
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import delete, select
from starlette.testclient import WebSocketTestSession
from starlette.websockets import WebSocketDisconnect

from ringfence.adapters.db.calls import CallJob, CallTranscript
from ringfence.adapters.db.orm import VoiceAgent
from ringfence.adapters.speech import EnergyVad, ScriptedStt, ToneTts
from ringfence.adapters.telephony.g711 import FRAME_BYTES, mulaw_to_pcm16
from ringfence.adapters.telephony.media import rms
from ringfence.adapters.telephony.twilio.pending import PendingStreams
from ringfence.agent.policies.scripted import ScriptedPolicy
from ringfence.bootstrap import Container
from ringfence.clock import VirtualClock
from ringfence.domain.vocabulary import CallDirection, CallOutcome, CallStatus
from ringfence.entrypoints.api.carriers.twilio import get_inbound_calls, get_pending_streams
from ringfence.services.inbound_live import InboundLiveCalls
from ringfence.services.live_media import LiveMediaSessions
from ringfence.services.suppression import suppression_of
from ringfence.speech.audio import CARRIER_RATE, silence
from ringfence.speech.contracts import SpeechEngines
from ringfence.speech.runner import InlineRunner
from ringfence.speech.synth import babble
from tests.integration.dispatch.practice import BEFORE_WINDOW, Practice, make_practice
from tests.integration.telephony.conftest import BASE, post_signed, signature
from tests.integration.telephony.twilio_side import TwilioSide

LINE = "+12125550199"  # make_practice's number: the practice line patients call
PATIENT = "+12125550147"
NOT_OURS = "+12125550123"
CALL_SID = "CA" + "1" * 32
STREAM = "MZ00000000000000000000000000000009"


class Monotonic:
    """A monotonic clock the test moves: the pending streams' deadlines."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def practice(twilio_container: Container, clock: VirtualClock) -> Practice:
    clock.set(BEFORE_WINDOW)
    return make_practice(twilio_container)


@pytest.fixture
def monotonic() -> Monotonic:
    return Monotonic()


@pytest.fixture
def pending(monotonic: Monotonic) -> PendingStreams:
    return PendingStreams(monotonic=monotonic)


def _inbound(container: Container, store: Path, said: list[str], limit: int) -> InboundLiveCalls:
    sessions = LiveMediaSessions(
        container.session_factory,
        engines=lambda: SpeechEngines(vad=EnergyVad(), stt=ScriptedStt(said), tts=ToneTts()),
        policy_for=lambda _name: ScriptedPolicy(),
        results=container.live_calls,
        store_dir=store,
        cipher=container.phi_cipher,
        runner=InlineRunner,
    )
    return InboundLiveCalls(
        container.uow,
        pipeline_for=sessions.pipeline_for,
        store_dir=store,
        cipher=container.phi_cipher,
        max_concurrent_calls=limit,
    )


@pytest.fixture
def inbound(
    request: pytest.FixtureRequest,
    twilio_client: TestClient,
    twilio_container: Container,
    pending: PendingStreams,
    tmp_path: Path,
) -> Iterator[InboundLiveCalls]:
    """The app answers on the fake engines: the caller's words are the test's lines (given
    indirectly), the concurrent-call limit is 5 (or `limit`)."""
    param = getattr(request, "param", {})
    inbound = _inbound(
        twilio_container,
        tmp_path,
        param.get("said", ["Hello, is this Glow?"]),
        param.get("limit", 5),
    )
    app = cast(FastAPI, twilio_client.app)
    app.dependency_overrides[get_inbound_calls] = lambda: inbound
    app.dependency_overrides[get_pending_streams] = lambda: pending
    yield inbound
    app.dependency_overrides.clear()
    pending.discard_all()  # a test that left a call waiting: its record is closed


def _ring(client: TestClient, *, to: str = LINE, caller: str = PATIENT, sid: str = CALL_SID) -> Any:
    """Twilio posts the number's Voice webhook, signed; the response."""
    form = {
        "CallSid": sid,
        "To": to,
        "From": caller,
        "Direction": "inbound",
        "CallStatus": "ringing",
    }
    headers = {"X-Twilio-Signature": signature(BASE + "/twilio/incoming", form)}
    return client.post("/twilio/incoming", data=form, headers=headers)


def _stream_key(twiml: str) -> str:
    """The key of `<Response><Connect><Stream url=".../twilio/media/KEY">`, checked."""
    response = ET.fromstring(twiml)
    [connect] = list(response)
    assert connect.tag == "Connect"
    [stream] = list(connect)
    url = stream.attrib["url"]
    prefix = "wss://ringfence.example/twilio/media/"
    assert url.startswith(prefix)
    key = url.removeprefix(prefix)
    [parameter] = list(stream)
    assert parameter.attrib == {"name": "idempotency_key", "value": key}
    return key


def _rejected(twiml: str) -> str:
    """The reason of `<Response><Reject reason=...>`, checked to be the whole response."""
    [reject] = list(ET.fromstring(twiml))
    assert reject.tag == "Reject"
    return reject.attrib["reason"]


def _inbound_jobs(container: Container) -> list[CallJob]:
    with container.uow() as uow:
        jobs = list(
            uow.session.scalars(
                select(CallJob)
                .where(CallJob.direction == CallDirection.INBOUND)
                .order_by(CallJob.id)
            )
        )
        uow.session.expunge_all()
        return jobs


class Twilio(TwilioSide):
    """Twilio's side of an inbound call's media stream."""

    def __init__(self, ws: WebSocketTestSession, key: str, call_sid: str = CALL_SID) -> None:
        super().__init__(ws, key=key, call_sid=call_sid, stream=STREAM)

    def until_mark(self) -> tuple[bytes, str]:
        """The audio the server plays up to its first mark (each message one 20 ms frame of
        this stream), and the mark's name."""
        frames: list[bytes] = []
        while True:
            message = cast(dict[str, Any], self.ws.receive_json())
            assert message["streamSid"] == STREAM
            if message["event"] == "mark":
                return b"".join(frames), message["mark"]["name"]
            assert message["event"] == "media"
            frame = base64.b64decode(message["media"]["payload"], validate=True)
            assert len(frame) == FRAME_BYTES
            frames.append(frame)

    def until_closed(self) -> list[dict[str, Any]]:
        messages: list[dict[str, Any]] = []
        while True:
            message = self.ws.receive()
            if message["type"] == "websocket.close":
                return messages
            messages.append(json.loads(message["text"]))


def _connect(client: TestClient, key: str) -> WebSocketTestSession:
    url = f"wss://ringfence.example/twilio/media/{key}"
    return client.websocket_connect(
        f"/twilio/media/{key}", headers={"X-Twilio-Signature": signature(url, {})}
    )


def _turns(container: Container, job_id: int) -> list[dict[str, Any]]:
    with container.uow() as uow:
        transcript = uow.session.scalars(
            select(CallTranscript).where(CallTranscript.job_id == job_id)
        ).one()
        return list(transcript.turns)


# --- The webhook ------------------------------------------------------------------------------


def test_a_forged_or_unsigned_incoming_call_is_refused_and_writes_nothing(
    twilio_container: Container,
    twilio_client: TestClient,
    practice: Practice,
    inbound: InboundLiveCalls,
    pending: PendingStreams,
) -> None:
    form = {"CallSid": CALL_SID, "To": LINE, "From": PATIENT, "Direction": "inbound"}
    forged = signature(BASE + "/twilio/incoming", form, token="f" * 32)
    retargeted = signature(BASE + "/twilio/status", form)
    for headers in ({}, {"X-Twilio-Signature": forged}, {"X-Twilio-Signature": retargeted}):
        response = twilio_client.post("/twilio/incoming", data=form, headers=headers)
        assert response.status_code == 403
    tampered = {**form, "To": "+12125550100"}
    headers = {"X-Twilio-Signature": signature(BASE + "/twilio/incoming", form)}
    assert twilio_client.post("/twilio/incoming", data=tampered, headers=headers).status_code == 403
    assert _inbound_jobs(twilio_container) == []
    assert len(pending) == 0


def test_the_app_answers_with_the_agent_on_its_own_speech_engines(
    twilio_container: Container, twilio_client: TestClient, practice: Practice
) -> None:
    """What `install` wires (no test overrides): the settings' engines (here `fake`)."""
    key = _stream_key(_ring(twilio_client).text)
    [job] = _inbound_jobs(twilio_container)
    assert job.status is CallStatus.IN_PROGRESS
    held = cast(FastAPI, twilio_client.app).state.twilio_pending
    assert isinstance(held, PendingStreams)
    assert held.key_of(CALL_SID) == key
    assert held.discard_all() == 1
    [job] = _inbound_jobs(twilio_container)
    assert (job.status, job.outcome) == (CallStatus.COMPLETED, CallOutcome.NO_ANSWER)


def test_a_signed_call_without_its_call_sid_or_number_is_a_bad_request(
    twilio_client: TestClient, practice: Practice, inbound: InboundLiveCalls
) -> None:
    assert post_signed(twilio_client, "/twilio/incoming", {"To": LINE, "From": PATIENT}) == 400
    assert post_signed(twilio_client, "/twilio/incoming", {"CallSid": CALL_SID}) == 400


def test_a_signed_call_to_a_practice_number_connects_a_media_stream(
    twilio_container: Container,
    twilio_client: TestClient,
    practice: Practice,
    inbound: InboundLiveCalls,
    pending: PendingStreams,
) -> None:
    response = _ring(twilio_client)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/xml")
    key = _stream_key(response.text)
    assert key.startswith("in-")
    [job] = _inbound_jobs(twilio_container)
    assert job.status is CallStatus.IN_PROGRESS
    assert (job.carrier_call_id, job.phone_e164) == (CALL_SID, PATIENT)
    assert len(pending) == 1

    # Twilio asks again for the same call (a retry): the same stream, no second record.
    assert _stream_key(_ring(twilio_client).text) == key
    assert len(_inbound_jobs(twilio_container)) == 1


@pytest.mark.parametrize(
    "caller", ["anonymous", "+266696687", "+7378742833", "Restricted"], ids=lambda c: c
)
def test_a_withheld_caller_is_answered_as_no_number(
    twilio_container: Container,
    twilio_client: TestClient,
    practice: Practice,
    inbound: InboundLiveCalls,
    caller: str,
) -> None:
    _stream_key(_ring(twilio_client, caller=caller).text)
    [job] = _inbound_jobs(twilio_container)
    assert job.phone_e164 is None


def test_a_number_no_practice_owns_is_rejected_and_nothing_is_written(
    twilio_container: Container,
    twilio_client: TestClient,
    practice: Practice,
    inbound: InboundLiveCalls,
    pending: PendingStreams,
) -> None:
    response = _ring(twilio_client, to=NOT_OURS)
    assert response.status_code == 200
    assert _rejected(response.text) == "rejected"
    assert _inbound_jobs(twilio_container) == []
    assert len(pending) == 0


def test_a_location_without_an_agent_rejects_the_call(
    twilio_container: Container,
    twilio_client: TestClient,
    practice: Practice,
    inbound: InboundLiveCalls,
) -> None:
    with twilio_container.uow() as uow:
        uow.session.execute(delete(VoiceAgent).where(VoiceAgent.id == practice.agent_id))
        uow.commit()
    response = _ring(twilio_client)
    assert _rejected(response.text) == "rejected"
    assert _inbound_jobs(twilio_container) == []


@pytest.mark.parametrize("inbound", [{"limit": 1}], indirect=True)
def test_a_call_beyond_the_concurrent_call_limit_hears_busy(
    twilio_container: Container,
    twilio_client: TestClient,
    practice: Practice,
    inbound: InboundLiveCalls,
) -> None:
    _stream_key(_ring(twilio_client).text)  # holds the one line
    response = _ring(twilio_client, sid="CA" + "2" * 32, caller="+12125550148")
    assert _rejected(response.text) == "busy"
    assert len(_inbound_jobs(twilio_container)) == 1


# --- The media stream -------------------------------------------------------------------------


def test_the_agent_greets_the_caller_and_the_call_is_recorded_when_twilio_stops_the_stream(
    twilio_container: Container,
    twilio_client: TestClient,
    practice: Practice,
    inbound: InboundLiveCalls,
    pending: PendingStreams,
) -> None:
    key = _stream_key(_ring(twilio_client).text)
    with _connect(twilio_client, key) as ws:
        twilio = Twilio(ws, key)
        twilio.start()
        greeting, mark = twilio.until_mark()  # played at once: it was made while it rang
        assert len(greeting) >= 50 * FRAME_BYTES  # a second or more of the agent's voice
        assert rms(mulaw_to_pcm16(greeting)) > 1000
        twilio.send("mark", mark={"name": mark})
        twilio.audio(silence(0.3, CARRIER_RATE))
        twilio.audio(babble(1.0, seed=3, pitch_hz=180))  # "Hello, is this Glow?"
        twilio.audio(silence(2.0, CARRIER_RATE))
        twilio.send("stop", stop={"accountSid": "AC" + "0" * 32, "callSid": CALL_SID})
        twilio.until_closed()

    assert len(pending) == 0
    [job] = _inbound_jobs(twilio_container)
    assert (job.status, job.outcome) == (CallStatus.COMPLETED, CallOutcome.CONNECTED)
    turns = _turns(twilio_container, job.id)
    assert turns[0]["speaker"] == "agent"
    assert "Glow" in turns[0]["text"]
    assert [t["text"] for t in turns if t["speaker"] == "callee"] == ["Hello, is this Glow?"]


@pytest.mark.parametrize("inbound", [{"said": ["Please stop calling me."]}], indirect=True)
def test_stop_calling_me_ends_the_stream_and_suppresses_the_number(
    twilio_container: Container,
    twilio_client: TestClient,
    practice: Practice,
    inbound: InboundLiveCalls,
) -> None:
    key = _stream_key(_ring(twilio_client).text)
    with _connect(twilio_client, key) as ws:
        twilio = Twilio(ws, key)
        twilio.start()
        _, mark = twilio.until_mark()
        twilio.send("mark", mark={"name": mark})
        twilio.audio(silence(0.3, CARRIER_RATE))
        twilio.audio(babble(1.0, seed=6, pitch_hz=180))
        # The acknowledgement plays, then the server closes the stream (no REST hang-up: the
        # call's TwiML has nothing after <Connect>, so Twilio ends it).
        twilio.audio(silence(15.0, CARRIER_RATE))
        sent = twilio.until_closed()
    assert any(m["event"] == "media" for m in sent)

    [job] = _inbound_jobs(twilio_container)
    assert (job.status, job.outcome) == (CallStatus.COMPLETED, CallOutcome.CONNECTED)
    callee = [t["text"] for t in _turns(twilio_container, job.id) if t["speaker"] == "callee"]
    assert callee == ["Please stop calling me."]
    with twilio_container.uow() as uow:
        assert suppression_of(uow.session, practice.account_id, PATIENT) is not None


def test_a_stream_that_never_comes_is_discarded_and_its_call_closed_unanswered(
    twilio_container: Container,
    twilio_client: TestClient,
    practice: Practice,
    inbound: InboundLiveCalls,
    pending: PendingStreams,
    monotonic: Monotonic,
) -> None:
    first = _stream_key(_ring(twilio_client).text)
    monotonic.now += 10
    second = _stream_key(_ring(twilio_client, sid="CA" + "2" * 32, caller="+12125550148").text)
    monotonic.now += pending.ttl_s - 5  # the first call's time is up, not the second's
    assert pending.discard_expired() == 1
    closed, waiting = _inbound_jobs(twilio_container)
    assert (closed.status, closed.outcome) == (CallStatus.COMPLETED, CallOutcome.NO_ANSWER)
    assert waiting.status is CallStatus.IN_PROGRESS
    with pytest.raises(WebSocketDisconnect) as refused, _connect(twilio_client, first):
        pass  # too late: its call is over
    assert refused.value.code == 1008

    monotonic.now += 5  # the second's stream comes too late as well: refused, call closed
    with pytest.raises(WebSocketDisconnect) as late, _connect(twilio_client, second):
        pass
    assert late.value.code == 1008
    assert [(j.status, j.outcome) for j in _inbound_jobs(twilio_container)] == [
        (CallStatus.COMPLETED, CallOutcome.NO_ANSWER)
    ] * 2
    assert len(pending) == 0


def test_the_expiry_timer_closes_a_call_whose_stream_never_comes(
    twilio_container: Container,
    twilio_client: TestClient,
    practice: Practice,
    inbound: InboundLiveCalls,
) -> None:
    """The timer the webhook starts, on a zero time limit (its margin is a fraction of a
    second), discards the session without any other request arriving."""
    app = cast(FastAPI, twilio_client.app)
    quick = PendingStreams(ttl_s=0.0)
    app.dependency_overrides[get_pending_streams] = lambda: quick
    _stream_key(_ring(twilio_client).text)
    deadline = time.monotonic() + 20
    while _inbound_jobs(twilio_container)[0].status is CallStatus.IN_PROGRESS:
        assert time.monotonic() < deadline, "the unanswered call was never closed"
        time.sleep(0.05)
    [job] = _inbound_jobs(twilio_container)
    assert job.outcome is CallOutcome.NO_ANSWER
    assert len(quick) == 0


def test_a_stream_that_closes_before_its_start_closes_the_call_unanswered(
    twilio_container: Container,
    twilio_client: TestClient,
    practice: Practice,
    inbound: InboundLiveCalls,
) -> None:
    key = _stream_key(_ring(twilio_client).text)
    with _connect(twilio_client, key) as ws:
        ws.send_text(json.dumps({"event": "connected", "protocol": "Call", "version": "1"}))
        ws.close()
    deadline = time.monotonic() + 20
    while _inbound_jobs(twilio_container)[0].status is CallStatus.IN_PROGRESS:
        assert time.monotonic() < deadline, "the call was never closed"
        time.sleep(0.05)
    [job] = _inbound_jobs(twilio_container)
    assert job.outcome is CallOutcome.NO_ANSWER


def test_a_stream_whose_start_names_another_call_is_refused_and_the_call_closed(
    twilio_container: Container,
    twilio_client: TestClient,
    practice: Practice,
    inbound: InboundLiveCalls,
) -> None:
    key = _stream_key(_ring(twilio_client).text)
    with _connect(twilio_client, key) as ws:
        Twilio(ws, key, call_sid="CA" + "f" * 32).start()
        closed = ws.receive()
    assert closed == {"type": "websocket.close", "code": 1008, "reason": ""}
    deadline = time.monotonic() + 20
    while _inbound_jobs(twilio_container)[0].status is CallStatus.IN_PROGRESS:
        assert time.monotonic() < deadline, "the call was never closed"
        time.sleep(0.05)
    [job] = _inbound_jobs(twilio_container)
    assert job.outcome is CallOutcome.NO_ANSWER
