"""Twilio Media Streams, pure: G.711 µ-law against known values, message parsing, the bridge to
a media session, and the scripted session's barge-in."""

from __future__ import annotations

import base64
import json
import math
import warnings
from array import array

import pytest

from ringfence.adapters.telephony.g711 import (
    FRAME_BYTES,
    decode_byte,
    encode_sample,
    frames,
    mulaw_to_pcm16,
    pcm16_to_mulaw,
)
from ringfence.adapters.telephony.media import (
    Clear,
    EchoTestSession,
    OutboundAudio,
    ScriptedMediaSession,
    StreamStart,
    rms,
)
from ringfence.adapters.telephony.twilio.media import (
    Connected,
    Dtmf,
    Mark,
    Media,
    MediaFormat,
    ProtocolError,
    Start,
    Stop,
    StreamBridge,
    StreamRejected,
    UnknownEvent,
    clear_message,
    mark_message,
    media_message,
    parse_message,
)
from tests.telephony_audio import silence, speech_like, tone


def _samples(pcm: bytes) -> list[int]:
    values = array("h", pcm)
    if array("h", [1]).tobytes() == b"\x00\x01":
        values.byteswap()
    return list(values)


# --- G.711 µ-law ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sample", "byte"),
    [
        (0, 0xFF),
        (-1, 0x7E),  # the 14-bit shift floors: -1 is just below zero
        (32_767, 0x80),
        (-32_768, 0x00),
        (1_000, 0xCE),
        (-1_000, 0x4E),
        (8_000, 0xA0),
    ],
)
def test_encoding_known_samples(sample: int, byte: int) -> None:
    assert encode_sample(sample) == byte


@pytest.mark.parametrize(
    ("byte", "sample"),
    [(0xFF, 0), (0x7F, 0), (0x80, 32_124), (0x00, -32_124), (0xF0, 120), (0xCE, 988)],
)
def test_decoding_known_bytes(byte: int, sample: int) -> None:
    assert decode_byte(byte) == sample


def test_every_code_survives_a_round_trip_but_negative_zero() -> None:
    codes = bytes(range(256))
    again = pcm16_to_mulaw(mulaw_to_pcm16(codes))
    assert [b for b, a in zip(codes, again, strict=True) if a != b] == [0x7F]
    assert again[0x7F] == 0xFF  # the two zeros become one


def test_the_quantization_error_is_a_sixteenth_of_the_level_at_most() -> None:
    for sample in range(-32_768, 32_768):  # µ-law's segments: a constant relative precision
        decoded = decode_byte(encode_sample(sample))
        assert abs(decoded - max(-32_124, min(32_124, sample))) <= max(16, abs(sample) / 16)


def test_a_tone_survives_with_telephone_quality() -> None:
    clean = tone(1.0, amplitude=10_000.0)
    coded = mulaw_to_pcm16(pcm16_to_mulaw(clean))
    a, b = _samples(clean), _samples(coded)
    noise = math.fsum((x - y) ** 2 for x, y in zip(a, b, strict=True))
    signal = math.fsum(x * x for x in a)
    assert 10 * math.log10(signal / noise) > 30  # G.711 gives about 38 dB


def test_the_codec_matches_the_standard_library_where_it_still_exists() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        audioop = pytest.importorskip("audioop")  # removed in Python 3.13
    every_sample = array("h", range(-32_768, 32_768)).tobytes()
    assert pcm16_to_mulaw(every_sample) == audioop.lin2ulaw(every_sample, 2)
    assert mulaw_to_pcm16(bytes(range(256))) == audioop.ulaw2lin(bytes(range(256)), 2)


def test_audio_is_cut_into_padded_20_ms_frames() -> None:
    chunks = frames(pcm16_to_mulaw(tone(0.05)))  # 400 samples
    assert [len(c) for c in chunks] == [FRAME_BYTES] * 3
    assert chunks[-1][80:] == b"\xff" * 80
    assert frames(b"") == []
    with pytest.raises(ValueError, match="whole 16-bit"):
        pcm16_to_mulaw(b"\x00")


# --- Messages ---------------------------------------------------------------------------------

