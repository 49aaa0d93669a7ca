"""Speech engines behind the `speech.contracts` Protocols.

| capability      | real engine (the `speech` extra)        | pure / fake (always there)       |
|-----------------|-----------------------------------------|----------------------------------|
| voice activity  | `WebRtcVad` (webrtcvad-wheels), behind  | `EnergyVad`                      |
|                 | `NoiseGatedVad` on live calls           |                                  |
| speech-to-text  | `WhisperStt` (faster-whisper, tiny.en)  | `ScriptedStt`                    |
| text-to-speech  | `PiperTts` (piper-tts, joe en_US)       | `ToneTts` (speech-like babble)   |

The real engines import their packages only when built, so the base install never needs
them; a missing one raises `SpeechEngineUnavailable` saying what to install.
"""

from __future__ import annotations

from dataclasses import dataclass

from ringfence.speech.contracts import SpeechToText, TextToSpeech, VoiceActivityDetector
from ringfence.speech.engines.energy import EnergyVad, NoiseGatedVad
from ringfence.speech.engines.fakes import ScriptedStt, ToneTts
from ringfence.speech.engines.piper import PiperTts, piper_installed
from ringfence.speech.engines.webrtc import WebRtcVad, webrtcvad_installed
from ringfence.speech.engines.whisper import WhisperStt, whisper_installed

__all__ = [
    "EnergyVad",
    "NoiseGatedVad",
    "PiperTts",
    "ScriptedStt",
    "SpeechEngines",
    "ToneTts",
    "WebRtcVad",
    "WhisperStt",
    "fresh_vad",
    "local_engines",
    "piper_installed",
    "webrtcvad_installed",
    "whisper_installed",
]


@dataclass(frozen=True, slots=True)
class SpeechEngines:
    vad: VoiceActivityDetector
    stt: SpeechToText
    tts: TextToSpeech


def local_engines(*, beam_size: int = 5, cpu_threads: int = 2) -> SpeechEngines:
    """The local engines for live calls: WebRTC's VAD behind the noise gate (EnergyVad without
    webrtcvad), Whisper tiny.en, Piper. Loads the models (about 2 s) and warms Whisper up:
    build once per worker. A VAD keeps a little state (the noise floor): take a fresh one per
    call with `fresh_vad()`. Raises SpeechEngineUnavailable when Whisper or Piper is missing."""
    vad = fresh_vad()
    stt = WhisperStt.bundled(beam_size=beam_size, cpu_threads=cpu_threads)
    stt.warm_up()
    return SpeechEngines(vad=vad, stt=stt, tts=PiperTts.bundled())


def fresh_vad() -> VoiceActivityDetector:
    """A new VAD for one call: WebRTC's behind the noise gate, or EnergyVad without it."""
    return NoiseGatedVad(WebRtcVad()) if webrtcvad_installed() else EnergyVad()
