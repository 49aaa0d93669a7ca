"""Local engines load once per process, however many threads ask first (the start-up
warm-up and a first call's answer may race)."""

from __future__ import annotations

import threading
import time

import pytest

from ringfence.speech import engines as engine_module
from ringfence.speech.engines.fakes import ScriptedStt, ToneTts
from ringfence.speech.sessions import SpeechEngines, engines_of


def test_the_local_engines_load_once_under_concurrent_first_use(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    loads: list[float] = []

    def slow_load() -> SpeechEngines:
        loads.append(time.monotonic())
        time.sleep(0.05)  # long enough for the other threads to arrive meanwhile
        return SpeechEngines(vad=engine_module.fresh_vad(), stt=ScriptedStt(), tts=ToneTts())

    monkeypatch.setattr(engine_module, "piper_installed", lambda: True)
    monkeypatch.setattr(engine_module, "whisper_installed", lambda: True)
    monkeypatch.setattr(engine_module, "local_engines", slow_load)
    engines = engines_of("local")
    got: list[SpeechEngines] = []
    threads = [threading.Thread(target=lambda: got.append(engines())) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(loads) == 1
    assert len({id(e.stt) for e in got}) == 1  # one shared model
    assert len({id(e.vad) for e in got}) == 4  # a fresh VAD per call
