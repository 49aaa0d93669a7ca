"""Answering-machine detection on the call's audio (pure DSP on 8 kHz PCM16, no clock).

Two questions, asked in order, frame by frame (time is the audio's own: frame n ends at
(n + 1) * frame_ms after the answer):

1. **Who answered?** From the greeting's length and cadence, with a deadline:
   - a short greeting followed by silence ("Hello?" ... ) is a person: HUMAN once
     `after_greeting_silence_ms` (1 s) of silence follows a greeting shorter than
     `machine_greeting_ms`, unless a tone is playing (a beep 0.5-1 s after a short
     greeting is common: it is heard out first);
   - a long greeting (pauses shorter than `after_greeting_silence_ms` do not end it) is a
     machine: MACHINE as soon as it passes `machine_greeting_ms` (~2.5 s; "Hi, you've reached
     Jane, please leave a message" runs 3-6 s, a person's hello under 1.5 s);
   - a beep (see below) is a machine, whatever came before;
   - at `deadline_ms` it decides with what it has: a greeting still going and already
     `deadline_greeting_ms` long is a MACHINE, any other speech a HUMAN, and no speech at all
     UNKNOWN (someone picked up and is waiting: the pipeline treats that as a person).
2. **On a machine, when to speak?** After the beep: READY the moment a detected beep ends.
   A box that never beeps gets READY after `no_beep_silence_ms` of silence once its greeting
   is over, and any box after `max_wait_ms` (so a call never waits forever).

Beep detection, FFT-free: per frame, the frequency is estimated from zero crossings (exact
enough for a pure tone), Goertzel measures the power at that frequency (and +-25 Hz, so a
tone between bins is not missed), and the frame is *tonal* when that one frequency holds at
least `tonality` (0.8) of the frame's energy (1.0 for a pure tone; a held vowel reaches
~0.75, noise ~0.1). A beep is `beep_min_ms` of consecutive tonal frames at one frequency
(+-60 Hz) in the `beep_band_hz` band. A tonal frame never counts as speech, so a beep
cannot lengthen a greeting.

The voice-activity decisions come from the pipeline's VAD (`observe(frame, speech)`), so the
detector is judged with whichever VAD runs in production.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from enum import StrEnum

from ringfence.speech.audio import CARRIER_RATE, samples_of


class AmdVerdict(StrEnum):
    HUMAN = "human"
    MACHINE = "machine"
    UNKNOWN = "unknown"  # nothing but silence (or noise) by the deadline


class AmdReason(StrEnum):
    SHORT_GREETING = "short_greeting"  # a short greeting, then silence
    LONG_GREETING = "long_greeting"  # the greeting ran past machine_greeting_ms
    BEEP = "beep"
    DEADLINE_LONG_SPEECH = "deadline_long_speech"
    DEADLINE_SHORT_SPEECH = "deadline_short_speech"
    DEADLINE_SILENCE = "deadline_silence"


class ReadyReason(StrEnum):
    AFTER_BEEP = "after_beep"
    SILENCE_NO_BEEP = "silence_no_beep"
    MAX_WAIT = "max_wait"


@dataclass(frozen=True, slots=True)
class AmdConfig:
    sample_rate: int = CARRIER_RATE
    frame_ms: int = 20
    min_word_ms: int = 100  # speech runs shorter than this are clicks, not words
    after_greeting_silence_ms: int = 1_000
    machine_greeting_ms: int = 2_500
    deadline_ms: int = 4_000
    deadline_greeting_ms: int = 1_200
    beep_band_hz: tuple[float, float] = (800.0, 2_000.0)
    beep_min_ms: int = 120  # 150 ms of tone, less the partly covered frames at its edges
    tonality: float = 0.8
    beep_floor_dbfs: float = -45.0
    no_beep_silence_ms: int = 2_500
    max_wait_ms: int = 30_000

    def __post_init__(self) -> None:
        if self.frame_ms <= 0 or self.sample_rate <= 0:
            raise ValueError("frame_ms and sample_rate must be positive")
        low, high = self.beep_band_hz
        if not 0 < low < high < self.sample_rate / 2:
            raise ValueError("beep_band_hz must lie inside (0, Nyquist)")
        if not 0 < self.tonality <= 1:
            raise ValueError("tonality must be in (0, 1]")


@dataclass(frozen=True, slots=True)
class AmdDecision:
    verdict: AmdVerdict
    reason: AmdReason
    at_ms: int  # when it was decided, after the answer
    greeting_ms: int  # how long the greeting had run


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


AmdEvent = AmdDecision | BeepHeard | ReadyForMessage


@dataclass(frozen=True, slots=True)
class Tone:
    frequency_hz: float
    tonality: float  # the share of the frame's energy at that one frequency, 0..1


def frame_tone(frame: bytes, *, sample_rate: int = CARRIER_RATE, floor_dbfs: float = -45.0) -> Tone:
    """The frame's dominant pure tone: frequency from zero crossings, share from Goertzel.

    A silent frame (under `floor_dbfs`) has tonality 0.
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
    crossings = sum(1 for a, b in itertools.pairwise(x) if (a < 0) != (b < 0))
    estimate = crossings * sample_rate / (2 * (n - 1))
    best = max(
        _goertzel_power(x, f, sample_rate)
        for f in (estimate - 25.0, estimate, estimate + 25.0)
        if 0 < f < sample_rate / 2
    )
    return Tone(estimate, min(1.0, 2 * best / (n * energy)))


