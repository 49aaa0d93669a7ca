"""Answering-machine detection on synthetic signals, on the audio's own clock."""

from __future__ import annotations

from pathlib import Path

import pytest

from ringfence.adapters.speech import EnergyVad
from ringfence.speech.amd import (
    AmdDecision,
    AmdReason,
    AmdVerdict,
    AnsweringMachineDetector,
    ReadyForMessage,
    ReadyReason,
)
from ringfence.speech.amd_beeps import BeepHeard
from ringfence.speech.amd_config import AmdConfig
from ringfence.speech.amd_eval import (
    VoiceStyle,
    babble_voice,
    evaluate,
    format_report,
    hum,
    load_cases,
    no_words,
    parse_case,
    render,
    telephone_line,
)
from ringfence.speech.amd_tones import frame_tone
from ringfence.speech.audio import dbfs, silence
from ringfence.speech.synth import babble, mix, noise, tone

CASES = Path(__file__).parents[2] / "data" / "amd" / "greetings.jsonl"
MORE_CASES = CASES.with_name("greetings_more.jsonl")
FRAME = 320  # 20 ms at 8 kHz


def listen(pcm: bytes, config: AmdConfig | None = None) -> AnsweringMachineDetector:
    detector = AnsweringMachineDetector(config)
    vad = EnergyVad()
    for at in range(0, len(pcm) - FRAME + 1, FRAME):
        frame = pcm[at : at + FRAME]
        detector.observe(frame, speech=vad.is_speech(frame))
        if detector.done:
            break
    return detector


def pause(seconds: float) -> bytes:
    return silence(seconds, 8_000)


def test_a_pure_tone_is_found_and_measured() -> None:
    found = frame_tone(tone(0.1, 1_000)[640:960])  # 20 ms from the middle, past the ramp
    assert found.frequency_hz == pytest.approx(1_000, abs=3)
    assert found.tonality > 0.95
    assert frame_tone(pause(0.02)).tonality == 0.0
    assert frame_tone(noise(0.02, level_dbfs=-20)).tonality < 0.3


@pytest.mark.parametrize("frequency", [400, 440, 1_000, 2_200, 2_400, 2_500])
def test_the_frequency_holds_across_the_beep_band_even_in_hiss(frequency: int) -> None:
    signal = mix(tone(0.1, frequency, level_dbfs=-14), noise(0.1, level_dbfs=-34, seed=1))
    found = frame_tone(signal[640:960])
    assert found.frequency_hz == pytest.approx(frequency, abs=4)
    assert found.tonality > 0.9


def test_speech_like_sound_is_never_a_beep() -> None:
    for seed in range(8):
        signal = babble(3.0, seed=seed, pitch_hz=100 + 15 * seed)
        assert listen(signal + pause(4)).beep is None


def test_short_hello_then_silence_is_a_person() -> None:
    detector = listen(pause(0.4) + babble(0.5, seed=1) + pause(5))
    # Ended at 0.9 s; a 0.5 s greeting has ended after 0.7 + 0.3 * 0.5 = 0.85 s of silence.
    assert detector.decision == AmdDecision(
        AmdVerdict.HUMAN, AmdReason.SHORT_GREETING, at_ms=1_760, greeting_ms=500
    )
    # A person verdict by length is watched for a late beep (late_beep_ms), then final.
    assert detector.watching
    assert not detector.done
    assert detector.ready is None
    longer = listen(pause(0.4) + babble(0.5, seed=1) + pause(10))
    assert longer.decision == detector.decision
    assert longer.done
    assert not longer.watching
    assert longer.revised is None


def test_a_person_answering_a_business_line_is_a_person() -> None:
    """Finding: "Thank you for calling Bright Dental, this is Jane, how can I help you?" (3 s)
    was judged a machine. A greeting that ends before 3.5 s is a person's."""
    config = AmdConfig()
    for seed in range(6):
        greeting = babble(3.0, seed=10 + seed, pitch_hz=190)
        detector = listen(pause(0.4) + greeting + pause(5), config)
        assert detector.decision is not None
        assert detector.decision.verdict is AmdVerdict.HUMAN, seed
        assert detector.decision.reason is AmdReason.SHORT_GREETING
        assert detector.decision.greeting_ms < config.machine_greeting_ms
        # Heard out: 0.7 s + 0.3 x the greeting's length of silence (~1.6 s after 3 s).
        assert detector.decision.at_ms <= 3_400 + 1_700


