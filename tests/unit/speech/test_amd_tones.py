"""Call-progress tones (dial, ringback, busy, reorder, special information tones) and dead
air before any greeting: nobody answered, so the verdict is UNKNOWN, never a beep's MACHINE
nor a short greeting's HUMAN. Bare beeps (a box that plays only its beep) stay machines."""

from __future__ import annotations

from pathlib import Path

import pytest

from ringfence.speech.amd import (
    AmdReason,
    AmdVerdict,
    AnsweringMachineDetector,
    ReadyReason,
)
from ringfence.speech.amd_config import SINGLE_FREQUENCY_RINGBACK_HZ, AmdConfig
from ringfence.speech.amd_eval import Part, line_tone, load_cases, parse_case, render
from ringfence.speech.amd_tones import LINE_TONE_PAIRS, dual_tone_share
from ringfence.speech.audio import samples_of
from ringfence.speech.synth import babble, mix, noise, tone
from tests.unit.speech.test_amd import FRAME, listen, pause

DATA = Path(__file__).parents[2] / "data" / "amd"


def network(frequencies: list[float], seconds: float, on: float = 0.0, off: float = 0.0) -> bytes:
    return line_tone(
        Part(
            "tone",
            seconds=seconds,
            level_dbfs=-20,
            frequencies_hz=tuple(frequencies),
            on_s=on,
            off_s=off,
        )
    )


def share(pcm: bytes) -> float:
    x = [float(s) for s in samples_of(pcm)]
    mean = sum(x) / len(x)
    x = [v - mean for v in x]
    return dual_tone_share(x, sum(v * v for v in x), LINE_TONE_PAIRS, 8_000)


def sit(low: bool = True) -> bytes:
    first, second = (913.8, 1_370.6) if low else (985.2, 1_428.5)
    return (
        tone(0.274, first, level_dbfs=-20)
        + tone(0.274, second, level_dbfs=-20)
        + tone(0.38, 1_776.7, level_dbfs=-20)
    )


@pytest.mark.parametrize("pair", LINE_TONE_PAIRS)
def test_a_dual_tone_holds_its_frame_and_speech_does_not(pair: tuple[float, float]) -> None:
    frame = network(list(pair), 0.1)[640:960]  # 20 ms past the ramp
    assert share(frame) > 0.98
    for seed in range(6):
        speech = babble(1.0, seed=seed, pitch_hz=100 + 30 * seed)
        frames = [speech[at : at + FRAME] for at in range(0, len(speech) - FRAME + 1, FRAME)]
        assert max(share(f) for f in frames if any(samples_of(f))) < 0.9
    assert share(noise(0.02, level_dbfs=-20)[:FRAME]) < 0.2


CALL_PROGRESS = {
    "us-dial": network([350, 440], 8.0),
    "us-ringback": network([440, 480], 10.0, on=2.0, off=4.0),
    "us-busy": network([480, 620], 8.0, on=0.5, off=0.5),
    "us-reorder": network([480, 620], 8.0, on=0.25, off=0.25),
    "uk-dial": network([350, 450], 8.0),
    "uk-ringback": network([400, 450], 8.0, on=0.4, off=0.2),
    "uk-busy-400": network([400], 8.0, on=0.375, off=0.375),
    "eu-dial-425": network([425], 8.0),
    "eu-busy-425": network([425], 8.0, on=0.5, off=0.5),
    "eu-congestion-425": network([425], 8.0, on=0.25, off=0.25),
    "fax-then-1750": tone(3.2, 2_100, level_dbfs=-14) + tone(0.6, 1_750) + pause(3.0),
}


@pytest.mark.parametrize("name", sorted(CALL_PROGRESS))
def test_a_call_progress_tone_is_nobody(name: str) -> None:
    """Finding: a 425 Hz dial or busy tone was a beep (a machine at 0.4 s), a 350 + 440 Hz
    dial tone a short greeting (a person: the VAD heard it, then adapted to it), a 480 + 620
    Hz busy tone a long greeting (a machine)."""
    signal = mix(pause(0.3) + CALL_PROGRESS[name], noise(10.5, level_dbfs=-55, seed=4))
    detector = listen(signal)
    assert detector.decision is not None
    assert detector.decision.verdict is AmdVerdict.UNKNOWN, detector.decision
    assert detector.decision.reason is AmdReason.DEADLINE_SILENCE
    assert detector.decision.at_ms <= 3_500
    assert detector.beep is None


def nobody_soon(detector: AnsweringMachineDetector) -> bool:
    """UNKNOWN by 3.5 s: what the tests above assert of every call-progress tone."""
    decision = detector.decision
    return (
        decision is not None and decision.verdict is AmdVerdict.UNKNOWN and decision.at_ms <= 3_500
    )


