"""The slow half of a call's speech pipeline: what runs on the call's worker (`speech.runner`),
off the carrier's thread, and what it hands back.

`PipelineWorker` takes the jobs `VoicePipeline` submits (a turn's speech-to-text, the
runtime's answer and its synthesis sentence by sentence; early and greeting transcriptions;
the rest of the opening; the voicemail message) and reports only through its messages
(`Speech`, `Heard`, `ReplyDone`, `GreetingHeard`, `GreetingOptOut`, `GreetingDoubt`), which the
pipeline drains on the carrier's thread. `ReplyGate` is the one state both threads share, under
its lock: which replies may still speak, and which turns the worker has taken. After `close`,
`transcribe_now` lends the speech-to-text engine to the carrier's thread (the words the worker
never reached when the line dropped).
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from ringfence.agent.runtime import ConversationRuntime
from ringfence.speech.audio import CARRIER_RATE, STT_RATE, resample
from ringfence.speech.contracts import AudioChunk, SpeechToText, TextToSpeech, Transcript
from ringfence.speech.opening import Monotonic, to_carrier_rate
from ringfence.speech.runner import Runner
from ringfence.speech.turns import TurnEnded

log = logging.getLogger("ringfence.speech")


# -- what the worker hands back to the carrier's thread ------------------------------------
# How long the line's end waits for a turn still being judged (a slow policy's request has
# its own timeout, well under this).
LAST_WORD_WAIT_S = 10.0


@dataclass(frozen=True, slots=True)
class Speech:
    reply: int
    chunk: AudioChunk
    final: bool = False  # the call's last words (the runtime ended the call)


@dataclass(frozen=True, slots=True)
class Heard:
    turn: int
    text: str
    start_ms: int
    end_ms: int


@dataclass(frozen=True, slots=True)
class ReplyDone:
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
class GreetingHeard:
    """The greeting's transcript up to `until_ms`, for AMD (None: the transcription failed);
    `opt_out`: the opt-out rules find one in it ("Stop calling, my voicemail is full")."""

    text: str | None
    until_ms: int
    opt_out: bool = False


@dataclass(frozen=True, slots=True)
class GreetingOptOut:
    """The opt-out rules heard a request not to be called in a turn that ended while AMD
    still listened, or after its machine verdict before the message began (so a person is
    there): the opening or the message stops, AMD's verdict no longer counts, and this
    turn's reply plays."""

    reply: int


@dataclass(frozen=True, slots=True)
class GreetingDoubt:
    """A turn that ended while AMD still listened, which the learned understander reads as a
    possible opt-out and the rules do not ("I'd prefer you didn't call this number", but also
    a recording's "Leave your name and number."): not answered; the pipeline has the runtime
    hear `text` once AMD finds a person there, and drops it if AMD finds a machine (unless
    `certain` and AMD went by the greeting's length alone: `speech.pipeline`). `certain`:
    the understander reads it without doubt."""

    reply: int
    text: str
    certain: bool = False


Message = Speech | Heard | ReplyDone | GreetingHeard | GreetingOptOut | GreetingDoubt


