"""The recordings' two voices (agent, callee), from the text-to-speech engines installed."""

from __future__ import annotations

from typing import Final

from ringfence.adapters.speech.espeak import EspeakTts, find_espeak
from ringfence.adapters.speech.piper import PiperTts, piper_installed
from ringfence.speech.contracts import SpeechEngineUnavailable, TextToSpeech

# With no espeak-ng, the callee is the agent's Piper model, lowered ~2 semitones (which also
# slows it ~11%) and stretched a little more: a deeper, slower second speaker for free.
CALLEE_PIPER_PITCH: Final = 0.89
CALLEE_PIPER_LENGTH_SCALE: Final = 1.1


def default_voices(*, piper: bool = True, espeak: bool = True) -> tuple[TextToSpeech, TextToSpeech]:
    """The (agent, callee) voices for call recordings, from what is installed, each at its
    engine's own rate (the recordings pass resamples).

    | installed          | agent                  | callee                                 |
    |--------------------|------------------------|----------------------------------------|
    | piper + espeak-ng  | piper (joe, en_US)     | espeak-ng en-us, lower pitch           |
    | piper only         | piper (joe, en_US)     | the same piper model, deeper, slower   |
    | espeak-ng only     | espeak-ng en-us        | espeak-ng en-us, lower pitch, slower   |
    | neither            | SpeechEngineUnavailable, saying what to install                 |

    `piper=False` / `espeak=False` leave an engine out even when installed (tests, or an
    operator who prefers one). Loading piper takes about a second: call this once per worker.
    """
    use_piper = piper and piper_installed()
    espeak_path = find_espeak() if espeak else None
    callee_espeak = (
        EspeakTts(words_per_minute=160, pitch=35, executable=espeak_path) if espeak_path else None
    )
    if use_piper:
        agent = PiperTts.bundled(sample_rate=None)
        return agent, callee_espeak or agent.variant(
            length_scale=CALLEE_PIPER_LENGTH_SCALE, pitch=CALLEE_PIPER_PITCH
        )
    if callee_espeak is not None:
        return EspeakTts(words_per_minute=175, executable=espeak_path), callee_espeak
    raise SpeechEngineUnavailable(
        "no text-to-speech engine is installed: install the speech extra "
        "(pip install 'ringfence[speech]') for the natural Piper voice, "
        "and/or espeak-ng (apt-get install espeak-ng) for the robotic one"
    )
