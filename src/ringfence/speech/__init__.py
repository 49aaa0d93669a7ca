"""The live call's speech: voice activity, end of turn and barge-in, speech-to-text, the
agent runtime, text-to-speech, and answering-machine detection, between a carrier's audio
(8 kHz PCM16) and `agent.ConversationRuntime`. See docs/carriers.md, "Speech pipeline".

- `contracts`: the engine Protocols; `engines/`: their implementations (real and fake);
- `turns` and `amd`: pure rules over audio frames, on the audio's own clock;
- `pipeline`: `VoicePipeline`, the carrier's `MediaSession`; `prepare_opening` before dialing;
- `recording`: both legs of the call on one timeline; `audio`, `synth`: PCM helpers and test
  signals.
"""

from __future__ import annotations

from ringfence.speech.amd import AmdConfig, AmdDecision, AmdVerdict, AnsweringMachineDetector
from ringfence.speech.contracts import (
    AudioChunk,
    SpeechEngineUnavailable,
    SpeechToText,
    TextToSpeech,
    Transcript,
    VoiceActivityDetector,
)
from ringfence.speech.pipeline import (
    PipelineResult,
    PreparedOpening,
    TurnLatency,
    VoicePipeline,
    prepare_opening,
)
from ringfence.speech.runner import InlineRunner, ThreadRunner
from ringfence.speech.turns import TurnConfig

__all__ = [
    "AmdConfig",
    "AmdDecision",
    "AmdVerdict",
    "AnsweringMachineDetector",
    "AudioChunk",
    "InlineRunner",
    "PipelineResult",
    "PreparedOpening",
    "SpeechEngineUnavailable",
    "SpeechToText",
    "TextToSpeech",
    "ThreadRunner",
    "Transcript",
    "TurnConfig",
    "TurnLatency",
    "VoiceActivityDetector",
    "VoicePipeline",
    "prepare_opening",
]
