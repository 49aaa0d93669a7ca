"""The text-to-speech contract: text in, 16-bit mono PCM out.

Synchronous on purpose: engines are local CPU work (no I/O to wait on), and the only caller
renders recordings in a background pass, one call at a time.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

SAMPLE_WIDTH = 2  # bytes: every Audio is signed 16-bit little-endian PCM, mono


class SpeechUnavailable(RuntimeError):
    """No engine (or not the one asked for) is installed; the message says what to install."""


@dataclass(frozen=True, slots=True)
class Audio:
    """Mono, signed 16-bit little-endian PCM samples at `sample_rate` Hz."""

    pcm: bytes
    sample_rate: int

    def __post_init__(self) -> None:
        if self.sample_rate <= 0:
            raise ValueError(f"sample_rate must be positive, got {self.sample_rate}")
        if len(self.pcm) % SAMPLE_WIDTH:
            raise ValueError("pcm must hold whole 16-bit samples")

    @property
    def frames(self) -> int:
        return len(self.pcm) // SAMPLE_WIDTH

    @property
    def seconds(self) -> float:
        return self.frames / self.sample_rate


@runtime_checkable
class TextToSpeech(Protocol):
    """One voice of one engine.

    `synthesize` speaks `text` (plain text, one or more sentences) and returns the audio with
    no leading or trailing padding beyond what the engine adds itself. Empty or
    whitespace-only text gives empty audio (or a moment of silence). It may be called many
    times on one instance, from one thread at a time; implementations load their model once.
    Raises `SpeechUnavailable` when the engine is missing and `RuntimeError` when it fails.
    """

    @property
    def name(self) -> str:
        """A short label for logs, e.g. "piper:en_US-joe-medium"."""
        ...

    def synthesize(self, text: str) -> Audio: ...
