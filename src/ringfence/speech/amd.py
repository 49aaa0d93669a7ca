"""Answering-machine detection on the call's audio (pure DSP on 8 kHz PCM16, no clock) and,
when a speech-to-text hands them in, the greeting's words (`speech.amd_words`, pure too).

Two questions, asked in order, frame by frame (time is the audio's own: frame n ends at
(n + 1) * frame_ms after the answer). Every threshold is a field of `AmdConfig`.

1. **Who answered?** From the greeting's length, what follows it, beeps, and its words:
   - a **beep** (see below) is a machine, whatever came before, whenever it comes;
   - **words** (when the detector was built with `words=True`, see "The greeting's words"
     below): a recorded greeting's phrase ("leave a message", "after the tone", "voicemail")
     is a machine at once; a live person's ("how can I help you", "hold on", "who is this")
     lets the greeting run longer and ends it sooner; `speech.amd_words` has the rules;
   - a greeting still going at `machine_greeting_ms` (3.5 s, counted from its first word;
     pauses shorter than the end-of-greeting silence do not end it) is a machine: recorded
     greetings ("Hi, you've reached Jane, I can't take your call, please leave a message")
     run 3-8 s (the words move this length: longer after a live person's phrase or after
     words that hold no machine's phrase);
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
     `AmdConfig.bare_beep_max_ms` and `speech.amd_tones`), which are neither a beep nor speech;
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

Beep detection, FFT-free: per frame, the dominant frequency is estimated from the positive-going
zero crossings (with hysteresis, so noise near zero adds no crossings, and interpolated between
samples: within ~1 Hz on a pure tone), Goertzel measures the power at that frequency, and the
frame is *tonal* when that one frequency holds at least `tonality` of the frame's energy (1.0
for a pure tone, ~0.97 at 16 dB SNR; speech seldom reaches it). A beep is `beep_min_ms` of
consecutive tonal frames in `beep_band_hz` (400-2,500 Hz, with a margin: voicemail beeps run
440-2,400 Hz) whose frequency holds within `beep_jitter_hz` of the run's mean: a beep's pitch
does not move, a voice's does, so a held vowel that looks tonal for a frame or two does not
make a beep (on the evaluation set speech never held one for more than 40 ms). The 2,100 Hz
answer tone of a fax or modem (`answer_tone_hz`) is no beep on its own; after a greeting, a
tone in its band that stops within `answer_band_beep_max_ms` is one (boxes beep at 2,100 Hz
too; V.25's answer tone plays 2.6-4 s), confirmed when it stops. A frame that holds a pure
tone above the band's floor never counts as speech, nor does the VAD's hangover right after a
tone (`tone_hangover_ms`), so a beep cannot lengthen a greeting. (Below the floor lies a
voice's own pitch: a low voice's frame can be as pure as a tone, and it is speech.)

The voice-activity decisions come from the pipeline's VAD (`observe(frame, speech)`), so the
detector is judged with whichever VAD runs in production.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import StrEnum

from ringfence.speech.amd_tones import LINE_TONE_PAIRS, frame_dual_tone_share, pairs_span_hz
from ringfence.speech.amd_words import (
    NO_WORDS,
    GreetingFacts,
    WordsConfig,
    WordsEvidence,
    WordsSay,
    weigh_words,
)
from ringfence.speech.audio import CARRIER_RATE, samples_of


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


class ReadyReason(StrEnum):
    AFTER_BEEP = "after_beep"
    SILENCE_NO_BEEP = "silence_no_beep"
    MAX_WAIT = "max_wait"


@dataclass(frozen=True, slots=True)
class AmdConfig:
    """Every threshold of the detector, in one place (times in ms after the answer or as
    durations; the defaults are the tuned ones, see docs/carriers.md)."""

    sample_rate: int = CARRIER_RATE
    frame_ms: int = 20
    # -- the greeting --
    # Speech runs shorter than this are clicks or breaths, not words.
    min_word_ms: int = 100
    # The silence that ends a greeting: after_greeting_silence_ms, plus
    # after_greeting_silence_per_ms for every ms the greeting ran (0.8 s after a 0.4 s
    # "Hello?", 1.3 s after a 2 s greeting). Longer than the pauses between the sentences of a
    # recorded greeting (0.3-0.9 s as the VAD sees them: a text-to-speech or a person's
    # sentence ends with a little silence of its own) and than the wait for a beep after a
    # greeting (0.3-1.5 s, the longer ones after long greetings); a short hello is answered
    # fast. 600 ms would answer people ~0.1 s sooner but misses a beep 0.7 s after a short
    # greeting with no machine's phrase (the babble run of the tuning set).
    after_greeting_silence_ms: int = 700
    after_greeting_silence_per_ms: float = 0.3
    # A greeting still going this long (from its first word) is a recorded one: a person's
    # hello runs under 1.5 s and a business line's answer ("Thank you for calling Bright
    # Dental, this is Jane, how can I help you?") 2-3.5 s; recorded greetings run 3-8 s.
    machine_greeting_ms: int = 3_500
    # Nobody has spoken by then: UNKNOWN (a voicemail plays at once, a person says hello
    # within ~2 s; one who stays silent is treated as a person anyway).
    silence_deadline_ms: int = 2_500
    # The bound on a verdict (a tone being heard out can hold it back): a greeting at least
    # deadline_greeting_ms long is then a machine, shorter speech a person.
    deadline_ms: int = 6_000
    deadline_greeting_ms: int = 1_200
    # Speech within this of the end of a tone (beep_min_ms or more of pure tone frames) is
    # the VAD's hangover, not a word.
    tone_hangover_ms: int = 100
    # -- the beep --
    # Voicemail beeps run 400-2,500 Hz (440, 850, 1,000, 1,400, 2,200, 2,400 Hz are common);
    # the band is a little wider, for the estimate's error (~3 Hz near 2.5 kHz).
    beep_band_hz: tuple[float, float] = (380.0, 2_550.0)
    # The fax/modem answer tone (ITU-T V.25, 2,100 +-15 Hz): a tone, never a beep on its own.
    answer_tone_hz: tuple[float, float] = (2_075.0, 2_125.0)
    # ...but voicemail beeps at 2,100 Hz exist too (the band is 400-2,500 Hz). A tone in the
    # answer tone's band is a beep only when it follows a greeting (a fax or modem says
    # nothing first) and stops before this (V.25's answer tone plays 2.6-4 s; beeps run
    # 0.15-1 s). It is confirmed when it stops, so it is heard out first.
    answer_band_beep_max_ms: int = 1_500
    # 150 ms of tone (the shortest beep we promise), less the partly covered frames at its edges.
    beep_min_ms: int = 120
    # A beep's frequency holds within this of its run's mean, frame after frame (a voice's
    # does not); the estimate is within ~1 Hz on a clean tone, ~3 Hz at 15 dB SNR.
    beep_jitter_hz: float = 12.0
    # The share of a frame's energy at its one dominant frequency for the frame to be tonal.
    tonality: float = 0.8
    # Frames quieter than this are never tonal (a beep plays at -10 to -30 dBFS).
    beep_floor_dbfs: float = -45.0
    # -- call-progress tones (dial, ringback, busy, reorder: the network's, nobody's) --
    # A pure tone before any greeting is a *bare* tone: a box that plays only its beep, or
    # the network's tone. It is a beep only if it stops within bare_beep_max_ms (beeps run
    # 0.1-1.5 s; a single-frequency dial tone plays on; North America's dual-frequency tones
    # are found by line_tones_hz instead) and no tone follows for bare_beep_confirm_ms
    # (longer than a busy tone's 0.5 s gap and a reorder's 0.25 s) unless it is another
    # burst at a new pitch (a rising two-tone beep). cadence_bursts bursts at one pitch
    # (within cadence_jitter_hz) are a cadence: a busy or reorder tone (a box beeps up to
    # three times). Both err toward a beep: a beep taken for a line tone makes a voicemail
    # box a person, and the live opening (with the patient's first name) would be recorded,
    # where a line tone taken for a beep only leaves a message nobody hears. Speech after a
    # bare tone drops it: a box beeps after its greeting, not before. Once a line tone is
    # heard, tones before a greeting are never a beep, and nobody is UNKNOWN at
    # silence_deadline_ms even while it plays.
    bare_beep_max_ms: int = 2_000
    bare_beep_confirm_ms: int = 800
    cadence_bursts: int = 4
    cadence_jitter_hz: float = 12.0
    # Two-frequency call-progress tones (amd_tones.LINE_TONE_PAIRS): a frame holding at
    # least line_tone_share of its energy at one pair's frequencies is a line tone, never
    # speech (a VAD hears one as speech, then adapts: a dial tone looked like a short
    # greeting, a person); empty: none is looked for.
    line_tones_hz: tuple[tuple[float, float], ...] = LINE_TONE_PAIRS
    # Special information tones (the network's three rising tones before an intercept: 913.8
    # or 985.2, 1,370.6 or 1,428.5, then 1,776.7 Hz, 274-380 ms each) as bare tones in a row
    # are a beep at once: a recorded announcement follows them by definition (the tuning sets
    # call SIT + intercept a machine), and waiting for the intercept's words cost ~3 s.
    sit_bands_hz: tuple[tuple[float, float], ...] = (
        (890.0, 1_010.0),
        (1_340.0, 1_460.0),
        (1_740.0, 1_820.0),
    )
    line_tone_share: float = 0.9
    # ...looked for only in frames whose zero-crossing frequency lies within this of the
    # pairs' lowest and highest frequency (a dual tone's lies between its two).
    line_tone_margin_hz: float = 60.0
    # -- when to leave the message --
    # Quiet after a beep before the message starts: a second beep (or tone) may follow, up to
    # ~0.6 s after the first (two beeps 0.6 s apart were talked over at 300 ms). The box
    # records from the beep, so waiting costs the message nothing.
    after_beep_ms: int = 700
    # A box that never beeps: the message starts after this much silence after its greeting.
    no_beep_silence_ms: int = 2_500
    # Whatever happens, the message starts at most this long after the verdict.
    max_wait_ms: int = 30_000
    # -- the greeting's words (a detector built with words=True) --
    # A transcript of the greeting is asked for each time it has grown by this much audio
    # (Whisper tiny.en takes ~0.3-0.5 s on a few seconds of audio on two CPU cores: about one
    # transcription in flight at a time), and once it pauses this long (its last words).
    transcribe_every_ms: int = 600
    transcribe_after_pause_ms: int = 200
    # Audio kept before the greeting's first word (the VAD starts late).
    transcribe_preroll_ms: int = 200
    # What the words change (speech.amd_words).
    words: WordsConfig = field(default_factory=WordsConfig)

    def __post_init__(self) -> None:
        if self.frame_ms <= 0 or self.sample_rate <= 0:
            raise ValueError("frame_ms and sample_rate must be positive")
        low, high = self.beep_band_hz
        if not 0 < low < high < self.sample_rate / 2:
            raise ValueError("beep_band_hz must lie inside (0, Nyquist)")
        if not 0 < self.tonality <= 1:
            raise ValueError("tonality must be in (0, 1]")
        if self.beep_jitter_hz <= 0:
            raise ValueError("beep_jitter_hz must be positive")
        if self.after_greeting_silence_per_ms < 0:
            raise ValueError("after_greeting_silence_per_ms must not be negative")
        if not 0 < self.line_tone_share <= 1:
            raise ValueError("line_tone_share must be in (0, 1]")
        if self.cadence_bursts < 2 or self.bare_beep_max_ms <= 0 or self.bare_beep_confirm_ms < 0:
            raise ValueError("cadence_bursts must be >= 2, bare_beep_max_ms > 0, confirm >= 0")
        if self.transcribe_every_ms <= 0 or self.transcribe_after_pause_ms < 0:
            raise ValueError("transcribe_every_ms must be positive, transcribe_after_pause_ms >= 0")


@dataclass(frozen=True, slots=True)
class AmdDecision:
    verdict: AmdVerdict
    reason: AmdReason
    at_ms: int  # when it was decided, after the answer
    greeting_ms: int  # how long the greeting had run
    cue: str = ""  # the label of the phrase the words decided by (never the callee's words)


@dataclass(frozen=True, slots=True)
class BeepHeard:
    at_ms: int  # start of the beep
    frequency_hz: float


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


@dataclass(frozen=True, slots=True)
class Tone:
    frequency_hz: float
    tonality: float  # the share of the frame's energy at that one frequency, 0..1


def frame_tone(frame: bytes, *, sample_rate: int = CARRIER_RATE, floor_dbfs: float = -45.0) -> Tone:
    """The frame's dominant pure tone: frequency from zero crossings, share from Goertzel.

    The frequency comes from the positive-going zero crossings, counted with hysteresis (the
    signal must dip below -25 % of its rms before a crossing counts: noise around zero adds
    none) and timed by linear interpolation between samples; it is (crossings - 1) periods
    between the first and the last. A silent frame (under `floor_dbfs`) or one with fewer than
    three crossings has tonality 0.
    """
    samples = samples_of(frame)
    n = len(samples)
    if n < 8:
        return Tone(0.0, 0.0)
    mean = math.fsum(samples) / n
    x = [s - mean for s in samples]
    energy = math.fsum(v * v for v in x)
    if energy <= 0 or 10 * math.log10(energy / n / 32_768**2) < floor_dbfs:
        return Tone(0.0, 0.0)
    hysteresis = 0.25 * math.sqrt(energy / n)
    first = last = 0.0
    crossings = 0
    armed = False
    previous = x[0]
    for i in range(1, n):
        value = x[i]
        if value < -hysteresis:
            armed = True
        elif armed and value >= 0.0 > previous:
            last = i - 1 + previous / (previous - value)
            if crossings == 0:
                first = last
            crossings += 1
            armed = False
        previous = value
    if crossings < 3 or last <= first:
        return Tone(0.0, 0.0)
    frequency = (crossings - 1) * sample_rate / (last - first)
    if not 0 < frequency < sample_rate / 2:
        return Tone(0.0, 0.0)
    power = _goertzel_power(x, frequency, sample_rate)
    return Tone(frequency, min(1.0, 2 * power / (n * energy)))


def _goertzel_power(x: list[float], frequency: float, sample_rate: int) -> float:
    coeff = 2 * math.cos(2 * math.pi * frequency / sample_rate)
    s1 = s2 = 0.0
    for v in x:
        s1, s2 = v + coeff * s1 - s2, s1
    return s1 * s1 + s2 * s2 - coeff * s1 * s2


class AnsweringMachineDetector:
    """Feed every inbound frame from the answer on; it returns events as they happen:
    `BeepHeard`, one `AmdDecision`, and on a machine one `ReadyForMessage`. After a HUMAN or
    UNKNOWN decision (or READY) it has nothing more to say: `done` turns True.

    `words=True`: the shell transcribes the greeting when asked (`TranscribeGreeting` events)
    and hands the text in with `hear`; without, the verdict is timing and beeps alone."""

    def __init__(self, config: AmdConfig | None = None, *, words: bool = False) -> None:
        self.config = config or AmdConfig()
        self.words = words
        self.decision: AmdDecision | None = None
        self.beep: BeepHeard | None = None
        self.ready: ReadyForMessage | None = None
        self._frames = 0
        # greeting tracking
        self._run_start = -1  # start of the current run of speech frames (-1: none)
        self._greeting_start = -1  # start of the first word (-1: no word yet)
        self._last_speech_end = -1
        # beep tracking
        self._tone_start = -1
        self._tone_frames = 0  # the current run of tonal frames at one frequency (0: none)
        self._tone_freq = 0.0  # its mean frequency
        self._beep_on = False  # the current run is a confirmed beep
        self._last_beep_end = -1  # when the last confirmed beep ended (-1: none yet)
        self._pure_frames = 0  # consecutive frames holding a pure tone above the voice's pitch
        self._last_tone_end = -1_000_000  # the end of the last of beep_min_ms such frames
        self._answer_band_frames = 0  # the current run of tonal frames in answer_tone_hz
        self._answer_band_start = -1
        self._answer_band_freq = 0.0  # its mean frequency
        # call-progress tones (before any greeting)
        self._line = False  # a line tone was heard: no tone before a greeting is a beep
        self._line_frames = 0  # consecutive frames of a two-frequency line tone
        self._bare: BeepHeard | None = None  # a bare tone that may yet be a beep (held)
        self._bare_end = -1  # when its last burst stopped (-1: playing)
        self._bare_bursts = 0  # bursts at the last one's pitch
        self._bare_freq = 0.0  # the last burst's pitch
        self._bare_pitches: tuple[float, ...] = ()  # the held bursts' pitches, in order
        self._bare_sit = False  # the held bursts are special information tones
        self._line_span = pairs_span_hz(self.config.line_tones_hz)
        # the greeting's words
        self._transcript = ""
        self._heard_until = -1  # the transcript covers the audio up to here
        self._asked_until = -1  # the last request's end (-1: none yet)
        self._asking = False  # a request is out: no second one until it is answered

    @property
    def done(self) -> bool:
        if self.decision is None:
            return False
        return self.decision.verdict is not AmdVerdict.MACHINE or self.ready is not None

    @property
    def now_ms(self) -> int:
        return self._frames * self.config.frame_ms

    @property
    def greeting_ms(self) -> int:
        if self._greeting_start < 0:
            return 0
        return self._last_speech_end - self._greeting_start

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

        tone = frame_tone(frame, sample_rate=cfg.sample_rate, floor_dbfs=cfg.beep_floor_dbfs)
        # A pure tone above the band's floor (a voice's own pitch lies below it, and a low
        # voice can hold its pitch for a while) is never speech, nor is the VAD's hangover
        # after a tone of beep_min_ms or more.
        pure = tone.tonality >= cfg.tonality and tone.frequency_hz >= cfg.beep_band_hz[0]
        in_band = tone.frequency_hz <= cfg.beep_band_hz[1]
        answer_tone = cfg.answer_tone_hz[0] <= tone.frequency_hz <= cfg.answer_tone_hz[1]
        self._track_tone(pure and in_band and not answer_tone, tone.frequency_hz, at, events)
        self._track_answer_band(pure and answer_tone, tone.frequency_hz, at, events)
        # (Measured only while undecided, and only on a frame whose zero crossings put it
        # near the pairs' frequencies: a dual tone's lie between its two; it costs ~5x the
        # rest of the frame's work.)
        low, high = self._line_span
        line = (
            self.decision is None
            and not pure
            and low - cfg.line_tone_margin_hz <= tone.frequency_hz <= high + cfg.line_tone_margin_hz
            and frame_dual_tone_share(
                frame,
                cfg.line_tones_hz,
                sample_rate=cfg.sample_rate,
                floor_dbfs=cfg.beep_floor_dbfs,
            )
            >= cfg.line_tone_share
        )
        self._pure_frames = self._pure_frames + 1 if pure or line else 0
        if self._pure_frames * cfg.frame_ms >= cfg.beep_min_ms:
            self._last_tone_end = end
        # Two close frequencies (440 + 480 Hz) make some frames look pure: those neither count
        # nor break the run. A single pure tone (a 440 Hz beep) lies in a pair's span too, so
        # only frames that are not pure make it a line tone.
        if line and not pure:
            self._line_frames += 1
        elif not pure:
            self._line_frames = 0
        if (
            self._line_frames * cfg.frame_ms >= cfg.beep_min_ms
            and self._greeting_start < 0
            and not self._line
        ):
            self._line_tone()
        heard = (
            speech and not pure and not line and at - self._last_tone_end >= cfg.tone_hangover_ms
        )
        self._track_speech(heard, at, end)
        self._track_bare(end, events)

        if self.decision is None:
            decision = self._decide(end)
            if decision is not None:
                self.decision = decision
                events.append(decision)
            elif self.words:
                request = self._transcription_due(end)
                if request is not None:
                    events.append(request)
        if self.decision is not None and self.decision.verdict is AmdVerdict.MACHINE:
            ready = self._ready(end)
            if ready is not None:
                self.ready = ready
                events.append(ready)
        return tuple(events)

    # -- beep ------------------------------------------------------------------------------
    def _track_tone(self, tonal: bool, frequency: float, at: int, events: list[AmdEvent]) -> None:
        cfg = self.config
        steady = abs(frequency - self._tone_freq) <= cfg.beep_jitter_hz
        if tonal and (self._tone_frames == 0 or steady):
            if self._tone_frames == 0:
                self._tone_start = at
            self._tone_frames += 1
            # running mean of the tone's frequency
            self._tone_freq += (frequency - self._tone_freq) / self._tone_frames
            if not self._beep_on and self._tone_frames * cfg.frame_ms >= cfg.beep_min_ms:
                self._beep_on = True
                heard = BeepHeard(self._tone_start, round(self._tone_freq, 1))
                if self._greeting_start >= 0:
                    self.beep = heard
                    events.append(heard)
                elif not self._line:
                    self._bare_burst(heard)
            return
        if self._beep_on:
            self._last_beep_end = at
            if self._bare is not None:
                self._bare_end = at
        self._beep_on = False
        # a tonal frame at a new pitch starts a new run (a two-tone beep's second tone)
        self._tone_frames = 1 if tonal else 0
        self._tone_freq = frequency if tonal else 0.0
        self._tone_start = at if tonal else -1

    def _track_answer_band(
        self, tonal: bool, frequency: float, at: int, events: list[AmdEvent]
    ) -> None:
        """A tone in the answer tone's band: a beep if it follows a greeting and stops before
        answer_band_beep_max_ms (see AmdConfig), confirmed when it stops."""
        cfg = self.config
        if tonal:
            if self._answer_band_frames == 0:
                self._answer_band_start = at
                self._answer_band_freq = 0.0
            self._answer_band_frames += 1
            self._answer_band_freq += (
                frequency - self._answer_band_freq
            ) / self._answer_band_frames
            return
        length = self._answer_band_frames * cfg.frame_ms
        if (
            self._answer_band_frames
            and 0 <= self._greeting_start < self._answer_band_start
            and cfg.beep_min_ms <= length < cfg.answer_band_beep_max_ms
        ):
            self.beep = BeepHeard(self._answer_band_start, round(self._answer_band_freq, 1))
            self._last_beep_end = at
            events.append(self.beep)
        elif self._greeting_start < 0 and length >= cfg.answer_band_beep_max_ms:
            self._line = True  # a fax's or modem's answer tone: nobody will speak
        self._answer_band_frames = 0

    # -- call-progress tones ---------------------------------------------------------------
    def _bare_burst(self, heard: BeepHeard) -> None:
        """A tone of beep_min_ms before any greeting: held (see AmdConfig.bare_beep_max_ms)."""
        cfg = self.config
        same = self._bare is not None and (
            abs(heard.frequency_hz - self._bare_freq) <= cfg.cadence_jitter_hz
        )
        self._bare_bursts = self._bare_bursts + 1 if same else 1
        self._bare_freq = heard.frequency_hz
        self._bare_end = -1
        if self._bare is None:
            self._bare = heard
            self._bare_pitches = ()
        self._bare_pitches += (heard.frequency_hz,)
        if self._bare_bursts >= cfg.cadence_bursts:
            self._line_tone()  # a busy or reorder cadence
        sit = cfg.sit_bands_hz
        if sit and len(self._bare_pitches) >= len(sit):
            last = self._bare_pitches[-len(sit) :]
            if all(low <= f <= high for f, (low, high) in zip(last, sit, strict=True)):
                self._bare_sit = True  # an intercept's tones: a beep now (_track_bare)

    def _line_tone(self) -> None:
        self._line = True
        self._bare = None

    def _track_bare(self, now: int, events: list[AmdEvent]) -> None:
        """A held bare tone: a line tone if it plays on, a beep once quiet long enough,
        nothing if speech follows it."""
        cfg = self.config
        if self._bare is None:
            return
        if self._greeting_start >= 0:
            self._bare = None  # speech after it: a box beeps after its greeting, not before
            return
        if self._beep_on and now - self._tone_start > cfg.bare_beep_max_ms:
            self._line_tone()  # it plays on: a dial tone or a ringback
            return
        quiet = self._bare_end >= 0 and not self._tone_frames
        if self._bare_sit or (quiet and now - self._bare_end >= cfg.bare_beep_confirm_ms):
            self.beep = self._bare
            if self._bare_end >= 0:  # (else it is playing: its end is set when it stops)
                self._last_beep_end = self._bare_end
            events.append(self.beep)
            self._bare = None

    @property
    def _tone_playing(self) -> bool:
        """A tone that may be (or become) a beep is playing: hear it out before deciding or
        speaking (an answer-band tone only after a greeting: alone it is a modem's)."""
        return bool(self._tone_frames) or (
            self._answer_band_frames > 0 and self._greeting_start >= 0
        )

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
            if greeting >= (words.machine_greeting_ms or cfg.machine_greeting_ms):
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
                late = now - self._last_speech_end - end_silence
                if (
                    self._asking
                    and not self._heard_all
                    and late < cfg.words.wait_for_words_ms
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
            and (self._line or (not self._tone_frames and self._bare is None))
        ):
            return AmdDecision(AmdVerdict.UNKNOWN, AmdReason.DEADLINE_SILENCE, now, 0)
        if now < cfg.deadline_ms:
            return None
        if self._greeting_start < 0:
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

    # -- waiting for the beep --------------------------------------------------------------
    def _ready(self, now: int) -> ReadyForMessage | None:
        cfg = self.config
        assert self.decision is not None
        if now - self.decision.at_ms >= cfg.max_wait_ms:
            # Whatever plays: a tone still going after max_wait_ms is no beep to wait out (a
            # fax, a stuck line), and the message must start at some point.
            return ReadyForMessage(now, ReadyReason.MAX_WAIT, self.beep)
        if self._beep_on or self._tone_playing:
            return None  # a tone is playing (maybe the beep, or a second one): never talk over it
        if self.beep is not None and now - self._last_beep_end >= cfg.after_beep_ms:
            return ReadyForMessage(now, ReadyReason.AFTER_BEEP, self.beep)
        if (
            self.beep is None  # a box that beeps gets it after its (last) beep, above
            and self._run_start < 0
            and now - self._last_speech_end >= cfg.no_beep_silence_ms
        ):
            return ReadyForMessage(now, ReadyReason.SILENCE_NO_BEEP, self.beep)
        return None
