"""Resampling synthesized speech to the rate a voice is asked to speak at (8 kHz on a call).

With numpy (which onnxruntime, and so piper-tts, depends on): a low-pass FIR when going down
(a 63-tap windowed sinc at 3.6 kHz, so nothing above the phone band folds back as hiss), then
linear interpolation. Without it (espeak-ng on a base install): the pipeline's pure resampler,
whose short moving average keeps the worst aliasing out.
"""

from __future__ import annotations

from importlib.util import find_spec
from typing import Final

from ringfence.speech.audio import resample

FIR_TAPS: Final = 63
PHONE_BAND_HZ: Final = 3_600.0


def resample_speech(pcm: bytes, from_rate: int, to_rate: int) -> bytes:
    """`pcm` at `to_rate`: with numpy's filter where numpy is installed."""
    if from_rate == to_rate or not pcm:
        return pcm
    if find_spec("numpy") is None:
        return resample(pcm, from_rate, to_rate)
    return resample_np(pcm, from_rate, to_rate)


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