def test_long_greeting_is_a_machine_at_3_5_seconds() -> None:
    detector = listen(pause(0.3) + babble(5.0, seed=2) + pause(4))
    assert detector.decision is not None
    assert detector.decision.verdict is AmdVerdict.MACHINE
    assert detector.decision.reason is AmdReason.LONG_GREETING
    assert 3_700 <= detector.decision.at_ms <= 4_000


def test_a_recorded_greeting_with_pauses_and_no_beep_is_a_machine() -> None:
    """Finding: "Hi, you've reached the Parkers. (pause) We can't come to the phone. (pause)
    Please leave a message." and no beep was judged a person at its first pause. Pauses
    between sentences do not end a greeting; its end is found by the silence after it."""
    phrases = [babble(1.2, seed=20), babble(1.4, seed=21), babble(1.3, seed=22)]
    greeting = pause(0.3) + phrases[0] + pause(0.6) + phrases[1] + pause(0.6) + phrases[2]
    detector = listen(greeting + pause(6))
    assert detector.decision is not None
    assert detector.decision.verdict is AmdVerdict.MACHINE
    assert detector.decision.reason is AmdReason.LONG_GREETING
    assert detector.beep is None
    assert detector.ready is not None
    assert detector.ready.reason is ReadyReason.SILENCE_NO_BEEP
    # The greeting ends at 5.4 s (its last syllable a little before); 2.5 s of silence after.
    assert 7_500 <= detector.ready.at_ms <= 7_920


def test_after_the_beep_the_message_may_start() -> None:
    greeting = pause(0.3) + babble(4.0, seed=3)  # 4.3 s
    detector = listen(greeting + pause(0.5) + tone(0.5, 1_000) + pause(3))
    assert detector.beep == BeepHeard(at_ms=4_800, frequency_hz=pytest.approx(1_000, abs=3))
    assert detector.ready is not None
    assert detector.ready.reason is ReadyReason.AFTER_BEEP
    # The beep ends at 5.3 s: the message starts 700 ms later (a second beep may follow).
    assert 6_000 <= detector.ready.at_ms <= 6_040


@pytest.mark.parametrize("frequency", [400, 440, 650, 1_000, 1_800, 2_200, 2_400, 2_500])
def test_beeps_are_heard_from_400_to_2_500_hz(frequency: int) -> None:
    """Finding: a 2.2 kHz beep was missed (the band was 800-2,000 Hz)."""
    signal = pause(0.3) + babble(4.0, seed=4) + pause(0.4) + tone(0.3, frequency, level_dbfs=-18)
    detector = listen(mix(signal + pause(3), noise(8.0, level_dbfs=-50, seed=2)))
    assert detector.beep is not None
    assert detector.beep.frequency_hz == pytest.approx(frequency, abs=5)
    assert detector.beep.at_ms == pytest.approx(4_700, abs=20)
    assert detector.ready is not None
    assert detector.ready.reason is ReadyReason.AFTER_BEEP
    assert detector.ready.at_ms >= 5_000  # never over the beep


def test_two_beeps_get_the_message_after_the_second() -> None:
    beeps = tone(0.2, 1_000) + pause(0.15) + tone(0.2, 1_000)
    detector = listen(pause(0.3) + babble(4.0, seed=5) + pause(0.4) + beeps + pause(3))
    assert detector.ready is not None
    assert detector.ready.reason is ReadyReason.AFTER_BEEP
    assert detector.ready.at_ms >= 4_700 + 550  # the second beep ends at 5.25 s


def test_a_rising_two_tone_beep_is_heard_out() -> None:
    beep = tone(0.25, 440) + tone(0.3, 880)
    detector = listen(pause(0.3) + babble(4.0, seed=6) + pause(0.4) + beep + pause(3))
    assert detector.beep is not None
    assert detector.ready is not None
    assert detector.ready.at_ms >= 4_700 + 550


def test_a_low_beep_over_mains_hum_is_heard_and_hum_alone_is_nobody() -> None:
    signal = pause(0.3) + babble(4.0, seed=7) + pause(0.4) + tone(0.4, 440) + pause(3)
    detector = listen(mix(signal, hum(8.1, level_dbfs=-34)))
    assert detector.beep is not None
    assert detector.beep.frequency_hz == pytest.approx(440, abs=5)
    nobody = listen(hum(5.0, level_dbfs=-28))
    assert nobody.decision is not None
    assert nobody.decision.verdict is AmdVerdict.UNKNOWN
    assert nobody.beep is None


