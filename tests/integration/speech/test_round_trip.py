"""The real engines, end to end on one short utterance: Piper speaks it at telephone rate,
Whisper (tiny.en, beam 5) hears it back."""

from __future__ import annotations

from ringfence.adapters.speech import WhisperStt


def test_piper_speaks_the_practice_name_and_whisper_hears_it(
    whisper_stt: WhisperStt, glow_on_the_phone: bytes
) -> None:
    # The pipeline primes Whisper with the practice's name (tiny.en alone sometimes hears
    # "Glow Aesthetics" as a person's name, e.g. "Chloe Stettics"); so does this test.
    heard = whisper_stt.transcribe(glow_on_the_phone, vocabulary=["Glow Aesthetics"])
    assert "glow" in heard.text.lower(), heard
    assert heard.confidence > 0.3
