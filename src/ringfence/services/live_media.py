"""Live calls' media sessions: the speech pipeline of each call a carrier streams to us.

`LiveMediaSessions` is the `MediaSessionFactory` on `app.state.media_sessions`: given the
call's idempotency key it loads the call's job (its `AgentSession` snapshot, the one the dial
carried), prepares the opening (the runtime started, the first words synthesized) and builds a
`VoicePipeline` on the configured engines (`Settings.speech_choice()`: one per capability,
`adapters/speech/registry.py`). The opening is
prepared when the stream starts, i.e. at the answer; the time it takes is part of the
answer-to-first-audio time, kept on each `LiveCallRecord` (with Piper it is the synthesis of
the opening's first sentences; the fake engines take under a millisecond).

A SIP call's session is prepared before it is dialed (`prepare`), so the opening is ready at
the answer; a call no one answers discards it.

`LiveCallSession` wraps the pipeline for the carrier: it adds `Hangup` once the agent's last
words have played (opt-out, goodbye, voicemail left), and when the stream stops it turns the
pipeline's result into what a sandbox call produces: the conversation for the carrier's
report (`LiveCallResults`, taken by `TwilioCarrier.completed_reports`), and both legs of the
call mixed, as a WAV encrypted like every recording, at `recording_path_for(account, job)`:
transcript offsets are on the same timeline (the answer is 0 s).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from ringfence.adapters import metrics
from ringfence.adapters.db.calls import CallJob
from ringfence.adapters.phi_cipher import PhiCipher
from ringfence.adapters.recording_store import (
    encode_wav,
    recording_file,
    recording_path_for,
    seal,
    write_atomically,
)
from ringfence.adapters.speech.fakes import ScriptedStt
from ringfence.adapters.speech.registry import EngineLoader
from ringfence.adapters.telephony.live_calls import (
    LiveCallRecord,
    LiveCallResults,
    with_failed_transfer,
)
from ringfence.adapters.telephony.media import (
    Hangup,
    MediaAction,
    MediaSession,
    StreamStart,
    Transfer,
)
from ringfence.agent.policies.base import DialoguePolicy
from ringfence.agent.profile import PolicyName
from ringfence.agent.session import AgentSession
from ringfence.config import Settings, SpeechChoice, SpeechPreset
from ringfence.log_context import bound_call
from ringfence.services.stored_sessions import MissingProfile, load_session
from ringfence.speech.amd_config import SINGLE_FREQUENCY_RINGBACK_HZ, AmdConfig
from ringfence.speech.contracts import SpeechEngines, SpeechToText
from ringfence.speech.opening import prepare_opening
from ringfence.speech.pipeline import VoicePipeline
from ringfence.speech.result import PipelineResult
from ringfence.speech.runner import Runner, ThreadRunner

log = logging.getLogger("ringfence.speech")

Monotonic = Callable[[], float]


class UnknownCall(LookupError):
    """No call job under the stream's key, or one without an agent session."""


def engines_of(
    settings: Settings, choice: SpeechChoice | SpeechPreset | None = None
) -> EngineLoader:
    """Per-call engines from the settings (one per capability: `Settings.speech_choice()`), or
    `choice` (a preset: `local` or `fake` for every capability). Engines loaded once (Whisper,
    Piper) load at the first call, and the agent's intent model with them
    (`warm_up_understanding`); each call gets a fresh VAD. Raises SpeechEngineUnavailable,
    saying what to install, when a chosen engine is missing (checked here, not at the first
    call)."""
    return EngineLoader(settings, choice=choice, on_load=warm_up_understanding)


def warm_up_understanding() -> None:
    """Build the agent's intent model now, not in the first call's preparation.

    Every call's runtime reads callee turns with the learned understander, whose model is
    trained once per process on first use: seconds of CPU, tens of seconds on a busy machine.
    Left to the first call it delays that call's INVITE (SIP) or, on a call prepared at the
    answer (Twilio), the agent's first words. `engines_of`'s loader calls this when it loads
    a model (so the worker's start-up warm-up covers it); anything holding live calls on
    engines that load nothing can.
    """
    from ringfence.agent.understanding.understander import LearnedUnderstander

    LearnedUnderstander()


@dataclass(frozen=True, slots=True)
class _CallOf:
    account_id: int
    job_id: int
    agent: AgentSession


