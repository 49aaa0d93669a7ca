"""A Twilio call that runs the agent, end to end and offline: the dispatcher dials through the
Twilio carrier (on the fake REST API), a test client plays Twilio's media stream against the
real endpoint and the real speech pipeline (fake engines: tones for the agent, scripted
transcripts for the callee), the callee says "stop calling me", the pipeline hangs up through
the carrier, and the dispatcher's next tick applies the call: opted out, transcript stored with
the callee's words at offsets into the recording, and the recording stored encrypted."""

from __future__ import annotations

import json
import wave
from collections.abc import Iterator
from datetime import timedelta
from io import BytesIO
from pathlib import Path
from typing import Any, cast

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import select

from ringfence.adapters.db.calls import CallAction, CallTranscript
from ringfence.adapters.db.orm import CarrierKind, ConsentRecord, Contact, Task, VoiceAgent
from ringfence.adapters.recording_store import (
    read_recording_bytes,
)
from ringfence.adapters.speech import EnergyVad, ScriptedStt, ToneTts, registry
from ringfence.adapters.telephony.base import TelephonyError
from ringfence.adapters.telephony.media import MediaSession
from ringfence.adapters.telephony.twilio import TwilioCarrier, TwilioOptions
from ringfence.agent.policies.scripted import ScriptedPolicy
from ringfence.bootstrap import Container
from ringfence.clock import VirtualClock
from ringfence.config import Settings
from ringfence.domain.pacing import DispatchConfig
from ringfence.domain.staff_hours import DAYS
from ringfence.domain.vocabulary import CallOutcome, CallStatus, ConsentKind
from ringfence.entrypoints.api.carriers.twilio import (
    get_call_hangup,
    get_call_transfer,
    get_media_sessions,
)
from ringfence.entrypoints.asgi import create_app
from ringfence.services.dispatch import (
    Dispatcher,
)
from ringfence.services.live_media import LiveCallSession, LiveMediaSessions, engines_of
from ringfence.services.stored_sessions import load_session
from ringfence.speech.audio import CARRIER_RATE, silence
from ringfence.speech.contracts import SpeechEngines, SpeechEngineUnavailable
from ringfence.speech.opening import prepare_opening
from ringfence.speech.runner import InlineRunner
from ringfence.speech.synth import babble
from tests.integration.dispatch.practice import WINDOW_OPENS, Practice, make_practice
from tests.integration.telephony.conftest import BASE, post_signed, signature
from tests.integration.telephony.fake_twilio import FakeCall, FakeTwilio, number_for
from tests.integration.telephony.twilio_side import TwilioSide

STREAM = "MZ00000000000000000000000000000002"


@pytest.fixture
def practice(twilio_container: Container, clock: VirtualClock) -> Practice:
    clock.set(WINDOW_OPENS)
    practice = make_practice(twilio_container)
    practice.use_carrier(CarrierKind.TWILIO)
    return practice


@pytest.fixture
def live_carrier(
    twilio_container: Container, fake: FakeTwilio, clock: VirtualClock
) -> TwilioCarrier:
    return TwilioCarrier(
        fake,
        twilio_container.session_factory,
        clock,
        TwilioOptions(public_base_url=BASE),
        live=twilio_container.live_calls,
    )


@pytest.fixture
def made(
    request: pytest.FixtureRequest,
    twilio_client: TestClient,
    twilio_container: Container,
    live_carrier: TwilioCarrier,
    tmp_path: Path,
) -> Iterator[list[LiveCallSession]]:
    """The app's media sessions on the fake engines: the callee says "Hello?", then "Stop
    calling me." (or the lines the test gives, indirectly); hang-ups and transfers go to the
    carrier on the fake REST API."""
    said: list[str] = getattr(request, "param", ["Hello?", "Stop calling me."])
    sessions: list[LiveCallSession] = []
    twilio_container.settings.recordings_dir = tmp_path
    factory = LiveMediaSessions(
        twilio_container.session_factory,
        engines=lambda: SpeechEngines(vad=EnergyVad(), stt=ScriptedStt(said), tts=ToneTts()),
        policy_for=lambda _name: ScriptedPolicy(),
        results=twilio_container.live_calls,
        store_dir=tmp_path,
        cipher=twilio_container.phi_cipher,
        runner=InlineRunner,
    )

    def sessions_of(key: str) -> MediaSession:
        session = factory(key)
        assert isinstance(session, LiveCallSession)
        sessions.append(session)
        return session

    app = cast(FastAPI, twilio_client.app)
    app.dependency_overrides[get_media_sessions] = lambda: sessions_of
    app.dependency_overrides[get_call_hangup] = lambda: live_carrier.hangup
    app.dependency_overrides[get_call_transfer] = lambda: live_carrier.transfer
    yield sessions
    app.dependency_overrides.clear()


