"""The live call's speech: voice activity, end of turn and barge-in, speech-to-text, the
agent runtime, text-to-speech, and answering-machine detection, between a carrier's audio
(8 kHz PCM16) and `agent.ConversationRuntime`. See docs/carriers.md, "Speech pipeline".

- `contracts`: the engine Protocols and the one missing-engine error; the engines are in
  `adapters/speech/` (one module per vendor, and fakes), chosen per capability by
  `adapters/speech/registry.py`; `sessions`: the live calls' media sessions on them;
- `turns` and `amd`: pure rules over audio frames, on the audio's own clock;
- `pipeline`: `VoicePipeline`, the carrier's `MediaSession`; `opening`: `prepare_opening`
  before dialing; `worker`, `playback`, `turn_audio`: the pipeline's worker jobs, the agent's
  replies on the timeline, the callee's audio for speech-to-text; `result`: `PipelineResult`;
- `recording`: both legs of the call on one timeline; `audio`, `synth`: PCM helpers and test
  signals.
"""

from __future__ import annotations

from ringfence.speech.amd import AmdDecision, AmdVerdict, AnsweringMachineDetector
from ringfence.speech.amd_config import AmdConfig
from ringfence.speech.contracts import (
    Audio,
    AudioChunk,
    SpeechEngines,
    SpeechEngineUnavailable,
    SpeechToText,
    TextToSpeech,
    Transcript,
    VoiceActivityDetector,
)
from ringfence.speech.opening import PreparedOpening, prepare_opening
from ringfence.speech.pipeline import VoicePipeline
from ringfence.speech.result import PipelineResult, TurnLatency
from ringfence.speech.runner import InlineRunner, ThreadRunner
from ringfence.speech.turns import TurnConfig

__all__ = [
    "AmdConfig",
    "AmdDecision",
    "AmdVerdict",
    "AnsweringMachineDetector",
    "Audio",
    "AudioChunk",
    "InlineRunner",
    "PipelineResult",
    "PreparedOpening",
    "SpeechEngineUnavailable",
    "SpeechEngines",
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
