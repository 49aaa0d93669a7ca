"""The media stream endpoint at the protocol level: a test client plays Twilio's part over the
WebSocket (signed handshake, `connected`, `start`, 20 ms `media` frames of real µ-law audio,
`mark` echoes, `stop`) against a scripted media session, and checks what the server sends back:
the opening as 20 ms µ-law frames on the right stream, its mark, and a `clear` the moment the
callee talks over it."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any, cast

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from starlette.testclient import WebSocketTestSession
from starlette.websockets import WebSocketDisconnect

from ringfence.adapters.telephony.g711 import FRAME_BYTES, pcm16_to_mulaw
from ringfence.adapters.telephony.media import MediaSession, ScriptedMediaSession
from ringfence.adapters.telephony.twilio import TwilioCarrier
from ringfence.domain.vocabulary import CallOutcome
from ringfence.entrypoints.api.carriers.twilio import get_media_sessions
from tests.integration.telephony.conftest import dial_request, post_signed, signature
from tests.integration.telephony.fake_twilio import number_for
from tests.integration.telephony.twilio_side import TwilioSide
from tests.telephony_audio import silence, speech_like, tone

KEY = "k-media-1"
STREAM = "MZ00000000000000000000000000000001"
OPENING = tone(0.5)  # 25 frames
REPLY = tone(0.3, hz=660.0)  # 15 frames


@pytest.fixture
def sessions(twilio_client: TestClient) -> Iterator[list[ScriptedMediaSession]]:
    made: list[ScriptedMediaSession] = []

    def factory(key: str) -> MediaSession:
        made.append(ScriptedMediaSession([OPENING, REPLY]))
        return made[-1]

    app = cast(FastAPI, twilio_client.app)
    app.dependency_overrides[get_media_sessions] = lambda: factory
    yield made
    app.dependency_overrides.clear()


@pytest.fixture
def call_sid(carrier: TwilioCarrier) -> str:
    return carrier.dial(dial_request(number_for(CallOutcome.CONNECTED), KEY)).carrier_call_id


def _connect(client: TestClient, key: str = KEY, *, signed: bool = True) -> WebSocketTestSession:
    url = f"wss://ringfence.example/twilio/media/{key}"
    headers = {"X-Twilio-Signature": signature(url, {})} if signed else {}
    return client.websocket_connect(f"/twilio/media/{key}", headers=headers)


class Twilio(TwilioSide):
    """Twilio's side of the stream."""

    def __init__(self, ws: WebSocketTestSession, call_sid: str) -> None:
        super().__init__(ws, key=KEY, call_sid=call_sid, stream=STREAM)

    def receive(self, count: int) -> list[dict[str, Any]]:
        return [cast(dict[str, Any], self.ws.receive_json()) for _ in range(count)]


def _played(messages: list[dict[str, Any]]) -> bytes:
    """The µ-law audio of outbound `media` messages, each checked to be one 20 ms frame."""
    frames = []
    for message in messages:
        assert message["event"] == "media"
        assert message["streamSid"] == STREAM
        frame = base64.b64decode(message["media"]["payload"], validate=True)
        assert len(frame) == FRAME_BYTES
        frames.append(frame)
    return b"".join(frames)


def test_the_agent_speaks_is_interrupted_and_answers_over_the_stream(
    twilio_client: TestClient, sessions: list[ScriptedMediaSession], call_sid: str
) -> None:
    with _connect(twilio_client) as ws:
        twilio = Twilio(ws, call_sid)
        twilio.start()
        opening = twilio.receive(26)
        assert _played(opening[:-1]) == pcm16_to_mulaw(OPENING)
        assert opening[-1] == {"event": "mark", "streamSid": STREAM, "mark": {"name": "clip-0"}}

        twilio.audio(silence(0.1))  # the callee listens: nothing to send
        twilio.audio(speech_like(0.1))  # ...then talks over the opening
        [clear] = twilio.receive(1)
        assert clear == {"event": "clear", "streamSid": STREAM}
        twilio.send("mark", mark={"name": "clip-0"})  # Twilio returns the cleared audio's mark

        twilio.audio(speech_like(0.4, seed=2))
        twilio.audio(silence(0.5))  # 25 quiet frames: the callee's turn is over
        reply = twilio.receive(16)
        assert _played(reply[:-1]) == pcm16_to_mulaw(REPLY)
        assert reply[-1]["mark"] == {"name": "clip-1"}
        twilio.send("mark", mark={"name": "clip-1"})  # played to the end

        twilio.send("stop", stop={"accountSid": "AC" + "0" * 32, "callSid": call_sid})
        assert ws.receive()["type"] == "websocket.close"

    [session] = sessions
    assert session.start is not None
    assert (session.start.call_sid, session.start.stream_sid) == (call_sid, STREAM)
    assert session.start.parameters == {"idempotency_key": KEY}
    assert session.barge_ins == [0.12]  # frames at 0..80 ms quiet, 100 and 120 ms loud
    assert session.played == ["clip-1"]
    assert session.stopped


def test_an_unsigned_or_forged_handshake_is_refused(
    twilio_client: TestClient, sessions: list[ScriptedMediaSession], call_sid: str
) -> None:
    with pytest.raises(WebSocketDisconnect) as refused, _connect(twilio_client, signed=False):
        pass
    assert refused.value.code == 1008
    forged = {"X-Twilio-Signature": signature("wss://ringfence.example/twilio/media/other", {})}
    with (
        pytest.raises(WebSocketDisconnect),
        twilio_client.websocket_connect(f"/twilio/media/{KEY}", headers=forged),
    ):
        pass
    assert sessions == []


def test_a_stream_for_an_unknown_or_ended_call_is_refused(
    twilio_client: TestClient, sessions: list[ScriptedMediaSession], call_sid: str
) -> None:
    with pytest.raises(WebSocketDisconnect) as unknown, _connect(twilio_client, "no-such-key"):
        pass
    assert unknown.value.code == 1008
    done = {"CallSid": call_sid, "CallStatus": "completed", "CallDuration": "3"}
    assert post_signed(twilio_client, f"/twilio/status?key={KEY}", done) == 204
    with pytest.raises(WebSocketDisconnect), _connect(twilio_client):
        pass
    assert sessions == []


def test_a_start_for_another_call_closes_the_stream(
    twilio_client: TestClient, sessions: list[ScriptedMediaSession], call_sid: str
) -> None:
    with _connect(twilio_client) as ws:
        Twilio(ws, "CA" + "f" * 32).start()
        closed = ws.receive()
    assert closed == {"type": "websocket.close", "code": 1008, "reason": ""}
    assert sessions == []


def test_without_a_media_pipeline_the_stream_is_refused(
    twilio_client: TestClient, call_sid: str
) -> None:
    app = cast(FastAPI, twilio_client.app)
    app.dependency_overrides[get_media_sessions] = lambda: None  # e.g. no speech engines
    with pytest.raises(WebSocketDisconnect) as refused, _connect(twilio_client):
        pass
    app.dependency_overrides.clear()
    assert refused.value.code == 1011
