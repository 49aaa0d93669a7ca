"""The answering-machine detector's thresholds (`AmdConfig`): every one in one place, each with
the reason for its value, checked when the config is built. `speech.amd` (the detector) and
`speech.amd_beeps` (its tone tracker) read them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ringfence.speech.amd_tones import LINE_TONE_PAIRS
from ringfence.speech.amd_words import WordsConfig
from ringfence.speech.audio import CARRIER_RATE

# Where the network's ringback is one frequency (most of Europe: 425 Hz), `ringback_hz` for it.
SINGLE_FREQUENCY_RINGBACK_HZ: tuple[float, float] = (395.0, 455.0)


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
    # Single-frequency ringback (425 Hz in most of Europe, 400-450 Hz elsewhere: 0.8-1.5 s on,
    # 3-4 s off) is a bare tone too, and its first burst looks like a long low beep: confirmed
    # after bare_beep_confirm_ms, a ringing line was a beep-only voicemail. So a bare burst in
    # ringback_hz at least ringback_min_ms long is a beep only once quiet for ringback_gap_ms
    # (longer than the network's gap), and a second such burst at its pitch is the ringback's
    # cadence: a line tone. Beeps that short, or at another pitch, are confirmed as before; a
    # box that plays only a long low beep gets its verdict ~4 s later (deadline_ms waits for
    # it, by ringback_gap_ms at most), and the live opening, with the patient's first name,
    # plays into its recording meanwhile; two such beeps make it nobody. So the rule is OFF by
    # default ((0, 0): no pitch is a ringback's): the US lines this product calls ring with
    # 440 + 480 Hz, which the two-tone rule below already knows, and 440 Hz is a common
    # beep. Lines that ring at a single frequency opt in with SINGLE_FREQUENCY_RINGBACK_HZ.
    ringback_hz: tuple[float, float] = (0.0, 0.0)
    ringback_min_ms: int = 700
    ringback_gap_ms: int = 4_500
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
    # -- a person verdict revised by a later beep --
    # A beep within this of a person verdict made by the greeting's length (SHORT_GREETING,
    # DEADLINE_SHORT_SPEECH) makes the call a machine after all (LATE_BEEP), as a beep before
    # the verdict would: recorded greetings that pause like a person ("Hello? ... Just
    # kidding, leave a message." then the beep; a name alone, then the beep a second later)
    # were people, the opening went on into the recording and no message was left. Only until
    # a turn of the callee's goes to the conversation (the pipeline's `close_watch`): what the
    # runtime does with it must stand. Not after a live person's phrase (LIVE_WORDS), nor
    # after nobody spoke (UNKNOWN, where a tone may be the network's). The cost: a steady pure
    # tone in silence on a person's line in that time (a kettle, a whistle, a chime) leaves
    # the voicemail message to them. 0 turns it off.
    late_beep_ms: int = 8_000
    # ...and only a beep with quiet around it: it starts after late_beep_quiet_ms without
    # speech, and no speech follows it for late_beep_confirm_ms (then it is decided). A
    # machine neither talks over its beep nor right after it (it records); a tone under or
    # between a person's words is a sound on their line.
    late_beep_quiet_ms: int = 150
    late_beep_confirm_ms: int = 300
    # ...and only a beep that stops within this (boxes beep 0.1-1.5 s): a tone that plays on
    # (a fax's, a kettle's) is none, and a turn held for it is let go.
    late_beep_max_ms: int = 2_000
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
        if self.ringback_hz[0] > self.ringback_hz[1] or self.ringback_min_ms <= 0:
            raise ValueError("ringback_hz must be (low, high), ringback_min_ms positive")
        if self.ringback_gap_ms < self.bare_beep_confirm_ms:
            raise ValueError("ringback_gap_ms must be >= bare_beep_confirm_ms")
        if self.transcribe_every_ms <= 0 or self.transcribe_after_pause_ms < 0:
            raise ValueError("transcribe_every_ms must be positive, transcribe_after_pause_ms >= 0")
        if min(self.late_beep_ms, self.late_beep_quiet_ms, self.late_beep_confirm_ms) < 0:
            raise ValueError("late_beep_ms, _quiet_ms and _confirm_ms must not be negative")
        if self.late_beep_max_ms < self.beep_min_ms:
            raise ValueError("late_beep_max_ms must be at least beep_min_ms")