def test_without_the_line_tone_rules_the_tones_are_decided_wrongly() -> None:
    """The planted bug: with the rules switched off (no pairs, bare tones never too long, no
    cadence, no SIT, a bare tone a beep as soon as it stops), the tones are decided wrongly
    again, so the tests above would fail."""
    off = AmdConfig(
        line_tones_hz=(),
        bare_beep_max_ms=10**6,
        bare_beep_confirm_ms=0,
        cadence_bursts=10**6,
        sit_bands_hz=(),
    )
    dial = listen(pause(0.3) + CALL_PROGRESS["us-dial"], off).decision
    assert dial is not None
    assert dial.verdict is AmdVerdict.HUMAN
    busy = listen(pause(0.3) + CALL_PROGRESS["us-busy"], off).decision
    assert busy is not None
    assert busy.verdict is AmdVerdict.MACHINE
    eu_busy = listen(pause(0.3) + CALL_PROGRESS["eu-busy-425"], off).decision
    assert eu_busy is not None
    assert eu_busy.verdict is AmdVerdict.MACHINE
    assert not nobody_soon(listen(pause(0.3) + CALL_PROGRESS["eu-dial-425"], off))


@pytest.mark.parametrize(
    ("rule_off", "name"),
    [
        ({"line_tones_hz": ()}, "us-dial"),
        ({"line_tones_hz": ()}, "us-busy"),
        ({"bare_beep_max_ms": 10**6}, "eu-dial-425"),
        ({"cadence_bursts": 10**6}, "eu-busy-425"),
    ],
)
def test_each_rule_is_what_decides_its_tone(rule_off: dict[str, object], name: str) -> None:
    config = AmdConfig(**rule_off)  # type: ignore[arg-type]
    assert not nobody_soon(listen(pause(0.3) + CALL_PROGRESS[name], config))
    assert nobody_soon(listen(pause(0.3) + CALL_PROGRESS[name]))


@pytest.mark.parametrize(
    "beeps",
    [
        tone(1.0, 1_000),
        tone(0.5, 425),
        tone(0.4, 850) + pause(0.6) + tone(0.4, 850),
        tone(0.3, 850) + tone(0.3, 1_400),
        # A long beep and three at one pitch (review finding): at 1.2 s and 3 bursts these
        # were line tones, so nobody, so a person: the live opening, with the patient's
        # first name, spoken into a voicemail box.
        tone(1.5, 1_000),
        tone(0.3, 1_000) + pause(0.3) + tone(0.3, 1_000) + pause(0.3) + tone(0.3, 1_000),
    ],
    ids=["one-second", "at-425-hz", "two-beeps", "rising", "long", "three-at-one-pitch"],
)
def test_a_bare_beep_is_still_a_machine(beeps: bytes) -> None:
    """A box that plays only its beep: the tone stops within bare_beep_max_ms, and nothing
    follows at its pitch, so it is a beep once bare_beep_confirm_ms have passed quietly."""
    config = AmdConfig()
    detector = listen(pause(0.5) + beeps + pause(4.0), config)
    assert detector.decision is not None
    assert detector.decision.verdict is AmdVerdict.MACHINE
    assert detector.decision.reason is AmdReason.BEEP
    assert detector.beep is not None
    assert detector.beep.at_ms == pytest.approx(500, abs=40)
    ends = 500 + len(beeps) * 1_000 // 16_000
    assert detector.decision.at_ms == pytest.approx(ends + config.bare_beep_confirm_ms, abs=60)
    assert detector.ready is not None
    assert detector.ready.reason is ReadyReason.AFTER_BEEP
    assert detector.ready.at_ms >= ends + config.after_beep_ms


def test_after_a_greeting_a_tone_at_a_line_tones_pitch_is_a_beep_at_once() -> None:
    greeting = pause(0.3) + babble(4.0, seed=3)
    detector = listen(greeting + pause(0.4) + tone(0.5, 425) + pause(3.0))
    assert detector.decision is not None
    assert detector.decision.verdict is AmdVerdict.MACHINE
    assert detector.beep is not None
    assert detector.beep.at_ms == pytest.approx(4_700, abs=40)


