"""Spoken lines for the live-call tests: Piper says them, Whisper must hear them (over G.711)."""

from __future__ import annotations

import re

from ringfence.adapters.speech import PiperTts, WhisperStt
from ringfence.adapters.telephony import g711
from ringfence.speech.audio import CARRIER_RATE, STT_RATE, resample, silence


def words_of(text: str) -> str:
    return " ".join(re.findall(r"[a-z']+", text.lower()))


def say(tts: PiperTts, text: str) -> bytes:
    return b"".join(chunk.pcm for chunk in tts.synthesize_stream(text))


def clearly(tts: PiperTts, stt: WhisperStt, text: str, words: str) -> bytes:
    """`text` in a rendition Whisper hears `words` in over the phone line (G.711), with 0.1 to
    0.3 s of silence before and 0.3 to 0.6 s after it (the pipeline's pre-roll and pause)."""
    for _ in range(5):
        pcm = say(tts, text)
        on_the_line = g711.mulaw_to_pcm16(g711.pcm16_to_mulaw(pcm))
        heard = [
            stt.transcribe(
                resample(
                    silence(before, CARRIER_RATE) + on_the_line + silence(after, CARRIER_RATE),
                    CARRIER_RATE,
                    STT_RATE,
                ),
                vocabulary=["Glow", "Pat"],
            ).text
            for before, after in ((0.1, 0.3), (0.2, 0.3), (0.3, 0.6))
        ]
        if all(words in words_of(h) for h in heard):
            return pcm
    raise AssertionError(f"Whisper never heard {words!r} in Piper's {text!r}")
