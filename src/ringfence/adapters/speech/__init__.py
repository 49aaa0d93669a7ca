"""Speech engines behind the `speech.contracts` Protocols: one module per vendor.

| capability     | name     | engine                             | module       | needs          |
|----------------|----------|------------------------------------|--------------|----------------|
| voice activity | webrtc   | `WebRtcVad` behind `NoiseGatedVad` | `webrtc.py`  | speech extra * |
|                | energy   | `EnergyVad`                        | `energy.py`  | nothing        |
| speech-to-text | whisper  | `WhisperStt` (tiny.en)             | `whisper.py` | speech extra   |
|                | scripted | `ScriptedStt` (fake)               | `fakes.py`   | nothing        |
| text-to-speech | piper    | `PiperTts` (en_US "joe")           | `piper.py`   | speech extra   |
|                | espeak   | `EspeakTts`                        | `espeak.py`  | espeak-ng      |
|                | tone     | `ToneTts` (fake: babble)           | `fakes.py`   | nothing        |

(*) without webrtcvad, `webrtc` falls back to `EnergyVad`.

`registry.py` builds a live call's engines from the settings, one capability at a time;
`voices.py` picks the recordings' two voices. Vendor packages are imported only when an engine
is built, so the base install never needs them; a missing one raises
`SpeechEngineUnavailable` saying what to install.
"""

from __future__ import annotations

from ringfence.adapters.speech.energy import EnergyVad, NoiseGatedVad
from ringfence.adapters.speech.espeak import EspeakTts, find_espeak
from ringfence.adapters.speech.fakes import ScriptedStt, ToneTts
from ringfence.adapters.speech.piper import PiperTts, piper_installed
from ringfence.adapters.speech.registry import (
    STT_ENGINES,
    TTS_ENGINES,
    VAD_ENGINES,
    EngineLoader,
    fresh_vad,
)
from ringfence.adapters.speech.voices import default_voices
from ringfence.adapters.speech.webrtc import WebRtcVad, webrtcvad_installed
from ringfence.adapters.speech.whisper import WhisperStt, whisper_installed

__all__ = [
    "STT_ENGINES",
    "TTS_ENGINES",
    "VAD_ENGINES",
    "EnergyVad",
    "EngineLoader",
    "EspeakTts",
    "NoiseGatedVad",
    "PiperTts",
    "ScriptedStt",
    "ToneTts",
    "WebRtcVad",
    "WhisperStt",
    "default_voices",
    "find_espeak",
    "fresh_vad",
    "piper_installed",
    "webrtcvad_installed",
    "whisper_installed",
]