def _goertzel_power(x: list[float], frequency: float, sample_rate: int) -> float:
    coeff = 2 * math.cos(2 * math.pi * frequency / sample_rate)
    s1 = s2 = 0.0
    for v in x:
        s1, s2 = v + coeff * s1 - s2, s1
    return s1 * s1 + s2 * s2 - coeff * s1 * s2


class AnsweringMachineDetector:
    """Feed every inbound frame from the answer on; it returns events as they happen:
    `BeepHeard`, one `AmdDecision`, and on a machine one `ReadyForMessage`. After a HUMAN or
    UNKNOWN decision (or READY) it has nothing more to say: `done` turns True."""

    def __init__(self, config: AmdConfig | None = None) -> None:
        self.config = config or AmdConfig()
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
        self._tone_frames = 0
        self._tone_freq = 0.0
        self._beep_on = False

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

    def observe(self, frame: bytes, *, speech: bool) -> tuple[AmdEvent, ...]:
        if self.done:
            return ()
        cfg = self.config
        at = self.now_ms
        self._frames += 1
        end = at + cfg.frame_ms
        events: list[AmdEvent] = []

        tone = frame_tone(frame, sample_rate=cfg.sample_rate, floor_dbfs=cfg.beep_floor_dbfs)
        pure = tone.tonality >= cfg.tonality
        tonal = pure and cfg.beep_band_hz[0] <= tone.frequency_hz <= cfg.beep_band_hz[1]
        beep_ended = self._track_tone(tonal, tone.frequency_hz, at, events)
        self._track_speech(speech and not pure, at, end)  # a pure tone is never speech

        if self.decision is None:
            decision = self._decide(end)
            if decision is not None:
                self.decision = decision
                events.append(decision)
        if self.decision is not None and self.decision.verdict is AmdVerdict.MACHINE:
            ready = self._ready(end, beep_ended)
            if ready is not None:
                self.ready = ready
                events.append(ready)
        return tuple(events)

    # -- beep ------------------------------------------------------------------------------
    def _track_tone(self, tonal: bool, frequency: float, at: int, events: list[AmdEvent]) -> bool:
        """Update the tone run; returns True on the frame a confirmed beep ends."""
        cfg = self.config
        same = self._tone_frames > 0 and abs(frequency - self._tone_freq) <= 60.0
        if tonal and (same or self._tone_frames == 0):
            if self._tone_frames == 0:
                self._tone_start = at
            self._tone_frames += 1
            # running mean of the tone's frequency
            self._tone_freq += (frequency - self._tone_freq) / self._tone_frames
            if not self._beep_on and self._tone_frames * cfg.frame_ms >= cfg.beep_min_ms:
                self._beep_on = True
                self.beep = BeepHeard(self._tone_start, round(self._tone_freq, 1))
                events.append(self.beep)
            return False
        ended = self._beep_on
        self._beep_on = False
        self._tone_frames = 1 if tonal else 0  # a tonal frame at a new pitch starts a new run
        self._tone_freq = frequency if tonal else 0.0
        self._tone_start = at if tonal else -1
        return ended

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
        if self._greeting_start >= 0:
            if greeting >= cfg.machine_greeting_ms:
                return AmdDecision(AmdVerdict.MACHINE, AmdReason.LONG_GREETING, now, greeting)
            quiet = now - self._last_speech_end >= cfg.after_greeting_silence_ms
            if quiet and not self._tone_frames:  # a tone that may be the beep: hear it out
                return AmdDecision(AmdVerdict.HUMAN, AmdReason.SHORT_GREETING, now, greeting)
        if now < cfg.deadline_ms:
            return None
        if self._greeting_start < 0:
            return AmdDecision(AmdVerdict.UNKNOWN, AmdReason.DEADLINE_SILENCE, now, 0)
        if greeting >= cfg.deadline_greeting_ms:
            return AmdDecision(AmdVerdict.MACHINE, AmdReason.DEADLINE_LONG_SPEECH, now, greeting)
        return AmdDecision(AmdVerdict.HUMAN, AmdReason.DEADLINE_SHORT_SPEECH, now, greeting)

    # -- waiting for the beep --------------------------------------------------------------
    def _ready(self, now: int, beep_ended: bool) -> ReadyForMessage | None:
        cfg = self.config
        if beep_ended:
            return ReadyForMessage(now, ReadyReason.AFTER_BEEP, self.beep)
        if self._beep_on or self._tone_frames:
            return None  # a tone is playing (maybe the beep): never talk over it
        assert self.decision is not None
        if now - self.decision.at_ms >= cfg.max_wait_ms:
            return ReadyForMessage(now, ReadyReason.MAX_WAIT, self.beep)
        if self._run_start < 0 and now - self._last_speech_end >= cfg.no_beep_silence_ms:
            return ReadyForMessage(now, ReadyReason.SILENCE_NO_BEEP, self.beep)
        return None
