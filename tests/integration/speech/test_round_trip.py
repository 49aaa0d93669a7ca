"""The real engines, end to end on one short utterance: Piper speaks it at telephone rate,
Whisper (tiny.en, beam 5) hears it back."""

from __future__ import annotations

from ringfence.speech.engines import WhisperStt


def test_piper_speaks_the_practice_name_and_whisper_hears_it(
    whisper_stt: WhisperStt, glow_on_the_phone: bytes
) -> None:
    heard = whisper_stt.transcribe(glow_on_the_phone)
    assert "glow" in heard.text.lower(), heard
    assert heard.confidence > 0.3
