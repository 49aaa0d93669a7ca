"""A call's opening, made before dialing: the runtime started and its first words synthesized
as carrier audio (`prepare_opening`), so that on answer `VoicePipeline.on_start` has them at
once (the agent speaks within 2 s of the answer: the abandonment rule). Also `to_carrier_rate`,
which every piece of the agent's audio goes through on its way to the carrier.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from ringfence.agent.policies.base import DialoguePolicy
from ringfence.agent.runtime import ConversationRuntime
from ringfence.agent.session import AgentSession
from ringfence.speech.audio import CARRIER_RATE, resample
from ringfence.speech.contracts import AudioChunk, TextToSpeech

Monotonic = Callable[[], float]


def to_carrier_rate(chunk: AudioChunk) -> AudioChunk:
    if chunk.sample_rate == CARRIER_RATE:
        return chunk
    return AudioChunk(
        resample(chunk.pcm, chunk.sample_rate, CARRIER_RATE), CARRIER_RATE, chunk.text
    )


@dataclass(frozen=True, slots=True)
class PreparedOpening:
    """The runtime of one call, already started, and its first words as carrier audio."""

    session: AgentSession
    runtime: ConversationRuntime
    text: str
    chunks: tuple[AudioChunk, ...]
    synthesis_ms: float
    # The opening's later sentences, synthesized on the call's worker while the first plays
    # (`prepare_opening(stream=True)`); None when `chunks` hold all of it.
    rest: Iterator[AudioChunk] | None = None


def prepare_opening(
    session: AgentSession,
    *,
    tts: TextToSpeech,
    policy: DialoguePolicy,
    max_callee_turns: int = 12,
    monotonic: Monotonic = time.perf_counter,
    stream: bool = False,
) -> PreparedOpening:
    """Start the call's runtime and synthesize its opening, before dialing: on answer the
    audio is ready to go. With `stream`, only its first sentence is synthesized now and the
    rest while it plays: an answer that waits on the opening (an inbound call rings until it
    is ready) waits for one sentence, not all of them. Raises InvalidAgentProfile for an
    agent that must not call."""
    runtime = ConversationRuntime(
        session.profile, session.context, policy, max_callee_turns=max_callee_turns
    )
    first = runtime.start()
    began = monotonic()
    spoken = (to_carrier_rate(c) for c in tts.synthesize_stream(first.text))
    if not stream:
        chunks = tuple(spoken)
        return PreparedOpening(session, runtime, first.text, chunks, (monotonic() - began) * 1000)
    head = next(spoken, None)
    chunks = () if head is None else (head,)
    elapsed = (monotonic() - began) * 1000
    return PreparedOpening(session, runtime, first.text, chunks, elapsed, rest=spoken)