class Line(TwilioSide):
    """Twilio's side of the media stream."""

    def __init__(self, client: TestClient, key: str, call_sid: str) -> None:
        url = f"wss://ringfence.example/twilio/media/{key}"
        ws = client.websocket_connect(
            f"/twilio/media/{key}", headers={"X-Twilio-Signature": signature(url, {})}
        )
        super().__init__(ws, key=key, call_sid=call_sid, stream=STREAM)

    def hello_then(self, *, opening_s: float, words_s: float) -> list[dict[str, Any]]:
        """The callee's side of a short call: "Hello?" (the answering-machine check passes),
        silence while the opening plays, `words_s` of words (the scripted transcript says
        which), then silence while the agent answers and the server ends the stream. Every
        message the server sent."""
        with self.ws:
            self.start()
            self.audio(silence(0.3, CARRIER_RATE))
            self.audio(babble(0.5, seed=3, pitch_hz=180))  # "Hello?"
            self.audio(silence(opening_s, CARRIER_RATE))  # the opening plays to its end
            self.audio(babble(words_s, seed=6, pitch_hz=180))
            self.audio(silence(15.0, CARRIER_RATE))  # the agent's reply, then its hang-up
            return self.until_closed()

    def until_closed(self) -> list[dict[str, Any]]:
        """Every message the server sent, up to its close of the stream."""
        messages: list[dict[str, Any]] = []
        while True:
            message = self.ws.receive()
            if message["type"] == "websocket.close":
                return messages
            messages.append(json.loads(message["text"]))


def test_stop_calling_me_on_a_twilio_call_hangs_up_and_opts_the_contact_out(
    twilio_container: Container,
    twilio_client: TestClient,
    practice: Practice,
    live_carrier: TwilioCarrier,
    fake: FakeTwilio,
    clock: VirtualClock,
    made: list[LiveCallSession],
    tmp_path: Path,
) -> None:
    contact_id = practice.add_contact(number_for(CallOutcome.CONNECTED))
    [job_id] = practice.enqueue(contact_id)
    dispatcher = Dispatcher(
        session_factory=twilio_container.session_factory,
        carrier=live_carrier,
        clock=clock,
        config=DispatchConfig(carrier_cps=10, carrier_burst=10, max_concurrent_calls=50),
    )
    assert dispatcher.tick().dialed == 1
    [call] = fake.calls_made
    job = practice.job(job_id)
    key = job.idempotency_key
    assert key is not None
    assert job.agent_session is not None
    clock.advance(timedelta(seconds=7))  # the fake answers after 6 s of ringing
    answered = {"CallSid": call.sid, "CallStatus": "in-progress"}
    assert post_signed(twilio_client, f"/twilio/status?key={key}", answered) == 204

    # How long the opening plays (the fake voice speaks 0.3 s a word).
    with twilio_container.session_factory() as session:
        agent_session = load_session(
            session, job.account_id, job.agent_session, job.agent_profile_digest
        )
    assert agent_session is not None
    opening = prepare_opening(agent_session, tts=ToneTts(), policy=ScriptedPolicy())
    opening_s = sum(c.seconds for c in opening.chunks)

    # "Stop calling me.": the acknowledgement plays, then the hang-up.
    sent = Line(twilio_client, key, call.sid).hello_then(opening_s=opening_s, words_s=1.0)

    [session] = made
    assert session.pipeline.hangup_due
    assert any(m["event"] == "media" for m in sent)
    assert fake.calls_made[0].completed_at == clock.now()  # hung up through Twilio's REST API

    dispatcher.tick()
    job = practice.job(job_id)
    assert (job.status, job.outcome) == (CallStatus.COMPLETED, CallOutcome.CONNECTED)
    with twilio_container.uow() as uow:
        contact = uow.session.get(Contact, contact_id)
        assert contact is not None
        assert contact.dnd_voice is True
        assert contact.opted_out_at is not None
        revocations = uow.session.scalars(
            select(ConsentRecord).where(
                ConsentRecord.contact_id == contact_id,
                ConsentRecord.kind == ConsentKind.REVOCATION,
            )
        ).all()
        assert len(revocations) == 1
        transcript = uow.session.scalars(
            select(CallTranscript).where(CallTranscript.job_id == job_id)
        ).one()
        turns = list(transcript.turns)
        recording_path = transcript.recording_path
        recording_seconds = transcript.recording_seconds
    callee = [t for t in turns if t["speaker"] == "callee"]
    assert [t["text"] for t in callee] == ["Hello?", "Stop calling me."]
    said_stop_at = 0.3 + 0.5 + opening_s
    assert callee[1]["start"] == pytest.approx(said_stop_at, abs=0.3)
    assert turns[-1]["speaker"] == "agent"
    assert "won't receive any more calls" in turns[-1]["text"]

    assert recording_path is not None
    assert recording_seconds is not None
    stored = (tmp_path / recording_path).read_bytes()
    assert not stored.startswith(b"RIFF")  # encrypted at rest
    wav = read_recording_bytes(tmp_path, recording_path, cipher=twilio_container.phi_cipher)
    assert wav is not None
    with wave.open(BytesIO(wav)) as audio:
        assert audio.getframerate() == CARRIER_RATE
        seconds = audio.getnframes() / audio.getframerate()
    assert seconds == pytest.approx(recording_seconds, abs=0.01)
    assert turns[-1]["end"] <= seconds + 0.05  # offsets fall inside the recording


