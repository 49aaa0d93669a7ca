"""Answering-machine detection on the call's audio (pure DSP on 8 kHz PCM16, no clock) and,
when a speech-to-text hands them in, the greeting's words (`speech.amd_words`, pure too).

Two questions, asked in order, frame by frame (time is the audio's own: frame n ends at
(n + 1) * frame_ms after the answer). Every threshold is a field of `AmdConfig`
(`speech.amd_config`).

1. **Who answered?** From the greeting's length, what follows it, beeps, and its words:
   - a **beep** (see below) is a machine, whatever came before, whenever it comes; even
     soon after a person verdict by the greeting's length (`late_beep_ms`, LATE_BEEP: a
     recording that pauses like a person, "Hello? ... Just kidding, leave a message." and its
     beep), if it starts after `late_beep_quiet_ms` without speech and none follows it for
     `late_beep_confirm_ms` (a machine neither talks over its beep nor right after it), and
     before the shell closes that watch (`close_watch`: a turn of the callee's went to the
     conversation);
   - **words** (when the detector was built with `words=True`, see "The greeting's words"
     below): a recorded greeting's phrase ("leave a message", "after the tone", "voicemail")
     is a machine at once; a live person's ("how can I help you", "hold on", "who is this")
     lets the greeting run longer and ends it sooner; `speech.amd_words` has the rules;
   - a greeting still going at `machine_greeting_ms` (3.5 s, counted from its first word;
     pauses shorter than the end-of-greeting silence do not end it) is a machine: recorded
     greetings ("Hi, you've reached Jane, I can't take your call, please leave a message")
     run 3-8 s (the words move this length: longer after a live person's phrase or after
     words that hold no machine's phrase; a transcript still out when it is reached is
     waited for a little, as at the greeting's end: its newest words may be a live phrase);
   - a greeting that ends before that is a person: "Hello?", and also a person answering a
     business line ("Thank you for calling Bright Dental, this is Jane, how can I help
     you?", 2-3.5 s), who then waits for an answer. It has ended after a silence of
     `after_greeting_silence_ms` + `after_greeting_silence_per_ms` x its length (0.8 s after
     a 0.4 s "Hello?", 1.3 s after a 2 s greeting): longer than the pauses between the
     sentences of a recorded greeting, and the longer the greeting, the longer a beep may
     take to follow it. A tone playing when that silence is up (a beep after "Leave a
     message.") is heard out first, and speech under way is heard out too (it may be the next
     word). With words, the transcript of the whole greeting is waited for (a little), and a
     phrase a machine says but a person may too ("You've reached Sam.") makes it a machine;
     after a live person's phrase it has ended after 0.7 s of silence, without waiting for
     the transcript of its last words (nothing in them can undo a live phrase);
   - nobody has said a word by `silence_deadline_ms` (2.5 s): UNKNOWN (someone picked up and
     waits; the pipeline treats it as a person); so are the network's call-progress tones
     before any greeting (dial, ringback, busy, reorder, special information tones: see
     `AmdConfig.bare_beep_max_ms` and `speech.amd_beeps`), which are neither a beep nor speech;
   - at `deadline_ms` (the bound on a verdict) a greeting already `deadline_greeting_ms` long
     is a machine, any other speech a person (and a greeting with a live person's phrase).
   Without words, length is all a greeting tells apart, so the overlap stays: a recorded
   greeting shorter than 3.5 s that never beeps ("Please leave a message.", then silence) is
   judged a person, and a person's greeting longer than 3.5 s a machine.
2. **On a machine, when to speak?** After the beep: READY once no tone has played for
   `after_beep_ms` (a box may play two beeps, or a rising two-tone one: the message starts
   after the last). A box that never beeps gets READY after `no_beep_silence_ms` of silence
   once its greeting is over (its end is found by silence), and any box `max_wait_ms` after
   the verdict (so a call never waits forever).

**The greeting's words.** The detector does no speech-to-text (no I/O here): it asks for it.
Built with `words=True`, it returns a `TranscribeGreeting(from_ms, until_ms)` event when the
greeting has grown by `transcribe_every_ms` of audio since the last request, or has paused for
`transcribe_after_pause_ms` (so the whole greeting is transcribed soon after it ends), one
request at a time; the shell (the pipeline, the evaluation) transcribes that stretch of the
call's audio, from the greeting's first word (less `transcribe_preroll_ms`), and hands the text
back with `hear(text, until_ms=...)`, whenever it is ready: the next frame weighs it.

Beeps and the network's tones are `speech.amd_beeps`'s (a tone tracker the detector owns, on
`speech.amd_tones`'s per-frame measures): a beep is a pure tone of steady pitch in the beep
band; a tone never counts as speech, so a beep cannot lengthen a greeting.

The voice-activity decisions come from the pipeline's VAD (`observe(frame, speech)`), so the
detector is judged with whichever VAD runs in production.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from ringfence.speech.amd_beeps import BeepHeard, ToneTracker
from ringfence.speech.amd_config import AmdConfig
from ringfence.speech.amd_words import (
    NO_WORDS,
    GreetingFacts,
    WordsEvidence,
    WordsSay,
    weigh_words,
)


class AmdVerdict(StrEnum):
    HUMAN = "human"
    MACHINE = "machine"
    UNKNOWN = "unknown"  # nothing but silence (or noise, or tones) by silence_deadline_ms


class AmdReason(StrEnum):
    SHORT_GREETING = "short_greeting"  # a greeting that ended before machine_greeting_ms
    LONG_GREETING = "long_greeting"  # the greeting ran past machine_greeting_ms
    BEEP = "beep"
    DEADLINE_LONG_SPEECH = "deadline_long_speech"
    DEADLINE_SHORT_SPEECH = "deadline_short_speech"
    DEADLINE_SILENCE = "deadline_silence"  # nobody spoke by silence_deadline_ms
    MACHINE_WORDS = "machine_words"  # a recorded greeting's phrase was heard
    LIVE_WORDS = "live_words"  # a person: a live person's phrase was heard
    # A beep soon after a person verdict by length: a machine after all (AmdConfig.late_beep_ms)
    LATE_BEEP = "late_beep"


class ReadyReason(StrEnum):
    AFTER_BEEP = "after_beep"
    SILENCE_NO_BEEP = "silence_no_beep"
    MAX_WAIT = "max_wait"


@dataclass(frozen=True, slots=True)
class AmdDecision:
    verdict: AmdVerdict
    reason: AmdReason
    at_ms: int  # when it was decided, after the answer
    greeting_ms: int  # how long the greeting had run
    cue: str = ""  # the label of the phrase the words decided by (never the callee's words)


@dataclass(frozen=True, slots=True)
class ReadyForMessage:
    """A machine is listening: leave the message now."""

    at_ms: int
    reason: ReadyReason
    beep: BeepHeard | None = None


@dataclass(frozen=True, slots=True)
class TranscribeGreeting:
    """Transcribe the call's audio from `from_ms` to `until_ms` and hand the text back with
    `AnsweringMachineDetector.hear` (only from a detector built with words=True)."""

    from_ms: int
    until_ms: int


AmdEvent = AmdDecision | BeepHeard | ReadyForMessage | TranscribeGreeting

# Person verdicts a later beep may revise (AmdConfig.late_beep_ms): those made by the
# greeting's length alone, not by a live person's phrase.
_WATCHED = frozenset({AmdReason.SHORT_GREETING, AmdReason.DEADLINE_SHORT_SPEECH})


class AnsweringMachineDetector:
    """Feed every inbound frame from the answer on; it returns events as they happen:
    `BeepHeard`, an `AmdDecision`, and on a machine one `ReadyForMessage`. After a HUMAN or
    UNKNOWN decision (or READY) it has nothing more to say (`done` turns True), except that a
    person verdict by the greeting's length is watched for `late_beep_ms`: a beep then, with
    quiet before and after it, is a second decision, MACHINE (LATE_BEEP), which replaces the
    first (`revised` keeps it). The shell ends the watch sooner with `close_watch` once it is
    in a conversation.

    `words=True`: the shell transcribes the greeting when asked (`TranscribeGreeting` events)
    and hands the text in with `hear`; without, the verdict is timing and beeps alone."""

    def __init__(self, config: AmdConfig | None = None, *, words: bool = False) -> None:
        self.config = config or AmdConfig()
        self.words = words
        self.decision: AmdDecision | None = None
        self.revised: AmdDecision | None = None  # the person verdict a late beep replaced
        self.ready: ReadyForMessage | None = None
        self._watching = False  # a person verdict by length: a beep may still revise it
        self._late_beep: BeepHeard | None = None  # a beep heard while watching, not confirmed
        self._frames = 0
        self._tones = ToneTracker(self.config)  # beeps and the network's tones
        # greeting tracking
        self._run_start = -1  # start of the current run of speech frames (-1: none)
        self._greeting_start = -1  # start of the first word (-1: no word yet)
        self._last_speech_end = -1
        # the greeting's words
        self._transcript = ""
        self._heard_until = -1  # the transcript covers the audio up to here
        self._asked_until = -1  # the last request's end (-1: none yet)
        self._asking = False  # a request is out: no second one until it is answered

    @property
    def done(self) -> bool:
        if self.decision is None or self._watching:
            return False
        return self.decision.verdict is not AmdVerdict.MACHINE or self.ready is not None

    @property
    def watching(self) -> bool:
        """A person verdict by length stands, and a beep may still revise it."""
        return self._watching

    @property
    def late_beep_pending(self) -> bool:
        """While watching: a beep was heard and is being heard out, or waits for its quiet
        after (at most late_beep_max_ms + late_beep_confirm_ms): the shell holds a turn that
        ends meanwhile, which may be a recording's last words."""
        return self._watching and self._late_beep is not None

    def close_watch(self) -> None:
        """The person verdict is final: the call is a conversation now (a turn of the
        callee's went to it), and a tone on their line is no voicemail's beep."""
        self._watching = False
        self._late_beep = None

    @property
    def now_ms(self) -> int:
        return self._frames * self.config.frame_ms

    @property
    def greeting_ms(self) -> int:
        if self._greeting_start < 0:
            return 0
        return self._last_speech_end - self._greeting_start

    @property
    def beep(self) -> BeepHeard | None:
        """The last beep heard (None: none yet)."""
        return self._tones.beep

    def hear(self, text: str | None, *, until_ms: int) -> None:
        """The greeting's transcript from its start up to `until_ms` (None: the transcription
        failed; the last transcript stands). Weighed from the next frame on."""
        if self.decision is not None:
            return
        self._asking = False
        if text is not None:
            self._transcript = text
            self._heard_until = until_ms

    def observe(self, frame: bytes, *, speech: bool) -> tuple[AmdEvent, ...]:
        if self.done:
            return ()
        cfg = self.config
        at = self.now_ms
        self._frames += 1
        end = at + cfg.frame_ms
        events: list[AmdEvent] = []

        # Tones first: a tone (or the VAD's hangover after one) is never speech; a held bare
        # tone is weighed once the frame's speech is known (speech after it drops it).
        tones = self._tones.hear(
            frame, at=at, greeting_start=self._greeting_start, line_tones=self.decision is None
        )
        events.extend(tones.beeps)
        self._track_speech(speech and not tones.masks_speech, at, end)
        bare_beep = self._tones.settle(end, greeting_started=self._greeting_start >= 0)
        if bare_beep is not None:
            events.append(bare_beep)

        if self.decision is None:
            decision = self._decide(end)
            if decision is not None:
                self.decision = decision
                self._watching = cfg.late_beep_ms > 0 and decision.reason in _WATCHED
                events.append(decision)
            elif self.words:
                request = self._transcription_due(end)
                if request is not None:
                    events.append(request)
        elif self._watching:
            revised = self._watch(end, beeped=bool(tones.beeps))
            if revised is not None:
                events.append(revised)
        if self.decision is not None and self.decision.verdict is AmdVerdict.MACHINE:
            ready = self._ready(end)
            if ready is not None:
                self.ready = ready
                events.append(ready)
        return tuple(events)

    @property
    def _tone_playing(self) -> bool:
        """A tone that may be the beep is playing: hear it out before deciding or speaking."""
        return self._tones.playing(greeting_started=self._greeting_start >= 0)

    # -- greeting --------------------------------------------------------------------------
    def _track_speech(self, speech: bool, at: int, end: int) -> None:
        cfg = self.config
        if speech:
            if self._run_start < 0:
                self._run_start = at
            if end - self._run_start >= cfg.min_word_ms:
                if self._greeting_start < 0:
                    self._greeting_start = self._run_start
                self._last_speech_end = end
        else:
            self._run_start = -1

    def _decide(self, now: int) -> AmdDecision | None:
        cfg = self.config
        greeting = self.greeting_ms
        if self.beep is not None:
            return AmdDecision(AmdVerdict.MACHINE, AmdReason.BEEP, now, greeting)
        words = self._words()
        if self._greeting_start >= 0:
            if words.says is WordsSay.MACHINE:
                return AmdDecision(
                    AmdVerdict.MACHINE, AmdReason.MACHINE_WORDS, now, greeting, words.cue
                )
            long_from = words.machine_greeting_ms or cfg.machine_greeting_ms
            # by length alone: the words being transcribed may hold a live phrase (wait a little)
            if greeting >= long_from and not self._words_due(self._greeting_start + long_from, now):
                return AmdDecision(AmdVerdict.MACHINE, AmdReason.LONG_GREETING, now, greeting)
            end_silence = self._end_of_greeting_silence_ms(greeting)
            if words.end_silence_ms is not None:
                # the whole greeting's words are in: they may end it sooner, never later
                end_silence = min(end_silence, float(words.end_silence_ms))
            quiet = (
                self._run_start < 0  # no speech under way (it may be the next word)
                and now - self._last_speech_end >= end_silence
            )
            if quiet and not self._tone_playing:  # a tone that may be the beep: hear it out
                if (
                    self._words_due(self._last_speech_end + end_silence, now)
                    and words.says is not WordsSay.LIVE  # its last words cannot undo a live phrase
                ):
                    pass  # the greeting's last words are being transcribed: wait for them
                elif words.says is WordsSay.MACHINE_AT_END:
                    return AmdDecision(
                        AmdVerdict.MACHINE, AmdReason.MACHINE_WORDS, now, greeting, words.cue
                    )
                elif words.says is WordsSay.LIVE:
                    return AmdDecision(
                        AmdVerdict.HUMAN, AmdReason.LIVE_WORDS, now, greeting, words.cue
                    )
                else:
                    return AmdDecision(AmdVerdict.HUMAN, AmdReason.SHORT_GREETING, now, greeting)
        elif (
            now >= cfg.silence_deadline_ms
            and self._run_start < 0
            # a tone that may be a beep holds it; a line tone does not
            and not self._tones.may_beep
        ):
            return AmdDecision(AmdVerdict.UNKNOWN, AmdReason.DEADLINE_SILENCE, now, 0)
        if now < cfg.deadline_ms:
            return None
        if self._greeting_start < 0:
            if self._tones.waits_out_ringback and now < cfg.deadline_ms + cfg.ringback_gap_ms:
                return None  # a long low bare tone: a beep, or a ringback's burst (AmdConfig)
            return AmdDecision(AmdVerdict.UNKNOWN, AmdReason.DEADLINE_SILENCE, now, 0)
        if words.says is WordsSay.LIVE:
            return AmdDecision(AmdVerdict.HUMAN, AmdReason.LIVE_WORDS, now, greeting, words.cue)
        if words.says is WordsSay.MACHINE_AT_END:
            return AmdDecision(
                AmdVerdict.MACHINE, AmdReason.MACHINE_WORDS, now, greeting, words.cue
            )
        if greeting >= cfg.deadline_greeting_ms:
            return AmdDecision(AmdVerdict.MACHINE, AmdReason.DEADLINE_LONG_SPEECH, now, greeting)
        return AmdDecision(AmdVerdict.HUMAN, AmdReason.DEADLINE_SHORT_SPEECH, now, greeting)

    # -- the greeting's words --------------------------------------------------------------
    @property
    def _heard_all(self) -> bool:
        """The transcript covers the greeting up to its last speech."""
        return self._heard_until >= self._last_speech_end >= 0

    def _words_due(self, verdict_due: float, now: int) -> bool:
        """A transcript of words not yet heard is out, and the verdict timing makes (due at
        `verdict_due`) has waited for it less than wait_for_words_ms."""
        late = now - verdict_due
        return self._asking and not self._heard_all and late < self.config.words.wait_for_words_ms

    def _words(self) -> WordsEvidence:
        if not self.words or not self._transcript or self._greeting_start < 0:
            return NO_WORDS
        facts = GreetingFacts(greeting_ms=self.greeting_ms, complete=self._heard_all)
        return weigh_words(self._transcript, facts, self.config.words)

    def _transcription_due(self, now: int) -> TranscribeGreeting | None:
        """Ask for the greeting's transcript when it has grown by transcribe_every_ms, or
        paused for transcribe_after_pause_ms, since the last request (one out at a time)."""
        cfg = self.config
        if self._asking or self._greeting_start < 0:
            return None
        if self._last_speech_end <= self._asked_until:
            return None  # nothing said since the last request
        grown = now - max(self._asked_until, self._greeting_start) >= cfg.transcribe_every_ms
        paused = (
            self._run_start < 0 and now - self._last_speech_end >= cfg.transcribe_after_pause_ms
        )
        if not (grown or paused):
            return None
        self._asking = True
        self._asked_until = now
        return TranscribeGreeting(max(0, self._greeting_start - cfg.transcribe_preroll_ms), now)

    def _end_of_greeting_silence_ms(self, greeting: int) -> float:
        cfg = self.config
        return cfg.after_greeting_silence_ms + cfg.after_greeting_silence_per_ms * greeting

    # -- a person verdict watched ----------------------------------------------------------
    def _watch(self, now: int, *, beeped: bool) -> AmdDecision | None:
        """While a person verdict is watched: a beep in quiet makes it a machine, once quiet
        follows it too. A machine neither talks over its beep nor right after it (it
        records); a tone under or between a person's words is a sound on their line."""
        cfg = self.config
        person = self.decision
        assert person is not None
        beep = self.beep
        if (
            beeped
            and beep is not None
            and self._late_beep is None
            and beep.at_ms - self._last_speech_end >= cfg.late_beep_quiet_ms
        ):
            self._late_beep = beep
        late = self._late_beep
        if late is not None:
            ended = self._tones.last_beep_end
            if self._tone_playing or ended < late.at_ms:
                if now - late.at_ms > cfg.late_beep_max_ms:
                    self._late_beep = None  # a tone that plays on is no voicemail's beep
                return None  # still playing: hear it out
            if self._last_speech_end > ended:
                self._late_beep = None  # speech after it: theirs, and so was the tone
            elif now - ended >= cfg.late_beep_confirm_ms:
                self._watching = False
                self.revised = person
                self.decision = AmdDecision(
                    AmdVerdict.MACHINE, AmdReason.LATE_BEEP, now, self.greeting_ms
                )
                return self.decision
            else:
                return None
        if now - person.at_ms >= cfg.late_beep_ms:
            self._watching = False
        return None

    # -- waiting for the beep --------------------------------------------------------------
    def _ready(self, now: int) -> ReadyForMessage | None:
        cfg = self.config
        assert self.decision is not None
        if now - self.decision.at_ms >= cfg.max_wait_ms:
            # Whatever plays: a tone still going after max_wait_ms is no beep to wait out (a
            # fax, a stuck line), and the message must start at some point.
            return ReadyForMessage(now, ReadyReason.MAX_WAIT, self.beep)
        if self._tone_playing:
            return None  # a tone is playing (maybe the beep, or a second one): never talk over it
        if self.beep is not None and now - self._tones.last_beep_end >= cfg.after_beep_ms:
            return ReadyForMessage(now, ReadyReason.AFTER_BEEP, self.beep)
        if (
            self.beep is None  # a box that beeps gets it after its (last) beep, above
            and self._run_start < 0
            and now - self._last_speech_end >= cfg.no_beep_silence_ms
        ):
            return ReadyForMessage(now, ReadyReason.SILENCE_NO_BEEP, self.beep)
        return None
