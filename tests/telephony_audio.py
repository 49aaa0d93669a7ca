"""Real audio for the media tests: a tone (the agent's voice) and speech-like noise (a callee)."""

from __future__ import annotations

import math
import random
from array import array

RATE = 8_000


def _pcm(samples: list[float]) -> bytes:
    out = array("h", (max(-32_768, min(32_767, round(s))) for s in samples))
    if array("h", [1]).tobytes() == b"\x00\x01":
        out.byteswap()
    return out.tobytes()


def tone(seconds: float, *, hz: float = 440.0, amplitude: float = 8_000.0) -> bytes:
    n = round(seconds * RATE)
    return _pcm([amplitude * math.sin(2 * math.pi * hz * i / RATE) for i in range(n)])


def speech_like(seconds: float, *, seed: int = 1, amplitude: float = 6_000.0) -> bytes:
    """Noise shaped by a 4 Hz syllable envelope, never falling silent (a voice, to a VAD)."""
    rng = random.Random(seed)
    n = round(seconds * RATE)
    return _pcm(
        [
            amplitude * (0.55 + 0.45 * math.sin(2 * math.pi * 4 * i / RATE)) * rng.uniform(-1, 1)
            for i in range(n)
        ]
    )


def silence(seconds: float) -> bytes:
    return bytes(2 * round(seconds * RATE))
