"""VoicePipeline: a live call's audio <-> the agent runtime (a `MediaSession`).

    opening = prepare_opening(agent_session, tts=tts, policy=policy)   # before dialing
    pipeline = VoicePipeline(opening, vad=vad, stt=stt, tts=tts)       # the carrier's session
    ... the carrier calls on_start, on_audio (every 20 ms), on_mark, on_stop ...
    result = pipeline.result()   # transcript with offsets, both legs, latencies, AMD verdict

What happens on the call:
1. **Answer**: the opening was synthesized before dialing, so `on_start` returns its audio
   at once (the agent speaks within 2 s of the answer: the abandonment rule).
2. **Who answered** (outbound calls): answering-machine detection (`speech.amd`) listens from
   the first frame while the opening plays, and the opening never waits for it. Until it
   decides, the callee's greeting ("Hello?") is not a turn and cannot barge in. On a machine
   the opening stops (`Clear`), the agent's compliant voicemail (`agent.voicemail`: practice,
   callback number, generic reason, opt-out line; no PHI) is synthesized and played once the
   beep is over, and the call's outcome is `voicemail`. Given a `greeting_stt`, AMD also
   hears the greeting's words: the worker transcribes the greeting as it grows, when AMD asks.
3. **Turns**: every 20 ms frame goes through the VAD and the end-of-turn rules
   (`speech.turns`); the callee's audio goes to speech-to-text as soon as they pause (300 ms:
   the transcript is ready by the time 600 ms of silence end the turn; thrown away if they go
   on), and at the end of the turn the words go to the runtime (which applies every
   guardrail: opt-out, disclosure, clinical deferral...), and the reply to text-to-speech
   one sentence at a time: the first sentence's audio is sent while the next is still being
   synthesized. That work runs on the pipeline's worker (`speech.runner`); its audio is
   returned from the next `on_audio` (20 ms later at most).
4. **Barge-in**: the callee talking over the agent stops the agent at once: `Clear`, and the
   rest of that reply is dropped (the sentences not yet synthesized are never made).
5. **End**: when the runtime ends the call (opt-out, goodbye, urgent deferral) its last words
   play and `hangup_due` turns True once they have been heard; the carrier hangs up.

Time: the call's timeline is the inbound audio itself (millisecond t = t ms of callee audio
after the answer), so transcript offsets, the recording and end-pointing share one clock and
replay exactly. Wall-clock time (`monotonic`, injected) is used only to measure latency.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum

from ringfence.agent.callee import Conversation, TranscriptLine
from ringfence.agent.events import (
    AgentEvent,
    CallEnded,
    EndReason,
    OptOut,
    TransferRequested,
    VoicemailLeft,
    outcome_of,
)
from ringfence.agent.policies.base import DialoguePolicy, Speaker
from ringfence.agent.profile import CallDirection
from ringfence.agent.runtime import ConversationRuntime
from ringfence.agent.session import AgentSession
from ringfence.agent.voicemail import compose_voicemail
from ringfence.speech.amd import (
    AmdConfig,
    AmdDecision,
    AmdVerdict,
    AnsweringMachineDetector,
    ReadyForMessage,
    TranscribeGreeting,
)
from ringfence.speech.audio import CARRIER_RATE, SAMPLE_WIDTH, STT_RATE, LinearResampler, resample
from ringfence.speech.contracts import (
    Audio,
    AudioChunk,
    SpeechToText,
    TextToSpeech,
    Transcript,
    VoiceActivityDetector,
)
from ringfence.speech.media import Clear, MediaAction, OutboundAudio, StreamStart
from ringfence.speech.recording import CallRecorder, mix_legs
from ringfence.speech.runner import InlineRunner, Runner
from ringfence.speech.turns import BargeIn, SpeechPaused, TurnConfig, TurnDetector, TurnEnded

log = logging.getLogger("ringfence.speech")

Monotonic = Callable[[], float]
PREROLL_MS = 200  # audio kept before the detected start of speech (the VAD starts late)


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


@dataclass(frozen=True, slots=True)
class PipelineResult:
    conversation: Conversation
    callee_audio: Audio
    agent_audio: Audio
    latencies: tuple[TurnLatency, ...]
    amd: AmdDecision | None
    voicemail: ReadyForMessage | None
    answer_to_first_audio_ms: float

    def mixed(self) -> Audio:
        """Both legs in one mono track (what `services.recordings` stores)."""
        return mix_legs(self.callee_audio, self.agent_audio)


class Mode(StrEnum):
    CONVERSATION = "conversation"
    VOICEMAIL = "voicemail"  # a machine answered: waiting for the beep, then the message
    ENDED = "ended"


# -- what the worker hands back to the carrier's thread ------------------------------------
@dataclass(frozen=True, slots=True)
class _Speech:
    reply: int
    chunk: AudioChunk
    final: bool = False  # the call's last words (the runtime ended the call)


@dataclass(frozen=True, slots=True)
class _Heard:
    turn: int
    text: str
    start_ms: int
    end_ms: int


@dataclass(frozen=True, slots=True)
class _ReplyDone:
    reply: int
    text: str
    ended: bool
    queue_ms: float = 0.0
    stt_ms: float = 0.0
    policy_ms: float = 0.0
    tts_first_chunk_ms: float = 0.0
    early_stt: bool = False
    failed: bool = False


@dataclass(frozen=True, slots=True)
class _GreetingHeard:
    """The greeting's transcript up to `until_ms`, for AMD (None: the transcription failed)."""

    text: str | None
    until_ms: int


