"""End of turn and barge-in, from per-frame voice-activity decisions (pure, no clock).

Time is the audio's own: frame `n` covers `n * frame_ms` .. `(n + 1) * frame_ms` milliseconds
after the call was answered, so a replayed call end-points exactly as it did live, and the
tests run on a virtual clock by construction.

The rules (all in `TurnConfig`):
- speech *starts* after `speech_start_ms` of consecutive speech frames (a click or a pop is
  not a turn), dated from the first of those frames;
- a turn *ends* once `end_silence_ms` of silence follows the last speech frame; it counts
  only if it held at least `min_speech_ms` of speech (a cough is discarded), and a monologue
  is cut at `max_turn_ms` so one transcription never grows without bound;
- a *pause* (`SpeechPaused`) is announced once `early_ms` of silence follows speech that
  would make a turn: the pipeline starts transcribing then, so the transcript is (nearly)
  ready when the turn ends 300 ms later; if the callee goes on, that work is thrown away;
- *barge-in*: `barge_in_ms` of the callee's speech while the agent's audio is playing
  interrupts the agent (the pipeline clears the carrier's buffer and drops what is left of
  the reply). Shorter overlaps ("mm-hmm") do not.

The 600 ms end-of-turn silence is the usual compromise: shorter cuts people off mid-thought,
longer is dead air that every turn pays for (it is the first stage of voice-to-voice latency).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum


@dataclass(frozen=True, slots=True)
class TurnConfig:
    frame_ms: int = 20
    speech_start_ms: int = 60
    end_silence_ms: int = 600
    min_speech_ms: int = 200
    barge_in_ms: int = 200
    max_turn_ms: int = 20_000
    early_ms: int | None = 300  # None: no SpeechPaused events

    def __post_init__(self) -> None:
        if self.frame_ms <= 0:
            raise ValueError("frame_ms must be positive")
        for name in ("speech_start_ms", "end_silence_ms", "min_speech_ms", "barge_in_ms"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0")
        if self.max_turn_ms <= self.end_silence_ms:
            raise ValueError("max_turn_ms must be longer than end_silence_ms")
        if self.early_ms is not None and not 0 < self.early_ms < self.end_silence_ms:
            raise ValueError("early_ms must be between 0 and end_silence_ms")


class Phase(StrEnum):
    SILENCE = "silence"
    SPEAKING = "speaking"


@dataclass(frozen=True, slots=True)
class SpeechStarted:
    at_ms: int  # the first speech frame of the turn


@dataclass(frozen=True, slots=True)
class TurnEnded:
    """A finished callee turn: speech from `start_ms` to `end_ms` (the end of its last speech
    frame), decided at `decided_ms`; `decided_ms - end_ms` is the end-pointing delay."""

    start_ms: int
    end_ms: int
    decided_ms: int
    speech_ms: int
    cut: bool = False  # ended by max_turn_ms, not by silence


@dataclass(frozen=True, slots=True)
class SpeechPaused:
    """The callee has been quiet for `early_ms` after speech from `start_ms` to `end_ms`: the
    turn will end at `end_ms + end_silence_ms` unless they speak again."""

    start_ms: int
    end_ms: int
    at_ms: int


@dataclass(frozen=True, slots=True)
class SpeechDiscarded:
    """Speech too short to be a turn (a cough, a click, a breath)."""

    start_ms: int
    end_ms: int


@dataclass(frozen=True, slots=True)
class BargeIn:
    """The callee talked over the agent: stop the agent's audio now."""

    at_ms: int


TurnEvent = SpeechStarted | SpeechPaused | TurnEnded | SpeechDiscarded | BargeIn


@dataclass(frozen=True, slots=True)
class TurnState:
    phase: Phase = Phase.SILENCE
    run_start_ms: int = 0  # first frame of the current run of speech frames
    run_ms: int = 0  # length of that run (while still in SILENCE: the start candidate)
    turn_start_ms: int = 0
    speech_ms: int = 0  # speech frames in this turn
    last_speech_end_ms: int = 0
    barged_in: bool = False