def live_amd_config(frame_ms: int, *, single_frequency_ringback: bool) -> AmdConfig:
    """The answering-machine detector's thresholds for a live call whose VAD hears `frame_ms`
    frames: the tuned defaults, with the deployment's ringback where its lines ring at one
    frequency (`RINGFENCE_AMD_SINGLE_FREQUENCY_RINGBACK`): there AMD must not take the
    ringback's first burst for a beep-only voicemail (`AmdConfig.ringback_hz`, off by default)."""
    if not single_frequency_ringback:
        return AmdConfig(frame_ms=frame_ms)
    return AmdConfig(frame_ms=frame_ms, ringback_hz=SINGLE_FREQUENCY_RINGBACK_HZ)


def greeting_transcriber(engines: SpeechEngines) -> SpeechToText | None:
    """What lets AMD hear the greeting's words: the call's own speech-to-text. A scripted fake
    hears its lines one per utterance and cannot transcribe a growing greeting."""
    return None if isinstance(engines.stt, ScriptedStt) else engines.stt


class LiveMediaSessions:
    """The `MediaSessionFactory` of live calls (see the module docstring)."""

    def __init__(
        self,
        session_factory: Callable[[], Session],
        *,
        engines: Callable[[], SpeechEngines],
        policy_for: Callable[[PolicyName], DialoguePolicy],
        results: LiveCallResults,
        store_dir: Path,
        cipher: PhiCipher,
        runner: Callable[[], Runner] = ThreadRunner,
        monotonic: Monotonic = time.perf_counter,
        single_frequency_ringback: bool = False,
    ) -> None:
        self._sessions = session_factory
        self._engines = engines
        self._policy_for = policy_for
        self._results = results
        self._store_dir = store_dir
        self._cipher = cipher
        self._runner = runner
        self._monotonic = monotonic
        self._single_frequency = single_frequency_ringback

    def __call__(self, key: str) -> MediaSession:
        """The session of a call whose stream has just started (the answer): the time taken
        to prepare the opening counts in its answer-to-first-audio time."""
        return self._build(key, before_answer=False)

    def prepare(self, key: str) -> LiveCallSession:
        """The session of a call about to be dialed (SIP): the opening is synthesized before
        the INVITE, so it does not count in the answer-to-first-audio time. A call no one
        answers must `discard()` it."""
        return self._build(key, before_answer=True)

    def _build(self, key: str, *, before_answer: bool) -> LiveCallSession:
        began = self._monotonic()
        call = self._load(key)
        pipeline = self.pipeline_for(call.agent)
        prepared_ms = 0.0 if before_answer else (self._monotonic() - began) * 1000
        self._results.began(key)
        return LiveCallSession(
            pipeline,
            on_finish=lambda result: self._finish(key, call, result, prepared_ms),
            on_discard=lambda: self._results.finished(key, None),
        )

    def pipeline_for(self, agent: AgentSession, *, stream_opening: bool = False) -> VoicePipeline:
        """A call's speech pipeline on the configured engines, its opening (an outbound
        call's, or an inbound call's greeting) started and synthesized: all of it, or with
        `stream_opening` its first sentence (the rest while it plays)."""
        engines = self._engines()
        opening = prepare_opening(
            agent,
            tts=engines.tts,
            policy=self._policy_for(agent.profile.policy),
            monotonic=self._monotonic,
            stream=stream_opening,
        )
        return VoicePipeline(
            opening,
            vad=engines.vad,
            stt=engines.stt,
            tts=engines.tts,
            greeting_stt=greeting_transcriber(engines),
            amd_config=self.amd_config(engines.vad.frame_ms),
            runner=self._runner(),
            monotonic=self._monotonic,
        )

    def amd_config(self, frame_ms: int) -> AmdConfig:
        """The answering-machine detector's thresholds for a call whose VAD hears `frame_ms`
        frames (see `live_amd_config`)."""
        return live_amd_config(frame_ms, single_frequency_ringback=self._single_frequency)

    def _load(self, key: str) -> _CallOf:
        with self._sessions() as session:
            row = session.execute(
                select(
                    CallJob.account_id,
                    CallJob.id,
                    CallJob.agent_session,
                    CallJob.agent_profile_digest,
                ).where(CallJob.idempotency_key == key)
            ).one_or_none()
            try:
                agent_session = (
                    None
                    if row is None
                    else load_session(
                        session, row.account_id, row.agent_session, row.agent_profile_digest
                    )
                )
            except MissingProfile as exc:
                raise UnknownCall(f"the call job under {key!r}: {exc}") from exc
        if row is None or agent_session is None:
            raise UnknownCall(f"no call job with an agent session under {key!r}")
        return _CallOf(row.account_id, row.id, agent_session)

    def _finish(self, key: str, call: _CallOf, result: PipelineResult, prepared_ms: float) -> None:
        observe_call(result, direction="outbound")
        with bound_call(call.job_id):
            self._record(key, call, result, prepared_ms)

    def _record(self, key: str, call: _CallOf, result: PipelineResult, prepared_ms: float) -> None:
        path, seconds = store_recording(
            self._store_dir, self._cipher, call.account_id, call.job_id, result
        )
        record = LiveCallRecord(
            conversation=result.conversation,
            recording_path=path,
            recording_seconds=seconds,
            answer_to_first_audio_ms=prepared_ms + result.answer_to_first_audio_ms,
        )
        log.info(
            "live call %s ended (%s): answer to first audio %.0f ms",
            key,
            result.conversation.ended_by.value,
            record.answer_to_first_audio_ms,
        )
        self._results.finished(key, record)


