"""End of turn and barge-in on the audio's own clock: 20 ms frames, no wall time."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ringfence.speech.turns import (
    BargeIn,
    SpeechDiscarded,
    SpeechPaused,
    SpeechStarted,
    TurnConfig,
    TurnDetector,
    TurnEnded,
    TurnEvent,
)


def run(plan: str, *, agent_until_ms: int = 0, config: TurnConfig | None = None) -> list[TurnEvent]:
    """Frames as characters: '#' speech, '.' silence; the agent plays until `agent_until_ms`."""
    detector = TurnDetector(config or TurnConfig())
    events: list[TurnEvent] = []
    for mark in plan:
        speaking = detector.now_ms + detector.config.frame_ms <= agent_until_ms
        events += detector.push(speech=mark == "#", agent_speaking=speaking)
    return events


def frames(ms: int) -> int:
    return ms // 20


def test_a_turn_ends_after_600_ms_of_silence() -> None:
    plan = "." * 10 + "#" * 40 + "." * frames(600)
    events = run(plan)
    assert events == [
        SpeechStarted(200),
        SpeechPaused(start_ms=200, end_ms=1_000, at_ms=1_300),  # transcription may start
        TurnEnded(start_ms=200, end_ms=1_000, decided_ms=1_600, speech_ms=800),
    ]


def test_a_pause_shorter_than_the_threshold_keeps_the_turn_going() -> None:
    plan = "#" * 20 + "." * frames(500) + "#" * 20 + "." * frames(600)
    events = run(plan)
    ended = [e for e in events if isinstance(e, TurnEnded)]
    assert ended == [TurnEnded(start_ms=0, end_ms=1_300, decided_ms=1_900, speech_ms=800)]


def test_one_silent_frame_short_of_the_threshold_is_not_an_end() -> None:
    events = run("#" * 20 + "." * (frames(600) - 1))
    assert not any(isinstance(e, TurnEnded) for e in events)


def test_a_click_is_not_speech_and_a_cough_is_not_a_turn() -> None:
    assert run("." * 5 + "##" + "." * 40) == []  # 40 ms: under speech_start_ms
    events = run("#" * 6 + "." * frames(600))  # 120 ms: speech, but under min_speech_ms
    assert events == [SpeechStarted(0), SpeechDiscarded(0, 120)]  # and no SpeechPaused


def test_a_monologue_is_cut_at_max_turn_ms() -> None:
    config = TurnConfig(max_turn_ms=2_000)
    events = run("#" * frames(2_500), config=config)
    ended = [e for e in events if isinstance(e, TurnEnded)]
    assert ended == [TurnEnded(0, 2_000, 2_000, 2_000, cut=True)]


def test_barge_in_needs_200_ms_of_speech_while_the_agent_plays() -> None:
    events = run("." * 10 + "#" * 30 + "." * 30, agent_until_ms=5_000)
    assert BargeIn(at_ms=400) in events  # speech from 200 ms; 200 ms of it by 400 ms
    assert [e for e in events if isinstance(e, BargeIn)] == [BargeIn(400)]  # once per turn


def test_mm_hmm_over_the_agent_does_not_interrupt() -> None:
    events = run("." * 10 + "#" * 8 + "." * 40, agent_until_ms=5_000)
    assert not any(isinstance(e, BargeIn) for e in events)


def test_no_barge_in_when_the_agent_is_silent() -> None:
    events = run("#" * 30 + "." * 40, agent_until_ms=0)
    assert not any(isinstance(e, BargeIn) for e in events)


def test_config_is_checked() -> None:
    with pytest.raises(ValueError, match="max_turn_ms"):
        TurnConfig(end_silence_ms=600, max_turn_ms=500)
    with pytest.raises(ValueError, match="frame_ms"):
        TurnConfig(frame_ms=0)
    with pytest.raises(ValueError, match="early_ms"):
        TurnConfig(early_ms=600)


@given(st.lists(st.booleans(), max_size=400), st.integers(min_value=0, max_value=8_000))
def test_every_turn_is_well_formed(speech: list[bool], agent_until_ms: int) -> None:
    plan = "".join("#" if s else "." for s in speech)
    config = TurnConfig()
    started = 0
    for event in run(plan, agent_until_ms=agent_until_ms):
        if isinstance(event, SpeechStarted):
            started += 1
        elif isinstance(event, TurnEnded):
            assert event.start_ms < event.end_ms <= event.decided_ms <= 20 * len(plan)
            assert event.speech_ms >= config.min_speech_ms
            assert event.cut or event.decided_ms - event.end_ms == config.end_silence_ms
        elif isinstance(event, BargeIn):
            assert event.at_ms <= agent_until_ms
    ends = sum(1 for e in run(plan) if isinstance(e, TurnEnded | SpeechDiscarded))
    assert ends in (started, started - 1)  # at most the last turn is still open