def step(
    state: TurnState,
    *,
    speech: bool,
    at_ms: int,
    agent_speaking: bool,
    config: TurnConfig,
) -> tuple[TurnState, tuple[TurnEvent, ...]]:
    """Fold one frame (starting at `at_ms`) into the state; returns the new state and what
    happened on this frame."""
    end_ms = at_ms + config.frame_ms
    if state.phase is Phase.SILENCE:
        if not speech:
            return (replace(state, run_ms=0) if state.run_ms else state), ()
        run_start = at_ms if state.run_ms == 0 else state.run_start_ms
        run_ms = state.run_ms + config.frame_ms
        if run_ms < max(config.speech_start_ms, config.frame_ms):
            return replace(state, run_start_ms=run_start, run_ms=run_ms), ()
        started = TurnState(
            phase=Phase.SPEAKING,
            run_start_ms=run_start,
            run_ms=run_ms,
            turn_start_ms=run_start,
            speech_ms=run_ms,
            last_speech_end_ms=end_ms,
        )
        return _barge_check(started, (SpeechStarted(run_start),), agent_speaking, config, end_ms)

    if speech:
        speaking = replace(
            state,
            speech_ms=state.speech_ms + config.frame_ms,
            last_speech_end_ms=end_ms,
        )
        if end_ms - speaking.turn_start_ms >= config.max_turn_ms:
            return TurnState(), (_ended(speaking, decided_ms=end_ms, cut=True),)
        return _barge_check(speaking, (), agent_speaking, config, end_ms)

    quiet_ms = end_ms - state.last_speech_end_ms
    if quiet_ms < config.end_silence_ms:
        early = config.early_ms
        crossed = early is not None and quiet_ms - config.frame_ms < early <= quiet_ms
        if crossed and state.speech_ms >= config.min_speech_ms:
            return state, (SpeechPaused(state.turn_start_ms, state.last_speech_end_ms, end_ms),)
        return state, ()
    if state.speech_ms < config.min_speech_ms:
        return TurnState(), (SpeechDiscarded(state.turn_start_ms, state.last_speech_end_ms),)
    return TurnState(), (_ended(state, decided_ms=end_ms),)


def _barge_check(
    state: TurnState,
    events: tuple[TurnEvent, ...],
    agent_speaking: bool,
    config: TurnConfig,
    end_ms: int,
) -> tuple[TurnState, tuple[TurnEvent, ...]]:
    if agent_speaking and not state.barged_in and state.speech_ms >= config.barge_in_ms:
        return replace(state, barged_in=True), (*events, BargeIn(end_ms))
    return state, events


def _ended(state: TurnState, *, decided_ms: int, cut: bool = False) -> TurnEnded:
    return TurnEnded(
        start_ms=state.turn_start_ms,
        end_ms=state.last_speech_end_ms,
        decided_ms=decided_ms,
        speech_ms=state.speech_ms,
        cut=cut,
    )


class TurnDetector:
    """`step` with its state kept, for a stream of frames: frame n starts at n * frame_ms."""

    def __init__(self, config: TurnConfig | None = None) -> None:
        self.config = config or TurnConfig()
        self.state = TurnState()
        self._frames = 0

    @property
    def now_ms(self) -> int:
        """Where the stream is: the end of the last frame pushed."""
        return self._frames * self.config.frame_ms

    @property
    def in_speech(self) -> bool:
        return self.state.phase is Phase.SPEAKING

    def push(self, *, speech: bool, agent_speaking: bool = False) -> tuple[TurnEvent, ...]:
        at_ms = self.now_ms
        self._frames += 1
        self.state, events = step(
            self.state,
            speech=speech,
            at_ms=at_ms,
            agent_speaking=agent_speaking,
            config=self.config,
        )
        return events