STREAM = "MZ18ad3ab5a668481ce02b83e7395059f0"
CALL = "CA0000000000000000000000000000abcd"


def _start(call_sid: str = CALL, encoding: str = "audio/x-mulaw", rate: int = 8000) -> str:
    return json.dumps(
        {
            "event": "start",
            "sequenceNumber": "1",
            "start": {
                "accountSid": "AC0000000000000000000000000000abcd",
                "streamSid": STREAM,
                "callSid": call_sid,
                "tracks": ["inbound"],
                "mediaFormat": {"encoding": encoding, "sampleRate": rate, "channels": 1},
                "customParameters": {"idempotency_key": "k-1"},
            },
            "streamSid": STREAM,
        }
    )


def _media(pcm: bytes, n: int) -> str:
    payload = base64.b64encode(pcm16_to_mulaw(pcm)).decode()
    return json.dumps(
        {
            "event": "media",
            "sequenceNumber": str(n + 2),
            "media": {
                "track": "inbound",
                "chunk": str(n),
                "timestamp": str(20 * n),
                "payload": payload,
            },
            "streamSid": STREAM,
        }
    )


def _event(event: str, n: int, **body: object) -> str:
    return json.dumps({"event": event, "sequenceNumber": str(n), "streamSid": STREAM, **body})


def _mark(name: str, n: int) -> str:
    return _event("mark", n, mark={"name": name})


def test_the_documented_messages_parse() -> None:
    assert parse_message('{"event": "connected", "protocol": "Call", "version": "1.0.0"}') == (
        Connected("Call", "1.0.0")
    )
    start = parse_message(_start())
    assert start == Start(
        sequence_number=1,
        stream_sid=STREAM,
        account_sid="AC0000000000000000000000000000abcd",
        call_sid=CALL,
        tracks=("inbound",),
        media_format=MediaFormat("audio/x-mulaw", 8000, 1),
        custom_parameters={"idempotency_key": "k-1"},
    )
    media = parse_message(_media(tone(0.02), 3))
    assert isinstance(media, Media)
    assert (media.sequence_number, media.chunk, media.timestamp_ms) == (5, 3, 60)
    assert media.payload == pcm16_to_mulaw(tone(0.02))
    assert parse_message(_mark("m1", 9)) == Mark(9, STREAM, "m1")
    dtmf = _event("dtmf", 6, dtmf={"track": "inbound_track", "digit": "1"})
    assert parse_message(dtmf) == Dtmf(6, STREAM, "inbound_track", "1")
    stop = _event("stop", 10, stop={"accountSid": "AC1", "callSid": CALL})
    assert parse_message(stop) == Stop(10, STREAM, "AC1", CALL)
    assert parse_message('{"event": "something-new"}') == UnknownEvent("something-new")


@pytest.mark.parametrize(
    "text",
    [
        "not json",
        "[]",
        '{"no": "event"}',
        '{"event": "media", "sequenceNumber": "2", "streamSid": "MZ1"}',
        '{"event": "media", "sequenceNumber": "2", "streamSid": "MZ1", "media": {"payload": "!!"}}',
        '{"event": "mark", "sequenceNumber": "x", "streamSid": "MZ1", "mark": {"name": "m"}}',
        '{"event": "start", "sequenceNumber": "1", "start": {"callSid": "CA1"}}',
    ],
)
def test_malformed_messages_are_protocol_errors(text: str) -> None:
    with pytest.raises(ProtocolError):
        parse_message(text)


def test_messages_to_twilio_have_the_documented_shape() -> None:
    assert json.loads(media_message(STREAM, b"\xff\x00")) == {
        "event": "media",
        "streamSid": STREAM,
        "media": {"payload": "/wA="},
    }
    assert json.loads(mark_message(STREAM, "m1")) == {
        "event": "mark",
        "streamSid": STREAM,
        "mark": {"name": "m1"},
    }
    assert json.loads(clear_message(STREAM)) == {"event": "clear", "streamSid": STREAM}


# --- The bridge and the scripted session -----------------------------------------------------


