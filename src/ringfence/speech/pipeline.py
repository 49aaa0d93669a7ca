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
   beep is over, and the call's outcome is `voicemail`. A beep soon after a person verdict
   by the greeting's length does the same (AMD's late-beep watch: a recording that paused
   like a person), until a turn of the callee's goes to the runtime. Given a
   `greeting_stt`, AMD also
   hears the greeting's words: the worker transcribes the greeting as it grows, when AMD asks.
   An opt-out is heard throughout (docs/carriers.md): a greeting turn the opt-out rules hear
   as one is answered at once; one only the learned understander reads as one waits for the
   verdict (a recording's "Leave your name and number." reads as one); after a machine
   verdict the line is heard until the message is due, and a rules opt-out cancels it (so
   does the learned understander's certain one without a recording's words in it, when AMD
   went by the greeting's length alone: a person who talked on).
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

This module holds the call's state machine on the carrier's thread (`VoicePipeline`, `Mode`);
its parts live beside it: `speech.opening` (`prepare_opening`, before dialing),
`speech.worker` (the jobs on the call's worker and the messages they hand back),
`speech.playback` (the agent's replies on the timeline), `speech.turn_audio` (the callee's
audio kept for speech-to-text) and `speech.result` (`PipelineResult`, `TurnLatency`).
"""

from __future__ import annotations

import logging
import time
from enum import StrEnum

from ringfence.agent.callee import TranscriptLine
from ringfence.agent.events import (
    AgentEvent,
    CallEnded,
    EndReason,
    TransferRequested,
    VoicemailLeft,
)
from ringfence.agent.lines import OPT_OUT_QUESTIONS
from ringfence.agent.policies.base import Speaker
from ringfence.agent.profile import CallDirection
from ringfence.agent.voicemail import compose_voicemail
from ringfence.speech.amd import (
    AmdDecision,
    AmdReason,
    AmdVerdict,
    AnsweringMachineDetector,
    ReadyForMessage,
    ReadyReason,
    TranscribeGreeting,
)
from ringfence.speech.amd_config import AmdConfig
from ringfence.speech.amd_words import recording_words
from ringfence.speech.audio import CARRIER_RATE, SAMPLE_WIDTH
from ringfence.speech.contracts import AudioChunk, SpeechToText, TextToSpeech, VoiceActivityDetector
from ringfence.speech.media import Clear, MediaAction, StreamStart
from ringfence.speech.opening import Monotonic, PreparedOpening
from ringfence.speech.playback import AgentTrack, Reply
from ringfence.speech.recording import CallRecorder
from ringfence.speech.result import PipelineResult, TurnLatency, conversation_of, turn_latency
from ringfence.speech.runner import InlineRunner, Runner
from ringfence.speech.turn_audio import TurnAudio
from ringfence.speech.turns import (
    BargeIn,
    SpeechPaused,
    TurnConfig,
    TurnDetector,
    TurnEnded,
    TurnEvent,
)
from ringfence.speech.worker import (
    GreetingDoubt,
    GreetingHeard,
    GreetingOptOut,
    Heard,
    PipelineWorker,
    ReplyDone,
    ReplyGate,
    Speech,
)

log = logging.getLogger("ringfence.speech")


# Machine verdicts that went by the greeting's length alone (no recording's phrase, no beep):
# where AMD takes people for machines (long answers: "Hi, this is Harold, I'm pulling into
# the parking lot..."), so a person's opt-out in their words still counts (`_a_persons_opt_out`).
BY_LENGTH_ALONE = frozenset({AmdReason.LONG_GREETING, AmdReason.DEADLINE_LONG_SPEECH})


class Mode(StrEnum):
    CONVERSATION = "conversation"
    VOICEMAIL = "voicemail"  # a machine answered: waiting for the beep, then the message
    ENDED = "ended"


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
        # Greeting turns read as a possible opt-out by the learned understander only: heard
        # by the runtime if AMD finds a person, dropped if it finds a machine (`GreetingDoubt`).
        self._greeting_doubts: list[GreetingDoubt] = []
        # Their words once handed to the worker, by reply, until it answers (`ReplyDone`): a
        # line that drops first loses the job, not the words (`on_stop`).
        self._doubts_in_flight: dict[int, str] = {}
        # Possible person's opt-outs after a machine verdict by length, held until the
        # greeting is over (AMD's ready signal: `_weigh_persons_opt_outs`).
        self._persons_opt_outs: list[GreetingDoubt] = []
        # ... and those that stood once the whole message had played: heard at the hang-up
        # (due then), recorded beside the message.
        self._opt_outs_after_message: list[str] = []
        # The greeting is over, a person's opt-out is held, and a greeting turn is still being
        # transcribed: the message waits for its words (`_weigh_persons_opt_outs`).
        self._message_waits_for_words = False
        self._greeting_pcm = bytearray()  # 8 kHz inbound from the answer, while AMD listens
        # A turn that ended while AMD heard out a possible late beep, with its audio: answered
        # if it was no beep, heard as a recording's words if it was (`_release_held_turn`).
        self._held_turn: tuple[TurnEnded, bytes] | None = None
        self._monotonic = monotonic
        self._frame_bytes = SAMPLE_WIDTH * CARRIER_RATE * vad.frame_ms // 1000
        context = opening.session.context
        self._gate = ReplyGate()
        self._worker = PipelineWorker(
            runner or InlineRunner(),
            runtime=self._runtime,
            stt=stt,
            tts=tts,
            vocabulary=tuple(
                w for w in (opening.session.profile.practice_name, context.patient_first_name) if w
            ),
            gate=self._gate,
            monotonic=monotonic,
        )

        self._mode = Mode.CONVERSATION
        self._recorder = CallRecorder(CARRIER_RATE)
        self._track = AgentTrack(self._recorder)
        self._pending = b""  # inbound bytes short of a whole frame
        self._turn_audio = TurnAudio()
        self._callee_lines: list[TranscriptLine] = []
        self._latencies: list[TurnLatency] = []
        self._voicemail_reply: int | None = None
        self._message_ends_ms: int | None = None  # where the whole message has played
        self._cancelled_voicemail: int | None = None  # a person's opt-out stopped it
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
        return self._track.until_ms > self.now_ms

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
        reply = self._track.new_reply(0)
        out: list[MediaAction] = []
        for chunk in self._opening.chunks:
            self._emit(out, reply, chunk)
        rest, ended = self._opening.rest, self._runtime.ended
        if rest is not None:  # its later sentences follow from the worker, as a reply's do
            self._worker.finish_opening(self._opening.text, rest, ended)
        else:
            reply.done = ReplyDone(0, self._opening.text, ended)
            if ended:
                self._hangup_at_ms = self._track.until_ms
        self._answer_to_first_audio_ms = (self._monotonic() - began) * 1000
        return out

    def on_audio(self, pcm16: bytes, at: float) -> list[MediaAction]:
        out: list[MediaAction] = []
        if self._stopped:
            return out
        self._recorder.add_inbound(pcm16)
        if self._greeting_stt is not None and self._amd is not None and self._amd.decision is None:
            self._greeting_pcm += pcm16
        self._turn_audio.add(pcm16)
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
        if self._track.played(name):
            self.played_marks.append(name)
        out: list[MediaAction] = []
        self._drain(out)
        return out

    def on_stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        self._release_held_turn(now=True)  # the line dropped: a held turn is heard as any turn
        self._gate.close()
        self._worker.close()
        unheard = self._unheard_audio()  # the worker has stopped: what it never claimed
        self._stop_agent([], self.now_ms)  # audio still queued when the line dropped was unheard
        with self._worker.last_word():
            self._drain([])  # what the worker finished before it stopped (an opt-out, a doubt)
            if self._mode is not Mode.ENDED and not self._runtime.ended:
                try:
                    self._hear_last_words(unheard)
                except Exception:  # the record still ends as a hang-up
                    log.exception("the last words could not be judged after the hang-up")
            if self._mode is Mode.CONVERSATION and not self._runtime.ended:
                self._runtime.callee_hung_up()
            self._drain([])
            self._mode = Mode.ENDED

    def _unheard_audio(self) -> list[Reply | TurnEnded]:
        """What the callee said that no job will judge when the line drops: turns the worker
        has not started on, and the turn in progress ("Stop calling me." and a hang-up before
        its 600 ms of silence), as the (not yet ended) turn it would have been."""
        replies = self._track.replies
        candidates = [r.id for r in replies.values() if r.turn is not None and r.pcm]
        waiting, _ = self._gate.waiting(candidates)
        found: list[Reply | TurnEnded] = [replies[i] for i in waiting]
        state = self._turns.state
        if self._turns.in_speech and state.speech_ms >= self._turns.config.min_speech_ms:
            found.append(
                TurnEnded(
                    start_ms=state.turn_start_ms,
                    end_ms=state.last_speech_end_ms,
                    decided_ms=self.now_ms,
                    speech_ms=state.speech_ms,
                    cut=True,
                )
            )
        return found

    def _hear_last_words(self, unheard: list[Reply | TurnEnded]) -> None:
        """The line dropped: words the worker never judged are heard now, for an opt-out only
        (recordings do not hang up), on this thread (the worker stopped). In a conversation
        or before AMD's verdict, as any turn is read (the rules or the learned understander;
        in doubt the runtime asks, and a hang-up is no clear no); after a machine verdict, by
        the rules, or as a person's opt-out after a verdict by length (held ones too, weighed
        against the whole greeting: `_no_recording_heard`); once the message was due, only
        turns that ended before (the one in
        progress carries its echo), and a message that had played in full stays in the record
        beside the opt-out. In a conversation, the greeting turns held in doubt, or handed to
        the worker and not answered, are heard too; and words begun once the agent asked
        "Would you like us to stop calling this number?" are its answer, heard whatever they
        say ("No." *click* keeps the number). This errs toward suppression: a carrier's
        announcement the network hangs up after ("The wireless customer you are calling is
        not available.") can read as an opt-out."""
        if self._mode is Mode.VOICEMAIL and self._amd is not None and self._amd.ready is not None:
            unheard = [u for u in unheard if isinstance(u, Reply)]
        # Doubts count only in a conversation (a machine verdict drops them: a recording's
        # words; a person's opt-out after a verdict by length is weighed below). One the
        # runtime already answered (the worker was still voicing its answer when its close
        # timed out) is not heard again: the hang-up answers its question (`callee_hung_up`).
        # One still being judged when the close timed out was judged before this (`on_stop`
        # waits for it: `PipelineWorker.last_word`), so is answered unless that judgement
        # failed or outlasted the wait: then it is heard here.
        said: list[str] = list(self._opt_outs_after_message)
        if self._mode is Mode.CONVERSATION:
            said += (t for r, t in self._doubts_in_flight.items() if not self._worker.answered(r))
            said += (d.text for d in self._greeting_doubts)
        self._doubts_in_flight.clear()
        self._greeting_doubts.clear()
        text = self._transcribe_last_words(unheard)
        if text and unheard and self._answers_the_opt_out_question(unheard[0].start_ms):
            # "No." *click*: their answer, heard as any answer is (a clear no keeps the
            # number; anything else is an opt-out), not the hang-up's "unanswered".
            said.append(text)
        elif text and self._runtime.rules_hear_opt_out(text):
            if self._mode is Mode.VOICEMAIL and not self._message_played:
                self._cancel_voicemail()
            said.append(text)
        elif text and self._mode is Mode.CONVERSATION and self._runtime.hears_opt_out(text):
            said.append(text)
        elif self._mode is Mode.VOICEMAIL:
            # Held possible person's opt-outs (the greeting not over yet), and the last words
            # read the same way, weighed against the whole greeting.
            persons = [d.text for d in self._persons_opt_outs]
            if text and self._a_persons_certain_opt_out(text):
                persons.append(text)
            if persons and self._no_recording_heard([*persons, text] if text else persons):
                if not self._message_played:
                    self._cancel_voicemail()
                said += persons
        self._persons_opt_outs.clear()
        if said:
            self._runtime.respond(" ".join(said))

    def _answers_the_opt_out_question(self, said_from_ms: int) -> bool:
        """Words begun once the agent's "Would you like us to stop calling this number?"
        began to play (over it, or after it) while the runtime awaits its answer. The question
        is the one in the last reply the callee heard: one the runtime asked whose audio never
        played (the worker was behind, the line dropped first) was never heard, and an earlier
        question was answered already. Words begun before it answer something else: the
        hang-up leaves it unanswered."""
        if self._mode is not Mode.CONVERSATION or not self._runtime.awaits_opt_out_answer:
            return False
        heard = [r for r in self._track.replies.values() if r.sentences]
        if not heard:
            return False
        last = max(heard, key=lambda r: r.sentences[-1][0])
        asked = [
            start
            for start, _, text in last.sentences
            if any(question in text for question in OPT_OUT_QUESTIONS)
        ]
        return bool(asked) and said_from_ms >= max(asked)

    def _transcribe_last_words(self, unheard: list[Reply | TurnEnded]) -> str:
        """The words of `unheard`, in the transcript as the callee's last line."""
        if not unheard:
            return ""
        pcm = b"".join(
            u.pcm if isinstance(u, Reply) else self._turn_audio.between(u.start_ms, u.decided_ms)
            for u in unheard
        )
        text = (self._worker.transcribe_now(pcm) or "").strip()
        last = unheard[-1]
        end = last if isinstance(last, TurnEnded) else last.turn
        if text and end is not None:
            self._callee_lines.append(
                TranscriptLine(Speaker.CALLEE, text, unheard[0].start_ms / 1000, end.end_ms / 1000)
            )
        return text

    # -- per frame ------------------------------------------------------------------------
    def _on_frame(self, frame: bytes, out: list[MediaAction]) -> None:
        speech = self._vad.is_speech(frame)
        amd_pending = False
        if self._amd is not None and self._amd.watching and not self._may_revise_to_machine:
            self._amd.close_watch()
        if self._amd is not None and not self._amd.done and not self._amd_overruled:
            for heard in self._amd.observe(frame, speech=speech):
                if isinstance(heard, AmdDecision) and heard.verdict is AmdVerdict.MACHINE:
                    # The recording's own words, unless one may be a person's opt-out: held
                    # until the greeting is over (`_weigh_persons_opt_outs`).
                    self._persons_opt_outs = [
                        d for d in self._greeting_doubts if self._a_persons_opt_out(d)
                    ]
                    self._greeting_doubts.clear()
                    self._switch_to_voicemail(out)
                elif isinstance(heard, AmdDecision):
                    self._answer_greeting_doubts(out)
                elif isinstance(heard, ReadyForMessage):
                    self._voicemail_ready(out)
                elif isinstance(heard, TranscribeGreeting):
                    self._transcribe_greeting(heard)
            amd_pending = self._amd.decision is None
            if not amd_pending and self._greeting_pcm:
                self._greeting_pcm = bytearray()
        self._release_held_turn()
        if self._mode is Mode.ENDED:
            return
        frame_end = self._turns.now_ms + self._turns.config.frame_ms
        speaking = self._track.until_ms > frame_end and not amd_pending
        for event in self._turns.push(speech=speech, agent_speaking=speaking):
            if self._mode is Mode.VOICEMAIL:
                self._after_machine_verdict(event)
            elif isinstance(event, BargeIn):
                log.debug("barge-in at %d ms", event.at_ms)
                self._stop_agent(out, event.at_ms)
            elif isinstance(event, SpeechPaused) and not amd_pending:
                self._transcribe_early(event)
            elif (
                isinstance(event, TurnEnded)
                and self._amd is not None
                and self._amd.late_beep_pending
                and self._held_turn is None
            ):
                # Maybe a recording's last words before its beep: held until AMD knows.
                pcm = self._turn_audio.between(event.start_ms, event.decided_ms)
                self._held_turn = (event, pcm)
            elif isinstance(event, TurnEnded):
                # A turn that ends while AMD is still listening is the greeting ("Hello?"):
                # transcribed for the record, never answered (the opening is playing).
                self._release_held_turn(now=True)
                self._answer(event, respond=not amd_pending)
        if not self._turns.in_speech:
            self._turn_audio.trim(self.now_ms)

    def _transcribe_greeting(self, request: TranscribeGreeting) -> None:
        """Transcribe the greeting so far on the worker; AMD weighs its words (see
        `speech.amd_words`). Never logged: a greeting's words are PHI."""
        stt = self._greeting_stt
        if stt is None:
            return

        def at(ms: int) -> int:
            return SAMPLE_WIDTH * (ms * CARRIER_RATE // 1000)

        pcm = bytes(self._greeting_pcm[at(request.from_ms) : at(request.until_ms)])
        self._worker.transcribe_greeting(stt, pcm, request.until_ms)

    def _transcribe_early(self, pause: SpeechPaused) -> None:
        """Start speech-to-text during the end-of-turn silence; the turn's job reuses it if no
        speech came after (it runs first: the worker takes jobs in order)."""
        if self._runtime.ended or self._hangup_at_ms is not None:
            return
        if self._waiting_turns():
            return  # the worker is behind: this turn will carry those, transcribed at its end
        key = (pause.start_ms, pause.end_ms)
        self._worker.transcribe_early(key, self._turn_audio.between(pause.start_ms, pause.at_ms))

    def _waiting_turns(self, *, join_into: int | None = None) -> list[Reply]:
        """The turns to be answered that the worker has not started on (their audio is kept
        until it does; the others' is let go), in order; `join_into` a later turn: taken from
        the worker, which will answer that turn for them."""
        replies = self._track.replies
        candidates = (r.id for r in replies.values() if r.respond and r.id != join_into)
        waiting, taken = self._gate.waiting(candidates, join_into=join_into)
        for r in replies.values():
            if r.id in taken:
                r.pcm = b""
        return [replies[i] for i in waiting]

    def _release_held_turn(self, *, now: bool = False) -> None:
        """A held turn, once AMD has judged the tone it waited on (or `now`): answered in a
        conversation, heard as a recording's words after a machine verdict."""
        held = self._held_turn
        if held is None or (not now and self._amd is not None and self._amd.late_beep_pending):
            return
        self._held_turn = None
        turn, pcm = held
        if self._mode is Mode.VOICEMAIL:
            self._after_machine_verdict(turn, pcm=pcm)
        elif self._mode is Mode.CONVERSATION:
            self._answer(turn, respond=True, pcm=pcm)

    def _answer(self, turn: TurnEnded, *, respond: bool, pcm: bytes | None = None) -> None:
        if self._runtime.ended or self._hangup_at_ms is not None:
            return
        reply = self._track.new_reply()
        reply.turn = turn
        reply.respond = respond
        reply.start_ms = turn.start_ms
        reply.decided_wall = self._monotonic()
        reply.pcm = (
            pcm if pcm is not None else self._turn_audio.between(turn.start_ms, turn.decided_ms)
        )
        pcm = reply.pcm
        early_key: tuple[int, int] | None = (turn.start_ms, turn.end_ms)
        if respond:
            if self._amd is not None:
                # The runtime hears the callee: a conversation, which a tone on their line no
                # longer turns into a voicemail (AMD's late-beep watch ends). Not later: what
                # the runtime does with the turn (an opt-out, a confirmation, a transfer) must
                # stand, and a voicemail after it would drop it from the record.
                self._amd.close_watch()
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
                reply.pcm = pcm  # all it carries, should the line drop before the worker starts
                early_key = None  # the early transcript covers this turn's part only
        self._worker.answer(
            reply.id, turn, pcm, reply.decided_wall, reply.start_ms, early_key, respond=respond
        )

    # -- machine answered -----------------------------------------------------------------
    def _after_machine_verdict(self, event: TurnEvent, *, pcm: bytes | None = None) -> None:
        """After a machine verdict the line is still heard, until the message is due: AMD
        can be wrong about a person ("Hi, my voicemail [is full, please stop calling me]"),
        and an opt-out must be caught whenever it was said. A turn that ends before then is
        judged as a greeting is (`PipelineWorker`): the opt-out rules (which flag no
        recording's words) cancel the message and the runtime answers; after a verdict by
        length, so may the learned understander, once the greeting is over
        (`_weigh_persons_opt_outs`). Not after: the line then carries our own message, whose
        echo says "to opt out ... say stop". (`pcm`: a held turn's audio, kept when it
        ended.)"""
        if isinstance(event, TurnEnded) and self._amd is not None and self._amd.ready is None:
            self._answer(event, respond=False, pcm=pcm)

    def _a_persons_opt_out(self, doubt: GreetingDoubt) -> bool:
        """A greeting turn's learned opt-out that may stand against a machine verdict: read
        without doubt, with no recording's phrase in it, and AMD went by length alone (it is
        then held until the greeting is over: `_weigh_persons_opt_outs`). On the intent
        corpus's held-out splits v1/v4 this takes opt-out recall after a machine verdict from
        the rules' 0.54/0.48 to 0.95/0.91 (docs/carriers.md, with what it flags on machines)."""
        return doubt.certain and self._a_persons_words(doubt.text)

    def _weigh_persons_opt_outs(self, out: list[MediaAction]) -> bool:
        """The greeting is over (AMD's ready signal): the possible person's opt-outs held since
        the verdict stand if it ended without a beep and none of its words, before or after
        them, is a recording's phrase ("If this is a sales call, please don't call back."
        ... "Otherwise, leave a message after the beep."). Then no message is left and the
        runtime hears them (True); once the whole message had played, at the hang-up."""
        doubts, self._persons_opt_outs = self._persons_opt_outs, []
        if not doubts or not self._no_recording_heard([d.text for d in doubts]):
            return False
        if self._message_played:
            self._opt_outs_after_message += (d.text for d in doubts)
            return False
        self._cancel_voicemail()
        self._greeting_doubts = doubts
        self._answer_greeting_doubts(out)
        return True

    def _no_recording_heard(self, texts: list[str]) -> bool:
        """No beep ended the greeting (a beep is a machine's), and no recording's phrase is in
        `texts` or in any of the greeting's turns heard so far."""
        ready = self._amd.ready if self._amd is not None else None
        if ready is not None and (ready.reason is ReadyReason.AFTER_BEEP or ready.beep):
            return False
        greeting = [r.heard for r in self._track.replies.values() if not r.respond and r.heard]
        return not recording_words(" ".join([*greeting, *texts]))

    def _a_persons_certain_opt_out(self, text: str) -> bool:
        return self._a_persons_words(text) and self._runtime.hears_opt_out(text, certain=True)

    def _a_persons_words(self, text: str) -> bool:
        """`text` may be a person's, after a machine verdict: AMD went by length alone, and
        no recording's phrase is in it."""
        decision = self._amd.decision if self._amd is not None else None
        return (
            decision is not None
            and decision.verdict is AmdVerdict.MACHINE
            and decision.reason in BY_LENGTH_ALONE
            and not recording_words(text)
        )

    @property
    def _message_played(self) -> bool:
        """The whole voicemail message has played (it was left)."""
        ends = self._message_ends_ms
        return ends is not None and self.now_ms >= ends

    def _cancel_voicemail(self) -> None:
        """A person asked not to be called after AMD took them for a machine: no message (on
        a live line the caller's `_stop_agent` stops it if it has begun), and the call is a
        conversation again, heard by the runtime
        (which may ask "Would you like us to stop calling this number?" and hear the answer)."""
        self._cancelled_voicemail = self._voicemail_reply
        self._voicemail_reply = None
        self._voicemail_held.clear()
        self._voicemail_events = ()
        self._hangup_at_ms = None  # set when the message began; the runtime decides now
        self._mode = Mode.CONVERSATION
        self._amd_overruled = True  # AMD heard the greeting out; its ready signal is moot

    def _switch_to_voicemail(self, out: list[MediaAction]) -> None:
        self._stop_agent(out, self.now_ms)
        self._gate.cut(self._track.replies)
        self._mode = Mode.VOICEMAIL
        profile, context = self._opening.session.profile, self._opening.session.context
        text, filtered = compose_voicemail(profile, context)
        self._voicemail_events = (*filtered, VoicemailLeft(), CallEnded(EndReason.VOICEMAIL))
        reply = self._track.new_reply()
        self._voicemail_reply = reply.id
        self._worker.speak_voicemail(reply.id, text)

    def _voicemail_ready(self, out: list[MediaAction]) -> None:
        if self._voicemail_reply is None:
            return
        if self._persons_opt_outs and self._greeting_words_pending:
            self._message_waits_for_words = True  # `_drain` calls again once they are in
            return
        self._message_waits_for_words = False
        if self._weigh_persons_opt_outs(out):
            return
        reply = self._track.replies[self._voicemail_reply]
        for chunk in self._voicemail_held:  # synthesized while the greeting played
            self._emit(out, reply, chunk)
        self._voicemail_held.clear()
        if reply.done is not None:
            self._hangup_at_ms = self._message_ends_ms = self._track.until_ms

    @property
    def _voicemail_can_play(self) -> bool:
        ready = self._amd is not None and self._amd.ready is not None
        return ready and not self._message_waits_for_words

    @property
    def _greeting_words_pending(self) -> bool:
        """A greeting turn (heard, not answered) whose transcription is not back yet: a busy
        worker. A person's opt-out is weighed against all the greeting's words."""
        return any(
            r.turn is not None and not r.respond and r.done is None
            for r in self._track.replies.values()
        )

    # -- output ---------------------------------------------------------------------------
    def _drain(self, out: list[MediaAction]) -> None:
        for message in self._worker.messages():
            if isinstance(message, GreetingHeard):
                if message.opt_out:
                    self._overrule_amd(out)
                elif self._amd is not None:
                    self._amd.hear(message.text, until_ms=message.until_ms)
                continue
            if isinstance(message, GreetingOptOut):
                self._honour_greeting_opt_out(out, message.reply)
                continue
            if isinstance(message, GreetingDoubt):
                if self._mode is Mode.VOICEMAIL and self._a_persons_opt_out(message):
                    self._persons_opt_outs.append(message)
                    if self._voicemail_can_play:  # the greeting was over already
                        if self._greeting_words_pending:  # (its own ReplyDone is next)
                            self._message_waits_for_words = True
                        else:
                            self._weigh_persons_opt_outs(out)
                    continue
                self._greeting_doubts.append(message)
                if not self._awaiting_amd:
                    self._answer_greeting_doubts(out)
                continue
            if isinstance(message, Heard):
                if message.text.strip():
                    self._callee_lines.append(
                        TranscriptLine(
                            Speaker.CALLEE,
                            message.text.strip(),
                            message.start_ms / 1000,
                            message.end_ms / 1000,
                        )
                    )
                self._track.replies[message.turn].heard = message.text.strip()
                continue
            reply = self._track.replies[message.reply]
            if isinstance(message, Speech):
                if message.reply == self._cancelled_voicemail or self._stopped:
                    continue  # (after the line's end: nothing more is heard)
                if message.reply == self._voicemail_reply and not self._voicemail_can_play:
                    self._voicemail_held.append(message.chunk)
                elif reply.id == self._voicemail_reply or not self._gate.silenced(
                    message.reply, final=message.final
                ):
                    self._emit(out, reply, message.chunk)
                continue
            reply.done = message
            self._doubts_in_flight.pop(message.reply, None)
            self._record_latency(reply)
            if (
                self._message_waits_for_words
                and not self._greeting_words_pending
                and not self._stopped  # the hang-up weighs them itself
            ):
                self._voicemail_ready(out)
            if (
                message.ended
                and message.reply == self._voicemail_reply
                and self._voicemail_can_play
                and not self._stopped  # the line's end cut the timeline: not all of it played
            ):
                self._message_ends_ms = self._track.until_ms
            if (
                message.ended
                and message.reply != self._cancelled_voicemail
                and (message.reply != self._voicemail_reply or self._voicemail_can_play)
            ):
                self._hangup_at_ms = self._track.until_ms

    def _emit(self, out: list[MediaAction], reply: Reply, chunk: AudioChunk) -> None:
        audio = self._track.play(reply, chunk, self.now_ms)
        if reply.first_audio_wall is None:
            reply.first_audio_wall = self._monotonic()
            self._record_latency(reply)
        out.append(audio)

    def _honour_greeting_opt_out(self, out: list[MediaAction], reply_id: int) -> None:
        if self._mode is Mode.VOICEMAIL and self._message_played:
            # Judged only once the whole message had played: it was left, and stays in the
            # record beside the opt-out (which the runtime recorded); no acknowledgement
            # after it, and the hang-up stays where it is.
            self._gate.unpin(reply_id)
            return
        if self._mode is Mode.VOICEMAIL:
            self._cancel_voicemail()
        if self._mode is not Mode.CONVERSATION:
            return
        self._amd_overruled = True
        self._stop_agent(out, self.now_ms)
        self._gate.reinstate(reply_id)
        self._track.replies[reply_id].respond = True

    @property
    def _may_revise_to_machine(self) -> bool:
        """A late beep may still make the call a voicemail (AMD's watch after a person
        verdict): the agent has only spoken its opening, and the call is not ending."""
        return (
            self._mode is Mode.CONVERSATION
            and not self._runtime.ended
            and self._hangup_at_ms is None
            and not self._amd_overruled
        )

    @property
    def _awaiting_amd(self) -> bool:
        amd = self._amd
        return amd is not None and amd.decision is None and not self._amd_overruled

    def _answer_greeting_doubts(self, out: list[MediaAction]) -> None:
        """AMD found a person there: the greeting turns held as possible opt-outs are heard by
        the runtime now, as one turn ("I'd prefer you didn't call this number."), so the
        agent acts on them or asks first. The opening stops: a possible opt-out is not talked
        over. (After the line dropped they wait for `on_stop`, which hears them itself.)"""
        if self._stopped:
            return
        doubts, self._greeting_doubts = self._greeting_doubts, []
        if not doubts or self._mode is not Mode.CONVERSATION:
            return
        if self._runtime.ended or self._hangup_at_ms is not None:
            return
        self._stop_agent(out, self.now_ms)
        if self._amd is not None:
            self._amd.close_watch()  # the runtime hears the callee: a conversation
        first = self._track.replies[doubts[0].reply]
        reply = self._track.new_reply()
        reply.turn = self._track.replies[doubts[-1].reply].turn
        reply.respond = True
        reply.start_ms = first.start_ms
        reply.decided_wall = self._monotonic()
        self._gate.claim(reply.id)  # already heard: no later turn carries it
        text = " ".join(d.text for d in doubts)
        self._doubts_in_flight[reply.id] = text
        self._worker.answer_heard(reply.id, text, reply.decided_wall)

    def _overrule_amd(self, out: list[MediaAction]) -> None:
        """An opt-out in the greeting: a person, whatever AMD says or would say. Its transcript
        is not weighed (a machine phrase in it, "Stop calling, my voicemail is full", would
        leave a message on a person and stop the greeting being heard); the turn it is part of
        is answered when it ends, as any turn, so the runtime hears the opt-out whole."""
        if self._mode is not Mode.CONVERSATION or self._amd_overruled:
            return
        self._amd_overruled = True
        self._stop_agent(out, self.now_ms)

    def _stop_agent(self, out: list[MediaAction], at_ms: int) -> None:
        # Speaking (or spoken): cut. Not heard yet: stale, its turn is still judged.
        agent = [r for r in self._track.replies.values() if r.id != self._voicemail_reply]
        self._gate.stop(
            cut=[r.id for r in agent if r.sentences], stale=[r.id for r in agent if not r.sentences]
        )
        if self._hangup_at_ms is not None:
            self._hangup_at_ms = min(self._hangup_at_ms, at_ms)
        if self._track.cut(at_ms):
            out.append(Clear())

    # -- bookkeeping ----------------------------------------------------------------------
    def _record_latency(self, reply: Reply) -> None:
        done, turn = reply.done, reply.turn
        if done is None or turn is None or reply.first_audio_wall is None or not done.text:
            return
        if reply.latency_recorded:
            return
        reply.latency_recorded = True
        self._latencies.append(
            turn_latency(
                reply.id,
                reply.heard,
                turn,
                done,
                decided_wall=reply.decided_wall,
                first_audio_wall=reply.first_audio_wall,
            )
        )

    # -- the record -----------------------------------------------------------------------
    @property
    def _voicemail_left(self) -> bool:
        return self._voicemail_reply is not None and self._message_played

    def _voicemail_record(self) -> tuple[AgentEvent, ...] | None:
        """A machine's call: its events. The message counts as left only once it played in
        full: a box that hung up before the beep, or during the message ("mailbox full",
        the callee's own hang-up on a screened call), got none, or only a part without the
        number to call back; the call is still a voicemail, and its record says no message
        was left (no resolution). What the filter withheld stays only if the message began."""
        if self._voicemail_reply is None:
            return None
        if self._message_played:
            return self._voicemail_events
        message = self._track.replies.get(self._voicemail_reply)
        began = message is not None and bool(message.sentences)
        return tuple(
            e
            for e in self._voicemail_events
            if not isinstance(e, VoicemailLeft) and (began or isinstance(e, CallEnded))
        )

    def result(self) -> PipelineResult:
        conversation = conversation_of(
            [*self._track.lines(), *self._callee_lines],
            self._runtime.events,
            self._runtime.ended_by,
            voicemail=self._voicemail_record(),
        )
        callee, agent = self._recorder.legs()
        return PipelineResult(
            conversation=conversation,
            callee_audio=callee,
            agent_audio=agent,
            latencies=tuple(self._latencies),
            amd=self._amd.decision if self._amd else None,
            voicemail=self._amd.ready if self._amd and self._voicemail_left else None,
            answer_to_first_audio_ms=self._answer_to_first_audio_ms,
        )