def test_a_beep_over_a_telephone_line_is_heard() -> None:
    signal = pause(0.3) + babble(4.0, seed=8) + pause(0.4) + tone(0.3, 2_400) + pause(3)
    detector = listen(telephone_line(mix(signal, noise(8.0, level_dbfs=-45, seed=3))))
    assert detector.beep is not None
    assert detector.beep.frequency_hz == pytest.approx(2_400, abs=5)


def test_a_fax_or_modem_answer_tone_is_not_a_beep() -> None:
    detector = listen(pause(0.3) + tone(3.0, 2_100, level_dbfs=-12) + pause(3))
    assert detector.beep is None
    assert detector.decision is not None
    assert detector.decision.verdict is AmdVerdict.UNKNOWN


def test_two_beeps_far_apart_get_the_message_after_the_second() -> None:
    """Finding: a second beep 0.6 s after the first was talked over (300 ms wait)."""
    beeps = tone(0.3, 850) + pause(0.6) + tone(0.3, 850)
    detector = listen(pause(0.3) + babble(4.0, seed=5) + pause(0.5) + beeps + pause(3))
    assert detector.ready is not None
    assert detector.ready.at_ms >= 4_800 + 1_200  # the second beep ends at 6.0 s


@pytest.mark.parametrize("frequency", [2_100, 2_110])
def test_a_beep_at_the_answer_tones_pitch_after_a_greeting_is_a_beep(frequency: int) -> None:
    """Finding: "Jane Smith." then a 2,100 Hz beep was judged a person (the answer tone's
    band was never a beep). After a greeting, a short tone there is one; alone, or long, it
    is a modem's."""
    signal = pause(0.3) + babble(0.6, seed=4) + pause(0.4) + tone(0.5, frequency) + pause(3)
    detector = listen(signal)
    assert detector.beep is not None
    assert detector.beep.frequency_hz == pytest.approx(frequency, abs=5)
    assert detector.decision is not None
    assert (detector.decision.verdict, detector.decision.reason) == (
        AmdVerdict.MACHINE,
        AmdReason.BEEP,
    )
    assert detector.ready is not None
    assert detector.ready.at_ms >= 1_800  # after the tone
    long = listen(pause(0.3) + babble(0.6, seed=4) + pause(0.4) + tone(3.0, 2_100) + pause(3))
    assert long.beep is None
    assert long.decision is not None
    assert long.decision.verdict is AmdVerdict.HUMAN
    alone = listen(pause(0.5) + tone(0.5, 2_100) + pause(4))
    assert alone.beep is None


def test_a_beep_after_a_short_greeting_makes_it_a_machine() -> None:
    detector = listen(pause(0.3) + babble(0.8, seed=4) + pause(0.7) + tone(0.4, 1_400) + pause(3))
    assert detector.decision is not None
    assert (detector.decision.verdict, detector.decision.reason) == (
        AmdVerdict.MACHINE,
        AmdReason.BEEP,
    )
    assert detector.ready is not None
    assert detector.ready.reason is ReadyReason.AFTER_BEEP


def test_a_beep_soon_after_a_person_verdict_makes_it_a_machine() -> None:
    """Finding: recorded greetings that pause like a person ("Hello? ... Just kidding, I'm
    not here, leave a message." then a beep; a name alone, then the beep a second later) were
    people: the opening went on into the recording and no message was left. A beep within
    late_beep_ms of a person verdict by length revises it."""
    hello = pause(0.4) + babble(0.5, seed=1)  # a person verdict at 1.76 s (test above)
    reveal = babble(2.5, seed=31)
    for gap in (pause(1.3) + reveal + pause(0.4), pause(2.0)):
        detector = listen(hello + gap + tone(0.5, 2_050) + pause(3))
        assert detector.revised == AmdDecision(
            AmdVerdict.HUMAN, AmdReason.SHORT_GREETING, at_ms=1_760, greeting_ms=500
        )
        assert detector.decision is not None
        assert (detector.decision.verdict, detector.decision.reason) == (
            AmdVerdict.MACHINE,
            AmdReason.LATE_BEEP,
        )
        assert detector.beep is not None
        # Decided once quiet has followed the beep (0.5 s) for late_beep_confirm_ms.
        assert detector.decision.at_ms == detector.beep.at_ms + 500 + 300
        # ...and the message waits for the beep's end, as after any beep.
        assert detector.ready is not None
        assert detector.ready.reason is ReadyReason.AFTER_BEEP
        assert detector.done


