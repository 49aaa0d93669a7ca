"""Which tones are beeps: the answering-machine detector's tone tracker (`ToneTracker`, which
the detector owns and feeds every frame), and the beeps it hears (`BeepHeard`).

Per frame, `speech.amd_tones.frame_tone` gives the dominant frequency and the share of the
frame's energy it holds; the frame is *tonal* when that one frequency holds at least `tonality`
of it. A beep is `beep_min_ms` of consecutive tonal frames in `beep_band_hz` (400-2,500 Hz,
with a margin: voicemail beeps run 440-2,400 Hz) whose frequency holds within `beep_jitter_hz`
of the run's mean: a beep's pitch does not move, a voice's does, so a held vowel that looks
tonal for a frame or two does not make a beep (on the evaluation set speech never held one for
more than 40 ms). The 2,100 Hz answer tone of a fax or modem (`answer_tone_hz`) is no beep on
its own; after a greeting, a tone in its band that stops within `answer_band_beep_max_ms` is
one (boxes beep at 2,100 Hz too; V.25's answer tone plays 2.6-4 s), confirmed when it stops. A
frame that holds a pure tone above the band's floor never counts as speech, nor does the VAD's
hangover right after a tone (`tone_hangover_ms`), so a beep cannot lengthen a greeting. (Below
the floor lies a voice's own pitch: a low voice's frame can be as pure as a tone, and it is
speech.)

Before any greeting a tone is *bare*: a box that plays only its beep, or the network's tone
(dial, ringback, busy, reorder, special information tones). It is held until it shows which
(`AmdConfig.bare_beep_max_ms` and `ringback_hz` have the rules); two-frequency line tones
(`speech.amd_tones.frame_dual_tone_share`) are never beeps. All times are the audio's own.
"""

from __future__ import annotations

from dataclasses import dataclass

from ringfence.speech.amd_config import AmdConfig
from ringfence.speech.amd_tones import frame_dual_tone_share, frame_tone, pairs_span_hz


@dataclass(frozen=True, slots=True)
class BeepHeard:
    at_ms: int  # start of the beep
    frequency_hz: float


@dataclass(frozen=True, slots=True)
class FrameTones:
    """What one frame's tones tell the detector."""

    beeps: tuple[BeepHeard, ...]  # beeps heard on this frame, in order
    masks_speech: bool  # a tone (or the VAD's hangover after one): never speech


