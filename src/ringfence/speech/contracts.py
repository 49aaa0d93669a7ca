"""The speech engines' contracts: voice activity detection, speech-to-text, text-to-speech.

One Protocol per capability and one error for a missing engine, for live calls and recordings
alike. The engines live in `adapters/speech/`, one module per vendor, and the live calls' engine
for each capability is chosen by name (`RINGFENCE_STT`, `RINGFENCE_TTS`, `RINGFENCE_VAD`;
`adapters/speech/registry.py`), so a hosted recognizer can pair with a local voice. Every
implementation passes the shared contract tests in `tests/integration/speech/`.

Synchronous on purpose: the local engines are CPU work that releases the GIL (ONNX Runtime,
CTranslate2), and the pipeline runs them on its own worker thread, never on the carrier's
event loop. A hosted engine blocks on I/O the same way.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from ringfence.speech.audio import SAMPLE_WIDTH

__all__ = [
    "SAMPLE_WIDTH",
    "Audio",
    "AudioChunk",
    "SpeechEngineUnavailable",
    "SpeechEngines",
    "SpeechToText",
    "TextToSpeech",
    "Transcript",
    "VoiceActivityDetector",
    "join_chunks",
]


class SpeechEngineUnavailable(RuntimeError):
    """An engine's package, program or model is not installed; the message says what to
    install."""


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


@dataclass(frozen=True, slots=True)
class AudioChunk(Audio):
    """A piece of synthesized speech: mono PCM16 at `sample_rate` (checked by `Audio`), and
    the text it speaks (one sentence, for the streaming engines)."""

    text: str = ""


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
    """One voice of one engine, speaking PCM16 mono at `sample_rate`.

    `synthesize_stream` is the core, for live calls: a lazy iterator of one chunk per sentence
    (each is made when asked for, so the first sentence plays while the next is synthesized,
    and a caller that stops iterating stops the synthesis); every chunk carries the sentence
    it speaks; empty text yields nothing.

    `synthesize` speaks a whole text as one `Audio`, for the recordings pass: the same speech as
    the stream joined (`join_chunks`), except that an engine may pace the pauses between
    sentences its own way (espeak-ng speaks the text in one run). Empty or whitespace-only text
    gives empty audio (or a moment of silence).

    `name` is a short label for logs, e.g. "piper:en_US-joe-medium". Called from one thread at
    a time; implementations load their model once. Raises SpeechEngineUnavailable when the
    engine is missing and RuntimeError when it fails.
    """

    @property
    def name(self) -> str: ...

    @property
    def sample_rate(self) -> int: ...

    def synthesize_stream(self, text: str) -> Iterator[AudioChunk]: ...

    def synthesize(self, text: str) -> Audio: ...


def join_chunks(chunks: Iterable[Audio], sample_rate: int) -> Audio:
    """`chunks` (all at `sample_rate`) as one piece of audio: `synthesize` from the stream."""
    parts: list[bytes] = []
    for chunk in chunks:
        if chunk.sample_rate != sample_rate:
            raise ValueError(f"a chunk at {chunk.sample_rate} Hz in audio at {sample_rate} Hz")
        parts.append(chunk.pcm)
    return Audio(b"".join(parts), sample_rate)


@dataclass(frozen=True, slots=True)
class SpeechEngines:
    """The engines one live call runs on (`adapters.speech.registry.EngineLoader` builds
    them from the settings)."""

    vad: VoiceActivityDetector
    stt: SpeechToText
    tts: TextToSpeech
