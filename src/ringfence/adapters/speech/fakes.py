"""Fakes at the speech seam: deterministic engines for tests and loopback runs.

They keep the same contracts as the real engines (the shared contract tests run on both),
so a pipeline test exercises the pipeline, not a mock.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator, Sequence

from ringfence.agent.text import sentences
from ringfence.speech.audio import CARRIER_RATE, STT_RATE, dbfs, samples_of
from ringfence.speech.contracts import Audio, AudioChunk, Transcript, join_chunks
from ringfence.speech.synth import babble


class ScriptedStt:
    """Hears, in order, the texts it was given: each utterance with sound in it is
    "transcribed" as the next text (an empty string once they run out); silent audio (under
    `silence_dbfs`) gives an empty transcript without using one up.

    `heard` keeps what it was asked to transcribe (its length in seconds), for assertions.
    """

    def __init__(self, texts: Iterable[str] = (), *, silence_dbfs: float = -50.0) -> None:
        self._texts: deque[str] = deque(texts)
        self._silence_dbfs = silence_dbfs
        self.heard: list[float] = []
        self.vocabulary: tuple[str, ...] = ()  # what the last transcription was primed with

    @property
    def name(self) -> str:
        return "scripted"

    def queue(self, *texts: str) -> None:
        self._texts.extend(texts)

    def transcribe(self, pcm16_16k: bytes, *, vocabulary: Sequence[str] = ()) -> Transcript:
        seconds = len(samples_of(pcm16_16k)) / STT_RATE
        self.heard.append(seconds)
        self.vocabulary = tuple(vocabulary)
        if not pcm16_16k or dbfs(pcm16_16k) < self._silence_dbfs:
            return Transcript("", 0.0, seconds)
        text = self._texts.popleft() if self._texts else ""
        return Transcript(text, 1.0 if text else 0.0, seconds)


class ToneTts:
    """ "Speaks" each sentence as speech-like babble (`speech.synth.babble`), `seconds_per_word`
    long per word, so its audio passes a voice-activity detector. Deterministic: the same
    sentence always gives the same audio. `spoken` keeps every sentence synthesized."""

    def __init__(
        self,
        *,
        sample_rate: int = CARRIER_RATE,
        seconds_per_word: float = 0.3,
        pitch_hz: float = 110.0,
    ) -> None:
        if sample_rate <= 0 or seconds_per_word <= 0:
            raise ValueError("sample_rate and seconds_per_word must be positive")
        self._sample_rate = sample_rate
        self._seconds_per_word = seconds_per_word
        self._pitch_hz = pitch_hz
        self.spoken: list[str] = []

    @property
    def name(self) -> str:
        return "tone"

    @property
    def sample_rate(self) -> int:
        return self._sample_rate

    def synthesize_stream(self, text: str) -> Iterator[AudioChunk]:
        for sentence in sentences(text):
            self.spoken.append(sentence)
            seconds = self._seconds_per_word * len(sentence.split())
            pcm = babble(
                seconds,
                seed=sum(map(ord, sentence)),
                pitch_hz=self._pitch_hz,
                sample_rate=self._sample_rate,
            )
            yield AudioChunk(pcm, self._sample_rate, sentence)

    def synthesize(self, text: str) -> Audio:
        return join_chunks(self.synthesize_stream(text), self._sample_rate)
