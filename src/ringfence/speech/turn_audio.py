"""The callee's audio kept for speech-to-text: upsampled to 16 kHz as it arrives (a streaming
resampler), so a turn's audio is ready for the recognizer the moment the turn ends; between
turns only the pre-roll is kept.
"""

from __future__ import annotations

from ringfence.speech.audio import CARRIER_RATE, SAMPLE_WIDTH, STT_RATE, LinearResampler

PREROLL_MS = 200  # audio kept before the detected start of speech (the VAD starts late)


class TurnAudio:
    """16 kHz inbound audio on the call's timeline, from `_base_ms` on."""

    def __init__(self) -> None:
        self._upsampler = LinearResampler(CARRIER_RATE, STT_RATE)
        self._pcm = bytearray()
        self._base_ms = 0

    def add(self, pcm8k: bytes) -> None:
        self._pcm += self._upsampler.process(pcm8k)

    def between(self, start_ms: int, until_ms: int) -> bytes:
        """A turn's audio, with the pre-roll before its start (as much of it as is kept)."""
        start = max(self._base_ms, start_ms - PREROLL_MS)
        return bytes(self._pcm[self._offset(start) : self._offset(until_ms)])

    def trim(self, now_ms: int) -> None:
        """Between turns only the pre-roll is worth keeping."""
        keep_from = now_ms - PREROLL_MS
        if keep_from - self._base_ms >= 1_000:
            del self._pcm[: self._offset(keep_from)]
            self._base_ms = keep_from

    def _offset(self, ms: int) -> int:
        return SAMPLE_WIDTH * (ms - self._base_ms) * STT_RATE // 1000