@dataclass(frozen=True, slots=True)
class _GreetingOptOut:
    """The callee asked not to be called while AMD still listened (so a person is there):
    the opening stops, AMD's verdict is no longer awaited, and this turn's reply plays."""

    reply: int


_Message = _Speech | _Heard | _ReplyDone | _GreetingHeard | _GreetingOptOut


@dataclass(slots=True)
class _Reply:
    """One agent utterance as played: sentences placed on the timeline."""

    id: int
    sentences: list[tuple[int, int, str]] = field(default_factory=list)  # start, end, text
    turn: TurnEnded | None = None
    respond: bool = False
    start_ms: int = 0  # where the callee's words begin (an earlier turn's, when joined)
    pcm: bytes = b""  # the turn's audio for speech-to-text (16 kHz)
    heard: str = ""
    decided_wall: float = 0.0
    first_audio_wall: float | None = None
    done: _ReplyDone | None = None
    latency_recorded: bool = False


class VoicePipeline:
    """The speech pipeline of one call: a `MediaSession` for any carrier (see the module
    docstring). Pass `runner=ThreadRunner()` on a live call; the default `InlineRunner` runs
    the work inside `on_audio` (tests, offline replays)."""

    def __init__(
        self,
        opening: PreparedOpening,
        *,
        vad: VoiceActivityDetector,
        stt: SpeechToText,
        tts: TextToSpeech,
        turn_config: TurnConfig | None = None,
        amd_config: AmdConfig | None = None,
        detect_machine: bool | None = None,
        greeting_stt: SpeechToText | None = None,
        runner: Runner | None = None,
        monotonic: Monotonic = time.perf_counter,
    ) -> None:
        if vad.sample_rate != CARRIER_RATE:
            raise ValueError(f"the pipeline feeds the VAD {CARRIER_RATE} Hz frames")
        self._opening = opening
        self._runtime = opening.runtime
        self._vad = vad
        self._stt = stt
        self._tts = tts
        self._turns = TurnDetector(turn_config or TurnConfig(frame_ms=vad.frame_ms))
        if self._turns.config.frame_ms != vad.frame_ms:
            raise ValueError("turn_config.frame_ms must match the VAD's frame_ms")
        if detect_machine is None:
            detect_machine = opening.session.context.direction is CallDirection.OUTBOUND
        # With `greeting_stt`, AMD also hears the greeting's words: it asks for the greeting's
        # transcript as it grows, and the worker transcribes it (between turns, like them).
        self._amd = (
            AnsweringMachineDetector(
                amd_config or AmdConfig(frame_ms=vad.frame_ms), words=greeting_stt is not None
            )
            if detect_machine
            else None
        )
        self._greeting_stt = greeting_stt
        self._amd_overruled = False  # an opt-out in the greeting: a person, whatever AMD says
        self._greeting_pcm = bytearray()  # 8 kHz inbound from the answer, while AMD listens
        self._runner = runner or InlineRunner()
        self._monotonic = monotonic
        self._frame_bytes = SAMPLE_WIDTH * CARRIER_RATE * vad.frame_ms // 1000
        context = opening.session.context
        self._vocabulary = tuple(
            w for w in (opening.session.profile.practice_name, context.patient_first_name) if w
        )

        self._mode = Mode.CONVERSATION
        self._recorder = CallRecorder(CARRIER_RATE)
        self._pending = b""  # inbound bytes short of a whole frame
        self._upsampler = LinearResampler(CARRIER_RATE, STT_RATE)
        self._stt_audio = bytearray()  # 16 kHz inbound, from `_stt_base_ms` on
        self._stt_base_ms = 0
        self._messages: queue.SimpleQueue[_Message] = queue.SimpleQueue()
        # Early transcripts by (turn start, speech end); only the worker reads and writes it.
        self._early: dict[tuple[int, int], tuple[Transcript, float]] = {}
        # Which replies may still speak, and which turns the worker has taken (all under
        # `_cancel_lock`: the carrier's thread and the worker both read them).
        self._cancel_lock = threading.Lock()
        self._cut: set[int] = set()  # stopped while speaking (or the call ended): silent now
        self._stale: set[int] = set()  # not started when the callee talked: only final words
        self._claimed: set[int] = set()  # turns the worker has started on
        self._joined: set[int] = set()  # turns folded into a later turn, never judged alone
        self._replies: dict[int, _Reply] = {}
        self._next_id = 1  # reply 0 is the opening
        self._play_until_ms = 0
        self._marks: dict[str, int] = {}  # mark -> the timeline ms its audio ends at
        self._callee_lines: list[TranscriptLine] = []
        self._latencies: list[TurnLatency] = []
        self._voicemail_reply: int | None = None
        self._voicemail_events: tuple[AgentEvent, ...] = ()
        self._voicemail_held: list[AudioChunk] = []
        self._hangup_at_ms: int | None = None
        self._answer_to_first_audio_ms = 0.0
        self._stopped = False
        self.start: StreamStart | None = None
        self.played_marks: list[str] = []

    # -- what the carrier reads -----------------------------------------------------------
    @property
    def now_ms(self) -> int:
        """Where the call is: milliseconds of callee audio received since the answer."""
        return self._recorder.inbound_ms

    @property
    def mode(self) -> Mode:
        return self._mode

    @property
    def agent_speaking(self) -> bool:
        return self._play_until_ms > self.now_ms

    @property
    def hangup_due(self) -> bool:
        """The agent has said its last words and they have been played: hang up."""
        return self._hangup_at_ms is not None and self.now_ms >= self._hangup_at_ms

    @property
    def transfer_to(self) -> str | None:
        """The staff line the agent handed the callee to (a warm transfer), if it did."""
        if self._voicemail_reply is not None or self._runtime.ended_by is not EndReason.TRANSFERRED:
            return None
        asked = [e for e in self._runtime.events if isinstance(e, TransferRequested)]
        return asked[-1].to if asked else None

    # -- MediaSession ---------------------------------------------------------------------
    def on_start(self, start: StreamStart) -> list[MediaAction]:
        began = self._monotonic()
        self.start = start
        reply = self._new_reply(0)
        out: list[MediaAction] = []
        for chunk in self._opening.chunks:
            self._emit(out, reply, chunk)
        rest, ended = self._opening.rest, self._runtime.ended
        if rest is not None:  # its later sentences follow from the worker, as a reply's do
            self._runner.submit(lambda: self._rest_of_opening(rest, ended))
        else:
            reply.done = _ReplyDone(0, self._opening.text, ended)
            if ended:
                self._hangup_at_ms = self._play_until_ms
        self._answer_to_first_audio_ms = (self._monotonic() - began) * 1000
        return out

    def _rest_of_opening(self, rest: Iterator[AudioChunk], ended: bool) -> None:
        """On the worker: the opening's later sentences, stopped if the callee talks over
        it (a barge-in cuts the opening as it cuts any reply)."""
        try:
            # Checked before each sentence is made, not after: a cut greeting costs no more
            # synthesis (a busy worker may reach this after the callee talked).
            while not self._silenced(0, final=ended):
                chunk = next(rest, None)
                if chunk is None:
                    break
                self._messages.put(_Speech(0, chunk, ended))
        except Exception:  # the engine failed: the callee hears the first sentence only
            log.exception("the rest of the opening could not be synthesized")
        self._messages.put(_ReplyDone(0, self._opening.text, ended))

    def on_audio(self, pcm16: bytes, at: float) -> list[MediaAction]:
        out: list[MediaAction] = []
        if self._stopped:
            return out
        self._recorder.add_inbound(pcm16)
        if self._greeting_stt is not None and self._amd is not None and self._amd.decision is None:
            self._greeting_pcm += pcm16
        self._stt_audio += self._upsampler.process(pcm16)
        self._pending += pcm16
        while len(self._pending) >= self._frame_bytes:
            frame, self._pending = (
                self._pending[: self._frame_bytes],
                self._pending[self._frame_bytes :],
            )
            self._on_frame(frame, out)
        self._drain(out)
        return out

    def on_mark(self, name: str) -> list[MediaAction]:
        # Whether the agent is speaking is read off the timeline (each piece of audio plays
        # from where the last one ends), which works for carriers with or without marks;
        # `played_marks` is kept for the record and for tests.
        if self._marks.pop(name, None) is not None:
            self.played_marks.append(name)
        out: list[MediaAction] = []
        self._drain(out)
        return out

    def on_stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        with self._cancel_lock:
            self._cut.update(self._replies)
        self._runner.close()
        self._stop_agent([], self.now_ms)  # audio still queued when the line dropped was unheard
        if self._mode is Mode.CONVERSATION and not self._runtime.ended:
            self._runtime.callee_hung_up()
        self._drain([])
        self._mode = Mode.ENDED

    # -- per frame ------------------------------------------------------------------------
    def _on_frame(self, frame: bytes, out: list[MediaAction]) -> None:
        speech = self._vad.is_speech(frame)
        amd_pending = False
        if self._amd is not None and not self._amd.done and not self._amd_overruled:
            for heard in self._amd.observe(frame, speech=speech):
                if isinstance(heard, AmdDecision) and heard.verdict is AmdVerdict.MACHINE:
                    self._switch_to_voicemail(out)
                elif isinstance(heard, ReadyForMessage):
                    self._voicemail_ready(out)
                elif isinstance(heard, TranscribeGreeting):
                    self._transcribe_greeting(heard)
            amd_pending = self._amd.decision is None
            if not amd_pending and self._greeting_pcm:
                self._greeting_pcm = bytearray()
        if self._mode is not Mode.CONVERSATION:
            return
        frame_end = self._turns.now_ms + self._turns.config.frame_ms
        speaking = self._play_until_ms > frame_end and not amd_pending
        for event in self._turns.push(speech=speech, agent_speaking=speaking):
            if isinstance(event, BargeIn):
                log.debug("barge-in at %d ms", event.at_ms)
                self._stop_agent(out, event.at_ms)
            elif isinstance(event, SpeechPaused) and not amd_pending:
                self._transcribe_early(event)
            elif isinstance(event, TurnEnded):
                # A turn that ends while AMD is still listening is the greeting ("Hello?"):
                # transcribed for the record, never answered (the opening is playing).
                self._answer(event, respond=not amd_pending)
        if not self._turns.in_speech:
            self._trim_stt_audio()

    def _transcribe_greeting(self, request: TranscribeGreeting) -> None:
        """Transcribe the greeting so far on the worker; AMD weighs its words (see
        `speech.amd_words`). Never logged: a greeting's words are PHI."""
        stt = self._greeting_stt
        if stt is None:
            return

        def at(ms: int) -> int:
            return SAMPLE_WIDTH * (ms * CARRIER_RATE // 1000)

        pcm = bytes(self._greeting_pcm[at(request.from_ms) : at(request.until_ms)])

        def job() -> None:
            text: str | None = None
            try:
                text = stt.transcribe(resample(pcm, CARRIER_RATE, STT_RATE)).text
            except Exception:
                log.exception("greeting transcription failed; AMD goes on by timing")
            self._messages.put(_GreetingHeard(text, request.until_ms))

        self._runner.submit(job)

    def _transcribe_early(self, pause: SpeechPaused) -> None:
        """Start speech-to-text during the end-of-turn silence; the turn's job reuses it if no
        speech came after (it runs first: the worker takes jobs in order)."""
        if self._runtime.ended or self._hangup_at_ms is not None:
            return
        if self._waiting_turns():
            return  # the worker is behind: this turn will carry those, transcribed at its end
        key = (pause.start_ms, pause.end_ms)
        pcm = self._turn_audio(pause.start_ms, pause.at_ms)

        def job() -> None:
            began = self._monotonic()
            try:
                heard = self._stt.transcribe(pcm, vocabulary=self._vocabulary)
            except Exception:
                log.exception("early transcription failed; the turn will try again")
                return
            self._early[key] = (heard, (self._monotonic() - began) * 1000)

        self._runner.submit(job)

    def _waiting_turns(self, *, join_into: int | None = None) -> list[_Reply]:
        """The turns to be answered that the worker has not started on (their audio is kept
        until it does; the others' is let go), in order; `join_into` a later turn: taken from
        the worker, which will answer that turn for them."""
        waiting: list[_Reply] = []
        with self._cancel_lock:
            for r in self._replies.values():
                if r.id in self._claimed or r.id in self._joined:
                    r.pcm = b""
                elif r.respond and r.id != join_into:
                    waiting.append(r)
            if join_into is not None:
                self._joined.update(r.id for r in waiting)
        return waiting

    def _turn_audio(self, start_ms: int, until_ms: int) -> bytes:
        start = max(self._stt_base_ms, start_ms - PREROLL_MS)
        return bytes(self._stt_audio[self._offset16(start) : self._offset16(until_ms)])

    def _answer(self, turn: TurnEnded, *, respond: bool) -> None:
        if self._runtime.ended or self._hangup_at_ms is not None:
            return
        reply = self._new_reply(self._next_id)
        self._next_id += 1
        reply.turn = turn
        reply.respond = respond
        reply.start_ms = turn.start_ms
        reply.decided_wall = self._monotonic()
        reply.pcm = self._turn_audio(turn.start_ms, turn.decided_ms)
        pcm = reply.pcm
        early_key: tuple[int, int] | None = (turn.start_ms, turn.end_ms)
        if respond:
            # Turns the worker has not started on yet (it is behind: a slow transcription, a
            # busy machine) are not judged alone: the callee went on talking, so this turn
            # carries them ("Please." ... "stop calling me." is one request).
            waiting = self._waiting_turns(join_into=reply.id)
            if waiting:
                log.info(
                    "turn %s carries turns %s the worker had not reached",
                    reply.id,
                    [r.id for r in waiting],
                )
                reply.start_ms = waiting[0].start_ms
                pcm = b"".join([*(r.pcm for r in waiting), pcm])
                early_key = None  # the early transcript covers this turn's part only
        start_ms = reply.start_ms
        self._runner.submit(
            lambda: self._reply_job(
                reply.id, turn, pcm, reply.decided_wall, start_ms, early_key, respond=respond
            )
        )

    def _reply_job(
        self,
        reply_id: int,
        turn: TurnEnded,
        pcm: bytes,
        decided: float,
        start_ms: int,
        early_key: tuple[int, int] | None,
        *,
        respond: bool,
    ) -> None:
        """On the worker: speech-to-text, the runtime, synthesis sentence by sentence.

        Every turn is heard and judged (an opt-out must be caught whenever it was said), even
        one whose reply was cancelled before the worker reached it: a cancelled reply only
        loses its voice (see `_silenced`). A turn folded into a later one is judged there."""
        clock = self._monotonic
        began = clock()
        with self._cancel_lock:
            if reply_id in self._joined:
                return
            self._claimed.add(reply_id)
        try:
            early = self._early.pop(early_key, None) if early_key is not None else None
            self._early.clear()  # transcripts of pauses the callee talked through
            if early is not None:
                heard, stt_ms = early
            else:
                heard = self._stt.transcribe(pcm, vocabulary=self._vocabulary)
                stt_ms = (clock() - began) * 1000
            stt_done = clock()
            log.debug(  # never the words: transcripts are PHI
                "turn %s (%d-%d ms): %d words heard, queued %.0f ms, stt %.0f ms%s",
                reply_id,
                start_ms,
                turn.end_ms,
                len(heard.text.split()),
                (began - decided) * 1000,
                stt_ms,
                " (early)" if early is not None else "",
            )
            self._messages.put(_Heard(reply_id, heard.text, start_ms, turn.end_ms))
            # The greeting is not answered, unless it asks not to be called ("Hello? Stop
            # calling me."): an opt-out is honoured whenever it was said.
            greeting_opt_out = (
                not respond
                and bool(heard.text.strip())
                and not self._runtime.ended
                and self._runtime.hears_opt_out(heard.text)
            )
            if greeting_opt_out:
                self._messages.put(_GreetingOptOut(reply_id))
            elif not respond or not heard.text.strip() or self._runtime.ended:
                self._messages.put(_ReplyDone(reply_id, "", False))
                return
            said = self._runtime.respond(heard.text)
            policy_done = clock()
            log.debug("turn %s answered (the call ended: %s)", reply_id, said.ended)
            first_chunk: float | None = None
            if not self._silenced(reply_id, final=said.ended):
                for chunk in self._tts.synthesize_stream(said.text):
                    if first_chunk is None:
                        first_chunk = clock()
                    self._messages.put(_Speech(reply_id, to_carrier_rate(chunk), said.ended))
                    if self._silenced(reply_id, final=said.ended):
                        break  # barged in: the rest is never synthesized
            self._messages.put(
                _ReplyDone(
                    reply_id,
                    said.text,
                    said.ended,
                    queue_ms=(began - decided) * 1000,
                    stt_ms=stt_ms,
                    early_stt=early is not None,
                    policy_ms=(policy_done - stt_done) * 1000,
                    tts_first_chunk_ms=((first_chunk or policy_done) - policy_done) * 1000,
                )
            )
        except Exception:
            # An engine failure must not take the call down with it: the turn goes
            # unanswered (the callee can speak again) and the failure is logged.
            log.exception("speech pipeline turn %s failed", reply_id)
            self._messages.put(_ReplyDone(reply_id, "", False, failed=True))

    # -- machine answered -----------------------------------------------------------------
    def _switch_to_voicemail(self, out: list[MediaAction]) -> None:
        self._stop_agent(out, self.now_ms)
        with self._cancel_lock:
            self._cut.update(self._replies)
        self._mode = Mode.VOICEMAIL
        profile, context = self._opening.session.profile, self._opening.session.context
        text, filtered = compose_voicemail(profile, context)
        self._voicemail_events = (*filtered, VoicemailLeft(), CallEnded(EndReason.VOICEMAIL))
        reply = self._new_reply(self._next_id)
        self._next_id += 1
        self._voicemail_reply = reply.id

        def synthesize() -> None:
            for chunk in self._tts.synthesize_stream(text):
                self._messages.put(_Speech(reply.id, to_carrier_rate(chunk)))
            self._messages.put(_ReplyDone(reply.id, text, True))

        self._runner.submit(synthesize)

    def _voicemail_ready(self, out: list[MediaAction]) -> None:
        if self._voicemail_reply is None:
            return
        reply = self._replies[self._voicemail_reply]
        for chunk in self._voicemail_held:  # synthesized while the greeting played
            self._emit(out, reply, chunk)
        self._voicemail_held.clear()
        if reply.done is not None:
            self._hangup_at_ms = self._play_until_ms

    @property
    def _voicemail_can_play(self) -> bool:
        return self._amd is not None and self._amd.ready is not None

    # -- output ---------------------------------------------------------------------------
    def _drain(self, out: list[MediaAction]) -> None:
        while True:
            try:
                message = self._messages.get_nowait()
            except queue.Empty:
                return
            if isinstance(message, _GreetingHeard):
                if self._amd is not None:
                    self._amd.hear(message.text, until_ms=message.until_ms)
                continue
            if isinstance(message, _GreetingOptOut):
                self._honour_greeting_opt_out(out, message.reply)
                continue
            if isinstance(message, _Heard):
                if message.text.strip():
                    self._callee_lines.append(
                        TranscriptLine(
                            Speaker.CALLEE,
                            message.text.strip(),
                            message.start_ms / 1000,
                            message.end_ms / 1000,
                        )
                    )
                self._replies[message.turn].heard = message.text.strip()
                continue
            reply = self._replies[message.reply]
            if isinstance(message, _Speech):
                if message.reply == self._voicemail_reply and not self._voicemail_can_play:
                    self._voicemail_held.append(message.chunk)
                elif reply.id == self._voicemail_reply or not self._silenced(
                    message.reply, final=message.final
                ):
                    self._emit(out, reply, message.chunk)
                continue
            reply.done = message
            self._record_latency(reply)
            if message.ended and (
                message.reply != self._voicemail_reply or self._voicemail_can_play
            ):
                self._hangup_at_ms = self._play_until_ms

    def _emit(self, out: list[MediaAction], reply: _Reply, chunk: AudioChunk) -> None:
        start = max(self.now_ms, self._play_until_ms)
        length_ms = round(chunk.seconds * 1000)
        self._play_until_ms = start + length_ms
        self._recorder.add_outbound(start, chunk.pcm)
        reply.sentences.append((start, start + length_ms, chunk.text))
        mark = f"reply-{reply.id}-{len(reply.sentences)}"
        self._marks[mark] = self._play_until_ms
        if reply.first_audio_wall is None:
            reply.first_audio_wall = self._monotonic()
            self._record_latency(reply)
        out.append(OutboundAudio(chunk.pcm, mark=mark))

    def _honour_greeting_opt_out(self, out: list[MediaAction], reply_id: int) -> None:
        if self._mode is not Mode.CONVERSATION:
            return  # already leaving a voicemail: the opt-out is kept in the record (result)
        self._amd_overruled = True
        self._stop_agent(out, self.now_ms)
        with self._cancel_lock:
            self._cut.discard(reply_id)
            self._stale.discard(reply_id)
        self._replies[reply_id].respond = True

    def _stop_agent(self, out: list[MediaAction], at_ms: int) -> None:
        with self._cancel_lock:
            for r in self._replies.values():
                if r.id == self._voicemail_reply:
                    continue
                # Speaking (or spoken): cut. Not heard yet: stale, its turn is still judged.
                (self._cut if r.sentences else self._stale).add(r.id)
        if self._hangup_at_ms is not None:
            self._hangup_at_ms = min(self._hangup_at_ms, at_ms)
        if self._play_until_ms <= at_ms:
            return
        out.append(Clear())
        self._recorder.cut_outbound(at_ms)
        for reply in self._replies.values():
            reply.sentences = [
                (start, min(end, at_ms), text)
                for start, end, text in reply.sentences
                if start < at_ms
            ]
        self._play_until_ms = at_ms
        self._marks.clear()

    # -- bookkeeping ----------------------------------------------------------------------
    def _new_reply(self, reply_id: int) -> _Reply:
        reply = _Reply(reply_id)
        self._replies[reply_id] = reply
        return reply

    def _silenced(self, reply_id: int, *, final: bool) -> bool:
        """Whether a reply's audio must not be played: it was cut while the agent spoke (a
        barge-in, the call's end), or the callee talked before it was heard, unless it holds
        the call's last words (an opt-out's acknowledgement is said even then)."""
        with self._cancel_lock:
            return reply_id in self._cut or (reply_id in self._stale and not final)

    def _record_latency(self, reply: _Reply) -> None:
        done, turn = reply.done, reply.turn
        if done is None or turn is None or reply.first_audio_wall is None or not done.text:
            return
        if reply.latency_recorded:
            return
        reply.latency_recorded = True
        endpointing = float(turn.decided_ms - turn.end_ms)
        self._latencies.append(
            TurnLatency(
                turn=reply.id,
                heard=reply.heard,
                endpointing_ms=endpointing,
                queue_ms=done.queue_ms,
                stt_ms=done.stt_ms,
                policy_ms=done.policy_ms,
                tts_first_chunk_ms=done.tts_first_chunk_ms,
                early_stt=done.early_stt,
                voice_to_voice_ms=endpointing
                + (reply.first_audio_wall - reply.decided_wall) * 1000,
            )
        )

    def _offset16(self, ms: int) -> int:
        return SAMPLE_WIDTH * (ms - self._stt_base_ms) * STT_RATE // 1000

    def _trim_stt_audio(self) -> None:
        # Between turns only the pre-roll is worth keeping.
        keep_from = self.now_ms - PREROLL_MS
        if keep_from - self._stt_base_ms >= 1_000:
            del self._stt_audio[: self._offset16(keep_from)]
            self._stt_base_ms = keep_from

    # -- the record -----------------------------------------------------------------------
    def result(self) -> PipelineResult:
        agent_lines = [
            TranscriptLine(
                Speaker.AGENT,
                " ".join(text for _, _, text in reply.sentences),
                reply.sentences[0][0] / 1000,
                reply.sentences[-1][1] / 1000,
            )
            for reply in self._replies.values()
            if reply.sentences
        ]
        lines = tuple(sorted([*agent_lines, *self._callee_lines], key=lambda line: line.start_s))
        if self._voicemail_reply is not None:
            # An opt-out heard before the switch to voicemail still stands.
            opt_outs = tuple(e for e in self._runtime.events if isinstance(e, OptOut))
            events = (*self._voicemail_events, *opt_outs)
            ended_by = EndReason.VOICEMAIL
        else:
            events = self._runtime.events
            ended_by = self._runtime.ended_by or EndReason.CALLEE_HUNG_UP
        callee, agent = self._recorder.legs()
        return PipelineResult(
            conversation=Conversation(lines, events, outcome_of(events), ended_by),
            callee_audio=callee,
            agent_audio=agent,
            latencies=tuple(self._latencies),
            amd=self._amd.decision if self._amd else None,
            voicemail=self._amd.ready if self._amd else None,
            answer_to_first_audio_ms=self._answer_to_first_audio_ms,
        )


def latencies_of(results: Iterable[PipelineResult]) -> list[TurnLatency]:
    return [latency for result in results for latency in result.latencies]
