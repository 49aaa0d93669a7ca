"""PCM16 helpers for the speech pipeline: samples, durations, loudness, resampling.

Everything here is signed 16-bit little-endian mono PCM, the format at the carrier edge
(8 kHz) and of every engine (Whisper wants 16 kHz, Piper speaks at 22.05 kHz). Pure stdlib:
the pipeline's core runs without numpy; engines that have numpy do their own heavy lifting.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Iterable
from typing import Final

SAMPLE_WIDTH: Final = 2  # bytes per sample
CARRIER_RATE: Final = 8_000  # G.711 telephone audio, what every carrier hands over
STT_RATE: Final = 16_000  # what Whisper (and most speech-to-text models) expect
# array("h") is machine-endian; PCM on the wire and in WAV files is little-endian.
_BIG_ENDIAN: Final = array("h", [1]).tobytes() == b"\x00\x01"


def samples_of(pcm: bytes) -> array[int]:
    """The samples of `pcm` (which must hold whole 16-bit samples)."""
    if len(pcm) % SAMPLE_WIDTH:
        raise ValueError("PCM16 audio must hold whole 16-bit samples")
    samples = array("h", pcm)
    if _BIG_ENDIAN:
        samples.byteswap()
    return samples


def pcm_of(samples: Iterable[int]) -> bytes:
    """Little-endian PCM16 bytes of `samples`, each clipped to the 16-bit range."""
    if isinstance(samples, array) and samples.typecode == "h":
        out = array("h", samples)  # already in range: copy, no per-sample work
    else:
        out = array("h", (max(-32_768, min(32_767, int(s))) for s in samples))
    if _BIG_ENDIAN:
        out.byteswap()
    return out.tobytes()


def seconds_of(pcm: bytes, sample_rate: int) -> float:
    return len(pcm) / (SAMPLE_WIDTH * sample_rate)


def silence(seconds: float, sample_rate: int) -> bytes:
    return bytes(SAMPLE_WIDTH * round(seconds * sample_rate))


def rms(pcm: bytes) -> float:
    """Root-mean-square level of `pcm` (0 for empty audio), in sample units (0..32768)."""
    samples = samples_of(pcm)
    if not samples:
        return 0.0
    return math.sqrt(math.fsum(s * s for s in samples) / len(samples))


def dbfs(pcm: bytes) -> float:
    """Level relative to full scale: 0 dBFS is a full-scale square wave, silence is -inf."""
    level = rms(pcm)
    return 20 * math.log10(level / 32_768) if level > 0 else -math.inf


class LinearResampler:
    """A streaming resampler: feed chunks of any size, get the same samples as one pass.

    Linear interpolation at exact rational positions (output k sits at input k * from / to,
    computed in integers, so nothing drifts over a long call). Used for 8 -> 16 kHz (upsampling,
    where linear is fine: Whisper sees nothing above 4 kHz on a phone line anyway) and, with
    `lowpass`, as the pure fallback for downsampling, where a short moving average keeps the
    worst aliasing out. Engines with numpy resample with a proper filter instead.
    """

    def __init__(self, from_rate: int, to_rate: int, *, lowpass: bool | None = None) -> None:
        if from_rate <= 0 or to_rate <= 0:
            raise ValueError("sample rates must be positive")
        g = math.gcd(from_rate, to_rate)
        self._up = to_rate // g  # output k <-> input position k * down / up
        self._down = from_rate // g
        self.from_rate = from_rate
        self.to_rate = to_rate
        # Averaging window for downsampling: about one output period of input samples.
        filter_on = from_rate > to_rate if lowpass is None else lowpass
        self._taps = max(1, round(from_rate / to_rate)) if filter_on else 1
        self._window: list[int] = []  # the last raw input samples, for the running mean
        self._history: list[int] = []  # the last (filtered) input sample, for interpolation
        self._consumed = 0  # global index of the first sample of the current working buffer
        self._next = 0  # global index k of the next output sample

    def process(self, pcm: bytes) -> bytes:
        """Resample the next chunk; returns every output sample that can be computed so far."""
        fresh = samples_of(pcm)
        if not fresh:
            return b""
        if self._up == self._down:
            return pcm
        if self._taps > 1:
            fresh = self._smooth(fresh)
        buffer = self._history + list(fresh)
        base = self._consumed - len(self._history)  # global index of buffer[0]
        last = base + len(buffer) - 1
        out: list[int] = []
        k = self._next
        while True:
            num = k * self._down
            j, rem = divmod(num, self._up)
            if j > last or (j == last and rem):
                break  # needs a sample not seen yet
            a = buffer[j - base]
            if rem:
                b = buffer[j - base + 1]
                a = a + (b - a) * rem // self._up
            out.append(a)
            k += 1
        self._next = k
        self._consumed = last + 1
        self._history = buffer[-1:]
        return pcm_of(out)

    def _smooth(self, fresh: array[int]) -> array[int]:
        # A running mean over the last `taps` input samples (continuous across chunks).
        window = self._window
        smoothed = array("h")
        total = sum(window)
        for s in fresh:
            window.append(s)
            total += s
            if len(window) > self._taps:
                total -= window.pop(0)
            smoothed.append(total // len(window))
        return smoothed


def resample(pcm: bytes, from_rate: int, to_rate: int) -> bytes:
    """`pcm` at `to_rate` in one pass (see LinearResampler)."""
    if from_rate == to_rate:
        samples_of(pcm)  # validates
        return pcm
    return LinearResampler(from_rate, to_rate).process(pcm)
