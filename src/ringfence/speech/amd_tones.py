"""Tones per frame (pure: PCM in, numbers out), for the answering-machine detector's tone
tracker (`speech.amd_beeps`): a frame's dominant pure tone (`frame_tone`: beeps, and the
single-frequency call-progress tones) and its share of two-frequency call-progress tones (dial,
ringback, busy, reorder: `frame_dual_tone_share`).

`frame_tone`, FFT-free: the dominant frequency is estimated from the positive-going zero
crossings (with hysteresis, so noise near zero adds no crossings, and interpolated between
samples: within ~1 Hz on a pure tone), and Goertzel measures the power at that frequency: the
share of the frame's energy there is its tonality (1.0 for a pure tone, ~0.97 at 16 dB SNR;
speech seldom reaches it).

A dual tone such as North America's dial tone (350 + 440 Hz) or busy tone (480 + 620 Hz) is
no pure tone: its zero crossings wander with the beat of its two frequencies, so the beep
detector (`frame_tone`) never takes it for a beep, but a VAD takes it for speech (and
adapts to it after a second or so, so a dial tone looks like a short greeting then silence:
a person). Such tones come from the network, never from a person or a recorded greeting, and
their frequencies are fixed (ITU-T E.180), so they are measured where they are: the share of a
frame's energy that lies in the span of the sinusoids at one pair's two frequencies (a
least-squares fit on an orthonormal basis of their sines and cosines over the frame). A clean
dual tone scores ~1.0; a voice, whose energy spreads over its harmonics and moves, scores far
lower. Single-frequency call-progress tones (425 Hz, 400 Hz) are pure tones: the beep detector
sees them.
"""

from __future__ import annotations

import math
import operator
from dataclasses import dataclass
from functools import lru_cache

from ringfence.speech.audio import CARRIER_RATE, samples_of

# (dial 350+440, ringback 440+480, busy and reorder 480+620: North America; dial 350+450,
# ringback 400+450: the UK; ringback 400+425: Australia)
LINE_TONE_PAIRS: tuple[tuple[float, float], ...] = (
    (350.0, 440.0),
    (440.0, 480.0),
    (480.0, 620.0),
    (350.0, 450.0),
    (400.0, 450.0),
    (400.0, 425.0),
)


@lru_cache(maxsize=32)
def _basis(pair: tuple[float, float], n: int, sample_rate: int) -> tuple[tuple[float, ...], ...]:
    """An orthonormal basis (Gram-Schmidt) of the sines and cosines at `pair`'s frequencies
    over `n` samples (two close frequencies are far from orthogonal over a short frame)."""
    raw: list[list[float]] = []
    for frequency in pair:
        step = 2 * math.pi * frequency / sample_rate
        raw.append([math.cos(step * k) for k in range(n)])
        raw.append([math.sin(step * k) for k in range(n)])
    basis: list[list[float]] = []
    for vector in raw:
        v = list(vector)
        for q in basis:
            dot = math.fsum(a * b for a, b in zip(v, q, strict=True))
            v = [a - dot * b for a, b in zip(v, q, strict=True)]
        norm = math.sqrt(math.fsum(a * a for a in v))
        if norm > 1e-6 * math.sqrt(n):  # a degenerate direction adds nothing
            basis.append([a / norm for a in v])
    return tuple(tuple(q) for q in basis)


def dual_tone_share(
    x: list[float], energy: float, pairs: tuple[tuple[float, float], ...], sample_rate: int
) -> float:
    """The largest share (0..1) of the frame's energy held by one of `pairs`' two-frequency
    tones; `x` is the frame without its mean, `energy` the sum of its squares."""
    if energy <= 0 or not x:
        return 0.0
    best = 0.0
    for pair in pairs:
        held = 0.0
        for q in _basis(pair, len(x), sample_rate):
            dot = sum(map(operator.mul, x, q))  # (the hot loop: no fsum)
            held += dot * dot
        best = max(best, held / energy)
    return min(1.0, best)


def frame_dual_tone_share(
    frame: bytes,
    pairs: tuple[tuple[float, float], ...],
    *,
    sample_rate: int,
    floor_dbfs: float,
) -> float:
    """`dual_tone_share` of a PCM16 frame (0 for a frame quieter than `floor_dbfs`)."""
    samples = samples_of(frame)
    n = len(samples)
    if n < 8 or not pairs:
        return 0.0
    mean = sum(samples) / n
    x = [s - mean for s in samples]
    energy = sum(map(operator.mul, x, x))
    if energy <= 0 or 10 * math.log10(energy / n / 32_768**2) < floor_dbfs:
        return 0.0
    return dual_tone_share(x, energy, pairs, sample_rate)


def pairs_span_hz(pairs: tuple[tuple[float, float], ...]) -> tuple[float, float]:
    """The lowest and highest frequency of `pairs` ((0, 0) for none)."""
    if not pairs:
        return (0.0, 0.0)
    return (min(min(p) for p in pairs), max(max(p) for p in pairs))


@dataclass(frozen=True, slots=True)
class Tone:
    frequency_hz: float
    tonality: float  # the share of the frame's energy at that one frequency, 0..1


def frame_tone(frame: bytes, *, sample_rate: int = CARRIER_RATE, floor_dbfs: float = -45.0) -> Tone:
    """The frame's dominant pure tone: frequency from zero crossings, share from Goertzel.

    The frequency comes from the positive-going zero crossings, counted with hysteresis (the
    signal must dip below -25 % of its rms before a crossing counts: noise around zero adds
    none) and timed by linear interpolation between samples; it is (crossings - 1) periods
    between the first and the last. A silent frame (under `floor_dbfs`) or one with fewer than
    three crossings has tonality 0.
    """
    samples = samples_of(frame)
    n = len(samples)
    if n < 8:
        return Tone(0.0, 0.0)
    mean = math.fsum(samples) / n
    x = [s - mean for s in samples]
    energy = math.fsum(v * v for v in x)
    if energy <= 0 or 10 * math.log10(energy / n / 32_768**2) < floor_dbfs:
        return Tone(0.0, 0.0)
    hysteresis = 0.25 * math.sqrt(energy / n)
    first = last = 0.0
    crossings = 0
    armed = False
    previous = x[0]
    for i in range(1, n):
        value = x[i]
        if value < -hysteresis:
            armed = True
        elif armed and value >= 0.0 > previous:
            last = i - 1 + previous / (previous - value)
            if crossings == 0:
                first = last
            crossings += 1
            armed = False
        previous = value
    if crossings < 3 or last <= first:
        return Tone(0.0, 0.0)
    frequency = (crossings - 1) * sample_rate / (last - first)
    if not 0 < frequency < sample_rate / 2:
        return Tone(0.0, 0.0)
    power = _goertzel_power(x, frequency, sample_rate)
    return Tone(frequency, min(1.0, 2 * power / (n * energy)))


def _goertzel_power(x: list[float], frequency: float, sample_rate: int) -> float:
    coeff = 2 * math.cos(2 * math.pi * frequency / sample_rate)
    s1 = s2 = 0.0
    for v in x:
        s1, s2 = v + coeff * s1 - s2, s1
    return s1 * s1 + s2 * s2 - coeff * s1 * s2
