"""What a call's speech pipeline leaves behind (`VoicePipeline.result()`): the transcript and
events as a `Conversation` (`conversation_of`), both legs of the audio, the AMD verdict, and
each callee turn's latency stage by stage (`TurnLatency`, computed by `turn_latency`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ringfence.agent.callee import Conversation, TranscriptLine
from ringfence.agent.events import AgentEvent, EndReason, OptOut, StaffFollowUp, outcome_of
from ringfence.speech.amd import AmdDecision, ReadyForMessage
from ringfence.speech.contracts import Audio
from ringfence.speech.recording import mix_legs
from ringfence.speech.turns import TurnEnded
from ringfence.speech.worker import ReplyDone


@dataclass(frozen=True, slots=True)
class TurnLatency:
    """One callee turn, end of speech to the agent's first audio, stage by stage (ms).

    `endpointing_ms` is audio time (the trailing silence the VAD waited for); the rest is wall
    time: `queue_ms` waiting for the worker, `stt_ms` (when `early_stt`, it ran during the
    end-of-turn silence, and only what overran that silence shows, in `queue_ms`),
    `policy_ms` (the runtime with its guardrails and the dialogue policy),
    `tts_first_chunk_ms` (the first sentence's synthesis), and `voice_to_voice_ms` from the
    end of the callee's speech to the first audio handed to the carrier.
    """

    turn: int
    heard: str
    endpointing_ms: float
    queue_ms: float
    stt_ms: float
    policy_ms: float
    tts_first_chunk_ms: float
    voice_to_voice_ms: float
    early_stt: bool = False  # transcribed during the end-of-turn silence (see turns.py)


def turn_latency(
    reply_id: int,
    heard: str,
    turn: TurnEnded,
    done: ReplyDone,
    *,
    decided_wall: float,
    first_audio_wall: float,
) -> TurnLatency:
    """A turn's latency: the worker's stages (`done`), the end-pointing silence (audio time),
    and from the end of the turn (`decided_wall`) to its reply's first audio, wall time."""
    endpointing = float(turn.decided_ms - turn.end_ms)
    return TurnLatency(
        turn=reply_id,
        heard=heard,
        endpointing_ms=endpointing,
        queue_ms=done.queue_ms,
        stt_ms=done.stt_ms,
        policy_ms=done.policy_ms,
        tts_first_chunk_ms=done.tts_first_chunk_ms,
        early_stt=done.early_stt,
        voice_to_voice_ms=endpointing + (first_audio_wall - decided_wall) * 1000,
    )


@dataclass(frozen=True, slots=True)
class PipelineResult:
    conversation: Conversation
    callee_audio: Audio
    agent_audio: Audio
    latencies: tuple[TurnLatency, ...]
    amd: AmdDecision | None  # as AMD gave it (a machine stays one when a person's opt-out
    # after the verdict cancelled the message: the conversation's outcome says so)
    voicemail: ReadyForMessage | None  # when the message could start; None: none was left
    answer_to_first_audio_ms: float

    def mixed(self) -> Audio:
        """Both legs in one mono track (what `services.recordings` stores)."""
        return mix_legs(self.callee_audio, self.agent_audio)


def conversation_of(
    lines: Iterable[TranscriptLine],
    events: tuple[AgentEvent, ...],
    ended_by: EndReason | None,
    *,
    voicemail: tuple[AgentEvent, ...] | None,
) -> Conversation:
    """The call's record: its lines in time order and the runtime's `events`, or, when a
    machine answered, the `voicemail`'s events."""
    transcript = tuple(sorted(lines, key=lambda line: line.start_s))
    if voicemail is not None:
        # An opt-out heard before the switch to voicemail, or beside the message, still
        # stands, and so does a task for staff raised with it (an urgent clinical one).
        kept = tuple(e for e in events if isinstance(e, OptOut | StaffFollowUp))
        events = (*voicemail, *kept)
        ended_by = EndReason.VOICEMAIL
    else:
        ended_by = ended_by or EndReason.CALLEE_HUNG_UP
    return Conversation(transcript, events, outcome_of(events), ended_by)


def latencies_of(results: Iterable[PipelineResult]) -> list[TurnLatency]:
    return [latency for result in results for latency in result.latencies]