class ReplyGate:
    """Which replies may still speak, and which turns the worker has taken: read and written
    by the carrier's thread and the worker alike, so all of it under one lock."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._cut: set[int] = set()  # stopped while speaking (or the call ended): silent now
        self._stale: set[int] = set()  # not started when the callee talked: only final words
        self._claimed: set[int] = set()  # turns the worker has started on
        self._joined: set[int] = set()  # turns folded into a later turn, never judged alone
        # Opt-out acknowledgements: a switch to voicemail does not cut them (`cut`); a
        # barge-in still can (`stop`), and the line's end does (`close`).
        self._pinned: set[int] = set()
        self._closed = False  # the line is gone: nothing is said any more

    def silenced(self, reply_id: int, *, final: bool) -> bool:
        """Whether a reply's audio must not be played: it was cut while the agent spoke (a
        barge-in, the call's end), or the callee talked before it was heard, unless it holds
        the call's last words (an opt-out's acknowledgement is said even then)."""
        with self._lock:
            if self._closed:
                return True
            return reply_id in self._cut or (reply_id in self._stale and not final)

    def cut(self, reply_ids: Iterable[int]) -> None:
        """Silence these replies (a switch to voicemail), all but opt-out acknowledgements."""
        with self._lock:
            self._cut.update(i for i in reply_ids if i not in self._pinned)

    def close(self) -> None:
        """The line is gone: every reply is silent from now on, whatever is reinstated."""
        with self._lock:
            self._closed = True

    def pin(self, reply_id: int) -> None:
        """An opt-out's acknowledgement: heard even if the opening or the message it
        interrupts was cut with it, and not cut by a switch to voicemail that comes before
        the pipeline reads the opt-out."""
        with self._lock:
            self._pinned.add(reply_id)
            self._cut.discard(reply_id)
            self._stale.discard(reply_id)

    def unpin(self, reply_id: int) -> None:
        """Silence an acknowledgement after all (it would follow a message already left)."""
        with self._lock:
            self._pinned.discard(reply_id)
            self._cut.add(reply_id)

    def stop(self, *, cut: Iterable[int], stale: Iterable[int]) -> None:
        """The callee talked over the agent: the replies being heard are cut, the others
        stale (their turns are still judged)."""
        with self._lock:
            self._cut.update(cut)
            self._stale.update(stale)

    def reinstate(self, reply_id: int) -> None:
        with self._lock:
            self._cut.discard(reply_id)
            self._stale.discard(reply_id)

    def claim(self, reply_id: int) -> bool:
        """The worker starts on a turn; False if a later turn carries it (it is not judged
        alone)."""
        with self._lock:
            if reply_id in self._joined:
                return False
            self._claimed.add(reply_id)
            return True

    def waiting(
        self, candidates: Iterable[int], *, join_into: int | None = None
    ) -> tuple[list[int], frozenset[int]]:
        """Of `candidates` (in order), those the worker has not started on, and the turns it
        has started on or was relieved of (their audio can go); with `join_into`, the waiting
        ones are taken from the worker: that later turn answers for them."""
        with self._lock:
            taken = frozenset(self._claimed | self._joined)
            waiting = [i for i in candidates if i not in taken]
            if join_into is not None:
                self._joined.update(waiting)
            return waiting, taken


class PipelineWorker:
    """Submits the pipeline's slow work to the call's runner, in order (the runner takes jobs
    one at a time), and reports on it through `messages`."""

    def __init__(
        self,
        runner: Runner,
        *,
        runtime: ConversationRuntime,
        stt: SpeechToText,
        tts: TextToSpeech,
        vocabulary: tuple[str, ...],
        gate: ReplyGate,
        monotonic: Monotonic,
    ) -> None:
        self._runner = runner
        self._runtime = runtime
        self._stt = stt
        self._tts = tts
        self._vocabulary = vocabulary
        self._gate = gate
        self._monotonic = monotonic
        self._messages: queue.SimpleQueue[Message] = queue.SimpleQueue()
        self._running = 0  # jobs started and not finished (0 after `close`: the engines are free)
        self._answered: set[int] = set()  # replies the runtime has answered (their words judged)
        self._running_lock = threading.Lock()
        self._idle = threading.Condition(self._running_lock)  # notified as a job finishes
        # The runtime is not thread-safe, and the line's end (`last_word`, on the carrier's
        # thread) may come while a job whose close timed out is still inside it.
        self._judging = threading.Lock()
        self._judged_last = False  # the line's end was judged: no job answers after it
        # Early transcripts by (turn start, speech end); only the worker reads and writes it.
        self._early: dict[tuple[int, int], tuple[Transcript, float]] = {}

    def messages(self) -> Iterator[Message]:
        """What the worker has handed back so far, in order (taken as they are read)."""
        while True:
            try:
                yield self._messages.get_nowait()
            except queue.Empty:
                return

    def close(self) -> None:
        self._runner.close()

    @contextmanager
    def last_word(self, timeout_s: float = LAST_WORD_WAIT_S) -> Iterator[None]:
        """Hold the runtime while the line's end is judged (after `close`): a job still running
        (a slow transcription or policy outlived the close) finishes first, so its turn is
        judged, once, and what it asked is known ("Would you like us to stop calling?", then
        the hang-up: an unanswered question, an opt-out); and no job answers after it. Past
        `timeout_s` the end is judged anyway (logged): a stuck engine must not keep the call's
        record (the job's turn is then lost, and the runtime may be touched by both)."""
        with self._idle:
            idle = self._idle.wait_for(lambda: self._running == 0, timeout=timeout_s)
        held = self._judging.acquire(timeout=0 if not idle else timeout_s)
        if not held:
            log.warning("a turn was still being judged %.0f s after the hang-up", timeout_s)
        try:
            yield
        finally:
            self._judged_last = True
            if held:
                self._judging.release()

    def answered(self, reply_id: int) -> bool:
        """Whether the runtime has answered `reply_id`'s words (it may still be synthesizing
        the answer)."""
        return reply_id in self._answered

    def transcribe_now(self, pcm: bytes) -> str | None:
        """Speech-to-text on the caller's thread, after `close`: for the words the worker never
        reached when the line dropped. None if a job still runs (`close` timed out: the
        engine is not free) or the engine failed."""
        with self._running_lock:
            if self._running:
                return None
        try:
            return self._stt.transcribe(pcm, vocabulary=self._vocabulary).text
        except Exception:
            log.exception("the last words could not be transcribed after the hang-up")
            return None

    def _submit(self, job: Callable[[], None]) -> None:
        def tracked() -> None:
            with self._running_lock:
                self._running += 1
            try:
                job()
            finally:
                with self._running_lock:
                    self._running -= 1
                    self._idle.notify_all()

        self._runner.submit(tracked)

    # -- what the pipeline asks for -------------------------------------------------------
    def finish_opening(self, text: str, rest: Iterator[AudioChunk], ended: bool) -> None:
        self._submit(lambda: self._rest_of_opening(text, rest, ended))

    def answer(
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
        self._submit(
            lambda: self._reply_job(
                reply_id, turn, pcm, decided, start_ms, early_key, respond=respond
            )
        )

    def transcribe_early(self, key: tuple[int, int], pcm: bytes) -> None:
        """Speech-to-text during the end-of-turn silence; the turn's job reuses it if no
        speech came after (it runs first: the worker takes jobs in order)."""

        def job() -> None:
            began = self._monotonic()
            try:
                heard = self._stt.transcribe(pcm, vocabulary=self._vocabulary)
            except Exception:
                log.exception("early transcription failed; the turn will try again")
                return
            self._early[key] = (heard, (self._monotonic() - began) * 1000)

        self._submit(job)

    def transcribe_greeting(self, stt: SpeechToText, pcm: bytes, until_ms: int) -> None:
        """The greeting so far (8 kHz), for AMD. Never logged: a greeting's words are PHI."""

        def job() -> None:
            text: str | None = None
            try:
                text = stt.transcribe(resample(pcm, CARRIER_RATE, STT_RATE)).text
            except Exception:
                log.exception("greeting transcription failed; AMD goes on by timing")
            # Weighed here, off the media thread, before AMD weighs the words (see
            # VoicePipeline._drain), by the opt-out *rules*, not the learned understander:
            # it counts doubt as an opt-out, and doubts about many recordings' own words
            # ("please leave your name and number", "I can't take your call": 74 of the
            # tuning sets' 204 machine greetings; the rules: none).
            opt_out = text is not None and self._runtime.rules_hear_opt_out(text)
            self._messages.put(GreetingHeard(text, until_ms, opt_out))

        self._submit(job)

    def answer_heard(self, reply_id: int, text: str, decided: float) -> None:
        """Answer words already transcribed (a greeting turn held in doubt until AMD found a
        person there)."""

        def job() -> None:
            began = self._monotonic()
            if self._runtime.ended:
                self._messages.put(ReplyDone(reply_id, "", False))
                return
            try:
                self._respond(reply_id, text, decided=decided, began=began, stt_done=began)
            except Exception:
                log.exception("speech pipeline turn %s failed", reply_id)
                self._messages.put(ReplyDone(reply_id, "", False, failed=True))

        self._submit(job)

    def speak_voicemail(self, reply_id: int, text: str) -> None:
        def synthesize() -> None:
            for chunk in self._tts.synthesize_stream(text):
                self._messages.put(Speech(reply_id, to_carrier_rate(chunk)))
            self._messages.put(ReplyDone(reply_id, text, True))

        self._submit(synthesize)

    # -- the jobs -------------------------------------------------------------------------
    def _respond(
        self,
        reply_id: int,
        text: str,
        *,
        decided: float,
        began: float,
        stt_done: float,
        stt_ms: float = 0.0,
        early_stt: bool = False,
    ) -> None:
        """The runtime's answer to `text`, synthesized sentence by sentence unless the reply
        is silenced, then its `ReplyDone`."""
        clock = self._monotonic
        with self._judging:
            if self._judged_last:  # the line dropped and its end was judged without this turn
                return
            said = self._runtime.respond(text)
            self._answered.add(reply_id)  # judged: what is left is the voice
        policy_done = clock()
        log.debug("turn %s answered (the call ended: %s)", reply_id, said.ended)
        first_chunk: float | None = None
        if not self._gate.silenced(reply_id, final=said.ended):
            for chunk in self._tts.synthesize_stream(said.text):
                if first_chunk is None:
                    first_chunk = clock()
                self._messages.put(Speech(reply_id, to_carrier_rate(chunk), said.ended))
                if self._gate.silenced(reply_id, final=said.ended):
                    break  # barged in: the rest is never synthesized
        self._messages.put(
            ReplyDone(
                reply_id,
                said.text,
                said.ended,
                queue_ms=(began - decided) * 1000,
                stt_ms=stt_ms,
                early_stt=early_stt,
                policy_ms=(policy_done - stt_done) * 1000,
                tts_first_chunk_ms=((first_chunk or policy_done) - policy_done) * 1000,
            )
        )

    def _rest_of_opening(self, text: str, rest: Iterator[AudioChunk], ended: bool) -> None:
        """The opening's later sentences, stopped if the callee talks over it (a barge-in
        cuts the opening as it cuts any reply)."""
        try:
            # Checked before each sentence is made, not after: a cut greeting costs no more
            # synthesis (a busy worker may reach this after the callee talked).
            while not self._gate.silenced(0, final=ended):
                chunk = next(rest, None)
                if chunk is None:
                    break
                self._messages.put(Speech(0, chunk, ended))
        except Exception:  # the engine failed: the callee hears the first sentence only
            log.exception("the rest of the opening could not be synthesized")
        self._messages.put(ReplyDone(0, text, ended))

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
        """Speech-to-text, the runtime, synthesis sentence by sentence.

        Every turn is heard and judged (an opt-out must be caught whenever it was said), even
        one whose reply was cancelled before the worker reached it: a cancelled reply only
        loses its voice (see `ReplyGate.silenced`). A turn folded into a later one is judged
        there."""
        clock = self._monotonic
        began = clock()
        if not self._gate.claim(reply_id):
            return
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
            self._messages.put(Heard(reply_id, heard.text, start_ms, turn.end_ms))
            text = heard.text.strip()
            if not text or self._runtime.ended:
                self._messages.put(ReplyDone(reply_id, "", False))
                return
            if not respond:
                # The greeting is not answered, unless the rules hear it ask not to be called
                # ("Hello? Stop calling me."): then a person is there, and an opt-out is
                # honoured whenever it was said. The learned understander's opt-out (certain
                # or in doubt) waits for AMD's verdict: it also reads recordings' own words
                # as one (the tuning sets' machine greetings, at a pause: 14 certain, 90 in
                # doubt of 261; the rules: none).
                if not self._runtime.rules_hear_opt_out(text):
                    if self._runtime.hears_opt_out(text):
                        certain = self._runtime.hears_opt_out(text, certain=True)
                        self._messages.put(GreetingDoubt(reply_id, text, certain))
                    self._messages.put(ReplyDone(reply_id, "", False))
                    return
                # Its answer must be heard even if the opening (or the message, after a
                # machine verdict) was cut with this turn's reply, or is cut before the
                # pipeline reads the message: pinned here, before `_respond` checks, and
                # before the pipeline can read the message (which may unpin it).
                self._gate.pin(reply_id)
                self._messages.put(GreetingOptOut(reply_id))
            self._respond(
                reply_id,
                heard.text,
                decided=decided,
                began=began,
                stt_done=stt_done,
                stt_ms=stt_ms,
                early_stt=early is not None,
            )
        except Exception:
            # An engine failure must not take the call down with it: the turn goes
            # unanswered (the callee can speak again) and the failure is logged.
            log.exception("speech pipeline turn %s failed", reply_id)
            self._messages.put(ReplyDone(reply_id, "", False, failed=True))