def test_the_bridge_plays_the_opening_and_clears_it_when_the_callee_barges_in() -> None:
    opening, reply = tone(0.5), tone(0.3, hz=660.0)
    session = ScriptedMediaSession([opening, reply])
    bridge = StreamBridge("k-1", lambda key: session, expected_call_sid=CALL)

    assert bridge.handle(parse_message('{"event": "connected", "protocol": "Call"}')) == []
    out = [json.loads(m) for m in bridge.handle(parse_message(_start()))]
    assert [m["event"] for m in out] == ["media"] * 25 + ["mark"]
    assert all(m["streamSid"] == STREAM for m in out)
    played = b"".join(base64.b64decode(m["media"]["payload"]) for m in out[:-1])
    assert played == pcm16_to_mulaw(opening)
    assert out[-1]["mark"] == {"name": "clip-0"}
    assert session.start == StreamStart("k-1", CALL, STREAM, {"idempotency_key": "k-1"})

    n = 0
    for _ in range(5):  # quiet line while the opening plays: nothing to send
        assert bridge.handle(parse_message(_media(silence(0.02), n))) == []
        n += 1
    talk = speech_like(0.02)
    assert bridge.handle(parse_message(_media(talk, n))) == []  # one loud frame: not yet speech
    n += 1
    [clear] = [json.loads(m) for m in bridge.handle(parse_message(_media(talk, n)))]
    assert clear == {"event": "clear", "streamSid": STREAM}
    assert session.barge_ins == [n * 0.02]
    n += 1
    assert bridge.handle(parse_message(_mark("clip-0", 40))) == []
    assert session.played == []  # cleared, not played

    replies: list[str] = []
    for _ in range(25):
        replies = bridge.handle(parse_message(_media(silence(0.02), n)))
        n += 1
    assert [json.loads(m)["event"] for m in replies] == ["media"] * 15 + ["mark"]

    bridge.handle(parse_message(_event("stop", 99, stop={})))
    assert bridge.done
    assert session.stopped
    bridge.close()  # a second close (socket gone) does not stop the session twice


def test_a_stream_of_another_call_or_format_is_rejected() -> None:
    with pytest.raises(StreamRejected, match="not of this key"):
        StreamBridge("k-1", lambda key: EchoTestSession(), expected_call_sid=CALL).handle(
            parse_message(_start(call_sid="CA" + "f" * 32))
        )
    with pytest.raises(StreamRejected, match="unsupported media format"):
        StreamBridge("k-1", lambda key: EchoTestSession()).handle(
            parse_message(_start(encoding="audio/l16", rate=16000))
        )


def test_media_before_start_and_outbound_tracks_are_ignored() -> None:
    echo = EchoTestSession()
    bridge = StreamBridge("k-1", lambda key: echo)
    assert bridge.handle(parse_message(_media(tone(0.02), 0))) == []
    bridge.handle(parse_message(_start()))
    [echoed] = bridge.handle(parse_message(_media(tone(0.02), 1)))
    assert base64.b64decode(json.loads(echoed)["media"]["payload"]) == pcm16_to_mulaw(tone(0.02))
    outbound = json.loads(_media(tone(0.02), 2))
    outbound["media"]["track"] = "outbound"
    assert bridge.handle(parse_message(json.dumps(outbound))) == []
    assert echo.frames == 1


def test_the_scripted_session_tells_speech_from_silence_and_clicks() -> None:
    assert rms(silence(0.02)) == 0.0
    assert rms(speech_like(0.02)) > 1_000
    assert rms(b"") == 0.0
    session = ScriptedMediaSession([tone(0.1)])
    start = StreamStart("k", CALL, STREAM)
    [play] = session.on_start(start)
    assert play == OutboundAudio(tone(0.1), mark="clip-0")
    assert session.on_audio(speech_like(0.02), 0.0) == []
    assert session.on_audio(silence(0.02), 0.02) == []  # a click, then quiet: no barge-in
    assert session.on_audio(speech_like(0.02), 0.04) == []
    assert session.on_audio(speech_like(0.02), 0.06) == [Clear()]
    assert session.on_mark("clip-0") == []
    assert session.speech_at == session.barge_ins == [0.06]
    with pytest.raises(ValueError, match="whole 16-bit"):
        OutboundAudio(b"\x00")