class ToneTracker:
    """The tones heard so far: `hear` every frame (before the detector weighs its speech),
    then `settle` (after it has): `beep` is the last beep heard, `last_beep_end` when it
    stopped. The detector tells it where the greeting stands (`greeting_start`: its first
    word's start, -1 for none yet), since a tone after a greeting is judged unlike one before."""

    def __init__(self, config: AmdConfig) -> None:
        self.config = config
        self.beep: BeepHeard | None = None
        self.last_beep_end = -1  # when the last confirmed beep ended (-1: none yet)
        self._tone_start = -1
        self._tone_frames = 0  # the current run of tonal frames at one frequency (0: none)
        self._tone_freq = 0.0  # its mean frequency
        self._beep_on = False  # the current run is a confirmed beep
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
        self._bare_ringback = False  # its last burst ended at a ringback's pitch and length
        self._line_span = pairs_span_hz(config.line_tones_hz)

    def hear(self, frame: bytes, *, at: int, greeting_start: int, line_tones: bool) -> FrameTones:
        """The frame from `at` on; `line_tones`: look for two-frequency line tones too (only
        while undecided: it costs ~5x the rest of the frame's work)."""
        cfg = self.config
        end = at + cfg.frame_ms
        beeps: list[BeepHeard] = []
        tone = frame_tone(frame, sample_rate=cfg.sample_rate, floor_dbfs=cfg.beep_floor_dbfs)
        # A pure tone above the band's floor (a voice's own pitch lies below it, and a low
        # voice can hold its pitch for a while) is never speech, nor is the VAD's hangover
        # after a tone of beep_min_ms or more.
        pure = tone.tonality >= cfg.tonality and tone.frequency_hz >= cfg.beep_band_hz[0]
        in_band = tone.frequency_hz <= cfg.beep_band_hz[1]
        answer_tone = cfg.answer_tone_hz[0] <= tone.frequency_hz <= cfg.answer_tone_hz[1]
        tonal = pure and in_band and not answer_tone
        self._track_tone(tonal, tone.frequency_hz, at, greeting_start, beeps)
        self._track_answer_band(pure and answer_tone, tone.frequency_hz, at, greeting_start, beeps)
        # (Measured only on a frame whose zero crossings put it near the pairs' frequencies: a
        # dual tone's lie between its two.)
        low, high = self._line_span
        line = (
            line_tones
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
            and greeting_start < 0
            and not self._line
        ):
            self._line_tone()
        masks = pure or line or at - self._last_tone_end < cfg.tone_hangover_ms
        return FrameTones(tuple(beeps), masks)

    def playing(self, *, greeting_started: bool) -> bool:
        """A tone that may be (or become) a beep is playing: hear it out before deciding or
        speaking (an answer-band tone only after a greeting: alone it is a modem's)."""
        return bool(self._tone_frames) or (self._answer_band_frames > 0 and greeting_started)

    @property
    def waits_out_ringback(self) -> bool:
        """A held bare tone's last burst had a ringback's pitch and length: it is a beep only
        if no burst follows within ringback_gap_ms (see AmdConfig)."""
        return self._bare is not None and self._bare_ringback

    @property
    def may_beep(self) -> bool:
        """Before any greeting: a tone playing or held may yet be a beep (never once a line
        tone was heard)."""
        return not self._line and (bool(self._tone_frames) or self._bare is not None)

    # -- beep ------------------------------------------------------------------------------
    def _track_tone(
        self, tonal: bool, frequency: float, at: int, greeting_start: int, beeps: list[BeepHeard]
    ) -> None:
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
                if greeting_start >= 0:
                    self.beep = heard
                    beeps.append(heard)
                elif not self._line:
                    self._bare_burst(heard)
            return
        if self._beep_on:
            self.last_beep_end = at
            if self._bare is not None:
                self._bare_end = at
                self._bare_burst_ended(at)
        self._beep_on = False
        # a tonal frame at a new pitch starts a new run (a two-tone beep's second tone)
        self._tone_frames = 1 if tonal else 0
        self._tone_freq = frequency if tonal else 0.0
        self._tone_start = at if tonal else -1

    def _track_answer_band(
        self, tonal: bool, frequency: float, at: int, greeting_start: int, beeps: list[BeepHeard]
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
            and 0 <= greeting_start < self._answer_band_start
            and cfg.beep_min_ms <= length < cfg.answer_band_beep_max_ms
        ):
            self.beep = BeepHeard(self._answer_band_start, round(self._answer_band_freq, 1))
            self.last_beep_end = at
            beeps.append(self.beep)
        elif greeting_start < 0 and length >= cfg.answer_band_beep_max_ms:
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
            self._bare_ringback = False
        self._bare_pitches += (heard.frequency_hz,)
        if self._bare_bursts >= cfg.cadence_bursts:
            self._line_tone()  # a busy or reorder cadence
        sit = cfg.sit_bands_hz
        if sit and len(self._bare_pitches) >= len(sit):
            last = self._bare_pitches[-len(sit) :]
            if all(low <= f <= high for f, (low, high) in zip(last, sit, strict=True)):
                self._bare_sit = True  # an intercept's tones: a beep now (settle)

    def _bare_burst_ended(self, at: int) -> None:
        """A held tone's burst stopped at `at`: at a ringback's pitch and length, it is heard
        out for ringback_gap_ms; a second such burst at one pitch is the ringback itself."""
        cfg = self.config
        low, high = cfg.ringback_hz
        ringback = low <= self._tone_freq <= high and at - self._tone_start >= cfg.ringback_min_ms
        if ringback and self._bare_ringback and self._bare_bursts >= 2:
            self._line_tone()  # the ringback's cadence: (at least) two bursts at its pitch
        else:
            self._bare_ringback = ringback

    def _line_tone(self) -> None:
        self._line = True
        self._bare = None

    def settle(self, now: int, *, greeting_started: bool) -> BeepHeard | None:
        """A held bare tone at `now`: a line tone if it plays on, a beep (returned) once quiet
        long enough, nothing if speech follows it."""
        cfg = self.config
        if self._bare is None:
            return None
        if greeting_started:
            self._bare = None  # speech after it: a box beeps after its greeting, not before
            return None
        if self._beep_on and now - self._tone_start > cfg.bare_beep_max_ms:
            self._line_tone()  # it plays on: a dial tone or a ringback
            return None
        quiet = self._bare_end >= 0 and not self._tone_frames
        confirm_ms = cfg.ringback_gap_ms if self._bare_ringback else cfg.bare_beep_confirm_ms
        if self._bare_sit or (quiet and now - self._bare_end >= confirm_ms):
            self.beep = self._bare
            if self._bare_end >= 0:  # (else it is playing: its end is set when it stops)
                self.last_beep_end = self._bare_end
            self._bare = None
            return self.beep
        return None