@pytest.mark.parametrize("low", [True, False])
def test_special_information_tones_are_a_machine_at_once(low: bool) -> None:
    """The network's three rising tones come before a recorded intercept ("The number you
    have dialed is not in service"): a machine as soon as the third is heard, as when they
    were a beep; not ~3 s later, when the intercept's words or length would tell."""
    intercept = pause(0.3) + babble(4.5, seed=9) + pause(3.0)
    tones = sit(low)
    third = 300 + (len(tones) - 2 * 8_000 * 38 // 100) * 1_000 // 16_000  # the third starts
    for after in (intercept, pause(6.0)):
        detector = listen(pause(0.3) + tones + after)
        assert detector.decision is not None
        assert detector.decision.verdict is AmdVerdict.MACHINE
        assert detector.decision.reason is AmdReason.BEEP
        assert detector.decision.at_ms <= third + 200
        assert detector.ready is not None
        assert detector.ready.at_ms >= 300 + len(tones) * 1_000 // 16_000  # never over them
    # The planted bug: without the rule, the intercept is judged by its length, later.
    late = listen(pause(0.3) + tones + intercept, AmdConfig(sit_bands_hz=())).decision
    assert late is not None
    assert late.reason is AmdReason.LONG_GREETING
    assert late.at_ms > 3_000


def test_a_person_who_picks_up_after_a_ringback_burst_is_a_person() -> None:
    signal = network([440, 480], 2.0) + pause(0.3) + babble(0.6, seed=2) + pause(4.0)
    detector = listen(mix(signal, noise(7.0, level_dbfs=-55, seed=5)))
    assert detector.decision is not None
    assert detector.decision.verdict is AmdVerdict.HUMAN
    assert detector.decision.greeting_ms < 1_000  # the ringback is no part of the greeting


# The single-frequency ringback rule is opt-in (AmdConfig.ringback_hz): these tests turn it on.
RINGING = AmdConfig(ringback_hz=SINGLE_FREQUENCY_RINGBACK_HZ)

RINGBACKS = {  # single-frequency ringback: (pitch, on, off)
    "eu-425": (425, 1.0, 4.0),
    "ru-425": (425, 0.8, 3.2),
    "es-425": (425, 1.5, 3.0),
    "fr-440": (440, 1.5, 3.5),
    "cn-450": (450, 1.0, 4.0),
}


@pytest.mark.parametrize("name", sorted(RINGBACKS))
def test_a_single_frequency_ringback_is_nobody_not_a_beep(name: str) -> None:
    """Finding: a 425 Hz ringback's first 1 s burst was a bare beep once 0.8 s quiet (a
    machine at 2 s, the message left into a ringing line). Its second burst at its pitch,
    after a gap no confirm outlasts, makes it a line tone: nobody."""
    pitch, on, off = RINGBACKS[name]
    signal = mix(
        pause(0.3) + network([pitch], 12.0, on=on, off=off), noise(12.3, level_dbfs=-55, seed=4)
    )
    detector = listen(signal, RINGING)
    assert detector.decision is not None
    assert detector.decision.verdict is AmdVerdict.UNKNOWN, detector.decision
    assert detector.beep is None
    # once the second burst has played (a line tone then, not a beep)
    assert detector.decision.at_ms == pytest.approx(300 + 1_000 * (2 * on + off), abs=80)
    # The planted bug: without the rule (the default: see AmdConfig), the first burst is a beep.
    unruled = listen(signal).decision
    assert unruled is not None
    assert (unruled.verdict, unruled.reason) == (AmdVerdict.MACHINE, AmdReason.BEEP)
    assert unruled.at_ms == pytest.approx(300 + 1_000 * on + 800, abs=80)


def test_a_person_who_picks_up_after_a_425_hz_ringback_burst_is_a_person() -> None:
    signal = network([425], 1.0) + pause(1.2) + babble(0.6, seed=2) + pause(4.0)
    detector = listen(mix(signal, noise(6.8, level_dbfs=-55, seed=5)), RINGING)
    assert detector.decision is not None
    assert detector.decision.verdict is AmdVerdict.HUMAN, detector.decision
    assert detector.beep is None


@pytest.mark.parametrize(("start", "pitch", "seconds"), [(0.5, 425, 1.0), (1.2, 440, 1.2)])
def test_a_long_low_bare_beep_is_still_a_machine_after_a_ringbacks_gap(
    start: float, pitch: int, seconds: float
) -> None:
    """A box that plays only a beep at a ringback's pitch and length: a beep once no second
    burst has come for ringback_gap_ms (past deadline_ms too), and the message goes then."""
    config = RINGING
    detector = listen(pause(start) + tone(seconds, pitch) + pause(8.0), config)
    assert detector.decision is not None
    assert (detector.decision.verdict, detector.decision.reason) == (
        AmdVerdict.MACHINE,
        AmdReason.BEEP,
    )
    assert detector.beep is not None
    assert detector.beep.at_ms == pytest.approx(1_000 * start, abs=40)
    ends = round(1_000 * (start + seconds))
    assert detector.decision.at_ms == pytest.approx(ends + config.ringback_gap_ms, abs=60)
    assert detector.ready is not None
    assert detector.ready.reason is ReadyReason.AFTER_BEEP
    assert detector.ready.at_ms <= detector.decision.at_ms + config.after_beep_ms


@pytest.mark.parametrize(
    ("start", "pitch", "seconds"), [(0.5, 440, 1.0), (1.5, 440, 1.5), (0.5, 425, 1.0)]
)
def test_by_default_a_long_low_bare_beep_is_a_machine_soon_after_it_stops(
    start: float, pitch: int, seconds: float
) -> None:
    """Review finding: with the ringback rule on, a beep-only box at 440 Hz was judged ~4 s
    late (at 7.5 s for a 1.5 s beep starting at 1.5 s), with the live opening and the
    patient's first name playing into its recording. The rule is opt-in: by default the
    beep is confirmed bare_beep_confirm_ms after it stops."""
    config = AmdConfig()
    detector = listen(pause(start) + tone(seconds, pitch) + pause(8.0), config)
    assert detector.decision is not None
    assert (detector.decision.verdict, detector.decision.reason) == (
        AmdVerdict.MACHINE,
        AmdReason.BEEP,
    )
    ends = round(1_000 * (start + seconds))
    assert detector.decision.at_ms == pytest.approx(ends + config.bare_beep_confirm_ms, abs=60)


def test_by_default_two_low_beeps_are_a_machine_not_a_ringback() -> None:
    """Review finding: with the ringback rule on, two 0.8 s beeps at 440 Hz 1 s apart were
    'nobody' (a ringback's cadence), so the whole live opening played into the box."""
    signal = pause(0.5) + tone(0.8, 440) + pause(1.0) + tone(0.8, 440) + pause(6.0)
    decision = listen(signal).decision
    assert decision is not None
    assert decision.verdict is AmdVerdict.MACHINE, decision


def test_dead_air_is_nobody_at_the_silence_deadline() -> None:
    detector = listen(pause(10.0))
    assert detector.decision is not None
    assert detector.decision.verdict is AmdVerdict.UNKNOWN
    assert detector.decision.at_ms == AmdConfig().silence_deadline_ms


def test_the_tone_part_renders_mixed_and_cadenced_and_is_no_beep() -> None:
    case = parse_case(
        {
            "id": "busy",
            "expect": "unknown",
            "parts": [{"pause": 0.5}, {"tone": [480, 620], "seconds": 3.0, "on": 0.5, "off": 0.5}],
        }
    )
    rendered = render(case, lambda text, style: b"")
    assert rendered.beeps_ms == ()
    assert len(rendered.pcm) == 2 * 8_000 * 35 // 10
    on = rendered.pcm[2 * 8_000 * 6 // 10 : 2 * 8_000 * 7 // 10]  # 0.6-0.7 s: tone
    off = rendered.pcm[2 * 8_000 * 12 // 10 : 2 * 8_000 * 13 // 10]  # 1.2-1.3 s: silence
    assert share(on[:FRAME]) > 0.98
    assert not any(samples_of(off))


def test_config_checks_the_line_tone_fields() -> None:
    for field, bad in (
        ("line_tone_share", 0.0),
        ("cadence_bursts", 1),
        ("bare_beep_max_ms", 0),
        ("ringback_hz", (455.0, 395.0)),
        ("ringback_min_ms", 0),
        ("ringback_gap_ms", 500),
    ):
        with pytest.raises(ValueError, match=field):
            AmdConfig(**{field: bad})  # type: ignore[arg-type]


def test_the_tones_tuning_file_parses_and_adds_new_cases() -> None:
    """greetings_tones.jsonl (call-progress tones, dead air, and bare-beep controls) parses
    and repeats no case of the other tuning files."""
    tones = load_cases(DATA / "greetings_tones.jsonl")
    ids = [case.id for case in tones]
    assert len(ids) >= 30
    assert len(set(ids)) == len(ids)
    others = {
        case.id
        for name in ("greetings", "greetings_more", "greetings_speed")
        for case in load_cases(DATA / f"{name}.jsonl")
    }
    assert not set(ids) & others
    assert all(":" in case.note for case in tones)
    assert {case.expect for case in tones} == set(AmdVerdict)


def test_beeps_that_go_on_past_the_no_beep_wait_are_never_talked_over() -> None:
    """Finding (the tones tuning file): three 440 Hz beeps 0.5 s apart after a greeting were
    talked over: the wait of a box that never beeps (2.5 s after the greeting) came up in a
    gap between two beeps. A box that has beeped gets the message after its last beep."""
    greeting = pause(0.3) + babble(4.0, seed=3)  # ends at 4.3 s
    beeps = b"".join(tone(0.5, 440) + pause(0.5) for _ in range(4))  # 4.7 s to 8.2 s
    detector = listen(greeting + pause(0.4) + beeps + pause(3.0))
    assert detector.ready is not None
    assert detector.ready.reason is ReadyReason.AFTER_BEEP
    assert detector.ready.at_ms >= 4_700 + 3_500 + 700  # after the last beep, and its wait