def test_the_watch_ends_with_its_window_or_when_the_shell_closes_it() -> None:
    hello = pause(0.4) + babble(0.5, seed=1)  # a person verdict at 1.76 s
    # A beep after the window (8 s after the verdict) changes nothing: the watch was over.
    late = listen(hello + pause(9.0) + tone(0.5, 1_000) + pause(2))
    assert late.decision is not None
    assert late.decision.verdict is AmdVerdict.HUMAN
    assert late.revised is None
    assert late.done
    # Closed by the shell (the callee said something it answered): a tone is theirs.
    detector = AnsweringMachineDetector()
    vad = EnergyVad()
    pcm = hello + pause(1.0) + tone(0.5, 1_000) + pause(2)
    for at in range(0, len(pcm) - FRAME + 1, FRAME):
        frame = pcm[at : at + FRAME]
        detector.observe(frame, speech=vad.is_speech(frame))
        if detector.decision is not None and detector.watching:
            detector.close_watch()
    assert detector.decision is not None
    assert detector.decision.verdict is AmdVerdict.HUMAN
    assert detector.done
    # Off (late_beep_ms=0): never watched.
    off = listen(hello + pause(1.0) + tone(0.5, 1_000) + pause(2), AmdConfig(late_beep_ms=0))
    assert off.decision is not None
    assert off.decision.verdict is AmdVerdict.HUMAN
    assert not off.watching


def test_a_tone_under_or_right_after_a_persons_words_is_no_late_beep() -> None:
    """Review finding: a tone on a person's line (a chime, a whistle) under their words after
    "Hello?" made the call a voicemail. A machine does not talk over its beep: a late beep
    must start after late_beep_quiet_ms without speech."""
    hello = pause(0.4) + babble(0.5, seed=1)  # a person verdict at 1.76 s
    words = babble(2.0, seed=41)
    under = mix(pause(1.5) + words + pause(3), pause(2.3) + tone(0.4, 1_000, level_dbfs=-14))
    after = pause(1.5) + words + pause(0.06) + tone(0.4, 1_000) + pause(3)
    for rest in (under, after):
        detector = listen(hello + rest)
        assert detector.beep is not None  # heard as a tone...
        assert detector.decision is not None
        assert detector.decision.verdict is AmdVerdict.HUMAN  # ...but no voicemail's beep
        assert detector.revised is None


def test_a_tone_that_plays_on_is_no_late_beep() -> None:
    """Review finding: a 12 s tone after "Hello?" (a fax, a kettle) was a late beep, and a
    turn the pipeline held for it waited the whole tone. A late beep stops within
    late_beep_max_ms; past that it is let go at once."""
    config = AmdConfig()
    detector = AnsweringMachineDetector(config)
    vad = EnergyVad()
    pcm = pause(0.4) + babble(0.5, seed=1) + pause(1.0) + tone(12.0, 1_000) + pause(2)
    pending_ms = 0
    for at in range(0, len(pcm) - FRAME + 1, FRAME):
        frame = pcm[at : at + FRAME]
        detector.observe(frame, speech=vad.is_speech(frame))
        pending_ms += FRAME // 16 if detector.late_beep_pending else 0
    assert detector.decision is not None
    assert detector.decision.verdict is AmdVerdict.HUMAN
    assert detector.revised is None
    assert 0 < pending_ms <= config.late_beep_max_ms + 20


def test_a_persons_later_words_do_not_revise_their_verdict() -> None:
    """After "Hello?" a person goes on talking (to the opening, or to someone beside them):
    speech, however long, is no beep."""
    detector = listen(
        pause(0.4) + babble(0.5, seed=1) + pause(1.2) + babble(5.0, seed=40) + pause(6)
    )
    assert detector.decision is not None
    assert detector.decision.verdict is AmdVerdict.HUMAN
    assert detector.revised is None
    assert detector.done