STAFF = "+12125550142"


def _answered_with_staff_line_open(
    twilio_container: Container,
    twilio_client: TestClient,
    practice: Practice,
    live_carrier: TwilioCarrier,
    fake: FakeTwilio,
    clock: VirtualClock,
) -> tuple[Dispatcher, int, int, str, FakeCall]:
    """A call dialed through Twilio and answered, by an agent whose staff line is always open:
    the dispatcher, the contact, the job, its key and the fake's call."""
    with twilio_container.uow() as uow:
        agent = uow.session.get(VoiceAgent, practice.agent_id)
        assert agent is not None
        agent.transfer_number = STAFF
        agent.staff_hours = {day: ["00:00-24:00"] for day in DAYS}
        uow.commit()
    contact_id = practice.add_contact(number_for(CallOutcome.CONNECTED))
    [job_id] = practice.enqueue(contact_id)
    dispatcher = Dispatcher(
        session_factory=twilio_container.session_factory,
        carrier=live_carrier,
        clock=clock,
        config=DispatchConfig(carrier_cps=10, carrier_burst=10, max_concurrent_calls=50),
    )
    assert dispatcher.tick().dialed == 1
    [call] = fake.calls_made
    key = practice.job(job_id).idempotency_key
    assert key is not None
    clock.advance(timedelta(seconds=7))
    answered = {"CallSid": call.sid, "CallStatus": "in-progress"}
    assert post_signed(twilio_client, f"/twilio/status?key={key}", answered) == 204
    return dispatcher, contact_id, job_id, key, call


@pytest.mark.parametrize(
    "made", [["Hello?", "Can I talk to someone at the front desk, please?"]], indirect=True
)
@pytest.mark.parametrize("refused", [False, True], ids=["transferred", "twilio_refuses"])
def test_asking_for_a_person_on_a_twilio_call_dials_the_staff_line(
    twilio_container: Container,
    twilio_client: TestClient,
    practice: Practice,
    live_carrier: TwilioCarrier,
    fake: FakeTwilio,
    clock: VirtualClock,
    made: list[LiveCallSession],
    refused: bool,
) -> None:
    dispatcher, contact_id, job_id, key, call = _answered_with_staff_line_open(
        twilio_container, twilio_client, practice, live_carrier, fake, clock
    )
    if refused:  # Twilio refuses the redirect: the call is hung up, staff call back

        def refuse(call_sid: str, to: str) -> None:
            raise TelephonyError(f"twilio: cannot transfer {call_sid}: HTTP 400 (21220)")

        app = cast(FastAPI, twilio_client.app)
        app.dependency_overrides[get_call_transfer] = lambda: refuse

    # "Can I talk to someone ...?": "... Please hold.", then the transfer.
    Line(twilio_client, key, call.sid).hello_then(opening_s=8.0, words_s=1.2)

    [session] = made
    assert session.pipeline.transfer_to == STAFF
    if refused:
        assert call.redirected_to == []
        assert call.completed_at == clock.now()  # hung up instead
    else:
        [twiml] = call.redirected_to
        assert 'answerOnBridge="true"' in twiml
        assert 'timeout="25"' in twiml
        assert f"<Number>{STAFF}</Number></Dial>" in twiml
        assert call.completed_at is None  # Twilio runs the <Dial>: the call goes on

    clock.advance(timedelta(minutes=5))
    dispatcher.tick()
    with twilio_container.uow() as uow:
        kinds = list(
            uow.session.scalars(select(CallAction.kind).where(CallAction.job_id == job_id))
        )
        tasks = list(uow.session.scalars(select(Task.title).where(Task.contact_id == contact_id)))
    assert "call_transferred" in kinds
    assert tasks == (["Call the patient back"] if refused else [])


