"""Call-progress tones made of two frequencies (dial, ringback, busy, reorder), per frame
(pure: PCM in, a number out).

A dual tone such as North America's dial tone (350 + 440 Hz) or busy tone (480 + 620 Hz) is
no pure tone: its zero crossings wander with the beat of its two frequencies, so the beep
detector (`amd.frame_tone`) never takes it for a beep, but a VAD takes it for speech (and
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
from functools import lru_cache

from ringfence.speech.audio import samples_of

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