def test_the_shortest_promised_beep_is_heard_even_in_hiss() -> None:
    signal = pause(1.5) + tone(0.15, 1_000) + pause(2)
    detector = listen(mix(signal, noise(3.65, level_dbfs=-45)))
    assert detector.beep is not None


def test_a_box_that_never_beeps_gets_the_message_after_its_greeting() -> None:
    detector = listen(pause(0.3) + babble(4.0, seed=5) + pause(6))
    assert detector.ready is not None
    assert detector.ready.reason is ReadyReason.SILENCE_NO_BEEP
    # The greeting's last syllable ends a little before 4.3 s; 2.5 s of quiet after it.
    assert 6_500 <= detector.ready.at_ms <= 6_820


def test_silence_until_the_deadline_is_unknown() -> None:
    detector = listen(pause(6))
    assert detector.decision == AmdDecision(
        AmdVerdict.UNKNOWN, AmdReason.DEADLINE_SILENCE, at_ms=2_500, greeting_ms=0
    )


def test_a_late_hello_before_the_silence_deadline_is_heard() -> None:
    detector = listen(pause(2.0) + babble(0.5, seed=9) + pause(4))
    assert detector.decision is not None
    assert detector.decision.verdict is AmdVerdict.HUMAN


def test_steady_hiss_is_not_a_greeting() -> None:
    detector = listen(noise(6, level_dbfs=-35, seed=3))
    assert detector.decision is not None
    assert detector.decision.verdict is AmdVerdict.UNKNOWN


def warble(seconds: float) -> bytes:
    """A tone whose pitch steps by 60 Hz every 20 ms: tonal frame by frame, never a beep."""
    steps = round(seconds / 0.02)
    return b"".join(tone(0.02, 600 + 60 * (k % 20), ramp_ms=0.5) for k in range(steps))


@pytest.mark.parametrize(
    ("greeting_s", "reason"),
    [(1.5, AmdReason.DEADLINE_LONG_SPEECH), (0.5, AmdReason.DEADLINE_SHORT_SPEECH)],
)
def test_at_the_deadline_it_decides_with_what_it_has(greeting_s: float, reason: AmdReason) -> None:
    # A warbling tone after the greeting (music, say) is heard out: maybe it is the beep.
    detector = listen(pause(0.3) + babble(greeting_s, seed=6) + pause(0.2) + warble(7.0))
    assert detector.beep is None
    assert detector.decision is not None
    assert detector.decision.reason is reason
    assert detector.decision.at_ms == 6_000


@pytest.mark.parametrize(
    "signal",
    [
        pause(0.2) + babble(12.0, seed=7),  # talks on and on
        # A beep, then a tone that never stops (a fax, a stuck line): it held the message
        # until the tone ended.
        pause(0.3) + babble(4.0, seed=5) + pause(0.4) + tone(12.0, 1_000),
    ],
    ids=["talks-on", "tone-plays-on"],
)
def test_max_wait_bounds_the_wait_for_a_beep(signal: bytes) -> None:
    config = AmdConfig(max_wait_ms=3_000)
    detector = AnsweringMachineDetector(config)
    vad = EnergyVad()
    events: list[object] = []
    for at in range(0, len(signal) - FRAME + 1, FRAME):
        frame = signal[at : at + FRAME]
        events += detector.observe(frame, speech=vad.is_speech(frame))
    ready = [e for e in events if isinstance(e, ReadyForMessage)]
    assert len(ready) == 1
    assert ready[0].reason is ReadyReason.MAX_WAIT
    assert detector.decision is not None
    assert ready[0].at_ms == detector.decision.at_ms + 3_000


def test_config_is_checked() -> None:
    with pytest.raises(ValueError, match="beep_band_hz"):
        AmdConfig(beep_band_hz=(800.0, 5_000.0))
    with pytest.raises(ValueError, match="tonality"):
        AmdConfig(tonality=0.0)
    with pytest.raises(ValueError, match="beep_jitter_hz"):
        AmdConfig(beep_jitter_hz=0.0)
    with pytest.raises(ValueError, match="after_greeting_silence_per_ms"):
        AmdConfig(after_greeting_silence_per_ms=-0.1)


