"""Each speech capability of live calls is chosen on its own (RINGFENCE_STT, RINGFENCE_TTS,
RINGFENCE_VAD), following RINGFENCE_SPEECH_ENGINES where unset, and the registry builds each
from its own setting."""

from __future__ import annotations

from typing import get_args

import pytest
from pydantic import ValidationError

from ringfence.adapters.speech import (
    EnergyVad,
    NoiseGatedVad,
    ScriptedStt,
    ToneTts,
    registry,
)
from ringfence.adapters.speech.registry import Engine, EngineLoader
from ringfence.config import (
    Settings,
    SpeechChoice,
    SttEngineName,
    TtsEngineName,
    VadEngineName,
)
from ringfence.speech.audio import CARRIER_RATE, silence
from ringfence.speech.contracts import (
    SpeechEngineUnavailable,
    SpeechToText,
    TextToSpeech,
    VoiceActivityDetector,
)

LOCAL = SpeechChoice(stt="whisper", tts="piper", vad="webrtc")
FAKE = SpeechChoice(stt="scripted", tts="tone", vad="energy")


@pytest.fixture(autouse=True)
def _no_speech_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("SPEECH_ENGINES", "STT", "TTS", "VAD"):
        monkeypatch.delenv(f"RINGFENCE_{name}", raising=False)


# -- settings -------------------------------------------------------------------------------


def test_unset_capabilities_follow_speech_engines_as_before() -> None:
    assert Settings().speech_choice() == LOCAL  # the default: local
    assert Settings(speech_engines="local").speech_choice() == LOCAL
    assert Settings(speech_engines="fake").speech_choice() == FAKE
    assert SpeechChoice.preset("fake") == FAKE


def test_a_preset_changed_after_start_is_seen() -> None:
    settings = Settings()
    settings.speech_engines = "fake"  # what the telephony tests do
    assert settings.speech_choice() == FAKE


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("RINGFENCE_STT", "scripted", SpeechChoice("scripted", "piper", "webrtc")),
        ("RINGFENCE_STT", "whisper", LOCAL),
        ("RINGFENCE_TTS", "tone", SpeechChoice("whisper", "tone", "webrtc")),
        ("RINGFENCE_TTS", "espeak", SpeechChoice("whisper", "espeak", "webrtc")),
        ("RINGFENCE_VAD", "energy", SpeechChoice("whisper", "piper", "energy")),
    ],
)
def test_each_setting_picks_its_own_engine(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, expected: SpeechChoice
) -> None:
    monkeypatch.setenv(variable, value)
    assert Settings().speech_choice() == expected


def test_a_capability_setting_wins_over_the_preset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RINGFENCE_SPEECH_ENGINES", "fake")
    monkeypatch.setenv("RINGFENCE_STT", "whisper")
    assert Settings().speech_choice() == SpeechChoice("whisper", "tone", "energy")


@pytest.mark.parametrize(
    ("field", "value"), [("stt", "deepgram"), ("tts", "festival"), ("vad", "silero")]
)
def test_an_unknown_engine_is_a_validation_error_naming_the_field(
    monkeypatch: pytest.MonkeyPatch, field: str, value: str
) -> None:
    monkeypatch.setenv(f"RINGFENCE_{field.upper()}", value)
    with pytest.raises(ValidationError) as raised:
        Settings()
    [error] = raised.value.errors()
    assert error["loc"] == (field,)
    assert field in str(raised.value)


def test_the_settings_names_are_the_registry_names() -> None:
    assert set(get_args(SttEngineName)) == set(registry.STT_ENGINES)
    assert set(get_args(TtsEngineName)) == set(registry.TTS_ENGINES)
    assert set(get_args(VadEngineName)) == set(registry.VAD_ENGINES)


# -- the registry ---------------------------------------------------------------------------


def test_the_fake_preset_builds_the_fakes() -> None:
    engines = EngineLoader(Settings(), choice=FAKE)()
    assert isinstance(engines.stt, ScriptedStt)
    assert isinstance(engines.tts, ToneTts)
    assert isinstance(engines.vad, EnergyVad)


def test_a_preset_name_chooses_every_capability(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RINGFENCE_STT", "whisper")  # a preset given in code wins (call-test)
    assert EngineLoader(Settings(), choice="fake").choice == FAKE


def test_the_webrtc_vad_is_gated_or_falls_back_to_energy() -> None:
    vad = EngineLoader(Settings(), choice=SpeechChoice("scripted", "tone", "webrtc"))().vad
    assert isinstance(vad, NoiseGatedVad | EnergyVad)
    assert vad.sample_rate == CARRIER_RATE


def test_a_mixed_choice_builds_each_capability_from_its_own_setting(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("RINGFENCE_STT", "scripted")
    monkeypatch.setenv("RINGFENCE_TTS", "tone")
    settings = Settings()
    engines_of_a_call = EngineLoader(settings)  # the choice is the settings'
    assert engines_of_a_call.choice == SpeechChoice("scripted", "tone", "webrtc")
    assert not engines_of_a_call.loads_models
    engines = engines_of_a_call()
    assert isinstance(engines.stt, SpeechToText)
    assert isinstance(engines.tts, TextToSpeech)
    assert isinstance(engines.vad, VoiceActivityDetector)
    assert isinstance(engines.stt, ScriptedStt)
    assert isinstance(engines.tts, ToneTts)
    [chunk] = engines.tts.synthesize_stream("Hi, this is Glow.")
    assert chunk.sample_rate == CARRIER_RATE
    assert engines.stt.transcribe(silence(0.5, 16_000)).text == ""


def test_a_loaded_recognizer_pairs_with_a_per_call_voice(monkeypatch: pytest.MonkeyPatch) -> None:
    # A stand-in for a model-backed (or hosted) recognizer: built once, shared by calls.
    monkeypatch.setitem(registry.STT_ENGINES, "whisper", Engine(lambda _: ScriptedStt()))
    engines = EngineLoader(Settings(), choice=SpeechChoice("whisper", "tone", "energy"))
    assert engines.loads_models
    first, second = engines(), engines()
    assert first.stt is second.stt
    assert first.tts is not second.tts
    assert isinstance(first.tts, ToneTts)


@pytest.mark.parametrize(
    ("patch", "choice", "message"),
    [
        ("piper_installed", LOCAL, r"tts=piper needs piper-tts.*ringfence\[speech\]"),
        ("whisper_installed", LOCAL, r"stt=whisper needs faster-whisper.*ringfence\[speech\]"),
        ("find_espeak", SpeechChoice("scripted", "espeak", "energy"), r"tts=espeak.*espeak-ng"),
    ],
)
def test_a_missing_engine_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch, patch: str, choice: SpeechChoice, message: str
) -> None:
    monkeypatch.setattr(registry, patch, lambda: None)  # falsy: "not installed"
    with pytest.raises(SpeechEngineUnavailable, match=message) as raised:
        EngineLoader(Settings(), choice=choice)
    assert "RINGFENCE_STT" in str(raised.value)


def test_a_fake_only_choice_needs_nothing_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("piper_installed", "whisper_installed", "webrtcvad_installed", "find_espeak"):
        monkeypatch.setattr(registry, name, lambda: None)
    assert EngineLoader(Settings(), choice=FAKE)().stt.transcribe(b"").text == ""