def observe_call(result: PipelineResult, *, direction: str) -> None:
    """Count a finished live call's turn latencies and AMD verdict in the process's metrics
    (timings and enums only: nothing said on the call)."""
    for turn in result.latencies:
        metrics.speech_turn(
            direction,
            voice_to_voice_ms=turn.voice_to_voice_ms,
            stt_ms=turn.stt_ms,
            tts_first_chunk_ms=turn.tts_first_chunk_ms,
        )
    if result.amd is not None:
        metrics.amd_decision(result.amd.verdict.value)


def store_recording(
    store_dir: Path, cipher: PhiCipher, account_id: int, job_id: int, result: PipelineResult
) -> tuple[str | None, float | None]:
    """Both legs of a live call, mixed, written as an encrypted WAV at the job's recording
    path: (the path, its seconds), or (None, None) when it could not be written (the
    transcript is still kept; the renderer makes a recording of it)."""
    try:
        audio = result.mixed()
        path = recording_path_for(account_id, job_id)
        write_atomically(recording_file(store_dir, path), seal(cipher, encode_wav(audio)))
    except Exception:
        log.exception("recording of live call job %d not stored", job_id)
        return None, None
    return path, round(audio.seconds, 2)


class LiveCallSession:
    """A `VoicePipeline` as the carrier's session: `Hangup` once the call is over (`Transfer`
    when the agent handed the callee to staff), and the call's record handed on when the
    stream stops (`on_finish`, once), with a failed transfer added to its events."""

    def __init__(
        self,
        pipeline: VoicePipeline,
        *,
        on_finish: Callable[[PipelineResult], None],
        on_discard: Callable[[], None] = lambda: None,
    ) -> None:
        self.pipeline = pipeline
        self._on_finish = on_finish
        self._on_discard = on_discard
        self._hangup_sent = False
        self._finished = False
        self._transfer_failed: str | None = None

    def on_start(self, start: StreamStart) -> list[MediaAction]:
        return self._then_hangup(self.pipeline.on_start(start))

    def on_audio(self, pcm16: bytes, at: float) -> list[MediaAction]:
        return self._then_hangup(self.pipeline.on_audio(pcm16, at))

    def on_mark(self, name: str) -> list[MediaAction]:
        return self._then_hangup(self.pipeline.on_mark(name))

    def on_stop(self) -> None:
        if self._finished:
            return
        self._finished = True
        self.pipeline.on_stop()
        result = self.pipeline.result()
        if self._transfer_failed is not None:
            result = _with_failed_transfer(result, self._transfer_failed)
        self._on_finish(result)

    def transfer_failed(self, why: str) -> None:
        """The carrier could not hand the call to staff (`TransferAware`)."""
        self._transfer_failed = why

    def discard(self) -> None:
        """The call was never answered: stop the pipeline's worker, report nothing."""
        if self._finished:
            return
        self._finished = True
        self.pipeline.on_stop()
        self._on_discard()

    def _then_hangup(self, actions: list[MediaAction]) -> list[MediaAction]:
        if self.pipeline.hangup_due and not self._hangup_sent:
            self._hangup_sent = True
            to = self.pipeline.transfer_to
            actions.append(Hangup() if to is None else Transfer(to))
        return actions


def _with_failed_transfer(result: PipelineResult, why: str) -> PipelineResult:
    return replace(result, conversation=with_failed_transfer(result.conversation, why))