def test_recipes_render_lines_hum_and_languages() -> None:
    case = parse_case(
        {
            "id": "x",
            "expect": "machine",
            "parts": [{"say": "Hola, deja tu mensaje."}, {"beep": 440, "level_dbfs": -20}],
            "voice": {"lang": "es"},
            "hum_dbfs": -40,
            "line": "telephone",
        }
    )
    assert case.voice == VoiceStyle(lang="es")
    assert case.parts[1].level_dbfs == -20
    rendered = render(case, babble_voice)
    assert rendered.beeps_ms[0][1] - rendered.beeps_ms[0][0] == 500
    with pytest.raises(ValueError, match="line"):
        parse_case({"id": "y", "expect": "human", "parts": [], "line": "radio"})
    # The telephone band: 60 Hz hum is gone, 1 kHz passes.
    assert dbfs(telephone_line(hum(0.5, level_dbfs=-20))[800:]) < -45
    assert dbfs(telephone_line(tone(0.5, 1_000, level_dbfs=-20))[800:]) == pytest.approx(-20, abs=1)


def test_the_babble_voice_pauses_at_punctuation() -> None:
    one = babble_voice("Good morning Bright Dental how can I help you", VoiceStyle())
    two = babble_voice("Good morning, Bright Dental. How can I help you?", VoiceStyle())
    assert len(two) - len(one) == 2 * round(8_000 * (0.12 + 0.35))


def test_the_second_tuning_file_parses_and_adds_new_cases() -> None:
    """greetings_more.jsonl widens the tuning set (the benchmark takes it with --cases): every
    recipe parses, names its category in its note, and none repeats one of greetings.jsonl."""
    more = load_cases(MORE_CASES)
    assert len(more) >= 80
    ids = [case.id for case in more]
    assert len(set(ids)) == len(ids)
    assert not set(ids) & {case.id for case in load_cases(CASES)}
    assert all(":" in case.note for case in more)
    assert {case.expect for case in more} == set(AmdVerdict)


def test_the_speed_tuning_file_parses_and_adds_new_cases() -> None:
    """greetings_speed.jsonl (the kinds of case that decided slowly or wrongly) parses too,
    and repeats no case of the other tuning files."""
    speed = load_cases(CASES.with_name("greetings_speed.jsonl"))
    assert len(speed) >= 40
    ids = [case.id for case in speed]
    assert len(set(ids)) == len(ids)
    assert not set(ids) & {case.id for case in [*load_cases(CASES), *load_cases(MORE_CASES)]}
    assert all(":" in case.note for case in speed)
    assert {case.expect for case in speed} == set(AmdVerdict)


def test_the_fresh_tuning_file_parses_and_adds_new_cases() -> None:
    """greetings_fresh.jsonl (written apart from the detector, GREETINGS_FRESH.md) parses, each
    note opens with its [category], and its ids repeat none of the other tuning files'."""
    fresh = load_cases(CASES.with_name("greetings_fresh.jsonl"))
    assert len(fresh) >= 120
    ids = [case.id for case in fresh]
    assert len(set(ids)) == len(ids)
    others = {
        case.id
        for name in ("greetings", "greetings_more", "greetings_speed", "greetings_tones")
        for case in load_cases(CASES.with_name(f"{name}.jsonl"))
    }
    assert not set(ids) & others
    assert all(case.note.startswith("[") and "]" in case.note for case in fresh)
    assert {case.expect for case in fresh} == set(AmdVerdict)


@pytest.mark.slow
def test_the_evaluation_set_with_babble_voices() -> None:
    """The recipes of tests/data/amd, spoken as babble: the pure, engine-free run (the
    benchmark runs them with Piper and espeak-ng too, and Whisper hears their words). Babble
    has no words: the detector asks for transcripts and hears nothing, so timing decides, and
    every miss is a case marked hard: a short recorded greeting with no beep, or a person's
    greeting of 3.5 s or more (without words, length is all a greeting tells apart). The set
    holds many such cases since words came in (32 of 148 are marked hard), hence the floor."""
    cases = load_cases(CASES)
    assert len(cases) >= 140
    report = evaluate(cases, babble_voice, EnergyVad, transcriber=no_words)
    assert sum(r.transcriptions for r in report.results) > len(cases)  # it did ask
    assert report.spoke_over_beep == 0, format_report("babble", report)
    assert all(r.case.hard for r in report.wrong), format_report("babble", report)
    assert report.accuracy >= 0.83, format_report("babble", report)
