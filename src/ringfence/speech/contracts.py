"""The speech engines' contracts: voice activity detection, speech-to-text, text-to-speech.

One Protocol per capability, one core method each, so a hosted engine (an OpenAI-compatible
transcription endpoint, Deepgram, ElevenLabs) is one more module behind an optional extra.
Every implementation passes the shared contract tests in `tests/integration/speech/`.

Synchronous on purpose: the local engines are CPU work that releases the GIL (ONNX Runtime,
CTranslate2), and the pipeline runs them on its own worker thread, never on the carrier's
event loop. A hosted engine blocks on I/O the same way.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from ringfence.adapters.speech.base import Audio


class SpeechEngineUnavailable(RuntimeError):
    """An engine's package (or model) is not installed; the message says what to install."""


@dataclass(frozen=True, slots=True)
class Transcript:
    """What was heard. `confidence` is 0..1 (how sure the engine is of `text`); `seconds` is
    the length of the audio transcribed."""

    text: str
    confidence: float
    seconds: float

    def __post_init__(self) -> None:
        if not 0.0 <= self.confidence <= 1.0:
            raise ValueError(f"confidence must be 0..1, got {self.confidence}")
        if self.seconds < 0:
            raise ValueError(f"seconds must be >= 0, got {self.seconds}")


@dataclass(frozen=True, slots=True)
class AudioChunk(Audio):
    """A piece of synthesized speech: mono PCM16 at `sample_rate` (checked by `Audio`), and
    the text it speaks (one sentence, for the streaming engines)."""

    text: str = ""


@runtime_checkable
class VoiceActivityDetector(Protocol):
    """Says whether one short frame of audio holds speech.

    Frames are exactly `frame_ms` milliseconds of PCM16 at `sample_rate` (a wrong length raises
    ValueError). Stateless from the caller's view: smoothing over time (speech start, end of
    turn) is `speech.turns`' job, so every detector is judged on the same end-pointing rules.
    """

    @property
    def sample_rate(self) -> int: ...

    @property
    def frame_ms(self) -> int: ...

    def is_speech(self, frame: bytes) -> bool: ...


@runtime_checkable
class SpeechToText(Protocol):
    """Transcribes one finished utterance (16 kHz PCM16 mono, the callee's turn).

    `vocabulary`: words this call is likely to hear that a general model gets wrong (the
    practice's name, the patient's first name); engines that can be primed use them (Whisper's
    prompt, a hosted engine's keywords), others ignore them. Empty or silent audio gives an
    empty `text`. Raises ValueError on a partial sample and SpeechEngineUnavailable when the
    engine is missing. Called from one thread at a time.
    """

    @property
    def name(self) -> str: ...

    def transcribe(self, pcm16_16k: bytes, *, vocabulary: Sequence[str] = ()) -> Transcript: ...


@runtime_checkable
class TextToSpeech(Protocol):
    """Speaks text sentence by sentence, so the first sentence can be played while the rest is
    still being synthesized.

    `synthesize_stream` returns a lazy iterator: each chunk is produced when asked for (a
    caller that stops iterating stops the synthesis). Every chunk is PCM16 mono at
    `sample_rate` and carries the sentence it speaks; empty text yields nothing. (Not to be
    confused with `adapters.speech.TextToSpeech`, the whole-text contract the recordings pass
    uses; the Piper engine here wraps that adapter.)
    """

    @property
    def name(self) -> str: ...

    @property
    def sample_rate(self) -> int: ...

    def synthesize_stream(self, text: str) -> Iterator[AudioChunk]: ...
