"""Synthetic test signals at telephone rate: tones, beeps, noise and speech-like babble.

Not speech: `babble` is a formant synthesizer's vowel string (a glottal pulse train at a
falling pitch through three vocal-tract resonances, syllable envelopes, pauses between
words), close enough to speech in level, rhythm and spectrum for voice-activity detectors
and the answering-machine detector, and deterministic by seed. It needs no engine, so the
unit tests and the fake text-to-speech run anywhere. Where Piper or espeak-ng is installed,
the evaluation and the benchmarks use real synthesized speech instead.
"""

from __future__ import annotations

import math
import random
from typing import Final

from ringfence.speech.audio import CARRIER_RATE, pcm_of, samples_of

# (F1, F2, F3) in Hz of a few vowels (Peterson & Barney's averages, rounded).
_VOWELS: Final = (
    (730.0, 1090.0, 2440.0),  # a
    (270.0, 2290.0, 3010.0),  # i
    (300.0, 870.0, 2240.0),  # u
    (530.0, 1840.0, 2480.0),  # e
    (570.0, 840.0, 2410.0),  # o
    (660.0, 1720.0, 2410.0),  # ae
)
_BANDWIDTHS: Final = (80.0, 100.0, 140.0)


def _amplitude(level_dbfs: float) -> float:
    return 32_768 * 10 ** (level_dbfs / 20)


def tone(
    seconds: float,
    frequency_hz: float,
    *,
    level_dbfs: float = -12.0,
    sample_rate: int = CARRIER_RATE,
    ramp_ms: float = 5.0,
) -> bytes:
    """A sine tone (a beep) with short ramps, so it starts and stops without clicks."""
    count = round(seconds * sample_rate)
    peak = _amplitude(level_dbfs) * math.sqrt(2)  # rms at level_dbfs
    ramp = max(1, round(ramp_ms * sample_rate / 1000))
    out: list[float] = []
    for n in range(count):
        gain = min(1.0, (n + 1) / ramp, (count - n) / ramp)
        out.append(peak * gain * math.sin(2 * math.pi * frequency_hz * n / sample_rate))
    return pcm_of(round(v) for v in out)


def noise(
    seconds: float,
    *,
    level_dbfs: float = -40.0,
    seed: int = 0,
    sample_rate: int = CARRIER_RATE,
) -> bytes:
    """White Gaussian noise at `level_dbfs` rms (a hissy line)."""
    rng = random.Random(seed)
    sigma = _amplitude(level_dbfs)
    return pcm_of(round(rng.gauss(0.0, sigma)) for _ in range(round(seconds * sample_rate)))


def babble(
    seconds: float,
    *,
    seed: int = 0,
    pitch_hz: float = 120.0,
    level_dbfs: float = -20.0,
    syllables_per_word: tuple[int, int] = (1, 3),
    sample_rate: int = CARRIER_RATE,
) -> bytes:
    """`seconds` of speech-like sound: syllables of 110-260 ms, 20-60 ms between them and
    80-160 ms between words, the pitch falling ~20 % over the phrase as a statement's does."""
    rng = random.Random(seed)
    total = round(seconds * sample_rate)
    envelope: list[float] = []
    formants: list[tuple[float, float, float]] = []
    while len(envelope) < total:
        for _ in range(rng.randint(*syllables_per_word)):
            length = round(rng.uniform(0.11, 0.26) * sample_rate)
            vowel = rng.choice(_VOWELS)
            attack = max(1, length // 5)
            for n in range(length):
                envelope.append(min(1.0, n / attack, (length - n) / attack))
                formants.append(vowel)
            gap = round(rng.uniform(0.02, 0.06) * sample_rate)
            envelope.extend([0.0] * gap)
            formants.extend([vowel] * gap)
        gap = round(rng.uniform(0.08, 0.16) * sample_rate)
        envelope.extend([0.0] * gap)
        formants.extend([formants[-1]] * gap)
    envelope = envelope[:total]
    # Close the phrase cleanly: fade the last 30 ms.
    fade = min(total, round(0.03 * sample_rate))
    for k in range(fade):
        envelope[total - 1 - k] *= k / fade

    states = [[0.0, 0.0] for _ in _BANDWIDTHS]
    phase = 0.0
    raw: list[float] = []
    for n in range(total):
        progress = n / max(1, total)
        f0 = pitch_hz * (1.1 - 0.2 * progress) * (1 + 0.01 * math.sin(n / 97))
        phase += f0 / sample_rate
        if phase >= 1.0:
            phase -= 1.0
            excitation = 1.0  # one glottal pulse per pitch period
        else:
            excitation = 0.0
        excitation += rng.gauss(0.0, 0.02)  # a breath of aspiration noise
        signal = excitation * envelope[n]
        for (f, bw), state in zip(zip(formants[n], _BANDWIDTHS, strict=True), states, strict=True):
            r = math.exp(-math.pi * bw / sample_rate)
            a1 = 2 * r * math.cos(2 * math.pi * f / sample_rate)
            a2 = -r * r
            y = (1 - r) * signal + a1 * state[0] + a2 * state[1]
            state[1], state[0] = state[0], y
            signal = y
        raw.append(signal)
    voiced = [v for v, e in zip(raw, envelope, strict=True) if e > 0.5]
    level = math.sqrt(math.fsum(v * v for v in voiced) / len(voiced)) if voiced else 0.0
    gain = _amplitude(level_dbfs) / level if level > 0 else 0.0
    return pcm_of(round(v * gain) for v in raw)


def mix(*layers: bytes) -> bytes:
    """Layers of PCM16 added sample by sample (clipped); the result is as long as the
    longest layer."""
    arrays = [samples_of(layer) for layer in layers]
    length = max((len(a) for a in arrays), default=0)
    return pcm_of(sum(a[i] for a in arrays if i < len(a)) for i in range(length))