@pytest.mark.parametrize(
    "made", [["Hello?", "Can I talk to someone at the front desk, please?"]], indirect=True
)
@pytest.mark.parametrize("dial_status", ["completed", "no-answer", "busy"])
def test_how_the_dial_to_staff_ended_reaches_the_call_record(
    twilio_container: Container,
    twilio_client: TestClient,
    practice: Practice,
    live_carrier: TwilioCarrier,
    fake: FakeTwilio,
    clock: VirtualClock,
    made: list[LiveCallSession],
    dial_status: str,
) -> None:
    """Twilio runs the `<Dial>` after the agent let go of the call: its action callback says
    whether staff answered. A dial no one took is told to the caller and becomes a task (the
    outcome "staff follow-up"); a bridged one is a transfer and nothing more."""
    dispatcher, contact_id, job_id, key, call = _answered_with_staff_line_open(
        twilio_container, twilio_client, practice, live_carrier, fake, clock
    )
    # "Can I talk to someone ...?": "... Please hold.", then the transfer.
    Line(twilio_client, key, call.sid).hello_then(opening_s=8.0, words_s=1.2)
    [twiml] = call.redirected_to
    action = f"{BASE}/twilio/dial?key={key}"
    assert f'action="{action}"' in twiml
    assert 'method="POST"' in twiml

    # Twilio's action callback, signed like every other; a forged one changes nothing.
    ended = {"CallSid": call.sid, "DialCallStatus": dial_status, "AccountSid": "AC1"}
    path = f"/twilio/dial?key={key}"
    forged = twilio_client.post(path, data=ended, headers={"X-Twilio-Signature": "bad"})
    assert forged.status_code == 403
    reply = twilio_client.post(
        path, data=ended, headers={"X-Twilio-Signature": signature(BASE + path, ended)}
    )
    assert reply.status_code == 200
    assert reply.headers["content-type"].startswith("application/xml")
    assert "<Hangup />" in reply.text
    assert ("no one from our team can take the call" in reply.text) is (dial_status != "completed")

    clock.advance(timedelta(minutes=2))
    done = {"CallSid": call.sid, "CallStatus": "completed", "CallDuration": "120"}
    assert post_signed(twilio_client, f"/twilio/status?key={key}", done) == 204
    clock.advance(timedelta(seconds=30))
    dispatcher.tick()
    with twilio_container.uow() as uow:
        kinds = list(
            uow.session.scalars(select(CallAction.kind).where(CallAction.job_id == job_id))
        )
        tasks = [
            (task.title, task.body)
            for task in uow.session.scalars(select(Task).where(Task.contact_id == contact_id))
        ]
    assert practice.job(job_id).status is CallStatus.COMPLETED
    assert "call_transferred" in kinds
    if dial_status == "completed":
        assert tasks == []
    else:
        [(title, body)] = tasks
        assert title == "Call the patient back"
        why = "the staff line was busy" if dial_status == "busy" else "no one on the staff line"
        assert f"the transfer to {STAFF} did not connect ({why}" in body


def test_the_app_runs_the_speech_pipeline_only_when_twilio_is_configured(
    container: Container,
) -> None:
    plain = create_app(container)
    assert getattr(plain.state, "media_sessions", None) is None
    container.settings.twilio_account_sid = "AC" + "0" * 32
    container.settings.twilio_auth_token = SecretStr("0123456789abcdef0123456789abcdef")
    container.settings.public_base_url = BASE
    container.settings.speech_engines = "fake"
    app = create_app(container)
    assert isinstance(app.state.media_sessions, LiveMediaSessions)
    assert callable(app.state.media_hangup)
    assert callable(app.state.media_transfer)


def test_local_engines_say_what_to_install_when_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(registry, "piper_installed", lambda: False)
    with pytest.raises(SpeechEngineUnavailable, match=r"piper-tts.*ringfence\[speech\]"):
        engines_of(Settings(), "local")
