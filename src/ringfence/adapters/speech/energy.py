"""EnergyVad: a pure-Python voice-activity detector from frame loudness; NoiseGatedVad.

A frame is speech when it is louder than `floor_dbfs` and at least `margin_db` above the
line's noise floor, the quietest frame of the last `window_ms` (minimum statistics: speech
dips between syllables and words, so the floor follows the line, not the talker; steady hiss
sets its own floor and stays silence). No model, no extra: the fallback where webrtcvad is
not installed, and the deterministic VAD of the unit tests.

`NoiseGatedVad` asks both a model VAD and that noise floor: WebRTC's VAD calls loud steady
hiss speech (a noisy line would barge in on the agent all call long, and look like an endless
voicemail greeting), the floor does not.
"""

from __future__ import annotations

from collections import deque

from ringfence.speech.audio import CARRIER_RATE, SAMPLE_WIDTH, dbfs
from ringfence.speech.contracts import VoiceActivityDetector


class EnergyVad:
    def __init__(
        self,
        *,
        sample_rate: int = CARRIER_RATE,
        frame_ms: int = 20,
        floor_dbfs: float = -50.0,
        margin_db: float = 10.0,
        window_ms: int = 1_500,
    ) -> None:
        if sample_rate <= 0 or frame_ms <= 0:
            raise ValueError("sample_rate and frame_ms must be positive")
        self._sample_rate = sample_rate
        self._frame_ms = frame_ms
        self._frame_bytes = SAMPLE_WIDTH * sample_rate * frame_ms // 1000
        self._floor_dbfs = floor_dbfs
        self._margin_db = margin_db
        # No assumed floor to start with: a line that is loud from its first frame (hiss) is
        # its own floor at once, not "speech" until an assumed quiet floor ages out.
        self._levels: deque[float] = deque(maxlen=max(1, window_ms // frame_ms))

    @property
    def name(self) -> str:
        return "energy"

    @property
    def sample_rate(self) -> int:
        return self._sample_rate

    @property
    def frame_ms(self) -> int:
        return self._frame_ms

    def is_speech(self, frame: bytes) -> bool:
        if len(frame) != self._frame_bytes:
            raise ValueError(f"a frame must be {self._frame_bytes} bytes, got {len(frame)}")
        level = dbfs(frame)
        self._levels.append(level)
        return level > self._floor_dbfs and level > min(self._levels) + self._margin_db


class NoiseGatedVad:
    """Speech where `inner` hears speech *and* the frame stands `margin_db` above the line's
    noise floor (see EnergyVad)."""

    def __init__(self, inner: VoiceActivityDetector, *, margin_db: float = 6.0) -> None:
        self._inner = inner
        self._gate = EnergyVad(
            sample_rate=inner.sample_rate, frame_ms=inner.frame_ms, margin_db=margin_db
        )

    @property
    def name(self) -> str:
        return f"{getattr(self._inner, 'name', type(self._inner).__name__)}+noise-gate"

    @property
    def sample_rate(self) -> int:
        return self._inner.sample_rate

    @property
    def frame_ms(self) -> int:
        return self._inner.frame_ms

    def is_speech(self, frame: bytes) -> bool:
        loud_enough = self._gate.is_speech(frame)  # always, to keep the floor current
        return self._inner.is_speech(frame) and loud_enough
