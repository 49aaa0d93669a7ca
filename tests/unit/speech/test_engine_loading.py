"""Engines that load a model load once per process, however many threads ask first (the
start-up warm-up and a first call's answer may race); per-call engines are new for each call."""

from __future__ import annotations

import threading
import time

import pytest

from ringfence.adapters.speech import registry
from ringfence.adapters.speech.fakes import ScriptedStt, ToneTts
from ringfence.adapters.speech.registry import Engine
from ringfence.config import Settings
from ringfence.services import live_media as sessions
from ringfence.services.live_media import engines_of
from ringfence.speech.contracts import SpeechEngines, SpeechToText, TextToSpeech


def _calls(engines: registry.EngineLoader, count: int = 4) -> list[SpeechEngines]:
    got: list[SpeechEngines] = []
    threads = [threading.Thread(target=lambda: got.append(engines())) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(got) == count
    return got


def test_the_local_engines_load_once_under_concurrent_first_use(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    loads: list[str] = []
    warm_ups: list[float] = []

    def slow(name: str, engine: SpeechToText | TextToSpeech) -> SpeechToText | TextToSpeech:
        loads.append(name)
        time.sleep(0.05)  # long enough for the other threads to arrive meanwhile
        return engine

    whisper = Engine(lambda _: slow("stt", ScriptedStt()))
    monkeypatch.setitem(registry.STT_ENGINES, "whisper", whisper)
    monkeypatch.setitem(registry.TTS_ENGINES, "piper", Engine(lambda _: slow("tts", ToneTts())))
    monkeypatch.setattr(sessions, "warm_up_understanding", lambda: warm_ups.append(1.0))
    engines = engines_of(Settings(), "local")
    assert engines.loads_models
    got = _calls(engines)
    assert sorted(loads) == ["stt", "tts"]
    assert len(warm_ups) == 1  # the intent model is built with the engines
    assert len({id(e.stt) for e in got}) == 1  # one shared model
    assert len({id(e.tts) for e in got}) == 1
    assert len({id(e.vad) for e in got}) == 4  # a fresh VAD per call


def test_the_fake_engines_are_new_for_every_call_and_load_nothing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    warm_ups: list[float] = []
    monkeypatch.setattr(sessions, "warm_up_understanding", lambda: warm_ups.append(1.0))
    engines = engines_of(Settings(), "fake")
    assert not engines.loads_models
    got = _calls(engines)
    assert warm_ups == []
    for capability in ("vad", "stt", "tts"):
        assert len({id(getattr(e, capability)) for e in got}) == 4, capability
